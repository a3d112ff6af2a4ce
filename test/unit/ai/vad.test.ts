import { describe, expect, it } from 'vitest';
import { EnergyVad, sumOfSquares } from '../../../src/ai/local/vad.js';

const FRAME = 240;
const tone = (frames: number, amplitude: number): Int16Array =>
  Int16Array.from({ length: frames * FRAME }, (_, i) => Math.round(amplitude * Math.sin(i * 0.2)));

describe('EnergyVad', () => {
  it('finds the start after 3 loud frames and the stop after the quiet hangover', () => {
    const vad = new EnergyVad({ frame: FRAME, marginDb: 12, minDbfs: -50, startFrames: 3, stopFrames: 5 });
    expect(vad.push(tone(20, 30))).toBeNull();
    expect(vad.push(tone(2, 8000))).toBeNull();
    expect(vad.push(tone(1, 8000))).toBe('start');
    expect(vad.inSpeech).toBe(true);
    expect(vad.push(tone(4, 30))).toBeNull();
    expect(vad.push(tone(1, 30))).toBe('stop');
    expect(vad.inSpeech).toBe(false);
  });

  it('never takes digital silence or faint hiss for speech, and needs more during a reply', () => {
    const vad = new EnergyVad({ frame: FRAME, marginDb: 12, minDbfs: -50, startFrames: 3, stopFrames: 5 });
    expect(vad.push(new Int16Array(FRAME * 50))).toBeNull();
    expect(vad.push(tone(10, 50))).toBeNull();
    const floorSet = new EnergyVad({ frame: FRAME, marginDb: 12, minDbfs: -50, startFrames: 3, stopFrames: 5 });
    floorSet.push(tone(100, 100));
    expect(floorSet.push(tone(5, 1000), 10)).toBeNull();
    expect(floorSet.push(tone(5, 1000))).toBe('start');
  });

  it('lets a steady noise that starts loud become the floor', () => {
    const vad = new EnergyVad({ frame: FRAME, marginDb: 12, minDbfs: -50, startFrames: 3, stopFrames: 5 });
    let edges = 0;
    for (let i = 0; i < 30; i++) if (vad.push(tone(100, 400)) !== null) edges++;
    expect(edges).toBe(2);
    expect(vad.inSpeech).toBe(false);
  });
});

describe('sumOfSquares', () => {
  it('is exact for every int16 value, extremes included, over any span', () => {
    const samples = Int16Array.from({ length: 4096 }, (_, i) => (i % 7 === 0 ? -32768 : i % 11 === 0 ? 32767 : ((i * 7919) % 65536) - 32768));
    let naive = 0n;
    for (const s of samples.subarray(100, 4000)) naive += BigInt(s) * BigInt(s);
    expect(sumOfSquares(samples, 100, 4000)).toBe(Number(naive));
    expect(sumOfSquares(new Int16Array([-32768, 32767, -1, 0]), 0, 4)).toBe(32768 ** 2 + 32767 ** 2 + 1);
    expect(sumOfSquares(samples, 5, 5)).toBe(0);
  });
});
