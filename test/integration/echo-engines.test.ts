import { beforeAll, describe, expect, it } from 'vitest';
import { loadNativeBinding } from '../../src/media/native-binding.js';
import type { NativeEchoEngineName } from '../../src/media/binding.js';
import { createEchoScenario, erleDb, estimateLag, nearEndLossDb, shiftSignal, type EchoScenario } from '../../bench/echo-scenario.js';

// Both echo engines behind the one native interface, on the synthetic room of echo-scenario.ts with a
// known bulk delay, fed the reference the way the engine feeds it (aligned minus the 20 ms margin).
// Each engine's own latency is measured on the near end alone (speex: one frame, the preprocessor's
// overlap; webrtc: about 13 ms) and the figures are taken at it.
// The bounds are per engine: speex keeps the user (the field notes: 0.4-1 dB); WebRTC 0.3's AEC2 at low
// suppression removes more echo but cuts the user during double talk (6-14 dB here, 13-26 dB in the
// field notes): a regression guard, not the product's goal. With webrtc-audio-processing 1.x
// (buildInfo().webrtcApm '1', AEC3; scripts/test-webrtc1.sh runs this file in a Debian trixie root) the
// same bounds hold: seed 1 of bench/echo.ts measured ERLE 46.6 dB, double-talk loss 8.3 dB, near-only
// loss 3.3 dB (0.3's AEC2: 46.7, 11.7, 2.8). AEC3 cannot be reset in place (see the end of the file).

const RATE = 16000;
const FRAME = 160;
const MARGIN_SAMPLES = (20 * RATE) / 1000;
const binding = loadNativeBinding();
const built = binding.buildInfo().echoEngines;
/** AEC3 (webrtc-audio-processing 1.x) keeps its filter on reset: it has no reset that does not reallocate. */
const aec3 = binding.buildInfo().webrtcApm === '1';

interface Bounds {
  erleDb: number;
  doubleTalkLossDb: number;
  nearOnlyLossDb: number;
}

const BOUNDS: Record<NativeEchoEngineName, Bounds> = {
  speex: { erleDb: 30, doubleTalkLossDb: 3, nearOnlyLossDb: 3 },
  webrtc: { erleDb: 40, doubleTalkLossDb: 16, nearOnlyLossDb: 9 },
};

describe('the build', () => {
  it('has the speex engine, and webrtc exactly when pkg-config finds webrtc-audio-processing', async () => {
    const { spawnSync } = await import('node:child_process');
    const found = ['webrtc-audio-processing-1', 'webrtc-audio-processing'].some((m) => spawnSync('pkg-config', ['--exists', m]).status === 0);
    expect(built).toEqual(found ? ['speex', 'webrtc'] : ['speex']);
    expect(binding.buildInfo().webrtcApm === '').toBe(!found);
  });
});

describe.each(built.flatMap((engine) => [1, 2].map((seed) => [engine, seed] as const)))('%s engine on a synthetic room, seed %i', (engine, seed) => {
  let scenario: EchoScenario;
  let out: Int16Array;
  let lag: number;
  let measuredLag: number;
  let statsAfterFarOnly: { erleDb: number; converged: boolean };

  beforeAll(() => {
    scenario = createEchoScenario({ seed, delayMs: 120 });
    const reference = shiftSignal(scenario.far, scenario.delaySamples - MARGIN_SAMPLES);
    const canceller = new binding.EchoCanceller({ rate: RATE, frame: FRAME, engine });
    const split = scenario.segments.farOnly.end;
    out = new Int16Array(scenario.mic.length);
    out.set(canceller.process(scenario.mic.subarray(0, split), reference.subarray(0, split)));
    statsAfterFarOnly = canceller.stats();
    out.set(canceller.process(scenario.mic.subarray(split), reference.subarray(split)), split);
    measuredLag = estimateLag(scenario.near, out, scenario.segments.nearOnly, 3 * FRAME);
    // speex's latency is exactly one frame (echo-canceller.test.ts measures it on white noise).
    lag = engine === 'speex' ? FRAME : measuredLag;
  });

  it('has a latency of at most 20 ms', () => {
    expect(measuredLag).toBeLessThanOrEqual(2 * FRAME);
    if (engine === 'speex') expect(Math.abs(measuredLag - FRAME)).toBeLessThanOrEqual(2);
  });

  it(`converges: ERLE above the floor with the far end alone, and its own estimate agrees`, () => {
    const erle = erleDb(scenario.mic, out, scenario.segments.farOnly, lag);
    expect(erle, `ERLE ${erle.toFixed(1)} dB`).toBeGreaterThanOrEqual(BOUNDS[engine].erleDb);
    expect(statsAfterFarOnly.converged).toBe(true);
    expect(Math.abs(statsAfterFarOnly.erleDb - erle), `estimate ${statsAfterFarOnly.erleDb.toFixed(1)} dB`).toBeLessThan(6);
  });

  it('keeps the user during double talk and alone within its bound', () => {
    const doubleTalk = nearEndLossDb(scenario.near, out, scenario.segments.doubleTalk, lag);
    const nearOnly = nearEndLossDb(scenario.near, out, scenario.segments.nearOnly, lag);
    expect(doubleTalk, `double-talk loss ${doubleTalk.toFixed(2)} dB`).toBeLessThanOrEqual(BOUNDS[engine].doubleTalkLossDb);
    expect(nearOnly, `near-only loss ${nearOnly.toFixed(2)} dB`).toBeLessThanOrEqual(BOUNDS[engine].nearOnlyLossDb);
  });

  (engine === 'webrtc' && aec3 ? it.skip : it)('forgets its filter on reset (the echo comes back until it re-adapts)', () => {
    const canceller = new binding.EchoCanceller({ rate: RATE, frame: FRAME, engine });
    const reference = shiftSignal(scenario.far, scenario.delaySamples - MARGIN_SAMPLES);
    const { farOnly } = scenario.segments;
    canceller.process(scenario.mic.subarray(0, farOnly.start), reference.subarray(0, farOnly.start));
    const window = { start: farOnly.start, end: farOnly.start + RATE };
    const adapted = canceller.process(scenario.mic.subarray(window.start, window.end), reference.subarray(window.start, window.end));
    canceller.reset();
    const fresh = canceller.process(scenario.mic.subarray(window.end, window.end + RATE), reference.subarray(window.end, window.end + RATE));
    const part = (x: Int16Array) => x.subarray(0, RATE / 2);
    const level = (x: Int16Array) => 10 * Math.log10(x.reduce((s, v) => s + v * v, 0) / x.length + 1);
    expect(level(part(fresh)) - level(part(adapted))).toBeGreaterThan(10);
  });
});

