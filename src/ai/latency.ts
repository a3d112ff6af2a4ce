/** Summary of recent latencies in ms. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  max: number;
}

/** Now on the monotonic clock shared with the engine's event times, in µs. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Keeps the last `size` latencies and summarises them. */
export class LatencyWindow {
  private readonly values: number[] = [];

  constructor(private readonly size = 512) {}

  /** Records one latency in ms. */
  add(ms: number): void {
    this.values.push(ms);
    if (this.values.length > this.size) this.values.shift();
  }

  /** p50, p95 and max of what is kept and of `extra` (zeros when both are empty). */
  summary(extra: ArrayLike<number> = []): LatencySummary {
    if (this.values.length === 0 && extra.length === 0) return { count: 0, p50: 0, p95: 0, max: 0 };
    const sorted = [...this.values, ...Array.from(extra)].sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    const round = (v: number): number => Math.round(v * 100) / 100;
    return { count: sorted.length, p50: round(at(0.5)), p95: round(at(0.95)), max: round(sorted[sorted.length - 1] ?? 0) };
  }
}
