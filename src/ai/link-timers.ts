/**
 * Named one-shot timers that belong to one owner (one connection): clear() drops them all when the
 * owner ends, and a callback never runs after that, even if its timer was already due.
 */
export class LinkTimers<Name extends string> {
  private readonly timers = new Map<Name, NodeJS.Timeout>();
  private ended = false;

  /** Runs `fn` after `ms` unless cleared first; replaces a timer of the same name. */
  set(name: Name, ms: number, fn: () => void): void {
    if (this.ended) return;
    this.cancel(name);
    const timer = setTimeout(() => {
      this.timers.delete(name);
      if (!this.ended) fn();
    }, ms);
    timer.unref();
    this.timers.set(name, timer);
  }

  /** Whether a timer of that name is waiting. */
  has(name: Name): boolean {
    return this.timers.has(name);
  }

  /** Cancels one timer. */
  cancel(name: Name): void {
    const timer = this.timers.get(name);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(name);
  }

  /** Cancels every timer for good: the owner has ended. */
  clear(): void {
    this.ended = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
