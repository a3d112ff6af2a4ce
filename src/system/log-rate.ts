/** Rate limiting of repeated log records, keyed by component and message (fields are not compared). */

import type { LogLevel } from './log.js';

/** Records held back for one key during one interval. */
export interface Suppressed {
  component: string;
  message: string;
  /** The most severe level among the suppressed records. */
  level: LogLevel;
  count: number;
  intervalMs: number;
}

interface Entry {
  start: number;
  count: number;
  suppressed: number;
  level: LogLevel;
  component: string;
  message: string;
  timer: NodeJS.Timeout | null;
}

const SEVERITY: Record<LogLevel, number> = { debug: 0, info: 1, notice: 2, warning: 3, error: 4 };

/** Keys tracked at once; the oldest is closed (its summary written) to make room. */
export const MAX_TRACKED = 1024;

/**
 * Admits the first `burst` records of a key in each interval of `intervalMs` (starting at the first
 * record), counts the rest, and reports the count through `report` when the interval ends.
 */
export class RateLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly burst: number,
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly report: (s: Suppressed) => void,
  ) {
    if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`rateLimit.burst must be a positive integer, got ${burst}`);
    if (!(intervalMs > 0)) throw new RangeError(`rateLimit.intervalMs must be positive, got ${intervalMs}`);
  }

  /** True when the record may be written. */
  admit(component: string, message: string, level: LogLevel): boolean {
    const key = `${component}\0${message}`;
    const t = this.now();
    let entry = this.entries.get(key);
    if (entry && t - entry.start >= this.intervalMs) {
      this.close(key, entry);
      entry = undefined;
    }
    if (!entry) {
      if (this.entries.size >= MAX_TRACKED) this.makeRoom(t);
      entry = { start: t, count: 0, suppressed: 0, level, component, message, timer: null };
      this.entries.set(key, entry);
    }
    entry.count++;
    if (entry.count <= this.burst) return true;
    entry.suppressed++;
    if (SEVERITY[level] > SEVERITY[entry.level]) entry.level = level;
    if (!entry.timer) {
      const closing = entry;
      entry.timer = setTimeout(() => this.close(key, closing), Math.max(0, closing.start + this.intervalMs - t));
      entry.timer.unref();
    }
    return false;
  }

  /** Ends every interval now, reporting what was suppressed. */
  flush(): void {
    for (const [key, entry] of [...this.entries]) this.close(key, entry);
  }

  private close(key: string, entry: Entry): void {
    if (entry.timer) clearTimeout(entry.timer);
    if (this.entries.get(key) === entry) this.entries.delete(key);
    if (entry.suppressed > 0) {
      const { component, message, level, suppressed } = entry;
      entry.suppressed = 0;
      this.report({ component, message, level, count: suppressed, intervalMs: this.intervalMs });
    }
  }

  private makeRoom(t: number): void {
    for (const [key, entry] of this.entries) {
      if (t - entry.start >= this.intervalMs) this.close(key, entry);
    }
    const oldest = this.entries.entries().next();
    if (this.entries.size >= MAX_TRACKED && !oldest.done) this.close(oldest.value[0], oldest.value[1]);
  }
}
