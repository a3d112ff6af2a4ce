import type { NativeEvent, NativeRingStatus } from './binding.js';
import { DestroyableMedia } from './audio-media.js';
import type { AudioEngine } from './engine.js';
import { checkNumber, checkRate } from './validate.js';

/** Options of AudioMediaRing.create(). */
export interface RingOptions {
  /** Rate of both directions in Hz (e.g. 24000 for OpenAI), unless txRate says otherwise. */
  rate: number;
  /** Rate of the outgoing direction (what the bridge sends to JS), default `rate` (Gemini: 16000). */
  txRate?: number;
  /** Outgoing batch length, default 40 ms. */
  batchMs?: number;
  /** Incoming audio buffered before playback starts, default 100 ms. */
  prebufferMs?: number;
  /** Outgoing ring length, default 2 s (overflow is counted as dropped). */
  txSeconds?: number;
  /** Incoming playout ring length, default 60 s. */
  rxSeconds?: number;
}

/** Events of a ring port. */
export interface RingEvents {
  /**
   * One batch of what the bridge sends to this port (the echo-cancelled microphone), and the
   * monotonic time (µs, process.hrtime's clock) its last sample was captured.
   */
  tx: [samples: Int16Array, capturedUs: number];
  /** Everything up to the drain mark was played (argument: samples played in total). */
  drained: [played: number];
  /** Playback ran dry in the middle of a reply (argument: underruns so far). */
  underrun: [count: number];
  /** A flush was applied on the audio thread: samples played then, and the tick's monotonic time (µs). */
  flushed: [played: number, timeUs: number];
}

/**
 * The bridge's door to media fed from JavaScript (the AI port's media half). Outgoing audio arrives
 * in batches through 'tx'; incoming audio is written with write() and played out once `prebufferMs`
 * is buffered, or at once after drain() (the end of a reply). flush() discards what was written
 * before it on the next tick (barge-in). The `played` counter counts samples actually played.
 */
export class AudioMediaRing extends DestroyableMedia<RingEvents> {
  /** Port kind, for statistics. */
  readonly kind = 'ring';
  /** Rate of the incoming audio (JS to the bridge) in Hz. */
  readonly rate: number;
  /** Rate of the outgoing batches (the bridge to JS) in Hz. */
  readonly txRate: number;
  /** Samples per outgoing batch. */
  readonly batchSamples: number;
  private readonly scratch: Int16Array;
  private carry: Int16Array;
  private carried = 0;
  private txReader: ((timeUs: number, waiting: number) => void) | null = null;

  private constructor(engine: AudioEngine, portId: number, rates: [number, number], batchSamples: number, txCapacity: number) {
    super(engine, portId);
    [this.rate, this.txRate] = rates;
    this.batchSamples = batchSamples;
    this.scratch = new Int16Array(txCapacity);
    this.carry = new Int16Array(batchSamples);
  }

  /** Creates the port. */
  static create(engine: AudioEngine, options: RingOptions): AudioMediaRing {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const rate = checkRate(options.rate, 'options.rate');
    const txRate = checkRate(options.txRate ?? rate, 'options.txRate');
    const batchMs = checkNumber(options.batchMs ?? 40, 'options.batchMs', 10, 1000);
    const prebufferMs = checkNumber(options.prebufferMs ?? 100, 'options.prebufferMs', 0, 5000);
    const txSeconds = checkNumber(options.txSeconds ?? 2, 'options.txSeconds', 0.1, 60);
    const rxSeconds = checkNumber(options.rxSeconds ?? 60, 'options.rxSeconds', 1, 600);
    const batch = Math.round((txRate * batchMs) / 1000);
    const txCapacity = Math.max(Math.round(txRate * txSeconds), batch * 2);
    const rxCapacity = Math.round(rate * rxSeconds);
    const prebuffer = Math.round((rate * prebufferMs) / 1000);
    const id = engine.call((n) => n.createRing(rate, txCapacity, rxCapacity, batch, prebuffer, txRate));
    return new AudioMediaRing(engine, id, [rate, txRate], batch, txCapacity);
  }

