/**
 * The ALSA period in whole ticks (issue 13): with `periodMs` 20 the audio thread wakes once per 20 ms
 * period and runs its two 10 ms ticks back to back, so the bridge keeps its 100 ticks a second and a
 * reply plays at its rate, with half the wakeups of 10 ms periods and no xruns. On a paced device: a
 * JACK dummy server through ALSA's jack plugin; wakeups are the audio thread's voluntary context
 * switches.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { threadTimes, wakeups } from '../../bench/proc-stats.js';
import { AudioEngine, AudioMediaRing } from '../../src/media/index.js';
import { JackDevice } from '../helpers/jack-device.js';
import { sine, waitFor } from '../helpers/signal.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Thread ids of this process named `name`. */
function threadsNamed(name: string): number[] {
  return [...threadTimes(process.pid)].filter(([, t]) => t.name === name).map(([tid]) => tid);
}

/** What one second and a half on the device came to. */
interface PacedRun {
  /** The capture period ALSA granted, in frames at 48 kHz. */
  periodFrames: number;
  ticksPerS: number;
  wakeupsPerS: number;
  playedPerS: number;
  xruns: number;
}

const jack = new JackDevice('speakerd-test-period');
beforeAll(async () => jack.start(), 20000);
afterAll(async () => jack.remove());

let engine: AudioEngine | undefined;
afterEach(() => {
  engine?.close();
  engine = undefined;
});

/** Opens the JACK device with `periodMs`, plays a reply from a 24 kHz ring, and measures 1.5 s. */
async function run(periodMs: number, prefillPeriods: number): Promise<PacedRun> {
  const before = new Set(threadsNamed('speakerd-audio'));
  engine = await AudioEngine.create({
    device: { type: 'alsa', capture: 'jack', playback: 'jack', alsaConfig: jack.config, periodMs, prefillPeriods },
    realtime: false,
  });
  const e = engine;
  const ring = AudioMediaRing.create(e, { rate: 24000 });
  ring.startTransmit(e.playbackMedia);
  ring.write(sine(24000, 440, 5000, 24000 * 10));
  await waitFor(() => e.stats().deviceState === 'open', 5000, 'device open');
  await waitFor(() => threadsNamed('speakerd-audio').some((t) => !before.has(t)), 2000, 'the audio thread');
  const audio = threadsNamed('speakerd-audio').find((t) => !before.has(t)) as number;
  await sleep(300);
  const start = { frames: e.stats().frames, wakeups: wakeups(process.pid, audio), played: ring.status().played, xruns: e.stats().xruns };
  const t0 = performance.now();
  await sleep(1500);
  const seconds = (performance.now() - t0) / 1000;
  const stats = e.stats();
  const result = {
    periodFrames: stats.devicePeriodFrames,
    ticksPerS: (stats.frames - start.frames) / seconds,
    wakeupsPerS: (wakeups(process.pid, audio) - start.wakeups) / seconds,
    playedPerS: (ring.status().played - start.played) / seconds,
    xruns: stats.xruns - start.xruns,
  };
  e.close();
  engine = undefined;
  return result;
}

describe('the ALSA period', () => {
  it('at 20 ms wakes the audio thread half as often as at 10 ms, keeping 100 ticks a second and the reply whole', async () => {
    const ten = await run(10, 2);
    const twenty = await run(20, 3);
    expect([ten.periodFrames, twenty.periodFrames]).toEqual([480, 960]);
    for (const paced of [ten, twenty]) {
      expect(paced.ticksPerS).toBeGreaterThan(92);
      expect(paced.ticksPerS).toBeLessThan(108);
      expect(paced.playedPerS).toBeGreaterThan(24000 * 0.92);
      expect(paced.playedPerS).toBeLessThan(24000 * 1.08);
      expect(paced.xruns).toBe(0);
    }
    // One wakeup per period (ALSA's wait, and the odd one to take a lock); the 10 ms run about 100 a
    // second, the 20 ms one about 50.
    expect(ten.wakeupsPerS).toBeGreaterThan(85);
    expect(twenty.wakeupsPerS).toBeLessThan(ten.wakeupsPerS * 0.65);
    expect(twenty.wakeupsPerS).toBeGreaterThan(40);
  }, 20000);
});
