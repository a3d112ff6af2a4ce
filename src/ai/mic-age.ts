/** Monotonic time in ms on the clock of the engine's capture times (process.hrtime). */
export const monotonicMs = (): number => Number(process.hrtime.bigint() / 1000n) / 1000;

/**
 * How old microphone audio may be when it leaves: a batch captured more than `maxAgeMs` ago is
 * stale (the user has moved on; a service hearing it late would answer the past), and while the peer
 * has not read what it was already given within `maxAgeMs` (a stalled uplink, see UplinkProbe), no
 * more audio is handed to the socket, so that the kernel's buffer never fills with old audio.
 */
export class MicAgePolicy {
  constructor(
    readonly maxAgeMs: number,
    private readonly now: () => number = monotonicMs,
  ) {}

  /** Whether audio whose last sample was captured at `capturedMs` is too old to send. */
  isStale(capturedMs: number): boolean {
    return this.now() - capturedMs > this.maxAgeMs;
  }

  /** Whether audio must wait because the peer lags `lagMs` behind in reading. */
  mustHold(lagMs: number): boolean {
    return lagMs > this.maxAgeMs;
  }
}
