/** Reconnect delays: exponential with jitter, reset once a session has been established. */
export interface BackoffOptions {
  /** First delay, default 1000 ms. */
  minMs: number;
  /** Largest delay, default 30000 ms. */
  maxMs: number;
  /** Random spread as a fraction of the delay (0.2 = ±20 %), default 0.2. */
  jitter: number;
}

/** Exponential backoff: min, 2·min, 4·min … up to max, each spread by the jitter. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt. */
  next(): number {
    const base = Math.min(this.options.maxMs, this.options.minMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    const spread = base * this.options.jitter * (this.random() * 2 - 1);
    return Math.max(0, Math.round(base + spread));
  }

  /** Back to the first delay (a session was established). */
  reset(): void {
    this.attempt = 0;
  }
}
