/**
 * The configuration as it stands at run time: the files, environment and flags, plus the changes made
 * over the control socket (config_set), which persist in the state file. Changes and reloads run one at
 * a time, in the order they were asked for, so pipelined config_set requests all take effect; a change
 * that cannot be saved changes nothing.
 */
import { ConfigError } from '../config/errors.js';
import { getPath, setPath } from '../config/keys.js';
import { loadConfig, type LoadedConfig, type LoadOptions } from '../config/load.js';
import { KEYS } from '../config/schema.js';
import type { SpeakerdConfig } from '../config/types.js';
import type { StateStore } from '../config/state.js';
import { API_KEY_PSEUDO_KEY } from '../control/access.js';
import { KeyFileWriter } from './key-file.js';

/** The write-only pseudo-key that stores the API key (never readable back). */
export const SECRET_KEY = API_KEY_PSEUDO_KEY;

/** A configuration change made at run time (config_set), kept in the state file. */
export type RuntimeOverrides = Record<string, unknown>;

/** What `config_get` shows instead of a hidden key's value. */
export const HIDDEN_VALUE = '<hidden>';

function coded(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * Loads the configuration with the run-time overrides (config_set) applied after the files and
 * before the environment and the command line, so an operator's flags still win.
 */
export function loadWithRuntime(base: LoadOptions, runtime: RuntimeOverrides): Promise<LoadedConfig> {
  return loadConfig({ ...base, overrides: { ...runtime, ...(base.overrides ?? {}) } });
}

/**
 * The overrides a state file may legitimately hold: keys of the schema that are settable at run time,
 * and `ai.apiKeyFile` only when it names the daemon's own key file. Anything else (written by an older
 * daemon that allowed more, or by hand) is dropped with a warning, so it cannot come back at start.
 */
export function admissibleOverrides(stored: unknown, ownKeyFile: string): { runtime: RuntimeOverrides; dropped: string[] } {
  const runtime: RuntimeOverrides = {};
  const dropped: string[] = [];
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return { runtime, dropped };
  for (const [key, value] of Object.entries(stored)) {
    const spec = KEYS.get(key);
    const ownKey = key === 'ai.apiKeyFile' && value === ownKeyFile;
    if (ownKey || (spec !== undefined && spec.access !== 'never')) runtime[key] = value;
    else dropped.push(key);
  }
  return { runtime, dropped };
}

/** The value `config_get` returns: one key or group, or everything; hidden keys never. */
export function configValue(config: SpeakerdConfig, key?: string): unknown {
  if (key === undefined || key === '') return redacted(config, '');
  if (key === SECRET_KEY || KEYS.get(key)?.hidden === true) throw coded('ERR_SECRET', `${key} is not readable over the control socket`);
  let value: unknown = config;
  for (const part of key.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) throw coded('ERR_UNKNOWN_KEY', `no configuration key '${key}'`);
    value = (value as Record<string, unknown>)[part];
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? redacted(value, key) : value;
}

function redacted(group: object, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(group)) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (KEYS.get(path)?.hidden === true) out[name] = HIDDEN_VALUE;
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) out[name] = redacted(value, path);
    else out[name] = value;
  }
  return out;
}

/** The persisted part of the state besides the configuration. */
export interface PersistedBasics {
  volume: number;
  muted: boolean;
}

/**
 * The configuration `config_set` of `key` adopts: the current one with only that key taken from `fresh`
 * (the files are re-read to validate, but what root staged in them waits for a reload), and for the API
 * key its file and the key itself.
 */
function adoptOne(current: LoadedConfig, fresh: LoadedConfig, key: string): LoadedConfig {
  const config = structuredClone(current.config);
  if (key === SECRET_KEY) {
    config.ai.apiKeyFile = fresh.config.ai.apiKeyFile;
    return { ...current, config, apiKey: fresh.apiKey, apiKeySource: fresh.apiKeySource };
  }
  setPath(config as unknown as Record<string, unknown>, key, getPath(fresh.config, key));
  return { ...current, config };
}

/**
 * What a refused `config_set` tells its client: the problems of that key only. Problems elsewhere (in
 * root's files) may name paths and values that are not the client's to see.
 */
