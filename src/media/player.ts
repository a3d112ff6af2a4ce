import { readFile, stat } from 'node:fs/promises';
import type { NativeEvent } from './binding.js';
import { DestroyableMedia } from './audio-media.js';
import type { AudioEngine } from './engine.js';
import { MediaError } from './errors.js';
import { downmix, parseWav, type WavLimits } from './wav.js';

/** Options of AudioMediaPlayer.create(); defaults: play once, 64 MiB file limit. */
export interface PlayerOptions {
  loop?: boolean;
  limits?: WavLimits;
}

/** Events of a player: 'eof' with how many times the end was reached. */
export interface PlayerEvents {
  eof: [passes: number];
}

/**
 * Plays a 16-bit PCM WAV file (mono or stereo, any rate from 8 to 192 kHz) into the bridge.
 * The file is decoded and converted to the bridge rate once, on creation. Emits 'eof' each time
 * the end is reached (with a loop, once per pass).
 */
export class AudioMediaPlayer extends DestroyableMedia<PlayerEvents> {
  /** Port kind, for statistics. */
  readonly kind = 'player';
  /** Duration of the file in ms. */
  readonly durationMs: number;

  private constructor(engine: AudioEngine, portId: number, durationMs: number) {
    super(engine, portId);
    this.durationMs = durationMs;
  }

  /** Reads and decodes `file`; throws MediaError ERR_FILE, ERR_WAV_* on a bad file. */
  static async create(engine: AudioEngine, file: string, options: PlayerOptions = {}): Promise<AudioMediaPlayer> {
    if (typeof file !== 'string' || file === '') throw new TypeError('file must be a non-empty string');
    const loop = options.loop ?? false;
    if (typeof loop !== 'boolean') throw new TypeError('options.loop must be a boolean');
    const maxBytes = options.limits?.maxBytes ?? 64 * 1024 * 1024;
    let data: Buffer;
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a regular file');
      if (info.size > maxBytes) {
        throw new MediaError('ERR_WAV_TOO_LARGE', `WAV file ${file} is ${info.size} bytes, the limit is ${maxBytes}`);
      }
      data = await readFile(file);
    } catch (error) {
      if (error instanceof MediaError) throw error;
      throw new MediaError('ERR_FILE', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
    const wav = parseWav(data, options.limits);
    return AudioMediaPlayer.fromPcm(engine, downmix(wav.samples, wav.channels), wav.rate, { loop });
  }

  /** Plays mono PCM already in memory (earcons, tests). */
  static fromPcm(engine: AudioEngine, samples: Int16Array, rate: number, options: { loop?: boolean } = {}): AudioMediaPlayer {
    if (!(samples instanceof Int16Array)) throw new TypeError('samples must be an Int16Array');
    const atBridge = engine.call(() => engine.binding.resample(samples, rate, engine.bridgeRate, 8));
    const id = engine.call((n) => n.createPlayer(atBridge, engine.bridgeRate, options.loop ?? false));
    return new AudioMediaPlayer(engine, id, (samples.length * 1000) / rate);
  }

  /** @internal */
  handleEvent(event: NativeEvent): void {
    if (event.type === 'eof') this.emitEvent('eof', event.a);
  }
}
