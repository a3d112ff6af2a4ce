/**
 * The command lines of libgpiod's tools, which changed between 1.x (Debian 12) and 2.x (Debian 13,
 * current Raspberry Pi OS, Yocto scarthgap): 1.x takes the chip first and holds an output with
 * `--mode=signal`; 2.x takes it with `-c`, holds an output until it is killed, spells biases
 * differently, reads values with `--numeric` and formats events with other specifiers.
 */
import type { GpioEdge, GpioLineConfig } from './chip.js';

/** The tools' major version, from `gpioset --version` ("gpioset (libgpiod) v1.6.3" / "... v2.1.2"). */
export function libgpiodMajor(versionText: string): 1 | 2 | null {
  const m = /\bv(\d+)\.\d+/.exec(versionText);
  if (!m) return null;
  return Number(m[1]) >= 2 ? 2 : 1;
}

/** How to call the tools of one major version and read their output. */
export interface LibgpiodDialect {
  readonly major: 1 | 2;
  gpioset(chip: string, line: GpioLineConfig, value: boolean): string[];
  gpioget(chip: string, line: GpioLineConfig): string[];
  gpiomon(chip: string, line: GpioLineConfig): string[];
  /** One output line of gpiomon as an edge, or null for anything else. */
  edge(text: string): GpioEdge | null;
}

const V1_BIAS: Readonly<Record<string, string>> = { disable: 'disable', 'pull-up': 'pull-up', 'pull-down': 'pull-down' };
const V2_BIAS: Readonly<Record<string, string>> = { disable: 'disabled', 'pull-up': 'pull-up', 'pull-down': 'pull-down' };

function lineFlags(l: GpioLineConfig, biasFlag: string, names: Readonly<Record<string, string>>): string[] {
  const bias = l.bias && l.bias !== 'as-is' ? names[l.bias] : undefined;
  return [...(l.activeLow ? ['-l'] : []), ...(bias ? [biasFlag, bias] : [])];
}

/** libgpiod 1.x (1.4 to 1.6). */
export const LIBGPIOD_V1: LibgpiodDialect = {
  major: 1,
  gpioset: (chip, l, value) => ['--mode=signal', ...lineFlags(l, '-B', V1_BIAS), chip, `${l.line}=${value ? 1 : 0}`],
  gpioget: (chip, l) => [...lineFlags(l, '-B', V1_BIAS), chip, String(l.line)],
  // -b: line-buffered output (the events reach us as they happen); %e: 1 rising, 0 falling.
  gpiomon: (chip, l) => ['-b', ...lineFlags(l, '-B', V1_BIAS), '-F', '%o %e %s %n', chip, String(l.line)],
  edge: (text) => {
    const m = /^(\d+) ([01]) (\d+) (\d+)$/.exec(text.trim());
    return m ? { line: Number(m[1]), value: m[2] === '1', atMs: Number(m[3]) * 1000 + Number(m[4]) / 1e6 } : null;
  },
};

/** libgpiod 2.x. */
export const LIBGPIOD_V2: LibgpiodDialect = {
  major: 2,
  // 2.x holds the line until the process ends (no --mode).
  gpioset: (chip, l, value) => ['-c', chip, ...lineFlags(l, '-b', V2_BIAS), `${l.line}=${value ? 1 : 0}`],
  gpioget: (chip, l) => ['-c', chip, '--numeric', ...lineFlags(l, '-b', V2_BIAS), String(l.line)],
  // %E: 'rising' or 'falling'; %S: the timestamp in seconds with its fraction.
  gpiomon: (chip, l) => ['-c', chip, ...lineFlags(l, '-b', V2_BIAS), '-e', 'both', '-F', '%o %E %S', String(l.line)],
  edge: (text) => {
    const m = /^(\d+) (rising|falling) (\d+(?:\.\d+)?)$/.exec(text.trim());
    return m ? { line: Number(m[1]), value: m[2] === 'rising', atMs: Number(m[3]) * 1000 } : null;
  },
};
