import { afterEach, describe, expect, it } from 'vitest';
import { AudioEngine, AudioMediaRecorder, AudioMediaRing } from '../../src/media/index.js';
import { sine, waitFor } from '../helpers/signal.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The null device clocks the audio thread in real time: these tests run on the wall clock.

let engine: AudioEngine | undefined;
afterEach(() => {
  engine?.close();
  engine = undefined;
});

function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: the event loop is stalled on purpose
  }
}

describe('real-time clock (null device)', () => {
  it('keeps time: 100 ticks a second of wall clock', async () => {
    engine = await AudioEngine.create({ device: { type: 'null' } });
    const t0 = performance.now();
    const f0 = engine.stats().frames;
    await new Promise((r) => setTimeout(r, 1000));
    const frames = engine.stats().frames - f0;
    const seconds = (performance.now() - t0) / 1000;
    expect(frames / seconds).toBeGreaterThan(95);
    expect(frames / seconds).toBeLessThan(105);
    expect(engine.stats().deviceState).toBe('null');
  });

  it('plays through a 250 ms stall of the event loop without an underrun', async () => {
    engine = await AudioEngine.create({ device: { type: 'null' } });
    const ring = AudioMediaRing.create(engine, { rate: 24000, prebufferMs: 100 });
    ring.startTransmit(engine.playbackMedia);
    let underruns = 0;
    ring.on('underrun', () => underruns++);
    // 1 s of reply, as a service would stream it: faster than real time, then the event loop stalls.
    ring.write(sine(24000, 440, 8000, 24000));
    await waitFor(() => ring.status().playing, 1000, 'playback start');
    const before = ring.status().played;
    blockEventLoop(250);
    const during = ring.status().played - before;
    ring.drain();
    let drained = false;
    ring.on('drained', () => (drained = true));
    await waitFor(() => drained, 2000, 'drained');
    expect(during).toBeGreaterThanOrEqual(24000 * 0.2);
    expect(underruns).toBe(0);
    expect(ring.status().underruns).toBe(0);
    expect(ring.status().played).toBe(24000);
    expect(engine.stats().underruns).toBe(0);
  });

  it('counts an underrun when the network starves playback mid-reply', async () => {
    engine = await AudioEngine.create({ device: { type: 'null' } });
    const ring = AudioMediaRing.create(engine, { rate: 16000, prebufferMs: 50 });
    ring.startTransmit(engine.playbackMedia);
    ring.write(sine(16000, 440, 8000, 1600));
    await waitFor(() => ring.status().underruns === 1, 1000, 'underrun');
    expect(engine.stats().underruns).toBe(1);
  });

  it('a stalled recorder loses nothing while its ring has room', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'speakerd-rt-'));
    try {
      engine = await AudioEngine.create({ device: { type: 'null' } });
      const recorder = await AudioMediaRecorder.create(engine, join(dir, 'r.wav'), { ringSeconds: 1 });
      engine.captureMedia.startTransmit(recorder);
      blockEventLoop(400);
      await new Promise((r) => setTimeout(r, 300));
      await recorder.close();
      expect(recorder.dropped).toBe(0);
      expect(recorder.bytesWritten).toBeGreaterThan(16000 * 2 * 0.6);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts what a recorder drops when its ring is too small for a stall', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'speakerd-rt-'));
    try {
      engine = await AudioEngine.create({ device: { type: 'null' } });
      const recorder = await AudioMediaRecorder.create(engine, join(dir, 'r.wav'), { ringSeconds: 0.1 });
      engine.captureMedia.startTransmit(recorder);
      await new Promise((r) => setTimeout(r, 50));
      blockEventLoop(400);
      const dropped = recorder.dropped;
      await recorder.close();
      expect(dropped).toBeGreaterThan(16000 * 0.2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
