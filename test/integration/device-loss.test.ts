import { afterEach, describe, expect, it } from 'vitest';
import { AudioEngine, AudioMediaRing } from '../../src/media/index.js';
import { JackDevice } from '../helpers/jack-device.js';
import { sine, waitFor } from '../helpers/signal.js';

// A real-time ALSA device (JACK dummy through ALSA's jack plugin) that the test unplugs by killing
// the JACK server: the engine must report the loss, keep its clock on the null device, and come
// back by itself when the device returns.

let jack: JackDevice | undefined;
let engine: AudioEngine | undefined;

afterEach(async () => {
  engine?.close();
  engine = undefined;
  await jack?.remove();
  jack = undefined;
});

async function framesPerSecond(e: AudioEngine, ms: number): Promise<number> {
  const f0 = e.stats().frames;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  return (e.stats().frames - f0) / ((performance.now() - t0) / 1000);
}

describe('a device that disappears and comes back', () => {
  it('keeps time on the device clock, reports the loss, runs on the null clock, and reopens', async () => {
    jack = new JackDevice();
    await jack.start();
    engine = await AudioEngine.create({
      device: { type: 'alsa', capture: 'jack', playback: 'jack', alsaConfig: jack.config },
      requireDevice: true,
      retry: { minMs: 100, maxMs: 200 },
    });
    const e = engine;
    const notices: { state: string; code?: string; message?: string }[] = [];
    e.on('device', (d: { state: string; code?: string; message?: string }) => notices.push(d));
    const errors: Error[] = [];
    e.on('error', (err: Error) => errors.push(err));
    const ring = AudioMediaRing.create(e, { rate: 24000 });
    ring.startTransmit(e.playbackMedia);
    ring.write(sine(24000, 440, 5000, 24000 * 20));
    await waitFor(() => e.stats().deviceState === 'open', 2000, 'device open');

    // Paced by the JACK dummy clock: 100 ticks a second.
    const paced = await framesPerSecond(e, 1000);
    expect(paced).toBeGreaterThan(92);
    expect(paced).toBeLessThan(108);

    await jack.kill();
    await waitFor(() => notices.some((n) => n.state === 'lost'), 3000, 'device lost');
    const lost = notices.find((n) => n.state === 'lost');
    expect(lost?.code).toBe('ERR_DEVICE_LOST');
    expect(lost?.message).toMatch(/sound device lost/);
    expect(errors.some((err) => (err as Error & { code?: string }).code === 'ERR_DEVICE_LOST')).toBe(true);
    expect(e.stats().deviceErrors).toBe(1);

    // While the device is gone the null clock keeps the bridge ticking and audio flowing.
    const played = ring.status().played;
    const onNull = await framesPerSecond(e, 700);
    expect(onNull).toBeGreaterThan(90);
    expect(ring.status().played).toBeGreaterThan(played);
    expect(e.stats().deviceState).toBe('retrying');
    expect(notices.some((n) => n.state === 'failed' && /jack/.test(n.message ?? ''))).toBe(true);

    await jack.start();
    await waitFor(() => e.stats().deviceState === 'open', 5000, 'device reopened');
    expect(notices.at(-1)?.state).toBe('open');
    const again = await framesPerSecond(e, 700);
    expect(again).toBeGreaterThan(90);
    expect(again).toBeLessThan(110);
  }, 30000);
});
