/** The configuration sources before validation: JSON files, drop-in directories, the environment. */

import { closeSync, fstatSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigProblem } from './errors.js';
import { parseJson } from './json.js';
import { isRecord } from './keys.js';
import { GROUPS, KEYS } from './schema.js';

/** Largest configuration file read, in bytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** "permission denied (EACCES)" from a Node fs error, without the path it repeats. */
export function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  const text = /^[A-Z]+: ([^,]+)/.exec(e.message ?? '')?.[1] ?? String(e.message ?? error);
  return e.code ? `${text} (${e.code})` : text;
}

/** Reads and parses one JSON configuration file; a missing file is a problem only when `required`. */
export function readConfigFile(file: string, required: boolean): { found: boolean; tree?: Record<string, unknown>; problem?: ConfigProblem } {
  let text: string;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { found: true, problem: { path: '', source: file, message: 'cannot read: not a regular file' } };
    if (stat.size > MAX_CONFIG_BYTES) {
      return { found: true, problem: { path: '', source: file, message: `file is larger than ${MAX_CONFIG_BYTES} bytes` } };
    }
    text = readFileSync(fd, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return { found: false };
    return { found: code !== 'ENOENT', problem: { path: '', source: file, message: `cannot read: ${describeFsError(error)}` } };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (text.trim() === '') return { found: true, tree: {} };
  const parsed = parseJson(text);
  if (!parsed.ok) {
    const { line, column, reason } = parsed.error;
    return { found: true, problem: { path: '', source: file, message: `invalid JSON at line ${line}, column ${column}: ${reason}` } };
  }
  if (!isRecord(parsed.value)) return { found: true, problem: { path: '', source: file, message: 'must hold a JSON object at the top level' } };
  return { found: true, tree: parsed.value };
}

/** The `*.json` files of a drop-in directory, sorted by name (byte order); hidden files are skipped. */
export function listDropIns(dir: string): { files: string[]; problems: ConfigProblem[] } {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { files: [], problems: [] };
    return { files: [], problems: [{ path: '', source: dir, message: `cannot list the drop-in directory: ${describeFsError(error)}` }] };
  }
  const files = names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { files: files.map((n) => join(dir, n)), problems: [] };
}

/** One value for a key path from a source, before validation. */
export interface Leaf {
  path: string;
  value: unknown;
  source: string;
}

const ENV_TO_PATH = new Map([...KEYS.values()].map((k) => [k.env, k.path]));
const ENV_GROUPS = new Set((GROUPS.get('') ?? []).map((g) => `SPEAKERD_${g.toUpperCase()}_`));

/**
 * The `SPEAKERD_*` variables naming a key. A variable under a group prefix (`SPEAKERD_AUDIO_...`) that
 * names no key is a problem; other `SPEAKERD_*` variables (such as SPEAKERD_ADDON) are not config.
 */
export function environmentLeaves(env: NodeJS.ProcessEnv): { leaves: Leaf[]; problems: ConfigProblem[] } {
  const leaves: Leaf[] = [];
  const problems: ConfigProblem[] = [];
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (!name.startsWith('SPEAKERD_') || value === undefined) continue;
    const path = ENV_TO_PATH.get(name);
    if (path !== undefined) leaves.push({ path, value, source: `$${name}` });
    else if ([...ENV_GROUPS].some((prefix) => name.startsWith(prefix))) {
      problems.push({ path: '', source: `$${name}`, message: 'unknown configuration variable (no key maps to it)' });
    }
  }
  return { leaves, problems };
}

/** Flattens a parsed file into leaves, reporting unknown keys and groups given a non-object. */
export function treeLeaves(tree: Record<string, unknown>, source: string, prefix = ''): { leaves: Leaf[]; problems: ConfigProblem[] } {
  const leaves: Leaf[] = [];
  const problems: ConfigProblem[] = [];
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [name, value] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${name}` : name;
      const children = GROUPS.get(path);
      if (KEYS.has(path)) leaves.push({ path, value, source });
      else if (children && isRecord(value)) walk(value, path);
      else if (children) problems.push({ path, source, message: `must be an object with the keys ${children.join(', ')}` });
      else problems.push({ path, source, message: unknownKeyMessage(path) });
    }
  };
  walk(tree, prefix);
  return { leaves, problems };
}

/** "unknown key (did you mean audio.rate?)" with the closest known path when one is close. */
export function unknownKeyMessage(path: string): string {
  let best = '';
  let bestDistance = Infinity;
  for (const candidate of [...KEYS.keys(), ...GROUPS.keys()]) {
    const d = distance(path.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  const hint = bestDistance <= Math.max(2, Math.floor(path.length / 4)) ? ` (did you mean ${best}?)` : '';
  return `unknown key${hint}`;
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
    }
    previous = current;
  }
  return previous[b.length] as number;
}
