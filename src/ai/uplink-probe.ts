/**
 * How far behind the peer is in reading what was written to it. Node cannot see the kernel's send
 * buffer (on loopback it holds megabytes, tens of seconds of audio), so each write is followed, at
 * most every `intervalMs`, by a WebSocket ping: its pong proves the peer has read everything written
 * before it. `lagMs()` is the age of the oldest write not yet proven read (0 when all are).
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
    if (this.pending.length === 0 || t - this.lastProbeAt >= this.intervalMs) this.probe(t);
  }

  /** A pong arrived; returns true when it answered a probe. */
  pong(payload: string): boolean {
    const match = /^u(\d+)$/.exec(payload);
    if (!match) return false;
    const seq = Number(match[1]);
    while (this.pending.length > 0 && (this.pending[0]?.seq ?? Infinity) <= seq) this.pending.shift();
    if (this.pending.length === 0 && this.uncoveredSince !== null) this.probe(this.now());
    return true;
  }

  /** Age in ms of the oldest write the peer has not been proven to have read. */
  lagMs(): number {
    const oldest = this.pending[0]?.covers ?? this.uncoveredSince;
    return oldest === null ? 0 : Math.max(0, this.now() - oldest);
  }

  private probe(t: number): void {
    if (this.uncoveredSince === null) return;
    this.seq++;
    this.pending.push({ seq: this.seq, covers: this.uncoveredSince });
    this.uncoveredSince = null;
    this.lastProbeAt = t;
    this.ping(`u${this.seq}`);
  }
}