function refusal(error: ConfigError, key: string): Error {
  const path = key === SECRET_KEY ? 'ai.apiKeyFile' : key;
  const own = error.problems.filter((p) => p.path === path || p.related?.includes(path));
  if (own.length > 0) return coded('ERR_CONFIG_INVALID', own.map((p) => `${p.path}: ${p.message}`).join('; '));
  return coded('ERR_CONFIG_INVALID', `the configuration files have problems unrelated to '${key}'; an admin can list them with speakerd --check-config`);
}

/** The run-time configuration of one daemon. */
export class RuntimeConfig {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly keyFile: KeyFileWriter;
  /** Overrides being saved by a change not yet adopted: every state write in the meantime carries them. */
  private inFlight: RuntimeOverrides | null = null;

  constructor(
    private readonly base: LoadOptions,
    private readonly store: StateStore,
    private loaded: LoadedConfig,
    private runtime: RuntimeOverrides,
    private readonly basics: () => PersistedBasics,
    private readonly warn: (message: string) => void = () => {},
  ) {
    this.keyFile = new KeyFileWriter(RuntimeConfig.keyFilePath(store.file));
  }

  /** Where a key provisioned over the socket is kept: `ai-api-key` beside the state file. */
  static keyFilePath(stateFile: string): string {
    return `${stateFile.slice(0, stateFile.lastIndexOf('/') + 1)}ai-api-key`;
  }

  /** The configuration now in force. */
  get current(): LoadedConfig {
    return this.loaded;
  }

  /** The run-time overrides now in force. */
  get overrides(): RuntimeOverrides {
    return this.runtime;
  }

  /** The overrides a state write must carry now: those being saved by a change, else those in force. */
  persisted(): RuntimeOverrides {
    return this.inFlight ?? this.runtime;
  }

  /** Validates, persists and adopts one change; queued behind the changes asked for before it. */
  set(key: string, value: unknown): Promise<LoadedConfig> {
    return this.serial(() => this.apply(key, value));
  }

  /**
   * Re-reads every source (SIGHUP, `reload`); queued like `set`. A bad configuration changes nothing;
   * run-time changes that the files no longer allow are dropped (and said so) rather than block it.
   */
  reload(): Promise<LoadedConfig> {
    return this.serial(async () => {
      try {
        this.loaded = await loadWithRuntime(this.base, this.runtime);
        return this.loaded;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        const conflicting = Object.keys(this.runtime).filter((k) => error.problems.some((p) => p.path === k || p.related?.includes(k)));
        if (conflicting.length === 0) throw error;
        const kept = Object.fromEntries(Object.entries(this.runtime).filter(([k]) => !conflicting.includes(k)));
        const loaded = await loadWithRuntime(this.base, kept);
        await this.save(kept);
        this.warn(`run-time changes of ${conflicting.join(', ')} no longer fit the configuration files and were dropped`);
        this.runtime = kept;
        this.loaded = loaded;
        return loaded;
      }
    });
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Writes the state with `overrides` (and whatever volume and mute are by then). */
  private async save(overrides: RuntimeOverrides): Promise<void> {
    this.inFlight = overrides;
    try {
      await this.store.save(() => ({ ...this.basics(), config: this.persisted() }));
    } finally {
      this.inFlight = null;
    }
  }

  private async apply(key: string, value: unknown): Promise<LoadedConfig> {
    let next: RuntimeOverrides;
    let undoKey: (() => Promise<void>) | null = null;
    if (key === SECRET_KEY) {
      if (typeof value !== 'string' || !/^[\x21-\x7e]{1,16000}$/.test(value.trim())) {
        throw coded('ERR_BAD_ARGUMENT', `${SECRET_KEY} must be a non-empty string of printable ASCII without spaces`);
      }
      undoKey = await this.keyFile.replace(value.trim());
      next = { ...this.runtime, 'ai.apiKeyFile': this.keyFile.path };
    } else {
      if (!KEYS.has(key)) throw coded('ERR_UNKNOWN_KEY', `no configuration key '${key}'`);
      if (Object.hasOwn(this.runtime, key) && JSON.stringify(this.runtime[key]) === JSON.stringify(value)) return this.loaded;
      next = { ...this.runtime, [key]: value };
    }
    try {
      const adopted = adoptOne(this.loaded, await loadWithRuntime(this.base, next), key);
      await this.save(next);
      this.runtime = next;
      this.loaded = adopted;
      return adopted;
    } catch (error) {
      await undoKey?.();
      if (error instanceof ConfigError) throw refusal(error, key);
      throw error;
    }
  }
}
