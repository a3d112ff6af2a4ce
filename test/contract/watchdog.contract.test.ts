/**
 * One contract for the watchdog pinger of both bindings: the addon's native thread and the fake's
 * timer. Pings go nowhere here (no notify socket): the counters in status() are the observable.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NativeBinding, NativeEngine, NativeWatchdog, NativeWatchdogOptions } from '../../src/media/binding.js';
import { createFakeBinding } from '../../src/media/fake-binding.js';
import { loadNativeBinding } from '../../src/media/native-binding.js';

const bindings: [string, NativeBinding][] = [
  ['native', loadNativeBinding()],
  ['fake', createFakeBinding()],
];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe.each(bindings)('%s watchdog', (_name, binding) => {
  const cleanup: (() => void)[] = [];
  const savedSocket = process.env.NOTIFY_SOCKET;
  beforeEach(() => {
    delete process.env.NOTIFY_SOCKET;
  });
  afterEach(() => {
    for (const fn of cleanup.splice(0).reverse()) fn();
    if (savedSocket !== undefined) process.env.NOTIFY_SOCKET = savedSocket;
  });

  function engine(manualClock = false): NativeEngine {
    const e = new binding.Engine({ device: 'null', aec: false, realtime: false, manualClock }, () => {});
    e.start();
    cleanup.push(() => e.close());
    return e;
  }

  function dog(options: NativeWatchdogOptions, heartbeatMs: number | null = 10): NativeWatchdog {
    const d = new binding.Watchdog!(options);
    cleanup.push(() => d.stop());
    if (heartbeatMs !== null) {
      const timer = setInterval(() => d.heartbeat(), heartbeatMs);
      cleanup.push(() => clearInterval(timer));
    }
    return d;
  }

  it('checks its options and arguments alike', () => {
    const W = binding.Watchdog!;
    expect(() => new W(null as unknown as NativeWatchdogOptions)).toThrow(new TypeError('options must be an object'));
    expect(() => new W({} as NativeWatchdogOptions)).toThrow(new TypeError('options.intervalMs must be a number'));
    expect(() => new W({ intervalMs: 0 })).toThrow(new RangeError('options.intervalMs must be an integer from 1 to 3600000'));
    expect(() => new W({ intervalMs: 1.5 })).toThrow(RangeError);
    expect(() => new W({ intervalMs: 10, maxLoopStallMs: 'x' as unknown as number })).toThrow(new TypeError('options.maxLoopStallMs must be a number'));
    expect(() => new W({ intervalMs: 10, reopenGraceMs: -1 })).toThrow(new RangeError('options.reopenGraceMs must be an integer from 0 to 3600000'));
    expect(() => new W({ intervalMs: 10, notifySocket: 5 as unknown as string })).toThrow(new TypeError('options.notifySocket must be a string'));
    const d = new W({ intervalMs: 10 });
    expect(() => d.reopening(-1)).toThrow(new RangeError('ms must be an integer from 0 to 3600000'));
    expect(() => d.reopening('1' as unknown as number)).toThrow(new TypeError('ms must be a number'));
    expect(() => d.watch({} as NativeEngine)).toThrow(new TypeError('engine must be an Engine or null'));
    d.watch(null);
    d.stop();
  });

  it('reports the same status fields, idle and running', async () => {
    const d = dog({ intervalMs: 50 });
    const idle = d.status();
    expect(Object.keys(idle).sort()).toEqual(
      [
        'running',
        'pinging',
        'pings',
        'checks',
        'misses',
        'reasons',
        'missReasons',
        'missHeartbeatAgeMs',
        'heartbeatAgeMs',
        'lastLoopGapMs',
        'longestLoopGapMs',
        'lastPingAgeMs',
        'sendErrors',
        'notifySocket',
        'engine',
        'graceMs',
      ].sort(),
    );
    expect(idle).toMatchObject({ running: false, pinging: false, pings: 0, checks: 0, misses: 0, reasons: [], engine: 'none', notifySocket: false });
    d.watch(engine());
    expect(d.start()).toBe(false); // no $NOTIFY_SOCKET: it checks and counts, and sends nothing
    expect(d.start()).toBe(false); // twice is harmless
    await until(() => d.status().pings >= 3, '3 pings');
    expect(d.status()).toMatchObject({ running: true, pinging: true, misses: 0, reasons: [], engine: 'open', sendErrors: 0 });
    d.stop();
    const stopped = d.status();
    expect(stopped.running).toBe(false);
    expect(stopped.pinging).toBe(false);
    await sleep(150);
    expect(d.status().pings).toBe(stopped.pings);
    expect(d.status().checks).toBe(stopped.checks);
  });

  it('pings only while the clock advances: a stalled engine is one miss, then it resumes', async () => {
    const e = engine();
    const d = dog({ intervalMs: 50 });
    d.watch(e);
    d.start();
    await until(() => d.status().pings >= 2, 'pings');
    e.stallForTest(500);
    await until(() => !d.status().pinging, 'a miss');
    expect(d.status()).toMatchObject({ misses: 1, reasons: ['clock_stopped'], missReasons: ['clock_stopped'] });
    const pings = d.status().pings;
    await sleep(200);
    expect(d.status().pings).toBe(pings);
    await until(() => d.status().pinging, 'resumed');
    expect(d.status().misses).toBe(1);
  });

  it('reads a manual clock: steps between checks ping, no steps do not', async () => {
    const e = engine(true);
    const d = dog({ intervalMs: 50 });
    d.watch(e);
    const stepping = setInterval(() => e.step(1), 5);
    cleanup.push(() => clearInterval(stepping));
    d.start();
    await until(() => d.status().pings >= 3, 'pings');
    expect(d.status().misses).toBe(0);
    clearInterval(stepping);
    await until(() => d.status().misses === 1, 'a miss');
    expect(d.status().missReasons).toEqual(['clock_stopped']);
  });

  it('stops when the event loop stops checking in', async () => {
    const d = dog({ intervalMs: 50, maxLoopStallMs: 150 }, null);
    d.watch(engine());
    d.start();
    await until(() => d.status().misses === 1, 'a miss');
    expect(d.status().reasons).toContain('loop_stalled');
    expect(d.status().missHeartbeatAgeMs).toBeGreaterThan(150);
    d.heartbeat();
    await until(() => d.status().pinging, 'resumed');
    expect(d.status().lastLoopGapMs).toBeGreaterThan(150);
    expect(d.status().longestLoopGapMs).toBe(d.status().lastLoopGapMs);
  });

  it('counts a closed or absent engine as a stopped clock, except within a grace', async () => {
    const d = dog({ intervalMs: 50 });
    d.start(); // nothing watched
    await until(() => d.status().misses === 1, 'a miss');
    expect(d.status().missReasons).toEqual(['no_engine']);
    d.reopening(300);
    expect(d.status().graceMs).toBeGreaterThan(250);
    await until(() => d.status().pinging, 'pings within the grace');
    await until(() => !d.status().pinging, 'the grace to end');
    expect(d.status().misses).toBe(2);
    const e = engine();
    d.watch(e);
    await until(() => d.status().pinging, 'pings from the new engine');
    e.close();
    expect(d.status().engine).toBe('closed');
    await until(() => d.status().misses === 3, 'a miss after close');
    expect(d.status().reasons).toEqual(['no_engine']);
    d.watch(e); // a closed engine is no engine
    expect(d.status().engine).toBe('none');
  });

  it('excuses an engine closed within reopenGraceMs', async () => {
    const d = dog({ intervalMs: 50, reopenGraceMs: 400 });
    const e = engine();
    d.watch(e);
    d.start();
    await until(() => d.status().pings >= 2, 'pings');
    e.close();
    await sleep(200);
    expect(d.status()).toMatchObject({ pinging: true, misses: 0, engine: 'closed' });
    await until(() => d.status().misses === 1, 'the grace to end');
    d.watch(engine());
    await until(() => d.status().pinging, 'pings from the new engine');
  });
});
