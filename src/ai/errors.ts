/** Stable error codes of the AI layer (docs list them). */
export type AiErrorCode = 'ERR_AI_STATE' | 'ERR_AI_NOT_CONNECTED' | 'ERR_UNKNOWN_CALL';

/** A runtime error of the AI port with a stable `code`. */
export class AiError extends Error {
  readonly code: AiErrorCode;

  constructor(code: AiErrorCode, message: string) {
    super(message);
    this.name = 'AiError';
    this.code = code;
  }
}
