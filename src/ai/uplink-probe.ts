/**
 * How far behind the peer is in reading what was written to it. Node cannot see the kernel's send
 * buffer (on loopback it holds megabytes, tens of seconds of audio), so writes are followed by a
 * WebSocket ping at most every `intervalMs`: its pong proves the peer has read everything written
 * before it. `lagMs()` is the age of the oldest write not yet proven read (0 when all are).
 * Probes are sent only from wrote(), pong() and lagMs() when one is due (never from a timer), so
 * a steady stream of 40 ms batches costs 1000 / intervalMs pings a second, not one per batch; a
 * write not yet probed is at most `intervalMs` old until the next call probes it.
 */
export class UplinkProbe {
  private seq = 0;
  private readonly pending: { seq: number; covers: number }[] = [];
  private uncoveredSince: number | null = null;
  private lastProbeAt = -Infinity;

  /** `ping` sends one probe ping with the given payload; `now` is a monotonic clock in ms. */
  constructor(
    private readonly ping: (payload: string) => void,
    private readonly now: () => number,
    private readonly intervalMs = 100,
  ) {}

  /** A message was handed to the socket. */
  wrote(): void {
    const t = this.now();
    this.uncoveredSince ??= t;
    this.probeIfDue(t);
  }

  /** A pong arrived; returns true when it answered a probe. */
  pong(payload: string): boolean {
    const match = /^u(\d+)$/.exec(payload);
    if (!match) return false;
    const seq = Number(match[1]);
    while (this.pending.length > 0 && (this.pending[0]?.seq ?? Infinity) <= seq) this.pending.shift();
    this.probeIfDue(this.now());
    return true;
  }

  /** Age in ms of the oldest write the peer has not been proven to have read (probes it when due). */
  lagMs(): number {
    const t = this.now();
    this.probeIfDue(t);
    const oldest = this.pending[0]?.covers ?? this.uncoveredSince;
    return oldest === null ? 0 : Math.max(0, t - oldest);
  }

  private probeIfDue(t: number): void {
    if (this.uncoveredSince === null || t - this.lastProbeAt < this.intervalMs) return;
    this.seq++;
    this.pending.push({ seq: this.seq, covers: this.uncoveredSince });
    this.uncoveredSince = null;
    this.lastProbeAt = t;
    this.ping(`u${this.seq}`);
  }
}
