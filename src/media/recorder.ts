import { open, type FileHandle } from 'node:fs/promises';
import type { NativeEvent } from './binding.js';
import { DestroyableMedia } from './audio-media.js';
import type { AudioEngine } from './engine.js';
import { MediaError } from './errors.js';
import { checkNumber, checkRate } from './validate.js';
import { wavHeader } from './wav.js';

/** Options of AudioMediaRecorder.create(); defaults: the bridge rate, a 2 s ring drained every 200 ms. */
export interface RecorderOptions {
  rate?: number;
  ringSeconds?: number;
  drainMs?: number;
}

const HEADER_BYTES = 44;

/** Events of a recorder: 'error' when a write to the file fails. */
export interface RecorderEvents {
  error: [error: MediaError];
}

/**
 * Records what the bridge transmits to it into a mono 16-bit WAV file. The audio thread writes into
 * a bounded ring; this object drains it to disk off the audio clock. When the disk is too slow the
 * ring overflows and the lost samples are counted (`dropped`), never blocking the audio.
 * Emits 'error' (MediaError ERR_FILE) when a write fails, only if someone listens.
 */
export class AudioMediaRecorder extends DestroyableMedia<RecorderEvents> {
  /** Port kind, for statistics. */
  readonly kind = 'recorder';
  /** Recording rate in Hz. */
  readonly rate: number;
  private readonly file: FileHandle;
  private readonly scratch: Int16Array;
  private writing: Promise<void> = Promise.resolve();
  private dataBytes = 0;
  private writeError: MediaError | null = null;
  private finalDropped = 0;
  private timer: NodeJS.Timeout;

  private constructor(engine: AudioEngine, portId: number, file: FileHandle, rate: number, drainMs: number) {
    super(engine, portId);
    this.file = file;
    this.rate = rate;
    this.scratch = new Int16Array(Math.max(rate, 4096));
    this.timer = setInterval(() => this.drain(), drainMs);
    this.timer.unref();
  }

  /** Creates `file` (replacing it) and the recorder port. */
  static async create(engine: AudioEngine, file: string, options: RecorderOptions = {}): Promise<AudioMediaRecorder> {
    if (typeof file !== 'string' || file === '') throw new TypeError('file must be a non-empty string');
    const rate = checkRate(options.rate ?? engine.bridgeRate, 'options.rate');
    const ringSeconds = checkNumber(options.ringSeconds ?? 2, 'options.ringSeconds', 0.05, 600);
    const drainMs = checkNumber(options.drainMs ?? 200, 'options.drainMs', 10, 10000);
    let handle: FileHandle;
    try {
      handle = await open(file, 'w');
      await handle.write(wavHeader(rate, 1, 0), 0, HEADER_BYTES, 0);
    } catch (error) {
      throw new MediaError('ERR_FILE', `cannot create ${file}: ${(error as Error).message}`, { cause: error });
    }
    const capacity = Math.round(rate * ringSeconds);
    const notify = Math.max(1, Math.min(capacity, Math.round((rate * drainMs) / 1000)));
    try {
      const id = engine.call((n) => n.createRecorder(rate, capacity, notify));
      return new AudioMediaRecorder(engine, id, handle, rate, drainMs);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Samples lost because the ring was full (the final count once closed). */
  get dropped(): number {
    if (this.isDestroyed || this.engine.isClosed) return this.finalDropped;
    return this.engine.call((n) => n.portStats(this.portId).dropped);
  }

  /** Bytes of audio written so far. */
  get bytesWritten(): number {
    return this.dataBytes;
  }

  /** Writes what is left, fixes the header, closes the file and removes the port. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    if (!this.isDestroyed && !this.engine.isClosed) {
      this.drain();
      this.finalDropped = this.dropped;
    }
    this.destroy();
    await this.writing;
    try {
      await this.file.write(wavHeader(this.rate, 1, this.dataBytes), 0, HEADER_BYTES, 0);
      await this.file.close();
    } catch (error) {
      throw new MediaError('ERR_FILE', `cannot finish the recording: ${(error as Error).message}`, { cause: error });
    }
    if (this.writeError) throw this.writeError;
  }

  /** @internal */
  handleEvent(event: NativeEvent): void {
    if (event.type === 'recorder_data') this.drain();
  }

  private drain(): void {
    if (this.isDestroyed || this.engine.isClosed) return;
    for (;;) {
      const n = this.engine.call((native) => native.readRecorder(this.portId, this.scratch));
      if (n === 0) return;
      const chunk = Buffer.alloc(n * 2);
      for (let i = 0; i < n; i++) chunk.writeInt16LE(this.scratch[i] ?? 0, i * 2);
      const position = HEADER_BYTES + this.dataBytes;
      this.dataBytes += chunk.length;
      this.writing = this.writing.then(() => this.write(chunk, position));
      if (n < this.scratch.length) return;
    }
  }

  private async write(chunk: Buffer, position: number): Promise<void> {
    if (this.writeError) return;
    try {
      await this.file.write(chunk, 0, chunk.length, position);
    } catch (error) {
      this.writeError = new MediaError('ERR_FILE', `recording write failed: ${(error as Error).message}`, { cause: error });
      if (this.listeners('error') > 0) this.emitEvent('error', this.writeError);
    }
  }
}
