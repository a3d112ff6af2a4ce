import { afterAll, describe, expect, it } from 'vitest';
import { AudioEngine, AudioMediaPlayer, type AecOptions } from '../../src/media/index.js';
import { createEchoScenario } from '../../bench/echo-scenario.js';
import { AlsaFileDevices } from '../helpers/alsa-files.js';
import { upsample3 } from '../helpers/signal.js';

// The post filter and the playback shaper inside the engine, through the real libasound (file plugin
// devices): the output ceiling and ducking act on what is written to playback (the speaker file), the
// double-talk state and the gains show in stats().aecPost.

const DEVICE_RATE = 48000;
const BRIDGE_RATE = 16000;

function rmsDb(x: Int16Array, fromS: number, toS: number, rate: number): number {
  let s = 0;
  const from = Math.round(fromS * rate);
  const to = Math.round(toS * rate);
  for (let i = from; i < to; i++) s += (x[i] ?? 0) ** 2;
  return 10 * Math.log10(s / (to - from) / 32768 ** 2 + 1e-12);
}

interface Played {
  speaker: Int16Array;
  talk: Set<string>;
  limiterDb: number;
  duckSeen: boolean;
}

/** Plays `far` for `seconds` with `mic` in the microphone file; returns the speaker file and what stats showed. */
async function play(devices: AlsaFileDevices, far: Int16Array, mic: Int16Array, seconds: number, aec: AecOptions): Promise<Played> {
  devices.setMic(mic, DEVICE_RATE);
  const engine = await AudioEngine.create({
    device: { type: 'alsa', capture: 'mic', playback: 'spk', rate: DEVICE_RATE, alsaConfig: devices.config },
    bridgeRate: BRIDGE_RATE,
    manualClock: true,
    requireDevice: true,
    aec: { delayMs: 50, marginMs: 20, ...aec },
  });
  const player = AudioMediaPlayer.fromPcm(engine, far, BRIDGE_RATE);
  player.startTransmit(engine.playbackMedia);
  const talk = new Set<string>();
  let limiterDb = 0;
  let duckSeen = false;
  for (let t = 0; t < seconds * 10; t++) {
    engine.step(10);
    const post = engine.stats().aecPost;
    talk.add(post.talk);
    limiterDb = Math.min(limiterDb, post.limiterDb);
    duckSeen ||= post.duckActive;
  }
  engine.close();
  return { speaker: devices.readSpeaker().samples, talk, limiterDb, duckSeen };
}

describe('post filter and playback shaper in the engine', () => {
  const devices = new AlsaFileDevices();
  afterAll(() => devices.remove());

  it('caps what is played at audio.maxOutputDbfs, and only when it is set', async () => {
    const loud = Int16Array.from({ length: 2 * BRIDGE_RATE }, (_, i) => Math.round(30000 * Math.sin((2 * Math.PI * 300 * i) / BRIDGE_RATE)));
    const capped = await play(devices, loud, new Int16Array(0), 2, { maxOutputDbfs: -10 });
    const free = await play(devices, loud, new Int16Array(0), 2, {});
    const peak = (x: Int16Array): number => x.reduce((p, v) => Math.max(p, Math.abs(v)), 0);
    // The playback resampler may overshoot the bridge-rate ceiling by a fraction of a dB.
    expect(peak(capped.speaker)).toBeLessThanOrEqual(32767 * 10 ** (-9.5 / 20));
    expect(peak(capped.speaker)).toBeGreaterThan(32767 * 10 ** (-11 / 20));
    expect(capped.limiterDb).toBeLessThan(-5);
    expect(peak(free.speaker)).toBeGreaterThan(29000);
    expect(free.limiterDb).toBe(0);
  }, 60000);

  it('ducks the reply while the user talks over it, not before', async () => {
    // Far end alone for 8 s, then the user over it for 4 s: the echo is the far end through the room
    // delayed by the 50 ms the engine is told (2 prefill periods + 30 ms), the user 15 dB under it.
    const scenario = createEchoScenario({
      seed: 4,
      seconds: { converge: 6, farOnly: 2, doubleTalk: 4, nearOnly: 0 },
      delayMs: 50,
      farDbfs: -20,
      nearDbfs: -28,
      echoGain: 0.5,
    });
    const mic = upsample3(scenario.mic);
    const ducked = await play(devices, scenario.far, mic, 12, { duckDb: 12 });
    const plain = await play(devices, scenario.far, mic, 12, {});
    const dt = scenario.segments.doubleTalk;
    const delta = (from: number, to: number): number => rmsDb(ducked.speaker, from, to, DEVICE_RATE) - rmsDb(plain.speaker, from, to, DEVICE_RATE);
    expect(Math.abs(delta(2, dt.start / BRIDGE_RATE))).toBeLessThan(0.5);
    expect(delta(dt.start / BRIDGE_RATE + 0.5, dt.end / BRIDGE_RATE)).toBeLessThan(-6);
    expect(ducked.duckSeen).toBe(true);
    expect(plain.duckSeen).toBe(false);
    expect(plain.talk.has('far')).toBe(true);
    expect(plain.talk.has('double')).toBe(true);
  }, 60000);
});
