/** Argument checks shared by the media API: TypeError for a wrong type, RangeError for a bad value. */

/** Largest rx/tx level multiplier accepted (+20 dB). */
export const MAX_LEVEL = 10;

/** Checks a level multiplier (1.0 = unity, 0 = silence). */
export function checkLevel(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isFinite(value) || value < 0 || value > MAX_LEVEL) {
    throw new RangeError(`${name} must be from 0 to ${MAX_LEVEL} (1.0 is unity), got ${value}`);
  }
  return value;
}

/** Checks a whole number within [min, max]. */
export function checkInt(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Checks a finite number within [min, max]. */
export function checkNumber(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`${name} must be from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Checks a sample rate usable by a bridge port: 8..192 kHz in whole 10 ms frames. */
export function checkRate(value: unknown, name: string): number {
  const rate = checkInt(value, name, 8000, 192000);
  if (rate % 100 !== 0) throw new RangeError(`${name} must be a multiple of 100 Hz (10 ms frames), got ${rate}`);
  return rate;
}

/** Checks that `value` is one of `choices` (strings). */
export function checkOneOf<T extends string>(value: unknown, name: string, choices: readonly T[]): T {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
  if (!(choices as readonly string[]).includes(value)) {
    throw new RangeError(`${name} must be ${choices.map((c) => `'${c}'`).join(', ')}, got '${value}'`);
  }
  return value as T;
}
