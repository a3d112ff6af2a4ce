/**
 * Saving what the service keeps across restarts (volume, mute) without ever giving up: a write that
 * fails (a full disk, a read-only or missing directory) is logged once, tried again later until one
 * succeeds, and its recovery is logged too. The daemon never stops for it.
 */
import type { ServiceLog } from './service.js';

/** What is saved. */
export interface PersistedSettings {
  volume: number;
  muted: boolean;
}

/** Saves the settings now and keeps retrying a failed save. */
export class StatePersister {
  private retry: NodeJS.Timeout | null = null;
  private failing = false;
  private stopped = false;

  constructor(
    private readonly save: (settings: PersistedSettings) => Promise<void>,
    private readonly current: () => PersistedSettings,
    private readonly log: ServiceLog,
    private readonly retryMs = 30000,
  ) {}

  /** Saves what `current()` gives (again later if it fails). */
  persist(): void {
    this.cancel();
    this.save(this.current())
      .then(() => {
        if (this.failing) this.log.info('the state file is written again');
        this.failing = false;
      })
      .catch((error: Error) => {
        if (!this.failing) this.log.error(`cannot save the state (will try again): ${error.message}`);
        this.failing = true;
        if (this.stopped) return;
        this.retry = setTimeout(() => this.persist(), this.retryMs);
        this.retry.unref();
      });
  }

  /** The last save at a stop: no retry after it; a failure is logged. */
  async final(): Promise<void> {
    this.stopped = true;
    this.cancel();
    await this.save(this.current()).catch((error: Error) => this.log.error(`cannot save the state: ${error.message}`));
  }

  private cancel(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }
}
