/**
 * A client's subscription: which events it selected, its snapshot, and its `levels` timer. Without an
 * `events` filter a subscriber gets every service event; `levels` events come only at the rate it
 * asked for.
 */
import { encodeEvent, SERVICE_EVENT_NAMES, type ControlRequest } from './protocol.js';
import type { ResolvedOptions } from './options.js';

/** Rounds and clamps a signal level to an integer 0..255 (0 for anything not a number). */
export function clampLevel(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 0;
  return Math.min(255, Math.max(0, Math.round(value)));
}

/** One client's selection of events. */
export class Subscription {
  private readonly events: ReadonlySet<string> | null;
  private readonly levelsHz: number | null;
  private timer: NodeJS.Timeout | null = null;
  private levelsFailed = false;

  constructor(
    request: Extract<ControlRequest, { cmd: 'subscribe' }>,
    private readonly options: Pick<ResolvedOptions, 'target' | 'logger'>,
    private readonly send: (line: string) => void,
  ) {
    this.events = request.events === null ? null : new Set(request.events);
    this.levelsHz = request.levelsHz;
  }

  /** Whether an event of this name goes to the subscriber. */
  wants(event: string): boolean {
    if (event === 'levels') return false;
    return this.events === null || this.events.has(event);
  }

  /** The `result` of the subscribe reply: the events selected and the levels rate. */
  describe(): { subscribed: true; events: string[]; levels: number | null } {
    const selected = SERVICE_EVENT_NAMES.filter((e) => this.wants(e)) as string[];
    if (this.levelsHz !== null) selected.push('levels');
    return { subscribed: true, events: selected, levels: this.levelsHz };
  }

  /** The target's snapshot, filtered and encoded; throws what the target throws. */
  snapshotLines(): string[] {
    return this.options.target
      .snapshot()
      .filter((e) => this.wants(e.event))
      .map((e) => encodeEvent(e.event, e.data));
  }

  /** Starts the levels timer (when levels were asked for). */
  start(): void {
    if (this.levelsHz === null || this.timer !== null) return;
    this.timer = setInterval(() => this.tick(), 1000 / this.levelsHz);
  }

  /** Stops the levels timer; no event is sent after this. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    let levels: { mic: number; speaker: number };
    try {
      levels = this.options.target.levels();
    } catch (error) {
      if (!this.levelsFailed) this.options.logger.warn(`reading the signal levels failed: ${(error as Error).message}`);
      this.levelsFailed = true;
      return;
    }
    this.send(encodeEvent('levels', { mic: clampLevel(levels.mic), speaker: clampLevel(levels.speaker) }));
  }
}
