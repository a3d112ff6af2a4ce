/**
 * Asynchronous event delivery of the fake: events raised during a tick are queued and handed to the
 * callback on a later turn of the event loop (setImmediate), never inside step(), in order. Like the
 * native event ring, at most EVENT_CAPACITY events wait; more are counted as dropped.
 */
import type { NativeEvent } from '../binding.js';

/** Events that may wait for delivery (the native ring's size). */
export const EVENT_CAPACITY = 4096;

/** An ordered, bounded, asynchronous event queue. */
export class EventQueue {
  /** Events dropped because EVENT_CAPACITY were already waiting. */
  dropped = 0;
  private pending: NativeEvent[] = [];
  private scheduled = false;

  constructor(private readonly deliver: (event: NativeEvent) => void) {}

  /** Queues an event for delivery on a later turn of the event loop. */
  post(event: NativeEvent): void {
    if (this.pending.length >= EVENT_CAPACITY) {
      this.dropped++;
      return;
    }
    this.pending.push(event);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    for (const event of batch) this.deliver(event);
  }
}
