/**
 * How an LED layer looks, written as one short string in the configuration: `"<colour> <pattern>
 * [<period ms>]"`, e.g. `"#00a0ff spin 1200"`, `"red blink"`, `"off"`. Parsing and the convict formats
 * of the `leds.*` keys live here (pure, no I/O).
 */

/** An RGB colour, each channel 0..255. */
export type Rgb = readonly [number, number, number];

/** Patterns: solid, blink (on/off), breathe (smooth), spin (a chase around a ring), level (a gauge). */
export type PatternName = 'off' | 'solid' | 'blink' | 'breathe' | 'spin' | 'level';

/** One layer's look: colour, pattern and the pattern's period in ms (0 for off/solid/level). */
export interface LedLook {
  color: Rgb;
  pattern: PatternName;
  periodMs: number;
}

/** Colours known by name. */
export const NAMED_COLORS: Readonly<Record<string, Rgb>> = {
  black: [0, 0, 0],
  white: [255, 255, 255],
  red: [255, 0, 0],
  green: [0, 255, 0],
  blue: [0, 0, 255],
  orange: [255, 96, 0],
  yellow: [255, 200, 0],
  cyan: [0, 200, 255],
  magenta: [255, 0, 200],
  purple: [128, 0, 255],
};

const PATTERNS: readonly PatternName[] = ['off', 'solid', 'blink', 'breathe', 'spin', 'level'];
/** Period used when a look names none: blink 1 s, breathe 3 s, spin 1.2 s. */
export const DEFAULT_PERIOD_MS: Readonly<Record<PatternName, number>> = { off: 0, solid: 0, blink: 1000, breathe: 3000, spin: 1200, level: 0 };
/** The look of an LED that is off. */
export const OFF: LedLook = { color: [0, 0, 0], pattern: 'off', periodMs: 0 };

/** Parses '#rrggbb' or a colour name; throws an Error saying what is expected. */
export function parseColor(text: string): Rgb {
  const hex = /^#([0-9a-fA-F]{6})$/.exec(text);
  if (hex) {
    const n = parseInt(hex[1] as string, 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  const named = NAMED_COLORS[text.toLowerCase()];
  if (named) return named;
  throw new Error(`'${text}' is not a colour ('#rrggbb' or one of ${Object.keys(NAMED_COLORS).join(', ')})`);
}

/** A colour as '#rrggbb'. */
export function colorHex(c: Rgb | Uint8Array, offset = 0): string {
  return `#${[0, 1, 2].map((i) => (c[offset + i] ?? 0).toString(16).padStart(2, '0')).join('')}`;
}

/** Parses a look string such as `"#00a0ff spin 1200"` or `"off"`; throws an Error saying what is wrong. */
export function parseLook(text: string): LedLook {
  const parts = text.trim().split(/\s+/);
  if (parts.length === 1 && parts[0] === 'off') return OFF;
  if (parts.length < 2 || parts.length > 3) throw new Error(`'${text}' must be "<colour> <pattern> [<period ms>]" or "off"`);
  const color = parseColor(parts[0] as string);
  const pattern = parts[1] as PatternName;
  if (!PATTERNS.includes(pattern)) throw new Error(`'${parts[1]}' is not a pattern (one of ${PATTERNS.join(', ')})`);
  let periodMs = DEFAULT_PERIOD_MS[pattern];
  if (parts[2] !== undefined) {
    periodMs = Number(parts[2]);
    if (!Number.isInteger(periodMs) || periodMs < 100 || periodMs > 60000)
      throw new Error(`period '${parts[2]}' must be a whole number of ms from 100 to 60000`);
  }
  return { color, pattern, periodMs };
}

/** Convict format of a look key: a string that {@link parseLook} accepts. */
export function ledLookFormat(value: unknown): void {
  if (typeof value !== 'string' || value.length > 64)
    throw new Error('must be "<colour> <pattern> [<period ms>]" or "off" (colour #rrggbb or a name; pattern solid, blink, breathe, spin, level)');
  parseLook(value);
}

/** Minutes after midnight of an 'HH:MM' time; throws when malformed. */
export function parseClock(text: string): number {
  const m = /^([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(text);
  if (!m) throw new Error(`'${text}' must be a time 'HH:MM' (00:00 to 23:59)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Convict format of an 'HH:MM' key. */
export function clockFormat(value: unknown): void {
  if (typeof value !== 'string') throw new Error("must be a time 'HH:MM'");
  parseClock(value);
}

/** Convict format of `leds.board`: '' (none), a shipped profile's name, or an absolute path to a JSON profile. */
export function boardFormat(value: unknown): void {
  const what = "must be '', a board profile name (lower-case letters, digits, '-') or an absolute path to a JSON file";
  if (typeof value !== 'string' || value.length > 4096 || value.includes('\0')) throw new Error(what);
  if (value === '' || /^[a-z0-9][a-z0-9-]{0,63}$/.test(value) || value.startsWith('/')) return;
  throw new Error(what);
}
