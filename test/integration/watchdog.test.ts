/**
 * The native systemd watchdog pinger against a real notify socket (the addon's NotifyReceiver) and a
 * real null-device engine. The receiver runs in a worker thread and timestamps each datagram as it
 * arrives, so pings are measured even while this thread is blocked on purpose.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { NativeEngine, NativeWatchdog } from '../../src/media/binding.js';
import { loadNativeBinding } from '../../src/media/native-binding.js';
import { Watchdog } from '../../src/system/watchdog.js';

const INTERVAL = 200;
const BOUND = 1000;

/** ms on the process-wide monotonic clock (the same in every thread). */
function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Blocks this thread (the event loop) for `ms`. */
function block(ms: number): { from: number; to: number } {
  const from = now();
  while (now() - from < ms) {
    // busy on purpose
  }
  return { from, to: now() };
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const binding = require(workerData.addon);
const receiver = new binding.NotifyReceiver(workerData.name);
const stop = new Int32Array(workerData.stop);
const got = [];
parentPort.postMessage({ ready: true });
while (Atomics.load(stop, 0) === 0) {
  const n = receiver.receive(20);
  if (n) got.push({ at: Number(process.hrtime.bigint()) / 1e6, message: n.message, pid: n.pid });
}
receiver.close();
parentPort.postMessage({ got });
`;

interface Received {
  at: number;
  message: string;
  pid: number;
}

/** A notify socket served by a worker thread. */
class Receiver {
  readonly name = `@speakerd-watchdog-${process.pid}-${Math.random().toString(36).slice(2)}`;
  private readonly stop = new SharedArrayBuffer(4);
  private readonly worker: Worker;
  private readonly done: Promise<Received[]>;
  readonly ready: Promise<void>;

  constructor() {
    const addon = process.env.SPEAKERD_ADDON ?? join(process.cwd(), 'build/Release/speakerd.node');
    this.worker = new Worker(WORKER, { eval: true, workerData: { addon, name: this.name, stop: this.stop } });
    let ready!: () => void;
    this.ready = new Promise((resolve) => (ready = resolve));
    this.done = new Promise((resolve, reject) => {
      this.worker.on('message', (m: { ready?: boolean; got?: Received[] }) => (m.ready ? ready() : resolve(m.got ?? [])));
      this.worker.on('error', reject);
    });
  }

  /** Stops receiving and returns every datagram. */
  async close(): Promise<Received[]> {
    Atomics.store(new Int32Array(this.stop), 0, 1);
    const got = await this.done;
    await this.worker.terminate();
    return got;
  }
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - (times[i] ?? 0));
}

function summary(values: number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (x: number | undefined): number => Math.round((x ?? NaN) * 10) / 10;
  return { min: round(sorted[0]), median: round(sorted[Math.floor(sorted.length / 2)]), max: round(sorted[sorted.length - 1]) };
}

describe('native watchdog pinger', () => {
  const binding = loadNativeBinding();
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const fn of cleanup.splice(0).reverse()) fn();
  });

  function engine(): NativeEngine {
    const e = new binding.Engine({ device: 'null', aec: false, realtime: false }, () => {});
    e.start();
    cleanup.push(() => e.close());
    return e;
  }

  function pinger(name: string, options: Record<string, unknown> = {}): NativeWatchdog {
    const dog = new binding.Watchdog!({ intervalMs: INTERVAL, maxLoopStallMs: BOUND, notifySocket: name, ...options });
    cleanup.push(() => dog.stop());
    return dog;
  }

  it('pings at the interval from this process, and keeps its pace while the event loop is blocked for 2.5 intervals', async () => {
    const receiver = new Receiver();
    await receiver.ready;
    const e = engine();
    const missed: string[] = [];
    const dog = new Watchdog({ intervalMs: INTERVAL, maxLoopLagMs: BOUND, engine: () => e, notifySocket: receiver.name, onMissed: (r) => missed.push(r) });
    cleanup.push(() => dog.stop());
    dog.start();
    await sleep(1000);
    const blocked = block(2.5 * INTERVAL);
    await sleep(1000);
    dog.stop();
    const got = await receiver.close();
    expect(got.every((g) => g.message === 'WATCHDOG=1' && g.pid === process.pid)).toBe(true);
    const times = got.map((g) => g.at);
    const all = gaps(times);
    const during = times.filter((t) => t > blocked.from && t < blocked.to);
    const around = gaps(times.filter((t) => t > blocked.from - INTERVAL && t < blocked.to + INTERVAL));
    console.log(
      `ping gaps (ms), ${all.length} gaps, interval ${INTERVAL}: all ${JSON.stringify(summary(all))}, ` +
        `across the ${Math.round(blocked.to - blocked.from)} ms block ${JSON.stringify(summary(around))}, ${during.length} pings inside it`,
    );
    expect(times.length).toBeGreaterThanOrEqual(10);
    expect(during.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...all)).toBeLessThan(INTERVAL * 1.5);
    expect(Math.min(...all)).toBeGreaterThan(INTERVAL * 0.5);
    expect(missed).toEqual([]);
    expect(dog.status()?.longestLoopGapMs).toBeGreaterThanOrEqual(2.5 * INTERVAL - 5);
  });

  it('stops pinging while the audio clock is stalled, and resumes after it', async () => {
    const receiver = new Receiver();
    await receiver.ready;
    const e = engine();
    const dog = pinger(receiver.name);
    dog.watch(e);
    expect(dog.start()).toBe(true);
    const heartbeat = setInterval(() => dog.heartbeat(), 50);
    cleanup.push(() => clearInterval(heartbeat));
    await sleep(500);
    const stalledAt = now();
    e.stallForTest(1500);
    await sleep(1000);
    const status = dog.status();
    expect(status.pinging).toBe(false);
    expect(status.reasons).toEqual(['clock_stopped']);
    expect(status.missReasons).toEqual(['clock_stopped']);
    expect(status.misses).toBe(1);
    await sleep(1500);
    expect(dog.status().pinging).toBe(true);
    dog.stop();
    const times = (await receiver.close()).map((g) => g.at);
    // At most the check that straddles the stall's start pings; none from one interval in to its end.
    expect(times.filter((t) => t > stalledAt + INTERVAL + 20 && t < stalledAt + 1500).length).toBe(0);
    expect(times.filter((t) => t > stalledAt + 1500 + INTERVAL + 50).length).toBeGreaterThanOrEqual(2);
  });

  it('stops pinging when the event loop is blocked longer than the bound, says why once, and resumes', async () => {
    const receiver = new Receiver();
    await receiver.ready;
    const e = engine();
    const missed: string[] = [];
    let resumed = 0;
    const dog = new Watchdog({
      intervalMs: INTERVAL,
      maxLoopLagMs: BOUND,
      engine: () => e,
      notifySocket: receiver.name,
      onMissed: (r) => missed.push(r),
      onResumed: () => resumed++,
    });
    cleanup.push(() => dog.stop());
    dog.start();
    await sleep(600);
    const blocked = block(BOUND + 800);
    await sleep(800);
    dog.stop();
    const times = (await receiver.close()).map((g) => g.at);
    // The last heartbeat came before the block: no ping may follow it by more than the bound.
    expect(times.filter((t) => t > blocked.from + BOUND + 5 && t < blocked.to).length).toBe(0);
    expect(times.filter((t) => t > blocked.from && t < blocked.from + BOUND - INTERVAL * 1.5).length).toBeGreaterThanOrEqual(2);
    expect(times.filter((t) => t > blocked.to + 50).length).toBeGreaterThanOrEqual(2);
    expect(missed).toHaveLength(1);
    expect(missed[0]).toMatch(/^the event loop did not check in for (\d+) ms \(bound 1000 ms\)$/);
    expect(Number(/for (\d+) ms/.exec(missed[0] ?? '')?.[1])).toBeGreaterThanOrEqual(BOUND + 700);
    expect(resumed).toBe(1);
  });

  it('sends nothing after stop()', async () => {
    const receiver = new Receiver();
    await receiver.ready;
    const dog = pinger(receiver.name);
    dog.watch(engine());
    dog.start();
    const heartbeat = setInterval(() => dog.heartbeat(), 50);
    cleanup.push(() => clearInterval(heartbeat));
    await sleep(500);
    dog.stop();
    const stoppedAt = now();
    const pings = dog.status().pings;
    expect(dog.status().running).toBe(false);
    await sleep(3 * INTERVAL);
    const got = await receiver.close();
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect(got.length).toBe(pings);
    expect(got.filter((g) => g.at > stoppedAt)).toEqual([]);
    expect(dog.status().pings).toBe(pings);
  });

  it('follows a reopened engine: a closed one is excused only within the grace', async () => {
    const receiver = new Receiver();
    await receiver.ready;
    let current: NativeEngine | null = engine();
    const missed: string[] = [];
    const dog = new Watchdog({
      intervalMs: INTERVAL,
      maxLoopLagMs: BOUND,
      reopenGraceMs: 0,
      heartbeatMs: 50,
      engine: () => current,
      notifySocket: receiver.name,
      onMissed: (r) => missed.push(r),
    });
    cleanup.push(() => dog.stop());
    dog.start();
    await sleep(400);
    // A declared reopen: the old engine closes (and is freed), a new one comes 600 ms later.
    dog.reopening(1000);
    current.close();
    current = null;
    await sleep(600);
    current = engine();
    await sleep(600);
    expect(missed).toEqual([]);
    expect(dog.status()?.engine).toBe('open');
    // An undeclared close: pings stop.
    const closedAt = now();
    current.close();
    await sleep(3 * INTERVAL);
    expect(missed).toEqual(['no audio engine is running (closed, or none attached)']);
    expect(dog.status()?.reasons).toEqual(['no_engine']);
    dog.stop();
    const times = (await receiver.close()).map((g) => g.at);
    expect(gaps(times.filter((t) => t < closedAt)).every((g) => g < INTERVAL * 1.5)).toBe(true);
    expect(times.filter((t) => t > closedAt + INTERVAL + 20)).toEqual([]);
  });

  it('excuses a closed engine for reopenGraceMs after it closed, then stops', async () => {
    const dog = pinger('@speakerd-watchdog-unused', { intervalMs: 50, reopenGraceMs: 300 });
    const e = engine();
    dog.watch(e);
    dog.start();
    const heartbeat = setInterval(() => dog.heartbeat(), 20);
    cleanup.push(() => clearInterval(heartbeat));
    await sleep(200);
    e.close();
    await sleep(150);
    expect(dog.status().pinging).toBe(true);
    expect(dog.status().engine).toBe('closed');
    await sleep(400);
    expect(dog.status().pinging).toBe(false);
    expect(dog.status().missReasons).toEqual(['no_engine']);
  });

  it('rejects what is not an engine of this addon', () => {
    const dog = pinger('@speakerd-watchdog-unused');
    expect(() => dog.watch({} as NativeEngine)).toThrow(new TypeError('engine must be an Engine or null'));
    const other = new binding.NotifyReceiver!(`@speakerd-watchdog-other-${process.pid}`);
    cleanup.push(() => other.close());
    expect(() => dog.watch(other as unknown as NativeEngine)).toThrow(TypeError);
    dog.watch(null);
  });
});
