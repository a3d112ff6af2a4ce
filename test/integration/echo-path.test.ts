import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AudioEngine, AudioMediaPlayer, AudioMediaRecorder, parseWav } from '../../src/media/index.js';
import { AlsaFileDevices } from '../helpers/alsa-files.js';
import type { NativeEchoEngineName, NativeEngineStats } from '../../src/media/binding.js';
import { loadNativeBinding } from '../../src/media/native-binding.js';

// The echo canceller inside the engine, end to end through the real libasound: the speaker's own
// output (recorded by the file plugin) is turned into a room echo that the microphone file plays
// back, and the engine must remove it using the frames it wrote to playback as the reference.

const DEVICE_RATE = 48000;
const BRIDGE_RATE = 16000;
const SECONDS = 10;
const ACOUSTIC_DELAY = 1440; // 30 ms at 48 kHz, on top of the playback prefill
const NEAR_FROM = 8 * BRIDGE_RATE; // double talk in the last 2 s

/** Seeded PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Speech-like far end at 16 kHz: coloured noise with a syllable envelope and pauses. */
function farEnd(seed: number): Int16Array {
  const rnd = random(seed);
  const out = new Int16Array(BRIDGE_RATE * SECONDS);
  let lp = 0;
  for (let i = 0; i < out.length; i++) {
    const t = i / BRIDGE_RATE;
    const envelope = Math.max(0, Math.sin(2 * Math.PI * 2.7 * t)) ** 0.5 * (Math.sin(2 * Math.PI * 0.31 * t) > -0.7 ? 1 : 0.05);
    lp = 0.6 * lp + 0.4 * (rnd() * 2 - 1);
    out[i] = Math.round(9000 * envelope * lp * 2.2);
  }
  return out;
}

/** A room: exponentially decaying random impulse response (48 kHz), direct path first. */
function roomResponse(seed: number): Float64Array {
  const rnd = random(seed);
  const taps = new Float64Array(2400);
  taps[0] = 0.5;
  for (let i = 1; i < taps.length; i++) taps[i] = (rnd() * 2 - 1) * 0.08 * Math.exp(-i / 500);
  return taps;
}

function convolveDelayed(x: Int16Array, h: Float64Array, delay: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i] ?? 0;
    if (v === 0) continue;
    for (let k = 0; k < h.length && i + k + delay < y.length; k++) y[i + k + delay] += v * (h[k] ?? 0);
  }
  return y;
}

function toInt16(x: Float64Array): Int16Array {
  return Int16Array.from(x, (v) => Math.max(-32768, Math.min(32767, Math.round(v))));
}

function power(x: Int16Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += (x[i] ?? 0) ** 2;
  return s / (to - from);
}

interface Run {
  mic: Int16Array | null;
  aec: boolean;
  delayMs?: number;
  engine?: NativeEchoEngineName;
}

/** Plays the far end to the speaker for SECONDS and returns the speaker file and the cleaned mic. */
async function run(
  devices: AlsaFileDevices,
  far: Int16Array,
  options: Run,
): Promise<{ speaker: Int16Array; cleaned: Int16Array; erleDb: number; stats: NativeEngineStats }> {
  devices.setMic(options.mic ?? new Int16Array(0), DEVICE_RATE);
  const engine = await AudioEngine.create({
    device: { type: 'alsa', capture: 'mic', playback: 'spk', rate: DEVICE_RATE, alsaConfig: devices.config },
    bridgeRate: BRIDGE_RATE,
    manualClock: true,
    requireDevice: true,
    // The canceller alone: the post filter's suppression and AGC are tested in engine-post.test.ts.
    aec: { enabled: options.aec, delayMs: options.delayMs ?? -1, marginMs: 20, engine: options.engine ?? 'speex', suppressDb: 0, agc: false },
  });
  const file = join(devices.dir, 'cleaned.wav');
  const player = AudioMediaPlayer.fromPcm(engine, far, BRIDGE_RATE);
  const recorder = await AudioMediaRecorder.create(engine, file, { ringSeconds: SECONDS + 1 });
  player.startTransmit(engine.playbackMedia);
  engine.captureMedia.startTransmit(recorder);
  engine.step(SECONDS * 100);
  const stats = engine.stats();
  const erleDb = stats.aec?.erleDb ?? 0;
  await recorder.close();
  engine.close();
  return { speaker: devices.readSpeaker().samples, cleaned: parseWav(readFileSync(file)).samples, erleDb, stats };
}

