/**
 * The audit trail of the control socket: every change and every refusal, with who asked. No record is
 * dropped, but one user cannot flood the log (and so push other records out of journald's own rate
 * limit): past `burst` records of one uid in a window, the rest are counted by what they were and
 * written as one summary line when the window ends, still naming the uid, the commands and the counts.
 */

/** Options of an AuditTrail. */
export interface AuditTrailOptions {
  /** Where each line goes (an audit logger: never filtered by level or rate). */
  write: (line: string) => void;
  /** Records of one uid written in full per window. Default 20. */
  burst?: number;
  /** The window, in ms. Default 10000. */
  windowMs?: number;
}

interface Window {
  written: number;
  held: Map<string, number>;
  timer: NodeJS.Timeout | null;
}

/** Audit records, coalesced per uid beyond a burst (see the module comment). */
export class AuditTrail {
  private readonly windows = new Map<string, Window>();
  private readonly burst: number;
  private readonly windowMs: number;

  constructor(private readonly options: AuditTrailOptions) {
    this.burst = options.burst ?? 20;
    this.windowMs = options.windowMs ?? 10000;
  }

  /**
   * Records one event. `who` identifies the peer (uid, or 'unidentified'); `what` is its kind for the
   * summary (e.g. "refused 'mute'"); `line` the full record.
   */
  record(who: string, what: string, line: string): void {
    let window = this.windows.get(who);
    if (window === undefined) {
      window = { written: 0, held: new Map(), timer: null };
      this.windows.set(who, window);
      const w = window;
      w.timer = setTimeout(() => this.close(who, w), this.windowMs);
      w.timer.unref();
    }
    if (window.written < this.burst) {
      window.written++;
      this.options.write(line);
      return;
    }
    window.held.set(what, (window.held.get(what) ?? 0) + 1);
  }

  /** Writes every pending summary now (at shutdown). */
  flush(): void {
    for (const [who, window] of [...this.windows]) this.close(who, window);
  }

  private close(who: string, window: Window): void {
    if (window.timer !== null) clearTimeout(window.timer);
    this.windows.delete(who);
    if (window.held.size === 0) return;
    let total = 0;
    const kinds: string[] = [];
    for (const [what, count] of window.held) {
      total += count;
      kinds.push(`${what} x${count}`);
    }
    this.options.write(`control: ${who}: ${total} more records in ${Math.round(this.windowMs / 1000)} s: ${kinds.join(', ')}`);
  }
}
