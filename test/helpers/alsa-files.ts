import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWav } from '../../src/media/wav.js';
import { toRawLE } from './signal.js';

/**
 * A private ALSA configuration with file-plugin devices on the null PCM: `mic` reads a raw
 * little-endian file, `spk` records a WAV file. Works through the real libasound with no sound card.
 */
export class AlsaFileDevices {
  readonly dir: string;
  readonly config: string;
  readonly micFile: string;
  readonly speakerFile: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'speakerd-alsa-'));
    this.config = join(this.dir, 'asound.conf');
    this.micFile = join(this.dir, 'mic.raw');
    this.speakerFile = join(this.dir, 'speaker.wav');
    writeFileSync(this.micFile, Buffer.alloc(0));
    writeFileSync(
      this.config,
      [
        `pcm.mic { type file slave.pcm { type null } file "/dev/null" infile "${this.micFile}" format "raw" }`,
        `pcm.spk { type file slave.pcm { type null } file "${this.speakerFile}" format "wav" }`,
        // A sound card that is not there: opening fails the way a missing USB speaker does.
        'pcm.absent { type hw card 9 device 0 }',
        '',
      ].join('\n'),
    );
  }

  /** Sets what the microphone will hear, followed by `padSeconds` of silence (the plugin repeats stale data past the end). */
  setMic(samples: Int16Array, rate: number, padSeconds = 5): void {
    const padded = new Int16Array(samples.length + Math.round(rate * padSeconds));
    padded.set(samples);
    writeFileSync(this.micFile, toRawLE(padded));
  }

  /** What the speaker played, decoded. */
  readSpeaker(): { rate: number; samples: Int16Array } {
    const wav = parseWav(readFileSync(this.speakerFile));
    return { rate: wav.rate, samples: wav.samples };
  }

  /** Removes the directory. */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
