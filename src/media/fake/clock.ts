/**
 * The fake's clocks: a real-time 10 ms ticker for engines without a manual clock (an unref'd
 * setInterval that catches up on late ticks and, like the native null clock, restarts its schedule
 * after a stall of more than 5 periods), and the tick duration statistics.
 */

/** One tick of audio, in ms. */
export const TICK_MS = 10;
const MAX_LATE_MS = 5 * TICK_MS;

/** Calls `tick` every 10 ms of real time until stop(); never keeps the process alive. */
export class RealtimeClock {
  private timer: NodeJS.Timeout | null = null;
  private nextTickAt = 0;

  constructor(private readonly tick: () => void) {}

  start(): void {
    if (this.timer !== null) return;
    this.nextTickAt = performance.now() + TICK_MS;
    this.timer = setInterval(() => this.onTimer(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private onTimer(): void {
    const now = performance.now();
    if (now - this.nextTickAt > MAX_LATE_MS) this.nextTickAt = now;
    while (this.timer !== null && this.nextTickAt <= now) {
      this.tick();
      this.nextTickAt += TICK_MS;
    }
  }
}

/** Tick count and durations. */
export class TickStats {
  ticks = 0;
  private totalMs = 0;
  private maxMs = 0;

  /** Runs one tick, timing it. */
  measure(tick: () => void): void {
    const started = performance.now();
    tick();
    const elapsed = performance.now() - started;
    this.ticks++;
    this.totalMs += elapsed;
    this.maxMs = Math.max(this.maxMs, elapsed);
  }

  get maxUs(): number {
    return this.maxMs * 1000;
  }

  get avgUs(): number {
    return this.ticks > 0 ? (this.totalMs * 1000) / this.ticks : 0;
  }
}
