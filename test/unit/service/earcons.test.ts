import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioEngine, createFakeBinding, encodeWav } from '../../../src/media/index.js';
import type { FakeEngine } from '../../../src/media/fake-binding.js';
import { Earcons } from '../../../src/service/earcons.js';

let engine: AudioEngine | undefined;
afterEach(() => {
  engine?.close();
  engine = undefined;
});

async function fakeEngine(): Promise<{ engine: AudioEngine; speaker: () => Int16Array }> {
  const e = await AudioEngine.create({ binding: createFakeBinding(), manualClock: true });
  const native = (e as unknown as { native: FakeEngine }).native;
  return { engine: e, speaker: () => native.takePlayback() };
}

const peak = (x: Int16Array): number => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe('earcons', () => {
  it('plays through the speaker at the earcon volume times the device volume, never over a reply', async () => {
    const f = await fakeEngine();
    engine = f.engine;
    let speaking = false;
    const earcons = new Earcons(f.engine, { enabled: true, volume: 0.5, files: {} }, () => speaking);
    expect(earcons.play('ready')).toBe(true);
    f.engine.step(40);
    const loud = peak(f.speaker());
    expect(loud).toBeGreaterThan(3000);
    f.engine.playbackMedia.adjustTxLevel(0.5);
    earcons.play('ready');
    f.engine.step(40);
    expect(peak(f.speaker()) / loud).toBeCloseTo(0.5, 1);
    speaking = true;
    expect(earcons.play('error')).toBe(false);
    f.engine.step(40);
    expect(peak(f.speaker())).toBe(0);
  });

  it('uses a custom WAV, falls back with a message when it is broken, and can be switched off', async () => {
    const f = await fakeEngine();
    engine = f.engine;
    const dir = mkdtempSync(join(tmpdir(), 'speakerd-earcon-'));
    try {
      writeFileSync(join(dir, 'mute.wav'), encodeWav(new Int16Array(1600).fill(12000), 16000));
      writeFileSync(join(dir, 'bad.wav'), 'not a wav');
      const earcons = new Earcons(f.engine, { enabled: true, volume: 1, files: { mute: join(dir, 'mute.wav'), unmute: join(dir, 'bad.wav') } }, () => false);
      const problems = await earcons.load();
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/earcon unmute .*bad\.wav.*built-in/);
      earcons.play('mute');
      f.engine.step(5);
      expect(peak(f.speaker())).toBe(12000);
      const off = new Earcons(f.engine, { enabled: false, volume: 1, files: {} }, () => false);
      expect(off.play('ready')).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a FIFO, a device or a directory as an earcon at once, naming the key, and plays the built-in one', async () => {
    const f = await fakeEngine();
    engine = f.engine;
    const dir = mkdtempSync(join(tmpdir(), 'speakerd-earcon-'));
    try {
      const { execFileSync } = await import('node:child_process');
      execFileSync('mkfifo', [join(dir, 'fifo.wav')]);
      const earcons = new Earcons(f.engine, { enabled: true, volume: 1, files: { ready: join(dir, 'fifo.wav'), error: '/dev/zero', mute: dir } }, () => false);
      const started = performance.now();
      const problems = await earcons.load();
      expect(performance.now() - started).toBeLessThan(2000);
      expect(problems).toEqual([
        expect.stringMatching(/^earcon ready .*earcons\.ready: .*fifo\.wav is a FIFO; a regular file is needed; using the built-in one$/),
        expect.stringMatching(/^earcon error .*earcons\.error: \/dev\/zero is a device/),
        expect.stringMatching(/^earcon mute .*earcons\.mute: .* is a directory/),
      ]);
      expect(earcons.play('ready')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
