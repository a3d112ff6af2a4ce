import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWav } from '../../src/media/wav.js';
import { DaemonUnderTest } from '../helpers/daemon.js';
import { JackDevice } from '../helpers/jack-device.js';
import { toRawLE, waitFor } from '../helpers/signal.js';

// The default run, on a sound device: a spoken utterance is fed to the microphone through ALSA's
// file plugin (paced in real time by a JACK dummy server), and the parrot must play it back.

let d: DaemonUnderTest | undefined;
let jack: JackDevice | undefined;
afterEach(async () => {
  await d?.remove();
  await jack?.remove();
  d = undefined;
  jack = undefined;
});

function speech(rate: number, seconds: number): Int16Array {
  const out = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) {
    const t = i / rate;
    let v = 0;
    for (let h = 1; h <= 6; h++) v += Math.sin(2 * Math.PI * 140 * h * t) / h;
    out[i] = Math.round(6000 * Math.max(0, Math.sin(2 * Math.PI * 3.5 * t)) ** 0.3 * v);
  }
  return out;
}

/** Start and length (s) of the longest run of sound, allowing gaps of up to 300 ms. */
function longestSound(samples: Int16Array, rate: number): { start: number; length: number } {
  const block = rate / 100;
  let best = { start: 0, length: 0 };
  let runStart = -1;
  let lastLoud = -1;
  for (let b = 0; b * block < samples.length; b++) {
    let sum = 0;
    for (let i = b * block; i < Math.min(samples.length, (b + 1) * block); i++) sum += (samples[i] ?? 0) ** 2;
    const loud = Math.sqrt(sum / block) > 300;
    if (loud) {
      if (runStart < 0 || b - lastLoud > 30) runStart = b;
      lastLoud = b;
      const length = (b - runStart + 1) / 100;
      if (length > best.length) best = { start: runStart / 100, length };
    }
  }
  return best;
}

describe('the default run on a real-time ALSA device', () => {
  it('plays back a spoken utterance fed to the microphone', async () => {
    d = new DaemonUnderTest();
    const micFile = join(d.dir, 'mic.raw');
    const speakerFile = join(d.dir, 'speaker.wav');
    jack = new JackDevice(
      'speakerd-test-parrot',
      [
        `pcm.mic { type file slave.pcm "jack" file "/dev/null" infile "${micFile}" format "raw" }`,
        `pcm.spk { type file slave.pcm "jack" file "${speakerFile}" format "wav" }`,
      ].join('\n'),
    );
    const rate = 48000;
    const mic = new Int16Array(rate * 20);
    const said = speech(rate, 1.2);
    mic.set(said, rate * 1.5);
    writeFileSync(micFile, toRawLE(mic));
    await jack.start();
    d.writeConfig({ audio: { device: 'alsa', capture: 'mic', playback: 'spk', alsaConfig: jack.config }, earcons: { enabled: false } });
    d.start([], { JACK_DEFAULT_SERVER: jack.name });
    await d.notice(/READY=1/);
    // The device as opened: the configured rate and the default 20 ms period, as status reports them.
    type AudioStatus = { deviceState: string; deviceRate: number; devicePeriodMs: number };
    const audioStatus = async (): Promise<AudioStatus> => ((await d?.request({ cmd: 'status' }))?.result as { audio: AudioStatus }).audio;
    let audio = await audioStatus();
    for (let i = 0; i < 30 && audio.deviceState !== 'open'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      audio = await audioStatus();
    }
    expect(audio).toMatchObject({ deviceState: 'open', deviceRate: 48000, devicePeriodMs: 20 });
    await d.notice(/STATUS=speaking/, 0, 8000);
    const mark = d.notices.length;
    await d.notice(/STATUS=listening/, mark, 8000);
    d.child?.kill('SIGTERM');
    expect(await d.exited(3000)).toBe(0);
    await waitFor(() => readFileSync(speakerFile).length > 44, 2000, 'speaker file');
    const played = parseWav(readFileSync(speakerFile));
    const sound = longestSound(played.samples, played.rate);
    // The utterance (1.2 s) comes back with up to 0.3 s of pre-roll and the 0.7 s of silence that ended it.
    expect(sound.length).toBeGreaterThan(1.0);
    expect(sound.length).toBeLessThan(2.4);
    expect(sound.start).toBeGreaterThan(2.7);
  }, 30000);
});
