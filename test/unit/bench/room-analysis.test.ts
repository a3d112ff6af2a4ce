/**
 * The analysis of the closed-loop room bench: the resampler, locating a signal in a recording, the
 * projection measures and the server-style VAD, on signals whose answers are known.
 */
import { describe, expect, it } from 'vitest';
import { whiteNoise } from '../../../bench/echo-scenario.js';
import { correlationOver, locate, powerOver, projectionGain, resample } from '../../../bench/room/dsp.js';
import { runVad, SERVER_VAD } from '../../../bench/room/vad.js';
import { resolveConfiguration } from '../../../bench/room/rooms.js';

const RATE = 16000;

/** A 16 kHz signal: `dbfs` white noise inside each [startMs, endMs) burst, silence elsewhere. */
function bursts(totalMs: number, spans: [number, number][], dbfs: number): Float64Array {
  const noise = whiteNoise((totalMs * RATE) / 1000, dbfs, 3);
  const out = new Float64Array(noise.length);
  for (const [a, b] of spans) for (let n = (a * RATE) / 1000; n < (b * RATE) / 1000; n++) out[n] = noise[n]!;
  return out;
}

describe('room bench analysis', () => {
  it('resamples a tone between 24 and 16 kHz at unity gain, and shifts it by a fractional offset', () => {
    const tone = Float64Array.from({ length: 24000 }, (_, n) => 10000 * Math.sin((2 * Math.PI * 1000 * n) / 24000));
    const down = resample(tone, 24000, 16000);
    expect(down.length).toBe(16000);
    const middle = [{ start: 2000, end: 14000 }];
    expect(10 * Math.log10(powerOver(down, middle) / 5e7)).toBeCloseTo(0, 1);
    const reference = Float64Array.from({ length: 16000 }, (_, n) => 10000 * Math.sin((2 * Math.PI * 1000 * (n + 2.5)) / 16000));
    expect(correlationOver(reference, resample(tone, 24000, 16000, 2.5), middle)).toBeGreaterThan(0.999);
  });

  it('locates a part of a signal in a longer, delayed and scaled recording, to a fraction of a sample', () => {
    const source = whiteNoise(40000, -20, 5);
    const band = resample(source, 16000, 16000);
    const delayed = resample(band, 16000, 16000, -1234.25).map((v) => 0.5 * v);
    const found = locate(band, { start: 10000, end: 30000 }, delayed);
    expect(found.lag).toBeCloseTo(1234.25, 0);
    expect(Math.abs(found.lag - 1234.25)).toBeLessThan(0.1);
    expect(found.correlation).toBeGreaterThan(0.9);
    // Within 3 %: the parabola's fraction is a little off on a signal this wide (up to 7.6 kHz).
    const gain = projectionGain(band, resample(delayed, 16000, 16000, found.lag), [{ start: 10000, end: 30000 }]);
    expect(Math.abs(gain - 0.5)).toBeLessThan(0.015);
  });

  it('locates near an expected lag when asked, though a stronger match lies elsewhere', () => {
    const source = resample(whiteNoise(20000, -20, 9), 16000, 16000);
    const haystack = new Float64Array(60000);
    for (let n = 0; n < 20000; n++) {
      haystack[n + 5000] += source[n]!;
      haystack[n + 35000] += 0.3 * source[n]!;
    }
    expect(Math.round(locate(source, { start: 0, end: 20000 }, haystack).lag)).toBe(5000);
    expect(Math.round(locate(source, { start: 0, end: 20000 }, haystack, { lag: 35100, within: 200 }).lag)).toBe(35000);
  });

  it('projection ignores an uncorrelated signal added to the mix', () => {
    const user = whiteNoise(32000, -30, 1);
    const echo = whiteNoise(32000, -10, 2);
    const mix = user.map((v, n) => 0.25 * v + echo[n]!);
    expect(projectionGain(user, mix, [{ start: 0, end: 32000 }])).toBeCloseTo(0.25, 1);
  });

  it('VAD: starts after 100 ms of speech frames, ignores shorter bursts and quiet ones, stops after 500 ms of silence', () => {
    const x = bursts(
      4000,
      [
        [200, 280],
        [600, 1400],
        [1700, 1900],
        [3000, 3500],
      ],
      -26,
    );
    const quiet = bursts(4000, [[2200, 2600]], -50);
    const signal = x.map((v, n) => v + quiet[n]!);
    const vad = runVad(signal, RATE, -80);
    // 80 ms at 200 ms is too short; 600 ms starts; 1700 ms is within 500 ms of silence of the
    // previous speech, so no new start; -50 dBFS is below the -46 dBFS threshold; 3000 ms starts.
    expect(vad.starts.map((n) => (n * 1000) / RATE)).toEqual([600, 3000]);
    const frameAt = (ms: number): number => vad.inSpeech[Math.floor(ms / 20)]!;
    expect(frameAt(1600)).toBe(1);
    expect(frameAt(2300)).toBe(1);
    expect(frameAt(2450)).toBe(0);
  });

  it('VAD: a frame must clear the noise floor by the margin', () => {
    const x = bursts(2000, [[500, 1000]], -30);
    expect(runVad(x, RATE, -30 - SERVER_VAD.marginDb + 1).starts).toEqual([]);
    expect(runVad(x, RATE, -30 - SERVER_VAD.marginDb - 1).starts).toEqual([(500 * RATE) / 1000]);
  });

  it("configurations: a key the schema lacks skips one, unless it stands for the build's default", () => {
    expect(resolveConfiguration({ label: 'x', set: { 'aec.enabled': 'false' } })).toEqual({ set: { 'aec.enabled': 'false' } });
    expect(resolveConfiguration({ label: 'x', set: { 'aec.noSuchKey': 'a' } })).toEqual({ missing: 'aec.noSuchKey' });
    expect(resolveConfiguration({ label: 'x', set: { 'aec.noSuchKey': 'a', 'aec.tailMs': '300' }, defaultWhenAbsent: ['aec.noSuchKey'] })).toEqual({
      set: { 'aec.tailMs': '300' },
    });
  });
});