// AEC3's reset restarts the statistics only (re-creating it would allocate on the audio thread, where the
// engine resets after a device reopen); AEC3 follows an echo path change by itself.
if (aec3) {
  describe('webrtc engine (AEC3) on reset', () => {
    it('restarts its statistics and keeps cancelling', () => {
      const scenario = createEchoScenario({ seed: 1, delayMs: 120 });
      const reference = shiftSignal(scenario.far, scenario.delaySamples - MARGIN_SAMPLES);
      const canceller = new binding.EchoCanceller({ rate: RATE, frame: FRAME, engine: 'webrtc' });
      const end = scenario.segments.farOnly.start + RATE;
      canceller.process(scenario.mic.subarray(0, end), reference.subarray(0, end));
      expect(canceller.stats().converged).toBe(true);
      canceller.reset();
      expect(canceller.stats()).toMatchObject({ converged: false, erleDb: 0 });
      const after = canceller.process(scenario.mic.subarray(end, end + RATE), reference.subarray(end, end + RATE));
      const erle = erleDb(scenario.mic.subarray(end, end + RATE), after, { start: 0, end: RATE - 2 * FRAME }, 2 * FRAME);
      expect(erle, `ERLE ${erle.toFixed(1)} dB after reset`).toBeGreaterThan(BOUNDS.webrtc.erleDb);
    });
  });
}

// The other bridge rates WebRTC runs at (16 kHz is above): the same room brought to the rate (linear
// interpolation up, pair averages down: linear, so the mic stays the echo of the reference), so that a
// wrong frame size or stream format at a rate shows as lost echo or a lost user. Measured (seed 1):
// 0.3's AEC2 ERLE 47.7/48.3/48.6 dB at 8/32/48 kHz, double talk 6.3-6.7 dB; 1.x's AEC3 50.6/48.1/43.6 dB,
// double talk 4.0-4.4 dB; near-only loss 2.1-2.5 dB for both.
describe.runIf(built.includes('webrtc')).each([8000, 32000, 48000])('webrtc engine at %i Hz', (rate) => {
  const convert = (x: Int16Array): Int16Array => {
    if (rate < RATE) return Int16Array.from({ length: x.length / 2 }, (_, i) => Math.round(((x[2 * i] ?? 0) + (x[2 * i + 1] ?? 0)) / 2));
    const up = rate / RATE;
    return Int16Array.from({ length: x.length * up }, (_, i) => {
      const at = Math.floor(i / up);
      const frac = (i % up) / up;
      return Math.round((x[at] ?? 0) * (1 - frac) + (x[at + 1] ?? 0) * frac);
    });
  };
  const at = (range: { start: number; end: number }) => ({ start: (range.start * rate) / RATE, end: (range.end * rate) / RATE });

  it('removes the echo and keeps the user within the 16 kHz bounds, at most 20 ms late', () => {
    const scenario = createEchoScenario({ seed: 1, delayMs: 120 });
    const mic = convert(scenario.mic);
    const near = convert(scenario.near);
    const reference = convert(shiftSignal(scenario.far, scenario.delaySamples - MARGIN_SAMPLES));
    const frame = rate / 100;
    const out = new binding.EchoCanceller({ rate, frame, engine: 'webrtc' }).process(mic, reference);
    const { farOnly, doubleTalk, nearOnly } = scenario.segments;
    const lag = estimateLag(near, out, at(nearOnly), 3 * frame);
    expect(lag).toBeLessThanOrEqual(2 * frame);
    const erle = erleDb(mic, out, at(farOnly), lag);
    const doubleTalkLoss = nearEndLossDb(near, out, at(doubleTalk), lag);
    expect(erle, `ERLE ${erle.toFixed(1)} dB`).toBeGreaterThanOrEqual(BOUNDS.webrtc.erleDb);
    expect(doubleTalkLoss, `double-talk loss ${doubleTalkLoss.toFixed(2)} dB`).toBeLessThanOrEqual(BOUNDS.webrtc.doubleTalkLossDb);
    expect(nearEndLossDb(near, out, at(nearOnly), lag)).toBeLessThanOrEqual(BOUNDS.webrtc.nearOnlyLossDb);
  });
});
