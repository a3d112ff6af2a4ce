import { describe, expect, it } from 'vitest';
import { TALK_STATES } from '../../src/media/binding-post.js';
import { loadNativeBinding } from '../../src/media/native-binding.js';
import { ENCLOSURE_ROOM } from '../../bench/echo-scenario.js';
import { POST_FRAME, runPostFilter } from '../../bench/echo-post.js';

// The playback side through the addon: ducking driven by the double-talk detector's decisions, and the
// output ceiling (a peak limiter before the reference tap).

const binding = loadNativeBinding();
const Shaper = binding.PlaybackShaper!;
const FAR_ONLY = TALK_STATES.indexOf('far');
const DOUBLE = TALK_STATES.indexOf('double');

function peak(x: Int16Array, from = 0, to = x.length): number {
  let p = 0;
  for (let i = from; i < to; i++) p = Math.max(p, Math.abs(x[i]!));
  return p;
}

function rmsDb(x: Int16Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! ** 2;
  return 10 * Math.log10(s / (to - from) / 32768 ** 2 + 1e-12);
}

/** A steady 440 Hz tone of `amplitude` for `frames` frames. */
function tone(frames: number, amplitude: number): Int16Array {
  return Int16Array.from({ length: frames * POST_FRAME }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * 440 * i) / 16000)));
}

describe('ducking', () => {
  // 100 frames far alone, 50 frames of the user over it, 150 frames far alone again.
  const states = new Uint8Array(300).fill(FAR_ONLY);
  const nearRuns = new Uint16Array(300);
  for (let f = 100; f < 150; f++) {
    states[f] = DOUBLE;
    nearRuns[f] = f - 99;
  }
  const speaker = tone(300, 10000);

  it('ducks by the set depth from engageMs of the user talking over the reply, holds, then releases', () => {
    const { out, ducked } = new Shaper({ duckDb: 12, duckEngageMs: 60, duckHoldMs: 300 }).process(speaker, states, nearRuns);
    const frame = (f: number): [number, number] => [f * POST_FRAME, (f + 1) * POST_FRAME];
    expect([...ducked.slice(0, 105)].every((d) => d === 0)).toBe(true);
    expect(ducked[106]).toBe(1);
    expect(rmsDb(out, ...frame(99)) - rmsDb(speaker, ...frame(99))).toBeCloseTo(0, 3);
    // Ducked 12 dB once the 20 ms attack has settled, while the user talks and during the hold.
    expect(rmsDb(out, ...frame(140)) - rmsDb(speaker, ...frame(140))).toBeCloseTo(-12, 0);
    expect(rmsDb(out, ...frame(175)) - rmsDb(speaker, ...frame(175))).toBeCloseTo(-12, 0);
    // Hold ends 300 ms after the user (frame 180); a slow release (500 ms time constant) brings it back.
    expect(ducked[185]).toBe(0);
    expect(rmsDb(out, ...frame(190)) - rmsDb(speaker, ...frame(190))).toBeLessThan(-6);
    expect(rmsDb(out, ...frame(299)) - rmsDb(speaker, ...frame(299))).toBeGreaterThan(-1);
  });

  it('does nothing at depth 0, or for a user shorter than engageMs', () => {
    expect(new Shaper({ duckDb: 0 }).process(speaker, states, nearRuns).out).toEqual(speaker);
    const short = nearRuns.map((r) => Math.min(r, 4));
    const result = new Shaper({ duckDb: 12, duckEngageMs: 60 }).process(speaker, states, short);
    expect(result.out).toEqual(speaker);
    expect(Math.max(...result.ducked)).toBe(0);
  });

  it('on the enclosure: ducks during double talk only, never while the far end plays alone', () => {
    const run = runPostFilter(binding, { ...ENCLOSURE_ROOM, seed: 1, seconds: { converge: 15, farOnly: 4, doubleTalk: 4, nearOnly: 3 } });
    const { states: s, nearRuns: r } = run.suppressed;
    const { ducked } = new Shaper({ duckDb: 10 }).process(run.reference, s, r);
    const { converge, farOnly, doubleTalk } = run.scenario.segments;
    const share = (from: number, to: number): number =>
      ducked.slice(from / POST_FRAME, to / POST_FRAME).reduce((a, d) => a + d, 0) / ((to - from) / POST_FRAME);
    const farShare = share(converge.end - 2 * 16000, farOnly.end);
    const doubleShare = share(doubleTalk.start, doubleTalk.end);
    console.log(`ducked ${(100 * farShare).toFixed(1)} % of far-only frames, ${(100 * doubleShare).toFixed(1)} % of double talk`);
    expect(farShare).toBeLessThanOrEqual(0.05);
    expect(doubleShare).toBeGreaterThanOrEqual(0.8);
  }, 120000);
});

describe('output ceiling', () => {
  it('keeps every sample under maxOutputDbfs and leaves quieter audio untouched', () => {
    const states = new Uint8Array(200);
    const nearRuns = new Uint16Array(200);
    const loud = tone(200, 30000);
    const ceiling = 32767 * 10 ** (-10 / 20);
    const { out } = new Shaper({ maxOutputDbfs: -10 }).process(loud, states, nearRuns);
    expect(peak(out)).toBeLessThanOrEqual(Math.ceil(ceiling));
    expect(peak(out, 100 * POST_FRAME)).toBeGreaterThan(0.95 * ceiling);
    const quiet = tone(200, 3000);
    expect(new Shaper({ maxOutputDbfs: -10 }).process(quiet, states, nearRuns).out).toEqual(quiet);
    expect(new Shaper({}).process(loud, states, nearRuns).out).toEqual(loud);
  });

  it('checks its arguments', () => {
    expect(() => new Shaper({ maxOutputDbfs: 3 })).toThrow(RangeError);
    expect(() => new Shaper({ duckDb: -1 })).toThrow(RangeError);
    expect(() => new Shaper({}).process(new Int16Array(320), new Uint8Array(1), new Uint16Array(2))).toThrow(RangeError);
  });
});
