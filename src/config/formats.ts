/**
 * Convict format functions for the speakerd schema. Each one throws an `Error` whose message says what
 * is expected ("must be an integer from 1 to 8"); the loader adds the key path, the source and the bad
 * value. None of them coerces: strings from the environment are parsed before they get here.
 */

/** A convict format: returns when the value is acceptable, throws an Error saying what is expected. */
export type FormatFn = (value: unknown) => void;

function fail(message: string): never {
  throw new Error(message);
}

/** One of the listed strings. */
export function oneOf(values: readonly string[]): FormatFn {
  const list = values.map((v) => `'${v}'`).join(', ');
  return (value) => {
    if (typeof value !== 'string' || !values.includes(value)) fail(`must be one of ${list}`);
  };
}

/** A whole number in [min, max], optionally a multiple of `step`. */
export function int(min: number, max: number, step = 1): FormatFn {
  const what = step === 1 ? `an integer from ${min} to ${max}` : `a multiple of ${step} from ${min} to ${max}`;
  return (value) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max || value % step !== 0) {
      fail(`must be ${what}`);
    }
  };
}

/** A finite number in [min, max]. */
export function num(min: number, max: number): FormatFn {
  return (value) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      fail(`must be a number from ${min} to ${max}`);
    }
  };
}

/** true or false. */
export const bool: FormatFn = (value) => {
  if (typeof value !== 'boolean') fail('must be true or false');
};

/** A string of at most `maxLength` characters, matching `pattern` (described by `what`) when given. */
export function str(maxLength: number, pattern?: RegExp, what?: string): FormatFn {
  return (value) => {
    if (typeof value !== 'string') fail(`must be a string${what ? ` (${what})` : ''}`);
    if (value.length > maxLength) fail(`must be at most ${maxLength} characters`);
    if (pattern && !pattern.test(value)) fail(`must be ${what ?? `a string matching ${pattern}`}`);
  };
}

/** An absolute path without NUL bytes; `''` too when `optional`. */
export function path(options: { optional: boolean; maxLength?: number }): FormatFn {
  const maxLength = options.maxLength ?? 4096;
  const what = options.optional ? "an absolute path or ''" : 'an absolute path';
  return (value) => {
    if (typeof value !== 'string') fail(`must be ${what}`);
    if (value === '' && options.optional) return;
    if (!value.startsWith('/') || value.includes('\0')) fail(`must be ${what}`);
    if (Buffer.byteLength(value) > maxLength) fail(`must be at most ${maxLength} bytes long`);
  };
}

/** `''` (the backend's default) or a ws://, wss:// or local:// URL without a user name or password. */
export const serviceUrl: FormatFn = (value) => {
  const what = "a ws://, wss:// or local:// URL, or '' for the backend's default";
  if (typeof value !== 'string') fail(`must be ${what}`);
  if (value === '') return;
  if (value.length > 2048) fail('must be at most 2048 characters');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(`must be ${what}`);
  }
  if (!['ws:', 'wss:', 'local:'].includes(url.protocol)) fail(`must be ${what}`);
  if (url.username || url.password) fail('must not contain a user name or password (put the key in ai.apiKeyFile)');
};

/** An array of distinct strings, each one of `values`. */
export function listOf(values: readonly string[], maxItems = values.length): FormatFn {
  const list = values.map((v) => `'${v}'`).join(', ');
  return (value) => {
    const what = `an array of distinct values from ${list}`;
    if (!Array.isArray(value) || value.length > maxItems) fail(`must be ${what}`);
    if (value.some((v) => typeof v !== 'string' || !values.includes(v))) fail(`must be ${what}`);
    if (new Set(value).size !== value.length) fail(`must be ${what}`);
  };
}

/** An array of at most `maxItems` distinct user ids (0 to 4294967294). */
export function uidList(maxItems: number): FormatFn {
  return (value) => {
    const what = `an array of at most ${maxItems} distinct user ids (integers from 0 to 4294967294)`;
    if (!Array.isArray(value) || value.length > maxItems) fail(`must be ${what}`);
    if (value.some((v) => typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 4294967294)) fail(`must be ${what}`);
    if (new Set(value).size !== value.length) fail(`must be ${what}`);
  };
}

/** A file mode as an octal string: '0660', '660', '0600'. */
export const octalMode: FormatFn = (value) => {
  if (typeof value !== 'string' || !/^0?[0-7]{3}$/.test(value)) fail("must be an octal file mode such as '0660'");
};

/** Parses a mode accepted by `octalMode` ('0660' → 0o660). */
export function parseMode(mode: string): number {
  return parseInt(mode, 8);
}
