/**
 * Argument checks of the fake binding, worded like native/addon/args.h: programmer errors throw a
 * TypeError or RangeError naming the argument, runtime failures an Error with a stable `code`.
 */

/** The plain `Error & {code}` the addon throws (errors.ts turns it into a MediaError). */
export function codedError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/** A number, or TypeError "<name> must be a number". */
export function requireNumber(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number`);
  return value;
}

/** An integer in [min, max], or RangeError "<name> must be an integer from <min> to <max>". */
export function requireInt(value: unknown, name: string, min: number, max: number): number {
  const n = requireNumber(value, name);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

/** A boolean, or TypeError "<name> must be a boolean". */
export function requireBool(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean`);
  return value;
}

/** An Int16Array, or TypeError "<name> must be an Int16Array". */
export function requireInt16Array(value: unknown, name: string): Int16Array {
  if (!(value instanceof Int16Array)) throw new TypeError(`${name} must be an Int16Array`);
  return value;
}

/** A sample rate that makes whole 10 ms frames, or RangeError (CheckRate in engine_wrap.cc). */
export function checkRate(rate: number, name: string): number {
  if (rate % 100 !== 0) throw new RangeError(`${name} must be a multiple of 100 Hz (10 ms frames)`);
  return rate;
}

/** An options object (a function also counts, as in N-API), or TypeError "<name> must be an object". */
export function requireObject(value: unknown, name: string): Record<string, unknown> {
  if ((typeof value !== 'object' || value === null) && typeof value !== 'function') {
    throw new TypeError(`${name} must be an object`);
  }
  return value as Record<string, unknown>;
}

/** options[key] as an integer in [min, max]; `fallback` when undefined. */
export function optionInt(o: Record<string, unknown>, key: string, fallback: number, min: number, max: number): number {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number') throw new TypeError(`options.${key} must be a number`);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`options.${key} must be an integer from ${min} to ${max}`);
  }
  return v;
}

/** options[key] as a boolean; `fallback` when undefined. */
export function optionBool(o: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new TypeError(`options.${key} must be a boolean`);
  return v;
}

/** options[key] as a string; `fallback` when undefined. */
export function optionString(o: Record<string, unknown>, key: string, fallback: string): string {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string') throw new TypeError(`options.${key} must be a string`);
  return v;
}

/** A number printed as C++ std::to_string(double) does ("%f"), for identical messages. */
export function cDouble(value: number): string {
  if (Number.isNaN(value)) return value < 0 ? '-nan' : 'nan';
  if (!Number.isFinite(value)) return value < 0 ? '-inf' : 'inf';
  return value.toFixed(6);
}