  /**
   * Hands each tx_ready (the tick's monotonic time in µs, samples waiting then) to `reader` instead
   * of emitting 'tx'; null restores 'tx'. The reader must take every whole batch waiting, with
   * readBatchBase64() or pullBatches(), or no further tx_ready comes.
   */
  setTxReader(reader: ((timeUs: number, waiting: number) => void) | null): void {
    this.txReader = reader;
  }

  /** Samples of a batch pullBatches() holds, waiting for the rest (0: none; readBatchBase64() must not start before it is complete). */
  get partialBatch(): number {
    return this.carried;
  }

  /**
   * Reads one whole batch (`batchSamples`) straight from the ring as base64 of its little-endian
   * bytes into out[offset...], without an intermediate copy; returns the bytes written, 0 (reading
   * nothing) while less than a batch waits.
   */
  readBatchBase64(out: Uint8Array, offset: number): number {
    if (this.isDestroyed || this.engine.isClosed) return 0;
    return this.engine.call((n) => n.readTxBase64(this.portId, out, offset, this.batchSamples));
  }

  /** Queues audio for playback; returns how many samples fitted (the rest did not: the ring is full). */
  write(samples: Int16Array): number {
    if (!(samples instanceof Int16Array)) throw new TypeError('samples must be an Int16Array');
    return this.engine.call((n) => n.writeRx(this.portId, samples));
  }

  /** Discards everything written so far; playback stops on the next tick. */
  flush(): void {
    this.engine.call((n) => n.flush(this.portId));
  }

  /** Marks the end of a reply: what was written so far plays without waiting for the prebuffer. */
  drain(): void {
    this.engine.call((n) => n.drain(this.portId));
  }

  /**
   * Gives the playout ring's memory back to the system while nothing is buffered (between replies),
   * so that a ring sized for the longest reply is resident only while one plays; returns the bytes
   * released (0 when audio is buffered).
   */
  trim(): number {
    if (this.isDestroyed || this.engine.isClosed) return 0;
    return this.engine.call((n) => n.trimRx(this.portId));
  }

  /** Changes the playback prebuffer. */
  setPrebufferMs(ms: number): void {
    checkNumber(ms, 'ms', 0, 5000);
    this.engine.call((n) => n.setPrebuffer(this.portId, Math.round((this.rate * ms) / 1000)));
  }

  /** Ring positions and counters (in samples: rx at `rate`, tx at `txRate`). */
  status(): NativeRingStatus {
    return this.engine.call((n) => n.ringStatus(this.portId));
  }

  /**
   * Reads every whole batch now waiting and emits each as 'tx'. Called on each tx_ready event, which
   * says how many samples were waiting (`waiting`) at the tick of `timeUs`; capture times of the
   * batches are counted from there, one sample period per sample. Reads at most `max` samples;
   * returns how many it read.
   */
  pullBatches(timeUs = Number(process.hrtime.bigint() / 1000n), waiting = 0, max = this.scratch.length): number {
    if (this.isDestroyed || this.engine.isClosed) return 0;
    const into = max < this.scratch.length ? this.scratch.subarray(0, Math.max(0, max)) : this.scratch;
    const n = this.engine.call((native) => native.readTx(this.portId, into));
    const usPerSample = 1e6 / this.txRate;
    // The sample at read index `waiting - 1` completed the tick of `timeUs`.
    const reference = waiting > 0 ? waiting : n;
    let offset = 0;
    while (offset < n) {
      const take = Math.min(this.batchSamples - this.carried, n - offset);
      this.carry.set(this.scratch.subarray(offset, offset + take), this.carried);
      this.carried += take;
      offset += take;
      if (this.carried === this.batchSamples) {
        const batch = this.carry;
        this.carry = new Int16Array(this.batchSamples);
        this.carried = 0;
        this.emitEvent('tx', batch, Math.round(timeUs + (offset - reference) * usPerSample));
      }
    }
    return n;
  }

  /** @internal */
  handleEvent(event: NativeEvent): void {
    switch (event.type) {
      case 'tx_ready':
        if (this.txReader) this.txReader(event.timeUs, event.a);
        else this.pullBatches(event.timeUs, event.a);
        return;
      case 'drained':
        this.emitEvent('drained', event.a);
        return;
      case 'underrun':
        this.emitEvent('underrun', event.a);
        return;
      case 'flushed':
        this.emitEvent('flushed', event.a, event.timeUs);
        return;
      default:
        return;
    }
  }
}
