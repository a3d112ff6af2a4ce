import type { AudioMediaRing } from '../media/ring.js';

/** The assistant item being played: where it starts in the ring and how much of it arrived. */
interface PlayingItem {
  itemId: string;
  /** Ring write position of its first sample. */
  start: number;
  /** Samples accepted into the ring. */
  received: number;
  /** The service said its audio is complete. */
  done: boolean;
}

/** How much of an interrupted item was heard. */
export interface Interruption {
  itemId: string;
  playedMs: number;
  /** Audio of the item received so far (what was heard is playedMs of it). */
  receivedMs: number;
}

/** Items remembered as interrupted, so their late audio is dropped. */
const INTERRUPTED_MEMORY = 32;

/**
 * The reply side of an AI port: writes assistant audio into the ring port's playout buffer item by
 * item, ends each item with a drain so a short reply plays at once, and on barge-in flushes the ring
 * and works out how much of the item was actually played (from the ring's read position, clamped to
 * what was received). Audio of an interrupted item that arrives late is dropped.
 */
export class Playout {
  private written = 0;
  private current: PlayingItem | null = null;
  private readonly interrupted: string[] = [];
  /** Samples refused because the ring was full, and late samples of interrupted items. */
  overflowSamples = 0;
  lateSamples = 0;

  constructor(
    private readonly ring: AudioMediaRing,
    private readonly rate: number,
  ) {}

  /** The item whose audio is being queued or played, if any. */
  get currentItemId(): string | null {
    return this.current?.itemId ?? null;
  }

  /** Whether `itemId` was interrupted (its audio is dropped). */
  isInterrupted(itemId: string): boolean {
    return this.interrupted.includes(itemId);
  }

  /** Whether the ring can still be used (not destroyed, engine open). */
  private get usable(): boolean {
    return !this.ring.isDestroyed && !this.ring.engine.isClosed;
  }

  /** Queues audio of `itemId`; returns false when the ring could not take all of it. */
  write(itemId: string, pcm: Int16Array): boolean {
    if (!this.usable) return true;
    if (this.interrupted.includes(itemId)) {
      this.lateSamples += pcm.length;
      return true;
    }
    if (this.current?.itemId !== itemId) {
      if (this.current && !this.current.done) this.ring.drain();
      this.current = { itemId, start: this.written, received: 0, done: false };
    }
    const accepted = this.ring.write(pcm);
    this.written += accepted;
    this.current.received += accepted;
    this.overflowSamples += pcm.length - accepted;
    return accepted === pcm.length;
  }

  /** The service finished sending `itemId`: play what is left without waiting for the prebuffer. */
  done(itemId: string): void {
    if (this.current?.itemId !== itemId || this.current.done || !this.usable) return;
    this.current.done = true;
    this.ring.drain();
  }

  /** Whether reply audio is playing or waiting to play. */
  get busy(): boolean {
    if (!this.usable) return false;
    const status = this.ring.status();
    return status.playing || status.rxBuffered > 0;
  }

  /**
   * Stops playback on the next tick and discards what is queued. Returns what was heard of the
   * current item, or null when nothing of it remained unheard.
   */
  stop(): Interruption | null {
    if (!this.usable) return null;
    const item = this.current;
    const readPosition = this.ring.status().readPosition;
    this.ring.flush();
    this.current = null;
    if (!item) return null;
    this.interrupted.push(item.itemId);
    if (this.interrupted.length > INTERRUPTED_MEMORY) this.interrupted.shift();
    const played = Math.max(0, Math.min(item.received, readPosition - item.start));
    if (item.done && played >= item.received) return null;
    return { itemId: item.itemId, playedMs: Math.floor((played * 1000) / this.rate), receivedMs: Math.floor((item.received * 1000) / this.rate) };
  }

  /** The session ended: let what arrived play out, and start afresh with the next session. */
  endOfSession(): void {
    if (this.current && !this.current.done && this.usable) this.ring.drain();
    this.current = null;
  }
}
