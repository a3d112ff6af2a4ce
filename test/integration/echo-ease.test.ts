import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AudioEngine, AudioMediaPlayer, AudioMediaRecorder, parseWav } from '../../src/media/index.js';
import { findNativeAddon, loadNativeBinding } from '../../src/media/native-binding.js';
import { AlsaFileDevices } from '../helpers/alsa-files.js';
import { upsample3 } from '../helpers/signal.js';
import { createEchoScenario, ENCLOSURE_ROOM, erleDb, estimateLag, nearEndLossDb, shiftSignal, type EchoScenario } from '../../bench/echo-scenario.js';

// Easing AEC2's suppressor while the user talks (native/dsp/aec2_nlp_ease.h), through the real
// webrtc-audio-processing 0.3: the engine is told per frame whether the user talks, as the engine's
// double-talk detector tells it. Told so over the double talk of echo-scenario.ts's enclosure, the
// user loses less; told nothing, or with easing off, the output is the library's own to the bit; and an
// instance that is not eased is not touched by one that is.

const RATE = 16000;
const FRAME = 160;
const MARGIN_SAMPLES = (20 * RATE) / 1000;
const binding = loadNativeBinding();
const aec2 = binding.buildInfo().webrtcApm === '0.3';

function nearTalkOver(length: number, range: { start: number; end: number }): Uint8Array {
  const frames = length / FRAME;
  return Uint8Array.from({ length: frames }, (_, f) => (f * FRAME >= range.start && (f + 1) * FRAME <= range.end ? 1 : 0));
}

