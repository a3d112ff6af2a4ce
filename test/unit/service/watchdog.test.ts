import { afterEach, describe, expect, it } from 'vitest';
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

describe('watchdog', () => {
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
