/** Small checks shared by the LED and button sections of a board profile. */
import type { GpioLineConfig } from '../buttons/gpio/chip.js';

/** A plain JSON object. */
export type Obj = Record<string, unknown>;

/** True for a plain object. */
export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Throws the error of a profile field. */
export function fail(field: string, message: string): never {
  throw new Error(`${field} ${message}`);
}

/** An absolute path without NUL, or undefined when absent. */
export function optionalPath(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !value.startsWith('/') || value.includes('\0') || value.length > 4096) fail(field, 'must be an absolute path');
  return value;
}

const BIASES = ['as-is', 'disable', 'pull-up', 'pull-down'] as const;

/** Checks `{line, activeLow?, bias?}` (line: an offset on the chip, 0 to 1023). */
export function checkLine(value: unknown, field: string): GpioLineConfig {
  if (!isObj(value)) fail(field, 'must be {"line": <offset>, "activeLow"?: bool, "bias"?: ...}');
  if (typeof value.line !== 'number' || !Number.isInteger(value.line) || value.line < 0 || value.line > 1023)
    fail(`${field}.line`, 'must be a line offset from 0 to 1023');
  if (value.activeLow !== undefined && typeof value.activeLow !== 'boolean') fail(`${field}.activeLow`, 'must be true or false');
  if (value.bias !== undefined && !BIASES.includes(value.bias as never)) fail(`${field}.bias`, `must be one of ${BIASES.join(', ')}`);
  return { line: value.line, activeLow: value.activeLow === true, bias: (value.bias as GpioLineConfig['bias']) ?? 'as-is' };
}