describe.runIf(aec2)('webrtc AEC2 eased for near talk', () => {
  let scenario: EchoScenario;
  let reference: Int16Array;
  let plain: Int16Array;
  let eased: Int16Array;
  let ratios: Float32Array;
  let nearTalk: Uint8Array;
  let lag: number;

  beforeAll(() => {
    scenario = createEchoScenario({ ...ENCLOSURE_ROOM, seed: 1 });
    reference = shiftSignal(scenario.far, scenario.delaySamples - MARGIN_SAMPLES);
    nearTalk = nearTalkOver(scenario.mic.length, scenario.segments.doubleTalk);
    plain = new binding.EchoCanceller({ engine: 'webrtc', rate: RATE, frame: FRAME }).process(scenario.mic, reference);
    ratios = new Float32Array(nearTalk.length);
    const canceller = new binding.EchoCanceller({ engine: 'webrtc', rate: RATE, frame: FRAME, nearTalkMaxCutDb: -3 });
    eased = canceller.process(scenario.mic, reference, nearTalk, ratios);
    lag = estimateLag(scenario.near, plain, scenario.segments.nearOnly, 3 * FRAME);
  });

  it('keeps more of the user over the far end, and the same echo removed before', () => {
    const before = nearEndLossDb(scenario.near, plain, scenario.segments.doubleTalk, lag);
    const after = nearEndLossDb(scenario.near, eased, scenario.segments.doubleTalk, lag);
    // Measured: 11.2 dB without easing, 4.3 dB with at most 3 dB cut per bin (seeds 2 and 3: 12.1 -> 4.5,
    // 30.1 -> 4.2; the living room 7.4-14.5 -> 4.3-6.9); the echo removed before: 55.3 dB either way.
    expect(before - after, `double-talk loss ${before.toFixed(1)} -> ${after.toFixed(1)} dB`).toBeGreaterThan(4);
    expect(after).toBeLessThan(6);
    const erle = erleDb(scenario.mic, eased, scenario.segments.farOnly, lag);
    expect(Math.abs(erle - erleDb(scenario.mic, plain, scenario.segments.farOnly, lag))).toBeLessThan(1);
    expect(erle).toBeGreaterThan(40);
  });

  it('changes nothing before the first eased frame, and reports what the suppressor would have passed', () => {
    const first = nearTalk.indexOf(1);
    expect(first).toBeGreaterThan(0);
    expect(eased.subarray(0, first * FRAME)).toEqual(plain.subarray(0, first * FRAME));
    // A frame's ratio is that of the call before (AEC2's output lags its input by about 13 ms).
    const easedFrame = (f: number): boolean => f > 0 && nearTalk[f - 1] === 1;
    for (let f = 0; f < ratios.length; f++) {
      if (!easedFrame(f)) expect(ratios[f]).toBe(1);
      else expect(ratios[f]).toBeLessThanOrEqual(1);
    }
    // Over the double talk the suppressor would have passed far less than the eased one did.
    const cut = Array.from(ratios).filter((r, f) => easedFrame(f) && r < 0.5).length;
    expect(cut / nearTalk.filter((v) => v === 1).length).toBeGreaterThan(0.2);
  });

  it('is the library to the bit when nobody talks, and touches only the instance it eases', () => {
    const quiet = new Uint8Array(nearTalk.length);
    const told = new binding.EchoCanceller({ engine: 'webrtc', rate: RATE, frame: FRAME, nearTalkMaxCutDb: -3 });
    const other = new binding.EchoCanceller({ engine: 'webrtc', rate: RATE, frame: FRAME });
    const easedToo = new binding.EchoCanceller({ engine: 'webrtc', rate: RATE, frame: FRAME, nearTalkMaxCutDb: -1 });
    const outTold = new Int16Array(scenario.mic.length);
    const outOther = new Int16Array(scenario.mic.length);
    // Interleaved frame by frame with an instance that is being eased.
    for (let f = 0; f < nearTalk.length; f++) {
      const at = { start: f * FRAME, end: (f + 1) * FRAME };
      const mic = scenario.mic.subarray(at.start, at.end);
      const ref = reference.subarray(at.start, at.end);
      outTold.set(told.process(mic, ref, quiet.subarray(f, f + 1)), at.start);
      easedToo.process(mic, ref, nearTalk.subarray(f, f + 1));
      outOther.set(other.process(mic, ref, nearTalk.subarray(f, f + 1)), at.start);
    }
    expect(outTold).toEqual(plain);
    expect(outOther).toEqual(plain);
  });

  it('has the detector judge a frame by what the suppressor would have passed', () => {
    const PostFilter = binding.EchoPostFilter;
    if (PostFilter === undefined) throw new Error('this addon has no EchoPostFilter');
    const near = (states: Uint8Array): number => states.filter((s) => s === 2 || s === 3).length;
    const frames = scenario.mic.length / FRAME;
    const asIs = new PostFilter({}).process(scenario.mic, reference, plain, new Float32Array(frames).fill(1));
    // The same output said to be 40 dB over what the suppressor would have passed over the double talk:
    // the detector hears the user there far less (measured: 59 frames of 400 against 206).
    const said = Float32Array.from({ length: frames }, (_, f) => (nearTalk[f] === 1 ? 1e-4 : 1));
    const quieter = new PostFilter({}).process(scenario.mic, reference, plain, said);
    const over = (states: Uint8Array): Uint8Array => states.filter((_, f) => nearTalk[f] === 1);
    expect(near(over(asIs.states))).toBeGreaterThan(50);
    expect(near(over(quieter.states))).toBeLessThan(near(over(asIs.states)) / 2);
    expect(new PostFilter({}).process(scenario.mic, reference, plain).states).toEqual(asIs.states);
    expect(() => new PostFilter({}).process(scenario.mic, reference, plain, new Float32Array(3))).toThrow(/easedPowerRatio/);
    // Eased frames teach it nothing about the echo: the far end alone said to be eased (40 dB) leaves
    // its decisions over the double talk after it nearly as they were (measured: 213 frames given to the
    // user against 206; 235 when it learnt from them; only its noise floor followed the scaled power).
    const farOnly = Float32Array.from({ length: frames }, (_, f) =>
      f * FRAME >= scenario.segments.farOnly.start && (f + 1) * FRAME <= scenario.segments.farOnly.end ? 1e-4 : 1,
    );
    const afterEased = new PostFilter({}).process(scenario.mic, reference, plain, farOnly);
    expect(Math.abs(near(over(afterEased.states)) - near(over(asIs.states)))).toBeLessThan(15);
  });

  it('says in stats whether it eases the user', () => {
    expect(new binding.EchoCanceller({ engine: 'webrtc', nearTalkMaxCutDb: -3 }).stats().userEase).toBe('on');
    expect(new binding.EchoCanceller({ engine: 'webrtc', nearTalkMaxCutDb: -60 }).stats().userEase).toBe('off');
    expect(new binding.EchoCanceller({ engine: 'webrtc' }).stats().userEase).toBe('off');
  });

  it('runs as the library has it, and says so, when no instance slot is free', () => {
    // In a process of its own: the 64 slots belong to the addon, shared by all that the process runs.
    const script = `
      const b = require(${JSON.stringify(findNativeAddon(join(import.meta.dirname, '..', '..')))});
      const held = Array.from({ length: 64 }, () => new b.EchoCanceller({ engine: 'webrtc', nearTalkMaxCutDb: -3 }));
      const spare = new b.EchoCanceller({ engine: 'webrtc', nearTalkMaxCutDb: -3 });
      const plain = new b.EchoCanceller({ engine: 'webrtc' });
      const ref = Int16Array.from({ length: 32000 }, (_, i) => Math.round(9000 * Math.sin(i / 7) * Math.sin(i / 2900)));
      const mic = Int16Array.from({ length: 32000 }, (_, i) => Math.round(0.7 * (ref[i - 480] || 0) + 2000 * Math.sin(i / 3)));
      const a = spare.process(mic, ref, new Uint8Array(200).fill(1));
      const p = plain.process(mic, ref);
      console.log(JSON.stringify({
        on: held.filter((c) => c.stats().userEase === 'on').length,
        spare: spare.stats().userEase,
        same: a.every((v, i) => v === p[i]),
      }));
    `;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as unknown;
    expect(out).toEqual({ on: 64, spare: 'unsupported', same: true });
  });

  it('refuses a cut out of range and a nearTalk or ratio array of the wrong length', () => {
    expect(() => new binding.EchoCanceller({ engine: 'webrtc', nearTalkMaxCutDb: 3 })).toThrow(RangeError);
    expect(() => new binding.EchoCanceller({ engine: 'webrtc', nearTalkMaxCutDb: -61 })).toThrow(RangeError);
    const canceller = new binding.EchoCanceller({ engine: 'webrtc', nearTalkMaxCutDb: -3 });
    const two = new Int16Array(2 * FRAME);
    expect(() => canceller.process(two, two, new Uint8Array(3))).toThrow(/nearTalk/);
    expect(() => canceller.process(two, two, new Uint8Array(2), new Float32Array(1))).toThrow(/easedPowerRatio/);
  });
});

