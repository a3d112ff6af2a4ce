/**
 * Errors of the control socket. Every error that travels on the socket is `{code, message}` with a
 * stable `code`; docs/control-protocol.md lists them all.
 */

/** The codes the control layer itself produces. Codes thrown by the target pass through unchanged. */
export type ControlErrorCode =
  | 'ERR_INVALID_JSON'
  | 'ERR_NOT_OBJECT'
  | 'ERR_UNKNOWN_COMMAND'
  | 'ERR_UNKNOWN_ARGUMENT'
  | 'ERR_MISSING_ARGUMENT'
  | 'ERR_BAD_ARGUMENT'
  | 'ERR_OUT_OF_RANGE'
  | 'ERR_LINE_TOO_LONG'
  | 'ERR_BAD_UTF8'
  | 'ERR_TOO_MANY_PENDING'
  | 'ERR_TOO_MANY_CLIENTS'
  | 'ERR_FORBIDDEN'
  | 'ERR_RATE_LIMITED'
  | 'ERR_IDLE'
  | 'ERR_TIMEOUT'
  | 'ERR_INTERNAL'
  | 'ERR_SOCKET_IN_USE'
  | 'ERR_SOCKET_PATH';

/** An error with a stable code, as sent on the socket. */
export interface WireError {
  code: string;
  message: string;
  /** ERR_FORBIDDEN: the level the request needs ('control', 'admin', or 'never' for keys nobody may set). */
  required?: string;
  /** ERR_FORBIDDEN of a config_set: the key. */
  key?: string;
}

/** A runtime error of the control layer with a stable `code`. */
export class ControlError extends Error {
  readonly code: ControlErrorCode;

  constructor(code: ControlErrorCode, message: string) {
    super(message);
    this.name = 'ControlError';
    this.code = code;
  }

  /** The `{code, message}` sent on the socket. */
  toWire(): WireError {
    return { code: this.code, message: this.message };
  }
}

/** Shape of a code a target may throw to have it passed on to the client. */
export const PASS_THROUGH_CODE = /^ERR_[A-Z_]+$/;

/** Longest message passed on from a target error; longer ones are cut. */
export const MAX_ERROR_MESSAGE = 1024;

/**
 * What a client is told about an error thrown while executing a command: `{code, message}` when the
 * error carries a string `code` of the form ERR_*, else ERR_INTERNAL with a generic message. Never a
 * stack trace. `internal` is true when the error was not a coded one (the caller logs it).
 */
export function wireErrorOf(error: unknown): { wire: WireError; internal: boolean } {
  if (error instanceof ControlError) return { wire: error.toWire(), internal: false };
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && PASS_THROUGH_CODE.test(code)) {
    const raw = (error as { message?: unknown }).message;
    const message = typeof raw === 'string' && raw.length > 0 ? raw : code;
    return { wire: { code, message: message.slice(0, MAX_ERROR_MESSAGE) }, internal: false };
  }
  return { wire: { code: 'ERR_INTERNAL', message: 'internal error' }, internal: true };
}
