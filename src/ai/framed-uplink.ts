import type { AudioMediaRing } from '../media/ring.js';
import type { AudioTemplate } from './backend.js';

/** Buffers kept for reuse at most (one is in flight per batch at a steady state). */
const POOL_LIMIT = 8;

/** Where a framed batch goes: the frame, samples in it, the capture time of its last sample, and a release to call once written. */
export type FramedSend = (frame: Buffer, samples: number, capturedUs: number, release: () => void) => void;

/**
 * The uplink's fast path: each whole microphone batch waiting in the ring is framed as the
 * backend's text message (`prefix + base64(PCM16 LE) + suffix`) by the addon, straight from the
 * ring into a buffer that is reused once the socket has written it. No string, no intermediate copy
 * and no allocation per batch at a steady state; the result is byte for byte what encodeAudio()
 * makes. The prefix and suffix are written once per buffer.
 */
export class FramedUplink {
  /** Bytes of one framed batch. */
  readonly frameBytes: number;
  private readonly prefix: Buffer;
  private readonly suffix: Buffer;
  private readonly pool: Buffer[] = [];

  constructor(
    private readonly ring: AudioMediaRing,
    template: AudioTemplate,
  ) {
    this.prefix = Buffer.from(template.prefix, 'utf8');
    this.suffix = Buffer.from(template.suffix, 'utf8');
    this.frameBytes = this.prefix.length + Math.ceil((ring.batchSamples * 2) / 3) * 4 + this.suffix.length;
  }

  /**
   * Frames every whole batch waiting and hands each to `send`, in order. `timeUs` and `waiting` come
   * with the ring's tx_ready: the sample at read index `waiting - 1` completed the tick of `timeUs`.
   * A batch the ring's pullBatches() began (before the port was sending) is completed there first and
   * goes out as its 'tx' event, so that every sample leaves once, in order.
   */
  pull(timeUs: number, waiting: number, send: FramedSend): void {
    const batch = this.ring.batchSamples;
    const usPerSample = 1e6 / this.ring.txRate;
    const partial = this.ring.partialBatch;
    let offset = partial > 0 ? this.ring.pullBatches(timeUs, waiting, batch - partial) : 0;
    for (;;) {
      const frame = this.pool.pop() ?? this.fresh();
      if (this.ring.readBatchBase64(frame, this.prefix.length) === 0) {
        this.pool.push(frame);
        return;
      }
      offset += batch;
      const capturedUs = waiting > 0 ? Math.round(timeUs + (offset - waiting) * usPerSample) : timeUs;
      send(frame, batch, capturedUs, () => this.release(frame));
    }
  }

  /** Buffers waiting for reuse (for tests). */
  get pooled(): number {
    return this.pool.length;
  }

  private release(frame: Buffer): void {
    if (this.pool.length < POOL_LIMIT && !this.pool.includes(frame)) this.pool.push(frame);
  }

  private fresh(): Buffer {
    const frame = Buffer.allocUnsafeSlow(this.frameBytes);
    this.prefix.copy(frame, 0);
    this.suffix.copy(frame, this.frameBytes - this.suffix.length);
    return frame;
  }
}
