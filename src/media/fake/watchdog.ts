/**
 * FakeWatchdog: the NativeWatchdog interface in TypeScript, with the decisions of
 * native/addon/watchdog.cc (one check at start, then one per interval; a ping needs the watched
 * engine's frame counter to have advanced and a heartbeat within maxLoopStallMs; a closed or absent
 * engine is a stopped clock except within a grace; misses counted once per episode).
 *
 * Difference by design: its "thread" is an unref'd timer on the event loop, so unlike the native
 * pinger it cannot ping while the loop is blocked (a blocked loop also blocks its checks). Pings go to
 * the `send` function given to createFakeBinding(); without one they are only counted.
 */
import type { NativeEngine, NativeWatchdog, NativeWatchdogOptions, NativeWatchdogReason, NativeWatchdogStatus } from '../binding.js';
import { optionInt, optionString, requireInt, requireObject } from './args.js';
import { FakeEngine, type FakeEngineClock } from './engine.js';

const MAX_MS = 3600000;
const CLOCK_STOPPED = 1;
const NO_ENGINE = 2;
const LOOP_STALLED = 4;

function reasonNames(mask: number): NativeWatchdogReason[] {
  const out: NativeWatchdogReason[] = [];
  if (mask & CLOCK_STOPPED) out.push('clock_stopped');
  if (mask & NO_ENGINE) out.push('no_engine');
  if (mask & LOOP_STALLED) out.push('loop_stalled');
  return out;
}

/** Sends one sd_notify state; false when there is nowhere to send it. */
export type FakeNotifySend = (state: string) => boolean;

/** A pure-TypeScript watchdog pinger; see the module comment. */
export class FakeWatchdog implements NativeWatchdog {
  private readonly intervalMs: number;
  private readonly stallMs: number;
  private readonly reopenGraceMs: number;
  private timer: NodeJS.Timeout | null = null;
  private next = 0;
  private clock: FakeEngineClock | null = null;
  private absentSince = 0;
  private fresh = false;
  private lastFrames = 0;
  private heartbeatAt = 0;
  private graceUntil = 0;
  private lastGap = 0;
  private longestGap = 0;
  private pings = 0;
  private checks = 0;
  private misses = 0;
  private reasons = 0;
  private missReasons = 0;
  private missHeartbeatAge = 0;
  private lastPingAt = 0;
  private sendErrors = 0;
  private lastSendError: string | undefined;
  private pinging = false;
  private socket = false;

  constructor(
    options: NativeWatchdogOptions,
    private readonly send: FakeNotifySend | null = null,
  ) {
    const o = requireObject(options, 'options');
    if (o.intervalMs === undefined) throw new TypeError('options.intervalMs must be a number');
    this.intervalMs = optionInt(o, 'intervalMs', 0, 1, MAX_MS);
    this.stallMs = optionInt(o, 'maxLoopStallMs', Math.trunc((this.intervalMs * 8) / 5), 1, MAX_MS);
    this.reopenGraceMs = optionInt(o, 'reopenGraceMs', 0, 0, MAX_MS);
    optionString(o, 'notifySocket', '');
  }

  start(): boolean {
    if (this.timer !== null) return this.socket;
    this.socket = this.send !== null;
    const now = performance.now();
    if (this.clock === null) this.absentSince = now;
    this.fresh = true;
    this.heartbeatAt = now;
    this.pinging = true;
    this.reasons = 0;
    this.next = now;
    this.run();
    return this.socket;
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.socket = false;
  }

  watch(engine: NativeEngine | null): void {
    let next: FakeEngineClock | null = null;
    if (engine !== null && engine !== undefined) {
      if (!(engine instanceof FakeEngine)) throw new TypeError('engine must be an Engine or null');
      next = engine.watchdogClock();
    }
    if (next !== null && next.stoppedAt !== 0) next = null;
    if (next === this.clock) return;
    if (next === null) {
      const stopped = this.clock?.stoppedAt ?? 0;
      this.absentSince = stopped !== 0 ? stopped : performance.now();
    } else {
      this.fresh = true;
    }
    this.clock = next;
  }

  reopening(ms: number): void {
    const n = requireInt(ms, 'ms', 0, MAX_MS);
    this.graceUntil = n === 0 ? 0 : performance.now() + n;
  }

  heartbeat(): void {
    const now = performance.now();
    if (this.heartbeatAt !== 0) {
      this.lastGap = now - this.heartbeatAt;
      this.longestGap = Math.max(this.longestGap, this.lastGap);
    }
    this.heartbeatAt = now;
  }

  status(): NativeWatchdogStatus {
    const now = performance.now();
    const running = this.timer !== null;
    return {
      running,
      pinging: running && this.pinging,
      pings: this.pings,
      checks: this.checks,
      misses: this.misses,
      reasons: reasonNames(this.reasons),
      missReasons: reasonNames(this.missReasons),
      missHeartbeatAgeMs: this.missHeartbeatAge,
      heartbeatAgeMs: this.heartbeatAt === 0 ? -1 : now - this.heartbeatAt,
      lastLoopGapMs: this.lastGap,
      longestLoopGapMs: this.longestGap,
      lastPingAgeMs: this.lastPingAt === 0 ? -1 : now - this.lastPingAt,
      sendErrors: this.sendErrors,
      ...(this.lastSendError !== undefined ? { lastSendError: this.lastSendError } : {}),
      notifySocket: this.socket,
      engine: this.clock === null ? 'none' : this.clock.stoppedAt !== 0 ? 'closed' : 'open',
      graceMs: Math.max(0, this.graceUntil - now),
    };
  }

  /** Checks every due deadline, then waits for the next (like the native thread's absolute schedule). */
  private run(): void {
    const now = performance.now();
    if (now >= this.next) {
      this.check(now);
      this.next += this.intervalMs;
      if (this.next <= now) this.next = now + this.intervalMs;
    }
    this.timer = setTimeout(() => this.run(), Math.max(0, this.next - performance.now()));
    this.timer.unref();
  }

  private check(now: number): void {
    this.checks++;
    let reasons = 0;
    const heartbeatAge = now - this.heartbeatAt;
    if (heartbeatAge > this.stallMs) reasons |= LOOP_STALLED;
    const stopped = this.clock?.stoppedAt ?? 0;
    if (this.clock === null || stopped !== 0) {
      const since = this.clock !== null ? stopped : this.absentSince;
      const grace = now < this.graceUntil || (this.reopenGraceMs > 0 && now - since <= this.reopenGraceMs);
      if (!grace) reasons |= NO_ENGINE;
    } else {
      const frames = this.clock.frames;
      if (!this.fresh && frames === this.lastFrames) reasons |= CLOCK_STOPPED;
      this.lastFrames = frames;
      this.fresh = false;
    }
    this.reasons = reasons;
    if (reasons === 0) {
      if (this.send !== null) {
        try {
          if (!this.send('WATCHDOG=1')) throw new Error('no notify socket');
        } catch (error) {
          this.sendErrors++;
          this.lastSendError = (error as Error).message;
        }
      }
      this.pings++;
      this.lastPingAt = now;
      this.pinging = true;
    } else if (this.pinging) {
      this.pinging = false;
      this.missReasons = reasons;
      this.missHeartbeatAge = heartbeatAge;
      this.misses++;
    }
  }
}
