import type { NativeBinding, NativeEngine, NativeWatchdog, NativeWatchdogStatus } from '../media/binding.js';
import type { AudioEngine } from '../media/engine.js';
import { loadNativeBinding } from '../media/native-binding.js';

/** An engine whose audio clock the watchdog can watch: an AudioEngine, or a binding's own engine. */
export type WatchedEngine = AudioEngine | NativeEngine;

/** What the watchdog needs to decide whether the daemon is alive. */
export interface WatchdogOptions {
  /** How often it checks and pings: half of WATCHDOG_USEC (see watchdogIntervalMs()). */
  intervalMs: number;
  /**
   * The loop-stall bound: pings stop once the event loop has not checked in (heartbeat) for this long.
   * Default (also for 0 or less): 1.6 × intervalMs, that is 0.8 × WATCHDOG_USEC. In the legacy mode
   * (no `engine`), the lateness of a ping timer beyond which that ping is skipped.
   */
  maxLoopLagMs?: number;
  /**
   * The engine whose frame counter proves that the audio clock runs, asked at every heartbeat and
   * re-attached when it changes (the daemon reopens audio on configuration changes). With it, the
   * binding's pinger (a native thread) sends the pings and a slow event loop cannot delay them.
   */
  engine?: () => WatchedEngine | null | undefined;
  /** After the watched engine closes, its absence is excused this long. Default 2 × intervalMs. */
  reopenGraceMs?: number;
  /** How often the event loop checks in. Default min(1000, bound / 4). */
  heartbeatMs?: number;
  /** The binding whose Watchdog pings; default the native addon (unit tests pass the fake). */
  binding?: NativeBinding;
  /** Where pings go; default $NOTIFY_SOCKET. */
  notifySocket?: string;
  /** Legacy mode only (no `engine`): a counter that grows while the audio clock runs (engine frames). */
  audioClock?: () => number;
  /** Legacy mode only: sends one ping. */
  ping?: () => void;
  /** Told once each time pinging stops, with the reason. */
  onMissed?: (reason: string) => void;
  /** Told when pinging resumes after a miss. */
  onResumed?: () => void;
}

const REASON_TEXT: Record<string, string> = {
  clock_stopped: 'the audio clock has stopped',
  no_engine: 'no audio engine is running (closed, or none attached)',
};

/** The native engine behind a handle, or null when there is none (closed, absent). */
function nativeOf(engine: WatchedEngine | null | undefined): NativeEngine | null {
  if (engine === null || engine === undefined) return null;
  if ('isClosed' in engine && typeof (engine as AudioEngine).call === 'function') {
    const audio = engine as AudioEngine;
    return audio.isClosed ? null : audio.call((native) => native);
  }
  return engine as NativeEngine;
}

/**
 * Pings the systemd watchdog only while the audio clock advances and the event loop is responsive:
 * a hung audio thread or a hung event loop stops the pings, and systemd restarts the service.
 *
 * With an `engine` (the daemon's mode) the pings come from the binding's pinger, a native thread that
 * reads the engine's frame counter itself and needs only a heartbeat from this event loop within
 * `maxLoopLagMs`: a loop that is merely slow (timers seconds late) keeps the pings at their interval.
 * Without one (legacy mode) a JavaScript timer pings through `ping` when `audioClock` advanced and the
 * timer was at most `maxLoopLagMs` late.
 */
export class Watchdog {
  private readonly native: NativeWatchdog | null = null;
  private readonly stallMs: number;
  private readonly heartbeatMs: number;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private watched: NativeEngine | null = null;
  private seenMisses = 0;
  private missing = false;
  // Legacy mode.
  private timer: NodeJS.Timeout | null = null;
  private due = 0;
  private lastFrames = -1;

