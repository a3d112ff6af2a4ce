/**
 * Loading the configuration. Sources, each overriding the ones before it:
 *   1. the schema's defaults;
 *   2. `<etcDir>/speakerd.json` if present, or `configFile` instead (`--config FILE`; must exist);
 *   3. `<etcDir>/conf.d/*.json`, sorted by name;
 *   4. `SPEAKERD_*` environment variables (`ai.tls.caFile` → `SPEAKERD_AI_TLS_CAFILE`);
 *   5. `overrides` (command-line flags) by key path.
 * Every source is checked whole: all problems of all sources are collected and thrown as one
 * ConfigError; a bad value never falls through to a lower source silently.
 */

import convict from 'convict';
import { join } from 'node:path';
import { checkLeaf, crossCheck } from './check.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { EFFECT_ORDER, getPath, isRecord, setPath, type KeyEffect } from './keys.js';
import { KEYS, GROUPS, SCHEMA } from './schema.js';
import { readApiKey } from './secrets.js';
import { environmentLeaves, listDropIns, readConfigFile, treeLeaves, unknownKeyMessage, type Leaf } from './sources.js';
import type { SpeakerdConfig } from './types.js';

/** Where the configuration lives unless told otherwise. */
export const DEFAULT_ETC_DIR = '/etc/speakerd';

/** Options of `loadConfig()`. */
export interface LoadOptions {
  /** `--config FILE`: read instead of `<etcDir>/speakerd.json`; a missing file is an error. */
  configFile?: string;
  /** Directory of speakerd.json and conf.d/, default '/etc/speakerd'. */
  etcDir?: string;
  /** Environment, default process.env (SPEAKERD_* variables and CREDENTIALS_DIRECTORY). */
  env?: NodeJS.ProcessEnv;
  /**
   * Command-line values by key path ({'audio.device': 'alsa'}); a group path may take an object.
   * A string for a non-string key is parsed as an environment value would be.
   */
  overrides?: Record<string, unknown>;
  /** The echo engines the addon has (aec.engine must name one); undefined: not checked. */
  echoEngines?: readonly string[];
}

/** What `loadConfig()` returns. */
export interface LoadedConfig {
  config: SpeakerdConfig;
  /** The API key, or null when none was found (and none is needed). Never log or print it. */
  apiKey: string | null;
  /** The file the key came from, or null. */
  apiKeySource: string | null;
  /** Configuration files read, in order. */
  files: string[];
  /** Where each key that is not at its default got its value (file path, `$SPEAKERD_...`, 'command line'). */
  origins: Record<string, string>;
  /** Things worth logging that do not make the configuration invalid. */
  warnings: string[];
}

const COMMAND_LINE = 'command line';

function overrideLeaves(overrides: Record<string, unknown>): { leaves: Leaf[]; problems: ConfigProblem[] } {
  const leaves: Leaf[] = [];
  const problems: ConfigProblem[] = [];
  for (const [path, value] of Object.entries(overrides)) {
    if (KEYS.has(path)) leaves.push({ path, value, source: COMMAND_LINE });
    else if (GROUPS.has(path) && path !== '' && isRecord(value)) {
      const nested = treeLeaves(value, COMMAND_LINE, path);
      leaves.push(...nested.leaves);
      problems.push(...nested.problems);
    } else problems.push({ path, source: COMMAND_LINE, message: unknownKeyMessage(path) });
  }
  return { leaves, problems };
}

/**
 * Loads, merges and validates the configuration and reads the API key (off the event loop, never
 * blocking on a FIFO or device); rejects with ConfigError.
 */
export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const etcDir = options.etcDir ?? DEFAULT_ETC_DIR;
  const problems: ConfigProblem[] = [];
  const files: string[] = [];
  const origins: Record<string, string> = {};
  const store = convict(SCHEMA, { env: {}, args: [] });
  const apply = (found: { leaves: Leaf[]; problems: ConfigProblem[] }, fromText: boolean): void => {
    problems.push(...found.problems);
    for (const leaf of found.leaves) {
      const checked = checkLeaf(leaf, fromText);
      if ('problem' in checked) problems.push(checked.problem);
      else {
        store.set(leaf.path, checked.value);
        origins[leaf.path] = leaf.source;
      }
    }
  };

  const readFile = (file: string, required: boolean): void => {
    const read = readConfigFile(file, required);
    if (read.found) files.push(file);
    if (read.problem) problems.push(read.problem);
    if (read.tree) apply(treeLeaves(read.tree, file), false);
  };
  readFile(options.configFile ?? join(etcDir, 'speakerd.json'), options.configFile !== undefined);
  const dropIns = listDropIns(join(etcDir, 'conf.d'));
  problems.push(...dropIns.problems);
  for (const file of dropIns.files) readFile(file, true);
  apply(environmentLeaves(env), true);
  apply(overrideLeaves(options.overrides ?? {}), true);

  try {
    store.validate({ allowed: 'strict' });
  } catch (error) {
    // Every value was checked on the way in; this is the schema's own net, kept in case a format slips.
    for (const line of (error as Error).message.split('\n')) {
      const path = /^([\w.]+): /.exec(line)?.[1] ?? '';
      if (!problems.some((p) => p.path === path)) problems.push({ path, message: line.replace(/: value was .*$/, '') });
    }
  }
  const config = store.getProperties();
  problems.push(...crossCheck(config, origins, options.echoEngines === undefined ? {} : { echoEngines: options.echoEngines }));
  const key = await readApiKey(config.ai, env, origins);
  problems.push(...key.problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, apiKey: key.apiKey, apiKeySource: key.source, files, origins, warnings: key.warnings };
}

/**
 * The configuration as `--print-config` prints it: pretty JSON in schema order, every key present,
 * keys marked `sensitive` in the schema replaced by "<redacted>". The API key is never part of it.
 */
export function printableConfig(config: SpeakerdConfig): string {
  const out: Record<string, unknown> = {};
  for (const spec of KEYS.values()) {
    setPath(out, spec.path, spec.sensitive ? '<redacted>' : getPath(config, spec.path));
  }
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** A key whose value differs between two configurations, and what applying it takes. */
export interface ConfigChange {
  path: string;
  effect: KeyEffect;
}

/** The keys that differ between `before` and `after` (schema order), each with its effect. */
export function diffConfig(before: SpeakerdConfig, after: SpeakerdConfig): ConfigChange[] {
  const changes: ConfigChange[] = [];
  for (const spec of KEYS.values()) {
    const a = getPath(before, spec.path);
    const b = getPath(after, spec.path);
    if (JSON.stringify(a) !== JSON.stringify(b)) changes.push({ path: spec.path, effect: spec.effect });
  }
  return changes;
}

/** The most disruptive effect among `changes`, or null when there are none. */
export function strongestEffect(changes: readonly ConfigChange[]): KeyEffect | null {
  let index = -1;
  for (const change of changes) index = Math.max(index, EFFECT_ORDER.indexOf(change.effect));
  return index < 0 ? null : (EFFECT_ORDER[index] as KeyEffect);
}

/** The schema's defaults as a configuration object (what loads when no source sets anything). */
export function defaultConfig(): SpeakerdConfig {
  return convict(SCHEMA, { env: {}, args: [] }).getProperties();
}
