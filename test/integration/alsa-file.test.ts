import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AudioEngine, AudioMediaPlayer, AudioMediaRecorder, AudioMediaRing, AudioMediaTone, encodeWav, parseWav } from '../../src/media/index.js';
import { AlsaFileDevices } from '../helpers/alsa-files.js';
import { rms, sine, toneAmplitude, waitFor, zeroCrossingFrequency } from '../helpers/signal.js';

// Everything here runs through the real libasound: file-plugin devices on the null PCM, a manual
// clock so each test controls exactly how much audio passes.

let devices: AlsaFileDevices;
let engine: AudioEngine | undefined;

async function openEngine(extra: { aec?: boolean } = {}): Promise<AudioEngine> {
  engine = await AudioEngine.create({
    device: { type: 'alsa', capture: 'mic', playback: 'spk', rate: 48000, alsaConfig: devices.config },
    bridgeRate: 16000,
    manualClock: true,
    requireDevice: true,
    aec: { enabled: extra.aec ?? false },
  });
  return engine;
}

beforeEach(() => {
  devices = new AlsaFileDevices();
});

afterEach(() => {
  engine?.close();
  engine = undefined;
  devices.remove();
});

describe('ALSA file-plugin devices', () => {
  it('records the microphone: a 48 kHz sine arrives at 16 kHz with its frequency and level', async () => {
    devices.setMic(sine(48000, 440, 8000, 48000 * 2), 48000);
    const e = await openEngine();
    const file = join(devices.dir, 'mic.wav');
    const recorder = await AudioMediaRecorder.create(e, file);
    e.captureMedia.startTransmit(recorder);
    e.step(150);
    await recorder.close();
    const wav = parseWav(readFileSync(file));
    expect(wav.rate).toBe(16000);
    expect(wav.samples.length).toBeGreaterThanOrEqual(16000 * 1.4);
    const steady = [1600, 16000];
    expect(zeroCrossingFrequency(wav.samples, 16000, steady[0], steady[1])).toBeCloseTo(440, -1);
    expect(toneAmplitude(wav.samples, 16000, 440, steady[0], steady[1])).toBeGreaterThan(8000 * 0.95);
    expect(toneAmplitude(wav.samples, 16000, 440, steady[0], steady[1])).toBeLessThan(8000 * 1.05);
    expect(recorder.dropped).toBe(0);
  });

  it('plays a 24 kHz stereo WAV file to the 48 kHz speaker at its pitch and level', async () => {
    const left = sine(24000, 1000, 10000, 24000);
    const stereo = new Int16Array(left.length * 2);
    left.forEach((v, i) => {
      stereo[i * 2] = v;
      stereo[i * 2 + 1] = v;
    });
    const wavFile = join(devices.dir, 'tone.wav');
    writeFileSync(wavFile, encodeWav(stereo, 24000, 2));
    const e = await openEngine();
    const player = await AudioMediaPlayer.create(e, wavFile);
    let eof = 0;
    player.on('eof', () => eof++);
    player.startTransmit(e.playbackMedia);
    e.step(120);
    await waitFor(() => eof === 1, 2000, 'eof');
    e.close();
    const spk = devices.readSpeaker();
    expect(spk.rate).toBe(48000);
    const [from, to] = [48000 * 0.2, 48000 * 0.9];
    expect(zeroCrossingFrequency(spk.samples, 48000, from, to)).toBeCloseTo(1000, -1);
    expect(toneAmplitude(spk.samples, 48000, 1000, from, to)).toBeGreaterThan(9500);
    expect(toneAmplitude(spk.samples, 48000, 1000, from, to)).toBeLessThan(10500);
    // After the file ended (1 s + prefill) the speaker is silent.
    expect(rms(spk.samples, 48000 * 1.1, 48000 * 1.2)).toBeLessThan(5);
  });

  it('mixes two sources and applies the port levels', async () => {
    const e = await openEngine();
    const low = AudioMediaTone.create(e, [{ freq: 500, amplitude: 0.25, ms: 2000 }]);
    const high = AudioMediaTone.create(e, [{ freq: 1500, amplitude: 0.25, ms: 2000 }]);
    low.startTransmit(e.playbackMedia);
    high.startTransmit(e.playbackMedia, 0.5);
    e.step(50);
    e.playbackMedia.adjustTxLevel(0.5);
    e.step(50);
    e.close();
    const spk = devices.readSpeaker().samples;
    const full = 0.25 * 32767;
    const first = [48000 * 0.1, 48000 * 0.45] as const;
    const second = [48000 * 0.65, 48000 * 0.95] as const;
    expect(toneAmplitude(spk, 48000, 500, ...first) / full).toBeCloseTo(1, 1);
    expect(toneAmplitude(spk, 48000, 1500, ...first) / full).toBeCloseTo(0.5, 1);
    expect(toneAmplitude(spk, 48000, 500, ...second) / full).toBeCloseTo(0.5, 1);
    expect(toneAmplitude(spk, 48000, 1500, ...second) / full).toBeCloseTo(0.25, 1);
  });

  it('resamples between a 48 kHz device, the 16 kHz bridge and a 24 kHz port in both directions', async () => {
    devices.setMic(sine(48000, 700, 12000, 48000 * 2), 48000);
    const e = await openEngine();
    const ring = AudioMediaRing.create(e, { rate: 24000, prebufferMs: 0 });
    const batches: Int16Array[] = [];
    ring.on('tx', (b) => batches.push(b));
    e.captureMedia.startTransmit(ring);
    ring.startTransmit(e.playbackMedia);
    ring.write(sine(24000, 2000, 9000, 24000));
    ring.drain();
    e.step(110);
    await waitFor(() => batches.length >= 25, 2000, 'mic batches');
    e.close();
    const mic = new Int16Array(batches.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of batches) {
      mic.set(b, at);
      at += b.length;
    }
    expect(zeroCrossingFrequency(mic, 24000, 2400, 24000)).toBeCloseTo(700, -1);
    expect(toneAmplitude(mic, 24000, 700, 2400, 24000) / 12000).toBeCloseTo(1, 1);
    const spk = devices.readSpeaker().samples;
    expect(zeroCrossingFrequency(spk, 48000, 4800, 43200)).toBeCloseTo(2000, -1);
    expect(toneAmplitude(spk, 48000, 2000, 4800, 43200) / 9000).toBeCloseTo(1, 1);
  });

  it('reports a device that cannot be opened with the ALSA message, and keeps the clock running', async () => {
    const e = await AudioEngine.create({
      device: { type: 'alsa', capture: 'mic', playback: 'no_such_pcm', alsaConfig: devices.config },
      retry: { minMs: 20, maxMs: 40 },
    });
    engine = e;
    const failures: string[] = [];
    e.on('device', (d: { state: string; message?: string }) => failures.push(`${d.state}: ${d.message ?? ''}`));
    expect(e.stats().lastError?.code).toBe('ERR_DEVICE_OPEN');
    expect(e.stats().lastError?.message).toMatch(/playback device 'no_such_pcm'/);
    const before = e.stats().frames;
    await new Promise((r) => setTimeout(r, 300));
    expect(e.stats().frames - before).toBeGreaterThan(15);
    expect(e.stats().deviceState).toBe('retrying');
    expect(failures.length).toBeGreaterThanOrEqual(2);
  });

  it('rejects create() with ERR_DEVICE_OPEN when the device is required', async () => {
    await expect(
      AudioEngine.create({
        device: { type: 'alsa', capture: 'mic', playback: 'absent', alsaConfig: devices.config },
        requireDevice: true,
      }),
    ).rejects.toMatchObject({ code: 'ERR_DEVICE_OPEN', message: expect.stringMatching(/absent/) });
    await expect(
      AudioEngine.create({
        device: { type: 'alsa', alsaConfig: join(devices.dir, 'missing.conf') },
        requireDevice: true,
      }),
    ).rejects.toMatchObject({ code: 'ERR_DEVICE_OPEN', message: expect.stringMatching(/missing\.conf/) });
  });

  it('downmixes a stereo microphone', async () => {
    const mono = sine(48000, 300, 6000, 48000 * 2);
    const stereo = new Int16Array(mono.length * 2);
    mono.forEach((v, i) => {
      stereo[i * 2] = v;
      stereo[i * 2 + 1] = v;
    });
    devices.setMic(stereo, 48000 * 2);
    engine = await AudioEngine.create({
      device: { type: 'alsa', capture: 'mic', playback: 'spk', alsaConfig: devices.config, captureChannels: 2, playbackChannels: 2 },
      manualClock: true,
      requireDevice: true,
      aec: { enabled: false },
    });
    const file = join(devices.dir, 'stereo-mic.wav');
    const recorder = await AudioMediaRecorder.create(engine, file);
    engine.captureMedia.startTransmit(recorder);
    engine.captureMedia.startTransmit(engine.playbackMedia);
    engine.step(100);
    await recorder.close();
    engine.close();
    const rec = parseWav(readFileSync(file)).samples;
    expect(toneAmplitude(rec, 16000, 300, 1600, 14400) / 6000).toBeCloseTo(1, 1);
    const spk = parseWav(readFileSync(devices.speakerFile));
    expect(spk.channels).toBe(2);
  });
});

describe('a private ALSA configuration that is not a regular file', () => {
  it.each([
    ['a FIFO nobody writes', 'fifo'],
    ['a device', '/dev/zero'],
  ])('is refused at once when it is %s, never hangs the device thread', async (_, which) => {
    let path = which;
    if (which === 'fifo') {
      path = join(devices.dir, 'alsa.fifo');
      const { execFileSync } = await import('node:child_process');
      execFileSync('mkfifo', [path]);
    }
    const started = performance.now();
    await expect(
      AudioEngine.create({ device: { type: 'alsa', capture: 'mic', playback: 'spk', rate: 48000, alsaConfig: path }, manualClock: true, requireDevice: true }),
    ).rejects.toThrow(/not a regular file of at most 1 MiB/);
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