describe('the speex engine', () => {
  it('has no suppressor to ease: told the user talks, its output is the same', () => {
    const scenario = createEchoScenario({ seed: 2, delayMs: 120, seconds: { converge: 2, farOnly: 1, doubleTalk: 2, nearOnly: 1 } });
    const reference = shiftSignal(scenario.far, scenario.delaySamples - MARGIN_SAMPLES);
    const nearTalk = nearTalkOver(scenario.mic.length, scenario.segments.doubleTalk);
    const ratios = new Float32Array(nearTalk.length);
    const plain = new binding.EchoCanceller({ engine: 'speex' }).process(scenario.mic, reference);
    const told = new binding.EchoCanceller({ engine: 'speex', nearTalkMaxCutDb: -3 }).process(scenario.mic, reference, nearTalk, ratios);
    expect(told).toEqual(plain);
    expect(ratios.every((r) => r === 1)).toBe(true);
    expect(new binding.EchoCanceller({ engine: 'speex', nearTalkMaxCutDb: -3 }).stats().userEase).toBe('unsupported');
    expect(new binding.EchoCanceller({ engine: 'speex' }).stats().userEase).toBe('off');
  });
});

describe.runIf(aec2)('the engine eases AEC2 for the user its detector hears', () => {
  const devices = new AlsaFileDevices();
  afterAll(() => devices.remove());

  /** What the engine sends with the microphone file `mic` while it plays `far`, cut at most `cutDb` for the user. */
  async function sent(far: Int16Array, mic: Int16Array, seconds: number, cutDb: number): Promise<Int16Array> {
    devices.setMic(upsample3(mic), 48000);
    const engine = await AudioEngine.create({
      device: { type: 'alsa', capture: 'mic', playback: 'spk', rate: 48000, alsaConfig: devices.config },
      bridgeRate: RATE,
      manualClock: true,
      requireDevice: true,
      aec: { engine: 'webrtc', delayMs: 50, marginMs: 20, agc: false, nearTalkMaxCutDb: cutDb },
    });
    expect(engine.stats().aec?.userEase).toBe(cutDb > -60 ? 'on' : 'off');
    const file = join(devices.dir, `sent${cutDb}.wav`);
    const player = AudioMediaPlayer.fromPcm(engine, far, RATE);
    const recorder = await AudioMediaRecorder.create(engine, file, { ringSeconds: seconds + 1 });
    player.startTransmit(engine.playbackMedia);
    engine.captureMedia.startTransmit(recorder);
    engine.step(seconds * 100);
    await recorder.close();
    engine.close();
    return parseWav(readFileSync(file)).samples;
  }

  it('keeps more of the user over the reply, and removes the echo before as it did', async () => {
    // The echo is the far end through the room, delayed by the 50 ms the engine is told (2 prefill
    // periods + 30 ms), the user 12 dB under it.
    const scenario = createEchoScenario({
      seed: 4,
      seconds: { converge: 6, farOnly: 2, doubleTalk: 4, nearOnly: 2 },
      delayMs: 50,
      farDbfs: -20,
      nearDbfs: -26,
      echoGain: 0.5,
    });
    const seconds = scenario.mic.length / RATE;
    const plain = await sent(scenario.far, scenario.mic, seconds, -60);
    const eased = await sent(scenario.far, scenario.mic, seconds, -3);
    const { farOnly, doubleTalk, nearOnly } = scenario.segments;
    const lagOf = (out: Int16Array): number => estimateLag(scenario.near, out, nearOnly, 3 * FRAME);
    const lossOf = (out: Int16Array): number =>
      nearEndLossDb(scenario.near, out, doubleTalk, lagOf(out)) - nearEndLossDb(scenario.near, out, nearOnly, lagOf(out));
    const before = lossOf(plain);
    const after = lossOf(eased);
    // Measured: the user over the reply 9.0 dB under the user alone, 3.6 dB eased; 64.7 dB of echo removed either way.
    expect(before - after, `double-talk loss ${before.toFixed(1)} -> ${after.toFixed(1)} dB`).toBeGreaterThan(2.5);
    const erle = erleDb(scenario.mic, eased, farOnly, lagOf(eased));
    expect(Math.abs(erle - erleDb(scenario.mic, plain, farOnly, lagOf(plain)))).toBeLessThan(1);
    expect(erle).toBeGreaterThan(40);
  }, 60000);
});
