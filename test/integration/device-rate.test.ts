/**
 * The device at the bridge rate (issue 13): with matchBridgeRate, a PCM that takes the bridge rate as
 * it is runs at it (nothing resampled, in the engine or in ALSA); a plug or rate plugin, or a device
 * fixed at another rate (the JACK server at 48 kHz), keeps the configured rate and the engine's
 * resamplers. Through the real libasound: null, file and jack PCMs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AudioEngine } from '../../src/media/index.js';
import { JackDevice } from '../helpers/jack-device.js';
import { waitFor } from '../helpers/signal.js';

const dir = mkdtempSync(join(tmpdir(), 'speakerd-rate-'));
const config = join(dir, 'asound.conf');
const wav = join(dir, 'speaker.wav');
writeFileSync(
  config,
  [
    'pcm.nul { type null }',
    `pcm.rec { type file slave.pcm { type null } file "${wav}" format "wav" }`,
    'pcm.plugged { type plug slave.pcm { type null } }',
    '',
  ].join('\n'),
);

let engine: AudioEngine | undefined;
afterEach(() => {
  engine?.close();
  engine = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function openAt(capture: string, playback: string, matchBridgeRate: boolean, alsaConfig = config): Promise<AudioEngine> {
  engine = await AudioEngine.create({
    device: { type: 'alsa', capture, playback, alsaConfig, rate: 48000, matchBridgeRate },
    bridgeRate: 16000,
    realtime: false,
  });
  const opened = engine;
  await waitFor(() => opened.stats().deviceState === 'open', 5000, 'device open');
  const frames = opened.stats().frames;
  await waitFor(() => opened.stats().frames > frames + 5, 5000, 'the clock running');
  return opened;
}

describe('device rate', () => {
  it('null: the bridge rate with matchBridgeRate, the configured rate without', async () => {
    expect((await openAt('nul', 'nul', true)).stats().deviceRate).toBe(16000);
    engine?.close();
    expect((await openAt('nul', 'nul', false)).stats().deviceRate).toBe(48000);
  });

  it('file: the recording is written at the bridge rate', async () => {
    const opened = await openAt('nul', 'rec', true);
    expect(opened.stats().deviceRate).toBe(16000);
    opened.close();
    expect(readFileSync(wav).readUInt32LE(24)).toBe(16000);
  });

  it('plug: ALSA would resample, so the configured rate and the engine resamplers stay', async () => {
    expect((await openAt('plugged', 'nul', true)).stats().deviceRate).toBe(48000);
  });

  describe('jack', () => {
    const jack = new JackDevice('speakerd-test-rate');
    beforeAll(async () => jack.start(), 20000);
    afterAll(async () => jack.remove());

    // (The raw jack PCM takes only float samples: the engine opens it through plug.)
    it('a server fixed at 48 kHz keeps 48 kHz', async () => {
      expect((await openAt('jack', 'jack', true, jack.config)).stats().deviceRate).toBe(48000);
    });
  });
});
