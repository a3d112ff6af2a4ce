import type { AudioEngine } from '../media/engine.js';
import { AudioMediaPlayer } from '../media/player.js';
import { AudioMediaTone, type ToneSegment } from '../media/tone.js';
import { downmix, parseWav } from '../media/wav.js';
import { readConfiguredFile } from '../system/safe-file.js';

/** Largest earcon WAV read, in bytes (the same limit as the configuration check). */
export const MAX_EARCON_BYTES = 16 * 1024 * 1024;

/** The sounds the device makes about itself. */
export type EarconName = 'ready' | 'connectionLost' | 'error' | 'mute' | 'unmute';

/** Built-in earcons: short, soft, distinct by direction and pitch. */
const BUILT_IN: Record<EarconName, ToneSegment[]> = {
  ready: [{ freq: 660, ms: 110, amplitude: 0.25 }, { ms: 30 }, { freq: 990, ms: 160, amplitude: 0.25 }],
  connectionLost: [{ freq: 880, ms: 130, amplitude: 0.25 }, { ms: 30 }, { freq: 587, ms: 200, amplitude: 0.25 }],
  error: [{ freq: 220, freq2: 233, ms: 350, amplitude: 0.3 }],
  mute: [{ freq: 440, ms: 120, amplitude: 0.2 }],
  unmute: [{ freq: 880, ms: 120, amplitude: 0.2 }],
};

/** Where custom earcons come from ('' = built-in) and how loud they are relative to the volume. */
export interface EarconSettings {
  enabled: boolean;
  /** 0..1, applied on top of the device volume. */
  volume: number;
  files: Partial<Record<EarconName, string>>;
}

/**
 * Plays earcons through the bridge into the speaker, so they follow the device volume. An earcon is
 * never played over an AI reply (`isSpeaking`), and a new one replaces one still playing.
 */
export class Earcons {
  private custom = new Map<EarconName, { pcm: Int16Array; rate: number }>();
  private playing: AudioMediaTone | AudioMediaPlayer | null = null;

  constructor(
    private readonly engine: AudioEngine,
    private settings: EarconSettings,
    private readonly isSpeaking: () => boolean,
  ) {}

  /** Changes whether and how loud earcons play, keeping the loaded sounds (no file is read). */
  configure(settings: Pick<EarconSettings, 'enabled' | 'volume'>): void {
    this.settings = { ...this.settings, enabled: settings.enabled, volume: settings.volume };
  }

  /** Loads the custom WAV files named in the settings; returns one message per file that failed. */
  async load(settings: EarconSettings = this.settings): Promise<string[]> {
    this.settings = settings;
    const problems: string[] = [];
    const loaded = new Map<EarconName, { pcm: Int16Array; rate: number }>();
    for (const [name, file] of Object.entries(settings.files) as [EarconName, string][]) {
      if (!file) continue;
      try {
        const wav = parseWav(await readConfiguredFile(file, { key: `earcons.${name}`, maxBytes: MAX_EARCON_BYTES }));
        loaded.set(name, { pcm: downmix(wav.samples, wav.channels), rate: wav.rate });
      } catch (error) {
        problems.push(`earcon ${name} (${file}): ${(error as Error).message}; using the built-in one`);
      }
    }
    this.custom = loaded;
    return problems;
  }

  /** Plays an earcon now, unless earcons are off or the device is speaking. Returns whether it played. */
  play(name: EarconName): boolean {
    if (!this.settings.enabled || this.isSpeaking() || this.engine.isClosed) return false;
    this.stop();
    const custom = this.custom.get(name);
    const port = custom ? AudioMediaPlayer.fromPcm(this.engine, custom.pcm, custom.rate) : AudioMediaTone.create(this.engine, BUILT_IN[name]);
    port.startTransmit(this.engine.playbackMedia, this.settings.volume);
    const done = (): void => {
      if (this.playing === port) this.stop();
    };
    if (port instanceof AudioMediaTone) port.once('done', done);
    else port.once('eof', done);
    this.playing = port;
    return true;
  }

  /** Stops the earcon playing, if any. */
  stop(): void {
    const port = this.playing;
    this.playing = null;
    if (port && !this.engine.isClosed) port.destroy();
  }
}
