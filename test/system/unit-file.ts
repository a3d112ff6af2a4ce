import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/system/unit-file.ts). */
export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the unit, socket, drop-in, sysusers and tmpfiles files live. */
export const systemdDir = join(projectRoot, 'systemd');

/** A unit file: section name → key → every value assigned, in order (an empty assignment resets). */
export type UnitFile = Map<string, Map<string, string[]>>;

/**
 * Parses a systemd unit file the way systemd reads it: `#`/`;` comments, `[Section]` headers,
 * `Key=Value` lines with backslash continuations, repeated keys accumulating, and an empty value
 * resetting the list (so `ExecStart=` followed by `ExecStart=x` yields `['x']`).
 */
export function parseUnit(text: string): UnitFile {
  const unit: UnitFile = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = unit.get(header[1]!) ?? new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (section === undefined || eq < 0) throw new Error(`not a unit file line: ${raw}`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (value === '') section.set(key, []);
    else section.set(key, [...(section.get(key) ?? []), value]);
  }
  return unit;
}

/** Every value of `key` in `section` (empty when unset). */
export function values(unit: UnitFile, section: string, key: string): string[] {
  return unit.get(section)?.get(key) ?? [];
}

/** The last value of `key` in `section`, as systemd applies it, or undefined. */
export function value(unit: UnitFile, section: string, key: string): string | undefined {
  return values(unit, section, key).at(-1);
}

/** What a finished command printed and how it ended. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command without a shell and never throws on a non-zero exit status. */
export function run(file: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { timeout: options.timeoutMs ?? 60000, env: options.env ?? process.env, maxBuffer: 16 << 20, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : error.code === 'ENOENT' ? 127 : error.killed ? 124 : 1;
        resolve({ code, stdout, stderr, ms: Math.round(performance.now() - started) });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