describe('echo cancellation through the engine', () => {
  const devices = new AlsaFileDevices();
  const far = farEnd(7);
  const near = farEnd(99).map((v, i) => (i < NEAR_FROM ? 0 : Math.round(v * 0.5)));
  let echoMic: Int16Array;
  let nearMic: Int16Array = new Int16Array(0);
  let micAtBridge: Int16Array;
  let nearAtBridge: Int16Array;

  beforeAll(async () => {
    // Pass 1: what exactly does the speaker play? (deterministic with the manual clock)
    const speaker = (await run(devices, far, { mic: null, aec: false })).speaker;
    const echo = convolveDelayed(speaker, roomResponse(3), ACOUSTIC_DELAY);
    const near48 = new Int16Array(near.length * 3);
    near.forEach((v, i) => near48.fill(v, i * 3, i * 3 + 3));
    const rnd = random(5);
    echoMic = toInt16(echo.map((v, i) => v + (near48[i] ?? 0) + (rnd() - 0.5) * 20));
    nearMic = near48;
    // The microphone as the bridge sees it without cancellation, and the near end alone.
    micAtBridge = (await run(devices, far, { mic: echoMic, aec: false })).cleaned;
    nearAtBridge = (await run(devices, far, { mic: nearMic, aec: false })).cleaned;
  }, 120000);

  afterAll(() => devices.remove());

  it('removes at least 30 dB of echo after convergence and keeps the near end in double talk', async () => {
    // 2 prefill periods + 30 ms acoustic delay = 50 ms from the frame written to its echo.
    const result = await run(devices, far, { mic: echoMic, aec: true, delayMs: 50 });
    const window = [5 * BRIDGE_RATE, NEAR_FROM] as const;
    const erle = 10 * Math.log10(power(micAtBridge, ...window) / power(result.cleaned, ...window));
    expect(erle).toBeGreaterThanOrEqual(30);
    expect(result.erleDb).toBeGreaterThan(20);
    // The preprocessor's overlap delays the cleaned signal by one frame (10 ms).
    const lag = BRIDGE_RATE / 100;
    let dot = 0;
    let norm = 0;
    for (let i = NEAR_FROM + BRIDGE_RATE / 2; i < SECONDS * BRIDGE_RATE - 1600; i++) {
      dot += (result.cleaned[i + lag] ?? 0) * (nearAtBridge[i] ?? 0);
      norm += (nearAtBridge[i] ?? 0) ** 2;
    }
    const nearLossDb = -20 * Math.log10(dot / norm);
    expect(nearLossDb).toBeLessThanOrEqual(3);
    console.log(`engine echo path: ERLE ${erle.toFixed(1)} dB, near-end loss in double talk ${nearLossDb.toFixed(2)} dB`);
  }, 60000);

  it('cancels far less when the reference lags the echo (the alignment matters)', async () => {
    // The true path is about 57 ms (see the estimator's test below); with the 20 ms margin a setting
    // of 85 ms puts the reference about 8 ms behind the echo, which speexdsp cannot recover from.
    const aligned = await run(devices, far, { mic: echoMic, aec: true, delayMs: 50 });
    const late = await run(devices, far, { mic: echoMic, aec: true, delayMs: 85 });
    const window = [5 * BRIDGE_RATE, NEAR_FROM] as const;
    const erleAligned = 10 * Math.log10(power(micAtBridge, ...window) / power(aligned.cleaned, ...window));
    const erleLate = 10 * Math.log10(power(micAtBridge, ...window) / power(late.cleaned, ...window));
    expect(erleAligned - erleLate).toBeGreaterThan(20);
    expect(erleLate).toBeLessThan(15);
  }, 60000);

  it('estimates the echo path delay (what ALSA reports misses the 30 ms air path) and aligns with it', async () => {
    const estimated = await run(devices, far, { mic: echoMic, aec: true });
    const { aec } = estimated.stats;
    // The path: 2 prefill periods + 30 ms acoustic delay + the resamplers and buffering. Measured by
    // sweeping aec.delayMs with aec.marginMs 0 and denoise off: speex keeps 38 dB up to 56 ms and
    // falls to 5 dB at 58 ms, so the echo starts about 57 ms after the frame was written.
    expect(estimated.stats.aecDelaySource).toBe('estimate');
    expect(aec?.delayEstimateMs).toBeGreaterThanOrEqual(52);
    expect(aec?.delayEstimateMs).toBeLessThanOrEqual(62);
    expect(estimated.stats.aecDelayMs).toBe(aec?.delayEstimateMs);
    expect(aec?.delayConfidence).toBeGreaterThan(0.5);
    const window = [5 * BRIDGE_RATE, NEAR_FROM] as const;
    const erle = 10 * Math.log10(power(micAtBridge, ...window) / power(estimated.cleaned, ...window));
    expect(erle).toBeGreaterThanOrEqual(30);
    // A fixed aec.delayMs wins over the estimate, which is still shown.
    const fixed = await run(devices, far, { mic: echoMic, aec: true, delayMs: 50 });
    expect(fixed.stats.aecDelaySource).toBe('config');
    expect(fixed.stats.aecDelayMs).toBe(50);
    expect(Math.abs((fixed.stats.aec?.delayEstimateMs ?? 0) - (aec?.delayEstimateMs ?? 0))).toBeLessThanOrEqual(1);
    console.log(
      `engine echo path: estimated ${aec?.delayEstimateMs.toFixed(1)} ms (confidence ${aec?.delayConfidence.toFixed(2)}), ERLE ${erle.toFixed(1)} dB`,
    );
  }, 60000);

  it.runIf(loadNativeBinding().buildInfo().echoEngines.includes('webrtc'))(
    'runs the webrtc engine on the same reference tap',
    async () => {
      const result = await run(devices, far, { mic: echoMic, aec: true, engine: 'webrtc' });
      expect(result.stats.aec?.engine).toBe('webrtc');
      expect(result.stats.aecDelaySource).toBe('estimate');
      const window = [5 * BRIDGE_RATE, NEAR_FROM] as const;
      const erle = 10 * Math.log10(power(micAtBridge, ...window) / power(result.cleaned, ...window));
      // AEC3 (webrtc-audio-processing 1.x, scripts/test-webrtc1.sh) measured 28.9 dB here, AEC2 (0.3) 55.3 dB.
      // Both lose ERLE at some exact leads of the reference (bench/echo-lead.ts, 16-24 ms: AEC2 28-47 dB,
      // AEC3 21-47 dB, its bad leads 8-24 samples past a multiple of its 64-sample block); the estimated
      // alignment here is one of AEC3's (with aec.delayMs 57 instead of the estimate, AEC3 gets 55.8 dB).
      expect(erle).toBeGreaterThanOrEqual(loadNativeBinding().buildInfo().webrtcApm === '1' ? 25 : 30);
      console.log(`engine echo path, webrtc: ERLE ${erle.toFixed(1)} dB`);
    },
    60000,
  );
});
