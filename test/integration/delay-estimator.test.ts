import { describe, expect, it } from 'vitest';
import { loadNativeBinding } from '../../src/media/native-binding.js';
import { createEchoScenario, whiteNoise } from '../../bench/echo-scenario.js';

// The echo path delay estimator (native/dsp/delay_estimator.cc) on the synthetic room of
// echo-scenario.ts: the microphone holds the far end's echo (bulk delay, 200 ms reverberant tail,
// -60 dBFS noise), and from the double-talk segment on the near end too.

const RATE = 16000;
const binding = loadNativeBinding();

/** Feeds mic/reference in 250 ms chunks; returns the estimate after each chunk (time = end of chunk, s). */
function track(mic: Int16Array, reference: Int16Array, estimator = new binding.DelayEstimator({ rate: RATE })) {
  const chunk = RATE / 4;
  const points: { t: number; delayMs: number; confidence: number; changes: number }[] = [];
  for (let i = 0; i + chunk <= mic.length; i += chunk) {
    estimator.process(mic.subarray(i, i + chunk), reference.subarray(i, i + chunk));
    points.push({ t: (i + chunk) / RATE, ...estimator.estimate() });
  }
  return { estimator, points };
}

describe.each([40, 120, 300])('delay estimator, echo path of %i ms', (delayMs) => {
  it.each([1, 2, 3])('finds it within 5 ms in under 4 s of far-end speech and holds it (seed %i)', (seed) => {
    const scenario = createEchoScenario({ seed, delayMs });
    const { points } = track(scenario.mic, scenario.far);
    const found = points.find((p) => p.delayMs >= 0);
    expect(found, 'an estimate').toBeDefined();
    expect(found!.t).toBeLessThan(4);
    // From 4 s on, through far-end speech, double talk and the near end alone: always right.
    for (const p of points.filter((q) => q.t >= 4)) {
      expect(Math.abs(p.delayMs - delayMs), `${p.delayMs.toFixed(1)} ms at ${p.t} s`).toBeLessThanOrEqual(5);
      expect(p.confidence).toBeGreaterThan(0.4);
    }
    // It moved once (none to the delay), or twice when the first guess was off.
    expect(points[points.length - 1]!.changes).toBeLessThanOrEqual(2);
  });
});

describe('delay estimator over time', () => {
  it('follows a change of the echo path (40 ms to 120 ms) within 5 s and moves once', () => {
    const before = createEchoScenario({ seed: 3, delayMs: 40 });
    const after = createEchoScenario({ seed: 3, delayMs: 120 });
    expect(after.far).toEqual(before.far);
    const switchAt = 10 * RATE;
    const mic = new Int16Array(before.mic.length);
    mic.set(before.mic.subarray(0, switchAt));
    mic.set(after.mic.subarray(switchAt), switchAt);
    const { points } = track(mic, before.far);
    const at = (t: number) => points.find((p) => p.t >= t)!;
    expect(Math.abs(at(9.75).delayMs - 40)).toBeLessThanOrEqual(5);
    const changesBefore = at(9.75).changes;
    expect(Math.abs(at(15).delayMs - 120)).toBeLessThanOrEqual(5);
    expect(points[points.length - 1]!.changes - changesBefore).toBe(1);
  });

  it('does not move while the far end is silent, whatever the microphone hears', () => {
    const scenario = createEchoScenario({ seed: 2, delayMs: 120 });
    const estimator = new binding.DelayEstimator({ rate: RATE });
    const converge = scenario.segments.farOnly.end;
    estimator.process(scenario.mic.subarray(0, converge), scenario.far.subarray(0, converge));
    const settled = estimator.estimate();
    expect(Math.abs(settled.delayMs - 120)).toBeLessThanOrEqual(5);
    // 20 s of a silent far end: the near end talking, then loud noise, at the microphone.
    const seconds = 10 * RATE;
    const nearTalk = scenario.near.subarray(scenario.segments.doubleTalk.start, scenario.segments.doubleTalk.start + seconds);
    const silent = new Int16Array(seconds);
    const { points } = track(nearTalk, silent, estimator);
    const noise = track(whiteNoise(seconds, -20, 9), silent, estimator).points;
    for (const p of [...points, ...noise]) {
      expect(p.delayMs).toBe(settled.delayMs);
      expect(p.changes).toBe(settled.changes);
    }
    // Past the lag range (500 ms) after the far end stopped nothing is learnt at all: a frozen confidence.
    const frozen = points.find((p) => p.t >= 1)!.confidence;
    expect(frozen).toBeGreaterThan(0.4);
    for (const p of [...points.filter((q) => q.t >= 1), ...noise]) expect(p.confidence).toBe(frozen);
  });

  it('finds no delay where there is no echo (reference and microphone unrelated)', () => {
    const a = createEchoScenario({ seed: 1 });
    const b = createEchoScenario({ seed: 2 });
    const { points } = track(
      b.near.map((v, i) => v + (a.near[i] ?? 0)),
      a.far,
    );
    expect(points.every((p) => p.delayMs === -1)).toBe(true);
  });

  it('searches only up to maxDelayMs', () => {
    const scenario = createEchoScenario({ seed: 1, delayMs: 300 });
    const { points } = track(scenario.mic, scenario.far, new binding.DelayEstimator({ rate: RATE, maxDelayMs: 200 }));
    for (const p of points) expect(p.delayMs).toBeLessThanOrEqual(200);
  });
});
