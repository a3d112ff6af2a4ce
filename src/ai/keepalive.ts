/**
 * A backend-driven keepalive (Deepgram `KeepAlive`): when nothing has been sent for `intervalMs`,
 * `fire` is called. Belongs to one connection; stop() ends it for good.
 */
export class KeepAlive {
  private lastSent = performance.now();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly fire: () => void,
  ) {
    const check = Math.max(10, Math.floor(intervalMs / 4));
    this.timer = setInterval(() => {
      if (performance.now() - this.lastSent >= this.intervalMs) {
        this.lastSent = performance.now();
        this.fire();
      }
    }, check);
    this.timer.unref();
  }

  /** Something was sent. */
  touch(): void {
    this.lastSent = performance.now();
  }

  /** Ends the keepalive. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
