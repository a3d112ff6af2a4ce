import { afterEach, describe, expect, it } from 'vitest';
import { AudioEngine, AudioMediaRing, AudioMediaTone, createFakeBinding, loadNativeBinding } from '../../src/media/index.js';
import { waitFor } from '../helpers/signal.js';

// The public media API over the TypeScript fake (the way upper layers unit-test against it), plus
// the device listing from the real libasound.

let engine: AudioEngine | undefined;
afterEach(() => {
  engine?.close();
  engine = undefined;
});

describe('media API on the fake binding', () => {
  it('delivers mic batches of the configured size and plays what is written', async () => {
    const binding = createFakeBinding();
    engine = await AudioEngine.create({ binding, manualClock: true });
    const e = engine;
    const ring = AudioMediaRing.create(e, { rate: 24000, batchMs: 40, prebufferMs: 0 });
    const tone = AudioMediaTone.create(e, [{ freq: 1000, amplitude: 0.5, ms: 1000 }]);
    tone.startTransmit(ring);
    ring.startTransmit(e.playbackMedia);
    const batches: Int16Array[] = [];
    ring.on('tx', (b) => batches.push(b));
    let drained = 0;
    ring.on('drained', () => drained++);
    expect(ring.write(new Int16Array(2400).fill(1000))).toBe(2400);
    ring.drain();
    e.step(20);
    await waitFor(() => batches.length === 5 && drained === 1, 1000, 'batches and drained');
    expect(batches.every((b) => b.length === 960)).toBe(true);
    expect(Math.max(...batches[2]!)).toBeGreaterThan(15000);
    expect(ring.status()).toMatchObject({ played: 2400, rxBuffered: 0 });
    const stats = e.stats();
    expect(stats.ports.map((p) => p.kind).sort()).toEqual(['ring', 'tone']);
    expect(stats.frames).toBe(20);
    tone.destroy();
    expect(e.stats().ports.map((p) => p.kind)).toEqual(['ring']);
  });

  it('keeps listeners typed per port and removes them with off()', async () => {
    engine = await AudioEngine.create({ binding: createFakeBinding(), manualClock: true });
    const tone = AudioMediaTone.create(engine, [{ freq: 500, ms: 20 }]);
    tone.startTransmit(engine.playbackMedia);
    let done = 0;
    const listener = (): void => {
      done++;
    };
    tone.on('done', listener);
    tone.off('done', listener);
    const once = new Promise<void>((resolve) => tone.once('done', resolve));
    engine.step(3);
    await once;
    expect(done).toBe(0);
  });

  it("reports an open ALSA device's rate and period as the native engine does, and none for the null device", async () => {
    const binding = createFakeBinding();
    engine = await AudioEngine.create({ binding, device: { type: 'alsa', periodMs: 20, prefillPeriods: 3 } });
    expect(engine.stats()).toMatchObject({ deviceState: 'open', deviceRate: 48000, devicePeriodFrames: 960 });
    engine.close();
    engine = await AudioEngine.create({ binding, device: { type: 'alsa', rate: 44100 } });
    expect(engine.stats()).toMatchObject({ deviceRate: 44100, devicePeriodFrames: 441 });
    engine.close();
    engine = await AudioEngine.create({ binding });
    expect(engine.stats()).toMatchObject({ deviceState: 'null', deviceRate: 0, devicePeriodFrames: 0 });
  });
});

describe('device listing', () => {
  it('lists the PCMs libasound knows, with their direction', () => {
    const devices = AudioEngine.listDevices(loadNativeBinding());
    expect(devices.length).toBeGreaterThan(0);
    expect(devices.map((d) => d.name)).toContain('null');
    for (const d of devices) {
      expect(typeof d.name).toBe('string');
      expect(['input', 'output', 'duplex']).toContain(d.direction);
    }
    expect(AudioEngine.listDevices(createFakeBinding())).toEqual([]);
  });
});
