/**
 * Runtime errors of the media layer. Programmer errors are TypeError/RangeError naming the argument;
 * everything that can go wrong at run time is a MediaError with a stable `code` (docs/audio.md lists them).
 */

/** Stable error codes of the media layer. */
export type MediaErrorCode =
  | 'ERR_ADDON_LOAD'
  | 'ERR_ENGINE_INIT'
  | 'ERR_AEC_ENGINE_UNAVAILABLE'
  | 'ERR_ENGINE_CLOSED'
  | 'ERR_PORT_DESTROYED'
  | 'ERR_PORT_KIND'
  | 'ERR_PORT_NOT_CREATED'
  | 'ERR_TOO_MANY_PORTS'
  | 'ERR_BUSY'
  | 'ERR_NOT_MANUAL'
  | 'ERR_RESAMPLER'
  | 'ERR_DEVICE_OPEN'
  | 'ERR_DEVICE_LOST'
  | 'ERR_DEVICE_LIST'
  | 'ERR_FILE'
  | 'ERR_WAV_MALFORMED'
  | 'ERR_WAV_UNSUPPORTED'
  | 'ERR_WAV_TOO_LARGE';

/** An error with a stable `code`, and the errno of the system call behind it when there is one. */
export class MediaError extends Error {
  readonly code: MediaErrorCode;
  readonly errno: number | undefined;

  constructor(code: MediaErrorCode, message: string, options?: { errno?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MediaError';
    this.code = code;
    this.errno = options?.errno;
  }
}

/** Makes the plain `Error & {code}` thrown by the addon (or the fake) into a MediaError. */
export function toMediaError(error: unknown): unknown {
  if (error instanceof MediaError || !(error instanceof Error)) return error;
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('ERR_')) return error;
  return new MediaError(code as MediaErrorCode, error.message, { cause: error });
}