  constructor(private readonly options: WatchdogOptions) {
    const interval = options.intervalMs;
    if (!Number.isInteger(interval) || interval < 1) throw new RangeError('intervalMs must be a positive integer');
    const lag = options.maxLoopLagMs ?? 0;
    this.stallMs = lag > 0 ? Math.round(lag) : Math.max(1, Math.trunc((interval * 8) / 5));
    this.heartbeatMs = options.heartbeatMs ?? Math.max(1, Math.min(1000, Math.floor(this.stallMs / 4)));
    if (options.engine) {
      const binding = options.binding ?? loadNativeBinding();
      if (!binding.Watchdog) throw new Error('the native addon has no Watchdog: rebuild it');
      this.native = new binding.Watchdog({
        intervalMs: interval,
        maxLoopStallMs: this.stallMs,
        reopenGraceMs: options.reopenGraceMs ?? 2 * interval,
        ...(options.notifySocket !== undefined ? { notifySocket: options.notifySocket } : {}),
      });
    } else if (!options.audioClock || !options.ping) {
      throw new TypeError('a Watchdog needs `engine`, or `audioClock` and `ping`');
    }
  }

  /** The loop-stall bound in use, in ms. */
  get maxLoopStallMs(): number {
    return this.stallMs;
  }

  /** Starts pinging (a first check and ping at once). */
  start(): void {
    if (this.native) {
      if (this.heartbeatTimer) return;
      this.refreshEngine();
      this.native.start();
      this.heartbeatTimer = setInterval(() => this.beat(), this.heartbeatMs);
      this.heartbeatTimer.unref();
      return;
    }
    if (this.timer) return;
    this.lastFrames = this.options.audioClock!();
    this.options.ping!();
    this.schedule();
  }

  /** Stops pinging: no ping is sent once this returns. */
  stop(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.native?.stop();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Watches this engine now (the `engine` option is still asked at every heartbeat). */
  watch(engine: WatchedEngine | null): void {
    this.attach(nativeOf(engine));
  }

  /** For the next `ms`, a closed or absent engine does not stop the pings (call it before reopening audio). */
  reopening(ms: number): void {
    this.native?.reopening(ms);
  }

  /** The pinger's counters (null in legacy mode). */
  status(): NativeWatchdogStatus | null {
    return this.native?.status() ?? null;
  }

  private attach(engine: NativeEngine | null): void {
    if (!this.native || engine === this.watched) return;
    this.native.watch(engine);
    this.watched = engine;
  }

  private refreshEngine(): void {
    const provider = this.options.engine;
    if (!provider) return;
    try {
      this.attach(nativeOf(provider()));
    } catch {
      // An engine closing under us: watch nothing (its absence is excused for reopenGraceMs).
      this.attach(null);
    }
  }

  private beat(): void {
    const native = this.native!;
    native.heartbeat();
    this.refreshEngine();
    const status = native.status();
    if (status.misses > this.seenMisses) {
      this.seenMisses = status.misses;
      this.missing = true;
      this.options.onMissed?.(this.describe(status));
    } else if (this.missing && status.pinging) {
      this.missing = false;
      this.options.onResumed?.();
    }
  }

  private describe(status: NativeWatchdogStatus): string {
    return status.missReasons
      .map((reason) => {
        if (reason !== 'loop_stalled') return REASON_TEXT[reason] ?? reason;
        // The heartbeat that runs this has just closed the gap: report its whole length.
        const silent = Math.max(status.lastLoopGapMs, status.missHeartbeatAgeMs);
        return `the event loop did not check in for ${Math.round(silent)} ms (bound ${this.stallMs} ms)`;
      })
      .join('; ');
  }

  // ---- legacy mode: a JavaScript timer pings ----

  private schedule(): void {
    this.due = performance.now() + this.options.intervalMs;
    this.timer = setTimeout(() => this.check(), this.options.intervalMs);
  }

  private check(): void {
    const lag = performance.now() - this.due;
    const frames = this.options.audioClock!();
    const reason = lag > this.stallMs ? `the event loop answered ${Math.round(lag)} ms late` : frames <= this.lastFrames ? 'the audio clock has stopped' : null;
    this.lastFrames = frames;
    if (reason === null) {
      this.missing = false;
      this.options.ping!();
    } else if (!this.missing) {
      this.missing = true;
      this.options.onMissed?.(reason);
    }
    this.schedule();
  }
}
