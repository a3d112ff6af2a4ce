/** Introspection of a convict schema: its leaves (keys) and groups, each addressed by its dotted path. */

import type { FormatFn } from './formats.js';

/** What applying a changed key takes, from least to most disruptive. */
export type KeyEffect = 'live' | 'reconnect' | 'reopen' | 'restart';

/**
 * Who may change a key at run time over the control socket: 'control' (any user of the socket allowed
 * to control the speaker), 'admin' (uid 0, the daemon's own uid, control.adminUids) or 'never' (only the
 * configuration files, which root owns, set it).
 */
export type KeyAccess = 'control' | 'admin' | 'never';

/** Every access value, from most to least open. */
export const ACCESS_VALUES: readonly KeyAccess[] = ['control', 'admin', 'never'];

/** Effects from least to most disruptive. */
export const EFFECT_ORDER: readonly KeyEffect[] = ['live', 'reconnect', 'reopen', 'restart'];

/** One key of the schema with what the loader needs to know about it. */
export interface KeySpec {
  path: string;
  doc: string;
  default: unknown;
  format: FormatFn;
  effect: KeyEffect;
  /** Who may set it at run time (config_set). */
  access: KeyAccess;
  /** Never returned by config_get (key file paths and credential names). */
  hidden: boolean;
  /** The `SPEAKERD_*` environment variable that sets it. */
  env: string;
  /** Convict's flag: the value is replaced by "<redacted>" when printed. */
  sensitive: boolean;
  /** The value is never quoted in an error (a key pasted in by mistake must not leak). */
  noEcho: boolean;
  /** How to parse an environment string: by the default's type; arrays by `itemType`. */
  kind: 'string' | 'number' | 'boolean' | 'array';
  itemType: 'string' | 'number';
}

/** The environment variable for a key path: `SPEAKERD_` + each segment upper-cased, joined by `_`. */
export function envVarName(path: string): string {
  return `SPEAKERD_${path
    .split('.')
    .map((segment) => segment.toUpperCase())
    .join('_')}`;
}

/** True for a plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): KeySpec['kind'] {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' || typeof value === 'boolean') return typeof value as 'number' | 'boolean';
  return 'string';
}

/** Flattens a schema into its keys (in schema order) and group paths. */
export function flattenSchema(schema: Record<string, unknown>): { keys: Map<string, KeySpec>; groups: Map<string, string[]> } {
  const keys = new Map<string, KeySpec>();
  const groups = new Map<string, string[]>();
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    groups.set(prefix, Object.keys(node));
    for (const [name, child] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${name}` : name;
      if (!isRecord(child)) throw new TypeError(`schema node ${path} must be an object`);
      if (!('default' in child)) {
        walk(child, path);
        continue;
      }
      if (typeof child.format !== 'function') throw new TypeError(`schema key ${path} needs a format function`);
      if (typeof child.doc !== 'string' || !EFFECT_ORDER.includes(child.effect as KeyEffect)) {
        throw new TypeError(`schema key ${path} needs a doc and an effect`);
      }
      if (!ACCESS_VALUES.includes(child.access as KeyAccess)) throw new TypeError(`schema key ${path} needs an access ('control', 'admin' or 'never')`);
      keys.set(path, {
        path,
        doc: child.doc,
        default: child.default,
        format: child.format as FormatFn,
        effect: child.effect as KeyEffect,
        access: child.access as KeyAccess,
        hidden: child.hidden === true,
        env: envVarName(path),
        sensitive: child.sensitive === true,
        noEcho: child.sensitive === true || child.noEcho === true,
        kind: kindOf(child.default),
        itemType: child.itemType === 'number' ? 'number' : 'string',
      });
    }
  };
  walk(schema, '');
  return { keys, groups };
}

/** Reads the value at a dotted path of a nested object (undefined when absent). */
export function getPath(object: unknown, path: string): unknown {
  let node = object;
  for (const segment of path.split('.')) {
    if (!isRecord(node)) return undefined;
    node = node[segment];
  }
  return node;
}

/** Sets the value at a dotted path, creating the groups on the way. */
export function setPath(object: Record<string, unknown>, path: string, value: unknown): void {
  const segments = path.split('.');
  const last = segments.pop() as string;
  let node = object;
  for (const segment of segments) {
    if (!isRecord(node[segment])) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  node[last] = value;
}
