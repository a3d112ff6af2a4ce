import { describe, expect, it } from 'vitest';
import { EnergyVad } from '../../../src/ai/local/vad.js';

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
