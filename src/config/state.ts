/**
 * Runtime state that survives a restart (volume, mute), in `/var/lib/speakerd/state.json` by default.
 * Saves are atomic (temp file in the same directory, write, fsync, rename, fsync of the directory), so
 * a power cut leaves the old file or the new one, never half of one. A corrupt file is moved aside and
 * reported; it is never fatal.
 */

import { readdir, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tempPrefix, writeFileAtomic } from '../system/atomic-file.js';
import { ConfigFileError, readConfiguredFile } from '../system/safe-file.js';

/** The persisted state. Unknown fields are kept, so a newer daemon's fields survive an older one. */
export interface SpeakerState {
  /** Volume in percent, 0..100. */
  volume: number;
  muted: boolean;
  [field: string]: unknown;
}

/** What `load()` returns: the state (defaults filled in) and what went wrong, if anything. */
export interface StateLoadResult {
  state: SpeakerState;
  /** Problems to log (a corrupt file moved aside, a field reset); empty when all was well. */
  warnings: string[];
}

/** Options of a StateStore. */
export interface StateStoreOptions {
  /** State used when the file is absent or a field is invalid, default {volume: 70, muted: false}. */
  defaults?: Partial<SpeakerState>;
  /** Clock for the name of a moved-aside file, default `() => new Date()`. */
  now?: () => Date;
}

/** Code of the error a failed save rejects with. */
export const ERR_STATE_WRITE = 'ERR_STATE_WRITE';

/**
 * Largest state file read, in bytes; a larger one is treated as corrupt. Sized to what the schema lets
 * config_set store: ai.instructions alone may be 100,000 characters, each up to 6 bytes once escaped in
 * JSON (a control character becomes \u00XX), so 2 MiB leaves room for every other key at its limit.
 */
export const MAX_STATE_BYTES = 2 * 1024 * 1024;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

type Waiter = { resolve: () => void; reject: (error: Error) => void };

/** Loads and saves the state file; saves are serialised and coalesced (the last one wins). */
export class StateStore {
  /** Path of the state file. */
  readonly file: string;
  private readonly defaults: SpeakerState;
  private readonly now: () => Date;
  private pending: (() => SpeakerState) | null = null;
  private waiters: Waiter[] = [];
  private draining: Promise<void> | null = null;
  private written = 0;

  constructor(file: string, options: StateStoreOptions = {}) {
    this.file = file;
    this.defaults = { volume: 70, muted: false, ...options.defaults };
    this.now = options.now ?? (() => new Date());
  }

  /** Number of files written so far (concurrent saves are coalesced into fewer writes). */
  get writes(): number {
    return this.written;
  }

  /** Reads the state; never throws. A corrupt file is renamed to `<file>.corrupt-<timestamp>`. */
  async load(): Promise<StateLoadResult> {
    await this.removeStaleTemps();
    let text: string | null;
    try {
      text = await readLimited(this.file);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') return { state: { ...this.defaults }, warnings: [] };
      const why = e instanceof ConfigFileError ? e.message : (e.code ?? e.message);
      return { state: { ...this.defaults }, warnings: [`state file ${this.file} cannot be read (${why}); using defaults`] };
    }
    if (text === null) return this.corrupt(`it is larger than ${MAX_STATE_BYTES} bytes`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return this.corrupt('it is not valid JSON');
    }
    if (!isRecord(parsed)) return this.corrupt('it does not hold a JSON object');
    return this.fill(parsed);
  }

  /**
   * Writes `state` atomically. Saves never overlap; saves made meanwhile are merged into one write of the
   * last. A function is called when the write starts, so it can give what is current by then.
   */
  save(state: SpeakerState | (() => SpeakerState)): Promise<void> {
    if (typeof state === 'function') this.pending = state;
    else {
      const copy = { ...state };
      this.pending = () => copy;
    }
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.draining ??= this.drain();
    return done;
  }

  /** Resolves once every save requested so far has been written (or has failed). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const produce = this.pending;
      const waiters = this.waiters;
      this.pending = null;
      this.waiters = [];
      try {
        await this.write(produce());
        this.written++;
        for (const w of waiters) w.resolve();
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        const failure = Object.assign(new Error(`cannot write the state file ${this.file}: ${e.code ?? e.message}`), { code: ERR_STATE_WRITE, cause: error });
        for (const w of waiters) w.reject(failure);
      }
    }
    this.draining = null;
  }

  private async write(state: SpeakerState): Promise<void> {
    // 0600: it holds run-time settings (and the path of a provisioned key) that are not every socket user's to read.
    await writeFileAtomic(this.file, `${JSON.stringify(state, null, 2)}\n`, 0o600);
  }

  private fill(saved: Record<string, unknown>): StateLoadResult {
    const state: SpeakerState = { ...this.defaults, ...saved } as SpeakerState;
    const warnings: string[] = [];
    const volume = saved.volume;
    if (volume !== undefined && (typeof volume !== 'number' || !Number.isInteger(volume) || volume < 0 || volume > 100)) {
      state.volume = this.defaults.volume;
      warnings.push(`state file ${this.file}: volume must be an integer from 0 to 100; using ${this.defaults.volume}`);
    }
    if (saved.muted !== undefined && typeof saved.muted !== 'boolean') {
      state.muted = this.defaults.muted;
      warnings.push(`state file ${this.file}: muted must be true or false; using ${this.defaults.muted}`);
    }
    return { state, warnings };
  }

  private async corrupt(why: string): Promise<StateLoadResult> {
    const aside = `${this.file}.corrupt-${this.now().toISOString().replace(/:/g, '-')}`;
    let warning: string;
    try {
      await rename(this.file, aside);
      warning = `state file ${this.file} is corrupt (${why}); moved it to ${aside} and started from defaults`;
    } catch (error) {
      warning = `state file ${this.file} is corrupt (${why}) and could not be moved aside (${(error as NodeJS.ErrnoException).code ?? error}); using defaults`;
    }
    return { state: { ...this.defaults }, warnings: [warning] };
  }

  /** Removes temp files a crash left behind in the middle of a save (not this process's own). */
  private async removeStaleTemps(): Promise<void> {
    const dir = dirname(this.file);
    const prefix = tempPrefix(this.file);
    const names = await readdir(dir).catch(() => [] as string[]);
    const ours = `${prefix}${process.pid}-`;
    const stale = names.filter((n) => n.startsWith(prefix) && !n.startsWith(ours));
    await Promise.all(stale.map((n) => unlink(join(dir, n)).catch(() => undefined)));
  }
}

/** The file's text, or null when it is larger than MAX_STATE_BYTES; read like every file the configuration names. */
async function readLimited(file: string): Promise<string | null> {
  try {
    return (await readConfiguredFile(file, { key: 'state.file', maxBytes: MAX_STATE_BYTES })).toString('utf8');
  } catch (error) {
    if (error instanceof ConfigFileError && error.reason === 'too_large') return null;
    if (error instanceof ConfigFileError && error.reason === 'missing') throw Object.assign(new Error(error.message), { code: 'ENOENT' });
    throw error;
  }
}
