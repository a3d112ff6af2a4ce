import { afterEach, describe, expect, it } from 'vitest';
import { AudioEngine } from '../../../src/media/engine.js';
import { createFakeBinding, FakeEngine } from '../../../src/media/fake-binding.js';
import { loadNativeBinding } from '../../../src/media/native-binding.js';
import { SystemdNotifier, nativeNotify, watchdogIntervalMs } from '../../../src/system/notify.js';
import { Watchdog } from '../../../src/system/watchdog.js';

const saved = process.env.NOTIFY_SOCKET;
afterEach(() => {
  if (saved === undefined) delete process.env.NOTIFY_SOCKET;
  else process.env.NOTIFY_SOCKET = saved;
});

describe('sd_notify', () => {
  it('sends datagrams from this process, to a path or the abstract namespace', () => {
    const binding = loadNativeBinding();
    const name = `@speakerd-test-${process.pid}`;
    const receiver = new binding.NotifyReceiver!(name);
    try {
      process.env.NOTIFY_SOCKET = name;
      const notifier = new SystemdNotifier(nativeNotify());
      notifier.ready('listening');
      notifier.reloading();
      notifier.watchdog();
      notifier.stopping();
      const got = [receiver.receive(500), receiver.receive(500), receiver.receive(500), receiver.receive(500)];
      expect(got.map((g) => g?.pid)).toEqual([process.pid, process.pid, process.pid, process.pid]);
      expect(got[0]?.message).toBe('READY=1\nSTATUS=listening');
      expect(got[1]?.message).toMatch(/^RELOADING=1\nMONOTONIC_USEC=\d+$/);
      const usec = Number(/MONOTONIC_USEC=(\d+)/.exec(got[1]?.message ?? '')?.[1]);
      expect(Math.abs(usec - Number(process.hrtime.bigint() / 1000n))).toBeLessThan(5_000_000);
      expect(got[2]?.message).toBe('WATCHDOG=1');
      expect(got[3]?.message).toBe('STOPPING=1');
      expect(receiver.receive(50)).toBeNull();
    } finally {
      receiver.close();
    }
  });

  it('is a no-op without NOTIFY_SOCKET, and reports a socket that is not there', () => {
    delete process.env.NOTIFY_SOCKET;
    expect(nativeNotify()('READY=1')).toBe(false);
    process.env.NOTIFY_SOCKET = '/nonexistent/notify.sock';
    expect(() => nativeNotify()('READY=1')).toThrow(expect.objectContaining({ code: 'ERR_NOTIFY' }));
  });

  it('derives the watchdog interval from WATCHDOG_USEC and WATCHDOG_PID', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '10000000' }, 42)).toBe(5000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '42' }, 42)).toBe(5000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '7' }, 42)).toBeNull();
    expect(watchdogIntervalMs({}, 42)).toBeNull();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: 'x' }, 42)).toBeNull();
  });
});

describe('watchdog (legacy mode: a JavaScript timer pings through `ping`)', () => {
  it('pings only while the audio clock advances', async () => {
    let frames = 0;
    let pings = 0;
    const missed: string[] = [];
    const dog = new Watchdog({ intervalMs: 20, maxLoopLagMs: 1000, audioClock: () => frames, ping: () => pings++, onMissed: (r) => missed.push(r) });
    const ticking = setInterval(() => frames++, 5);
    dog.start();
    await new Promise((r) => setTimeout(r, 150));
    clearInterval(ticking);
    const whileRunning = pings;
    expect(whileRunning).toBeGreaterThanOrEqual(4);
    await new Promise((r) => setTimeout(r, 150));
    dog.stop();
    expect(pings).toBeLessThanOrEqual(whileRunning + 1);
    expect(missed).toEqual(['the audio clock has stopped']);
  });

  it('does not ping after the event loop was blocked beyond the bound', async () => {
    let frames = 0;
    let pings = 0;
    const missed: string[] = [];
    const dog = new Watchdog({ intervalMs: 20, maxLoopLagMs: 50, audioClock: () => ++frames, ping: () => pings++, onMissed: (r) => missed.push(r) });
    dog.start();
    await new Promise((r) => setTimeout(r, 10));
    const before = pings;
    const until = Date.now() + 150;
    while (Date.now() < until) {
      // blocked on purpose
    }
    await new Promise((r) => setTimeout(r, 5));
    expect(pings).toBe(before);
    expect(missed[0]).toMatch(/event loop answered \d+ ms late/);
    await new Promise((r) => setTimeout(r, 60));
    expect(pings).toBeGreaterThan(before);
    dog.stop();
  });
});

