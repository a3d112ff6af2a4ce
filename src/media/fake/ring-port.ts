/**
 * The fake's ring port, as native/ports/ring_port.h: the bridge's door to JS-fed media.
 *
 * TX: what the bridge transmits to the port is kept for readTx(), with 'tx_ready' once a batch waits.
 * RX: samples written by writeRx() play out once `prebuffer` samples are buffered. Flush and drain are
 * marks at absolute write positions: flush discards everything before its mark on the next tick;
 * drain plays everything before its mark without waiting for the prebuffer, padding the frame that
 * reaches it with silence, then raises 'drained'.
 */
import type { NativeRingStatus } from '../binding.js';
import { FakePort } from './port.js';
import { SampleRing } from './sample-ring.js';

/** Sizes of a ring port, in samples at its rate. */
export interface RingSettings {
  txCapacity: number;
  rxCapacity: number;
  batch: number;
  prebuffer: number;
}

/** A ring port: TX batches to JS, RX playout from JS with prebuffer, flush and drain marks. */
export class RingPort extends FakePort {
  readonly canTransmit = true;
  readonly canReceive = true;
  private readonly tx: SampleRing;
  private readonly rx: SampleRing;
  private readonly batch: number;
  private prebuffer: number;
  private txNotified = false;
  private flushMark = 0;
  private flushRequests = 0;
  private flushSeen = 0;
  private drainMark = 0;
  private drainRequests = 0;
  private drainSeen = 0;
  private played = 0;
  private playing = false;

  /** `rate`: incoming audio played into the bridge; `txRate`: what the bridge sends to JS. */
  constructor(rate: number, txRate: number, s: RingSettings) {
    super(rate, txRate);
    this.tx = new SampleRing(s.txCapacity);
    this.rx = new SampleRing(s.rxCapacity);
    this.batch = s.batch;
    this.prebuffer = s.prebuffer;
  }

  /** Slots of the playout ring (the requested capacity rounded up to a power of two). */
  get rxCapacity(): number {
    return this.rx.capacity;
  }

  override putFrame(input: Int16Array): void {
    const written = this.tx.push(input, this.putFrameSamples);
    if (written < this.putFrameSamples) this.counters.dropped += this.putFrameSamples - written;
    this.counters.txFrames++;
    if (this.tx.size >= this.batch && !this.txNotified) {
      this.txNotified = true;
      this.post('tx_ready', this.tx.size, this.tx.writePosition);
    }
  }

  override getFrame(out: Int16Array): boolean {
    this.applyFlush();
    const read = this.rx.readPosition;
    const avail = this.rx.writePosition - read;
    const drainRequest = this.drainRequests;
    const drain = this.drainMark;
    const drainPending = drainRequest !== this.drainSeen;
    const draining = drainPending && drain > read;
    if (!this.playing) {
      if (drainPending && drain <= read) this.reportDrained(drainRequest);
      if (avail === 0 || (!draining && avail < this.prebuffer)) return false;
      this.playing = true;
    }
    const limit = draining && drain - read < this.frame ? drain - read : this.frame;
    const n = this.rx.pull(out, limit);
    out.fill(0, n, this.frame);
    this.played += n;
    this.counters.rxFrames++;
    if (draining && this.rx.readPosition === drain) {
      this.playing = false;
      this.reportDrained(drainRequest);
    } else if (n < this.frame) {
      this.playing = false;
      this.post('underrun', ++this.counters.underruns);
    }
    return n > 0;
  }

  /** Takes up to out.length samples of outgoing audio. */
  readTx(out: Int16Array): number {
    const n = this.tx.pull(out);
    this.txNotified = false;
    return n;
  }

  /** Exactly `samples` samples as base64 into out[offset...] (see NativeEngine.readTxBase64); 0 while fewer wait. */
  readTxBase64(out: Uint8Array, offset: number, samples: number): number {
    const size = Math.ceil((samples * 2) / 3) * 4;
    if (size > out.length - offset) throw new RangeError('out is too small for the base64 of that many samples');
    this.txNotified = false;
    if (this.tx.size < samples) return 0;
    const pcm = new Int16Array(samples);
    this.tx.pull(pcm);
    const bytes = Buffer.alloc(samples * 2);
    pcm.forEach((v, i) => bytes.writeInt16LE(v, i * 2));
    return Buffer.from(out.buffer, out.byteOffset, out.length).write(bytes.toString('base64'), offset, 'latin1');
  }

  /** Nothing to give back in the fake: reports the bytes the native ring would release (all of them when empty). */
  trimRx(): number {
    return this.rx.size === 0 ? this.rx.capacity * 2 : 0;
  }

  /** Queues samples for playout; returns how many fitted. */
  writeRx(samples: Int16Array): number {
    return this.rx.push(samples);
  }

  /** Marks everything written so far to be discarded on the next tick. */
  flush(): void {
    this.flushMark = this.rx.writePosition;
    this.flushRequests++;
  }

  /** Marks everything written so far to play out without waiting for the prebuffer. */
  drain(): void {
    this.drainMark = this.rx.writePosition;
    this.drainRequests++;
  }

  setPrebuffer(samples: number): void {
    this.prebuffer = samples;
  }

  status(): NativeRingStatus {
    return {
      txBuffered: this.tx.size,
      rxBuffered: this.rx.size,
      readPosition: this.rx.readPosition,
      writePosition: this.rx.writePosition,
      played: this.played,
      playing: this.playing,
      underruns: this.counters.underruns,
      dropped: this.counters.dropped,
    };
  }

  private applyFlush(): void {
    if (this.flushRequests === this.flushSeen) return;
    this.flushSeen = this.flushRequests;
    const mark = this.flushMark;
    this.rx.skipTo(mark);
    // A drain marked before the flush point belongs to the discarded reply: it is cancelled.
    if (this.drainMark <= mark) this.drainSeen = this.drainRequests;
    this.playing = false;
    this.post('flushed', this.played);
  }

  private reportDrained(request: number): void {
    this.drainSeen = request;
    this.post('drained', this.played);
  }
}
