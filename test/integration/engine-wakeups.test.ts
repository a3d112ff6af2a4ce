/**
 * The engine's control thread wakes for work, not on a timer (issue 13): with the audio flowing and
 * nothing to route, it sleeps (a one-second backstop at most); a port removed on the audio thread
 * wakes it at once to free the port. Counted as the thread's voluntary context switches, on a
 * real-time null device.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { threadTimes, wakeups } from '../../bench/proc-stats.js';
import type { NativeEngine } from '../../src/media/binding.js';
import { loadNativeBinding } from '../../src/media/native-binding.js';
import { waitFor } from '../helpers/signal.js';

const binding = loadNativeBinding();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let engine: NativeEngine | undefined;
afterEach(() => {
  engine?.close();
  engine = undefined;
});

/** Thread ids of this process named `name`. */
function threadsNamed(name: string): number[] {
  return [...threadTimes(process.pid)].filter(([, t]) => t.name === name).map(([tid]) => tid);
}

/** Voluntary context switches of thread `tid` of this process so far. */
const wakeupsOf = (tid: number): number => wakeups(process.pid, tid);

describe("the engine's control thread", () => {
  it('sleeps while the audio flows with nothing to route, and wakes at once to free a removed port', async () => {
    const before = new Set(threadsNamed('speakerd-ctl'));
    engine = new binding.Engine({ device: 'null', bridgeRate: 16000, aec: false }, () => undefined);
    engine.start();
    const player = engine.createPlayer(new Int16Array(16000), 16000, true);
    engine.connect(player, 0, 1);
    await waitFor(() => threadsNamed('speakerd-ctl').some((t) => !before.has(t)), 2000, 'the control thread');
    const ctl = threadsNamed('speakerd-ctl').find((t) => !before.has(t)) as number;
    await sleep(300);
    const idle = wakeupsOf(ctl);
    await sleep(2500);
    // At most the backstop's wakeups (one a second), not ten a second.
    expect(wakeupsOf(ctl) - idle).toBeLessThanOrEqual(4);
    engine.removePort(player);
    // Each removal, whatever the backstop's phase, wakes it within a few ticks (the backstop alone
    // would take up to a second: four times in a row within 200 ms by chance is under 0.2 %).
    for (let i = 0; i < 4; i++) {
      const port = engine.createPlayer(new Int16Array(16000), 16000, true);
      engine.connect(port, 0, 1);
      await sleep(100 + 77 * i);
      const removed = wakeupsOf(ctl);
      engine.removePort(port);
      await waitFor(() => wakeupsOf(ctl) > removed, 200, `the control thread woken by removal ${i + 1}`);
    }
  });
});
