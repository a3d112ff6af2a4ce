/** What the watchdog needs to decide whether the daemon is alive. */
export interface WatchdogOptions {
  intervalMs: number;
  /** A timer that fires this much later than due means the event loop is stuck. */
  maxLoopLagMs: number;
  /** A counter that grows while the audio clock runs (engine frames). */
  audioClock: () => number;
  ping: () => void;
  /** Told once each time pinging stops, with the reason. */
  onMissed?: (reason: string) => void;
}

/**
 * Pings the systemd watchdog at its interval, but only while the audio clock advances and the event
 * loop answers in time: a hung audio thread or a blocked loop stops the pings, and systemd restarts
 * the service.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | null = null;
  private due = 0;
  private lastFrames = -1;
  private missing = false;

  constructor(private readonly options: WatchdogOptions) {}

  /** Starts pinging (one ping at once). */
  start(): void {
    this.lastFrames = this.options.audioClock();
    this.options.ping();
    this.schedule();
  }

  /** Stops pinging. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    this.due = performance.now() + this.options.intervalMs;
    this.timer = setTimeout(() => this.check(), this.options.intervalMs);
  }

  private check(): void {
    const lag = performance.now() - this.due;
    const frames = this.options.audioClock();
    const reason =
      lag > this.options.maxLoopLagMs
        ? `the event loop answered ${Math.round(lag)} ms late`
        : frames <= this.lastFrames
          ? 'the audio clock has stopped'
          : null;
    this.lastFrames = frames;
    if (reason === null) {
      this.missing = false;
      this.options.ping();
    } else if (!this.missing) {
      this.missing = true;
      this.options.onMissed?.(reason);
    }
    this.schedule();
  }
}
