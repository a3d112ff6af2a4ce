/** Writes only the latest value: while one write is in flight, newer values replace each other. */

/** A serial writer that collapses a burst of values into the last one; stops after the first failure. */
export class LatestWriter<T> {
  private pending: { value: T } | null = null;
  private busy = false;
  private failed = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly write: (value: T) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Queues `value`, replacing a value not yet written. */
  push(value: T): void {
    if (this.failed) return;
    this.pending = { value };
    if (!this.busy) void this.run();
  }

  /** Resolves once nothing is queued or in flight. */
  settled(): Promise<void> {
    return this.busy ? new Promise((resolve) => this.idle.push(resolve)) : Promise.resolve();
  }

  /** True after a write failed (nothing more is written). */
  get broken(): boolean {
    return this.failed;
  }

  private async run(): Promise<void> {
    this.busy = true;
    while (this.pending && !this.failed) {
      const { value } = this.pending;
      this.pending = null;
      try {
        await this.write(value);
      } catch (error) {
        this.failed = true;
        this.onError(error);
      }
    }
    this.busy = false;
    for (const resolve of this.idle.splice(0)) resolve();
  }
}
