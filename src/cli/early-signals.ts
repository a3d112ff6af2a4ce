/** Signal handling from the first instant of the daemon's life. */

/** A graceful stop requested before start-up finished exits after this long at the latest. */
const EARLY_STOP_MS = 2000;

/**
 * Signals that arrive before the daemon is up are remembered and handled once it is (SIGHUP's default
 * action would kill it; a stop during start-up must still stop it).
 */
export class EarlySignals {
  private handlers: { stop: (signal: string) => void; reload: () => void } | null = null;
  private pendingStop: string | null = null;
  private pendingReload = false;

  constructor() {
    process.on('SIGTERM', () => this.stop('SIGTERM'));
    process.on('SIGINT', () => this.stop('SIGINT'));
    process.on('SIGHUP', () => this.reload());
  }

  /** Installs the real handlers and runs what arrived meanwhile. */
  ready(handlers: { stop: (signal: string) => void; reload: () => void }): void {
    this.handlers = handlers;
    if (this.pendingStop !== null) handlers.stop(this.pendingStop);
    else if (this.pendingReload) handlers.reload();
  }

  private stop(signal: string): void {
    if (this.handlers) this.handlers.stop(signal);
    else if (this.pendingStop === null) {
      this.pendingStop = signal;
      // Nothing is running yet that needs a graceful stop beyond a moment to finish opening.
      setTimeout(() => process.exit(0), EARLY_STOP_MS).unref();
    }
  }

  private reload(): void {
    if (this.handlers) this.handlers.reload();
    else this.pendingReload = true;
  }
}
