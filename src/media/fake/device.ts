/**
 * The fake sound device (bridge slot 0). Its rx is the microphone: samples given to feedCapture() at
 * the bridge rate, one frame consumed per tick whether or not anyone listens (silence when none are
 * queued), passed through unchanged (the fake echo canceller removes nothing). Its tx is the speaker:
 * every tick's frame, silence included, is kept for takePlayback().
 */
import { FakePort } from './port.js';

/** Most microphone audio feedCapture() queues: 60 s at the bridge rate (the rest is dropped). */
export const CAPTURE_LIMIT_SECONDS = 60;
/** Most speaker audio kept for takePlayback(): the latest 60 s at the bridge rate. */
export const PLAYBACK_LIMIT_SECONDS = 60;

/** Slot 0: microphone in, speaker out. */
export class DevicePort extends FakePort {
  readonly canTransmit = true;
  readonly canReceive = true;
  private readonly mic: Int16Array;
  private readonly speaker: Int16Array;
  private capture: Int16Array[] = [];
  private captureOffset = 0;
  private captureQueued = 0;
  private playback: Int16Array[] = [];

  constructor(rate: number) {
    super(rate);
    this.mic = new Int16Array(this.frame);
    this.speaker = new Int16Array(this.frame);
  }

  /** Queues microphone samples; returns how many fitted under CAPTURE_LIMIT_SECONDS. */
  feed(samples: Int16Array): number {
    const n = Math.min(samples.length, this.rate * CAPTURE_LIMIT_SECONDS - this.captureQueued);
    if (n > 0) this.capture.push(samples.slice(0, n));
    this.captureQueued += Math.max(n, 0);
    return Math.max(n, 0);
  }

  /** Takes everything the speaker played since the last call. */
  take(): Int16Array {
    const total = this.playback.reduce((sum, f) => sum + f.length, 0);
    const out = new Int16Array(total);
    let at = 0;
    for (const f of this.playback) {
      out.set(f, at);
      at += f.length;
    }
    this.playback = [];
    return out;
  }

  /** Start of a tick: the next microphone frame; the speaker starts silent. */
  beginTick(): void {
    let filled = 0;
    while (filled < this.frame && this.capture.length > 0) {
      const chunk = this.capture[0] ?? new Int16Array(0);
      const n = Math.min(this.frame - filled, chunk.length - this.captureOffset);
      this.mic.set(chunk.subarray(this.captureOffset, this.captureOffset + n), filled);
      filled += n;
      this.captureOffset += n;
      this.captureQueued -= n;
      if (this.captureOffset === chunk.length) {
        this.capture.shift();
        this.captureOffset = 0;
      }
    }
    this.mic.fill(0, filled);
    this.speaker.fill(0);
  }

  /** End of a tick: keeps the speaker frame. */
  endTick(): void {
    this.playback.push(this.speaker.slice());
    if (this.playback.length > PLAYBACK_LIMIT_SECONDS * 100) this.playback.shift();
  }

  override getFrame(out: Int16Array): boolean {
    out.set(this.mic);
    this.counters.rxFrames++;
    return true;
  }

  override putFrame(input: Int16Array): void {
    this.speaker.set(input.subarray(0, this.frame));
    this.counters.txFrames++;
  }
}