async function until(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('watchdog over the fake binding (the pinger reads the engine, JS only checks in)', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const fn of cleanup.splice(0).reverse()) fn();
  });

  function fakeEngine(): FakeEngine {
    const e = new FakeEngine({ device: 'null' }, () => {});
    e.start();
    cleanup.push(() => e.close());
    return e;
  }

  it('derives its bounds: 0.8 × WATCHDOG_USEC by default, the configured lag otherwise', () => {
    const binding = createFakeBinding();
    const auto = new Watchdog({ intervalMs: 5000, engine: () => null, binding });
    expect(auto.maxLoopStallMs).toBe(8000);
    expect(new Watchdog({ intervalMs: 5000, maxLoopLagMs: 0, engine: () => null, binding }).maxLoopStallMs).toBe(8000);
    expect(new Watchdog({ intervalMs: 5000, maxLoopLagMs: 3000, engine: () => null, binding }).maxLoopStallMs).toBe(3000);
    expect(() => new Watchdog({ intervalMs: 5000 })).toThrow(TypeError);
    expect(() => new Watchdog({ intervalMs: 0, engine: () => null, binding })).toThrow(RangeError);
    expect(() => new Watchdog({ intervalMs: 10, engine: () => null, binding: { ...binding, Watchdog: undefined } })).toThrow(/no Watchdog/);
  });

  it('sends WATCHDOG=1 through the binding while the engine runs, says once why it stopped, and when it resumed', async () => {
    const sent: string[] = [];
    const binding = createFakeBinding({ notify: (state) => sent.push(state) > 0 });
    const engine = fakeEngine();
    const missed: string[] = [];
    let resumed = 0;
    // Checks six fake ticks apart, so a loaded machine's late timers do not look like a stopped clock.
    const dog = new Watchdog({
      intervalMs: 60,
      maxLoopLagMs: 1000,
      heartbeatMs: 10,
      engine: () => engine,
      binding,
      onMissed: (r) => missed.push(r),
      onResumed: () => resumed++,
    });
    cleanup.push(() => dog.stop());
    dog.start();
    await until(() => sent.length >= 4, '4 pings');
    expect(new Set(sent)).toEqual(new Set(['WATCHDOG=1']));
    expect(dog.status()?.notifySocket).toBe(true);
    engine.stallForTest(800);
    await until(() => missed.length === 1, 'a miss');
    expect(missed).toEqual(['the audio clock has stopped']);
    const count = sent.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(sent.length).toBe(count);
    await until(() => resumed === 1, 'resumed');
    // The pings come back (on a loaded machine the first one may follow the resume by a tick).
    await until(() => sent.length > count, 'pings again');
    expect(missed).toHaveLength(1);
    dog.stop();
    const final = sent.length;
    await new Promise((r) => setTimeout(r, 80));
    expect(sent.length).toBe(final);
  });

  it('follows the engine the provider returns (an AudioEngine too) and excuses a reopen', async () => {
    const binding = createFakeBinding();
    let engine: AudioEngine | null = await AudioEngine.create({ binding });
    cleanup.push(() => engine?.close());
    const missed: string[] = [];
    const dog = new Watchdog({
      intervalMs: 150,
      heartbeatMs: 20,
      maxLoopLagMs: 5000,
      reopenGraceMs: 0,
      engine: () => engine,
      binding,
      onMissed: (r) => missed.push(r),
    });
    cleanup.push(() => dog.stop());
    dog.start();
    await until(() => (dog.status()?.pings ?? 0) >= 3, 'pings');
    expect(dog.status()?.engine).toBe('open');
    dog.reopening(1000);
    engine.close();
    engine = null;
    await new Promise((r) => setTimeout(r, 100));
    engine = await AudioEngine.create({ binding });
    await until(() => dog.status()?.engine === 'open', 'the new engine');
    const pings = dog.status()?.pings ?? 0;
    await until(() => (dog.status()?.pings ?? 0) >= pings + 3, 'pings from the new engine');
    expect(missed).toEqual([]);
    dog.reopening(0);
    engine.close();
    await until(() => missed.length === 1, 'a miss');
    expect(missed[0]).toBe('no audio engine is running (closed, or none attached)');
  });

  it('reports a loop that did not check in, with how long', async () => {
    const binding = createFakeBinding();
    const engine = fakeEngine();
    const missed: string[] = [];
    // A heartbeat slower than the bound: between two beats the loop looks stalled to the pinger.
    const dog = new Watchdog({ intervalMs: 30, maxLoopLagMs: 80, heartbeatMs: 250, engine: () => engine, binding, onMissed: (r) => missed.push(r) });
    cleanup.push(() => dog.stop());
    dog.start();
    await until(() => missed.length === 1, 'a miss');
    expect(missed[0]).toMatch(/^the event loop did not check in for \d+ ms \(bound 80 ms\)$/);
    expect(Number(/for (\d+) ms/.exec(missed[0] ?? '')?.[1])).toBeGreaterThan(80);
    expect(dog.maxLoopStallMs).toBe(80);
  });
});
