/**
 * One contract for both implementations of NativeBinding: the C++ addon and the TypeScript fake.
 * Every engine uses a manual clock (time advances only through step()); the native engine delivers
 * events from its control thread, so tests wait for them with a short poll.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { NativeBinding, NativeEngine, NativeEngineOptions, NativeEvent } from '../../src/media/binding.js';
import { createFakeBinding, FakeEngine } from '../../src/media/fake-binding.js';
import { loadNativeBinding } from '../../src/media/native-binding.js';

const RATE = 16000;
const FRAME = 160;

/** `n` samples of `value`. */
function constant(n: number, value: number): Int16Array {
  return new Int16Array(n).fill(value);
}

/** A sine of `amplitude` (full scale 32767) at `freq`. */
function sine(n: number, freq: number, amplitude: number, rate = RATE): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate)));
}

function peak(x: Int16Array, start = 0, end = x.length): number {
  let p = 0;
  for (let i = start; i < end; i++) p = Math.max(p, Math.abs(x[i] ?? 0));
  return p;
}

/** Frequency from the sign changes in x[start, end). */
function zeroCrossingHz(x: Int16Array, rate: number, start = 0, end = x.length): number {
  let crossings = 0;
  for (let i = start + 1; i < end; i++) if ((x[i - 1] ?? 0) < 0 !== (x[i] ?? 0) < 0) crossings++;
  return (crossings / 2) * (rate / (end - start));
}

/** Amplitude of the component at `freq` in x[start, end) (Goertzel). */
function toneAmplitude(x: Int16Array, rate: number, freq: number, start = 0, end = x.length): number {
  const coeff = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = start; i < end; i++) [s1, s2] = [(x[i] ?? 0) + coeff * s1 - s2, s1];
  return (2 * Math.sqrt(Math.max(s1 * s1 + s2 * s2 - coeff * s1 * s2, 0))) / (end - start);
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls up to 1 s until `count` events match; returns them. */
async function waitForEvents(events: NativeEvent[], match: (e: NativeEvent) => boolean, count = 1): Promise<NativeEvent[]> {
  const deadline = Date.now() + 1000;
  for (;;) {
    const found = events.filter(match);
    if (found.length >= count) return found;
    if (Date.now() > deadline) throw new Error(`timed out: ${found.length} of ${count} events (${JSON.stringify(events)})`);
    await sleep(5);
  }
}

/** Lets any event that is still on its way arrive, then returns those matching. */
async function settledEvents(events: NativeEvent[], match: (e: NativeEvent) => boolean): Promise<NativeEvent[]> {
  await sleep(60);
  return events.filter(match);
}

function expectCode(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(Error);
  expect((thrown as Error & { code?: string }).code).toBe(code);
}

const bindings: [string, NativeBinding][] = [
  ['fake', createFakeBinding()],
  ['native', loadNativeBinding()],
];

describe.each(bindings)('%s binding', (_name, binding) => {
  const engines: NativeEngine[] = [];
  afterEach(() => {
    for (const engine of engines.splice(0)) engine.close();
  });

  /** A started manual-clock engine and the events it delivers. */
  function open(options: NativeEngineOptions = {}, start = true): { engine: NativeEngine; events: NativeEvent[] } {
    const events: NativeEvent[] = [];
    const engine = new binding.Engine({ manualClock: true, ...options }, ({ timeUs, ...event }) => {
      // Every event carries the monotonic time it happened, on process.hrtime()'s clock.
      const nowUs = Number(process.hrtime.bigint() / 1000n);
      expect(timeUs).toBeGreaterThan(nowUs - 5_000_000);
      expect(timeUs).toBeLessThanOrEqual(nowUs);
      events.push(event as NativeEvent);
    });
    engines.push(engine);
    if (start) engine.start();
    return { engine, events };
  }

  function readTx(engine: NativeEngine, ring: number, max = RATE * 10): Int16Array {
    const out = new Int16Array(max);
    return out.slice(0, engine.readTx(ring, out));
  }

  function readRecorder(engine: NativeEngine, recorder: number, max = RATE * 10): Int16Array {
    const out = new Int16Array(max);
    return out.slice(0, engine.readRecorder(recorder, out));
  }

  /** A ring whose tx collects everything the bridge sends it. */
  function sinkRing(engine: NativeEngine, rate = RATE): number {
    return engine.createRing(rate, rate * 10, rate, rate * 10, 0);
  }

  /** A ring whose rx plays into a recorder; returns both. */
  function playoutRing(engine: NativeEngine, prebuffer: number): { ring: number; recorder: number } {
    const ring = engine.createRing(RATE, RATE, 4096, RATE, prebuffer);
    const recorder = engine.createRecorder(RATE, RATE * 10, RATE * 10);
    engine.connect(ring, recorder, 1);
    return { ring, recorder };
  }

  describe('ports and the clock', () => {
    it('gives the device id 0 and every port a distinct non-zero id, new on slot reuse', () => {
      const { engine } = open();
      const a = engine.createRing(RATE, 1600, 1600, 160, 0);
      const b = engine.createPlayer(constant(10, 1), RATE, false);
      expect(new Set([0, a, b]).size).toBe(3);
      engine.removePort(a);
      const c = engine.createRecorder(RATE, 1600, 160);
      expect(c).not.toBe(a);
      expect(c).not.toBe(b);
      expect(engine.portStats(0)).toEqual({ rxFrames: 0, txFrames: 0, underruns: 0, dropped: 0 });
    });

    it('applies connect, disconnect and removePort on the next tick', () => {
      const { engine } = open();
      const player = engine.createPlayer(constant(RATE, 1234), RATE, false);
      const ring = sinkRing(engine);
      engine.connect(player, ring, 1);
      expect(engine.ringStatus(ring).txBuffered).toBe(0);
      engine.step(1);
      expect(readTx(engine, ring)).toEqual(constant(FRAME, 1234));
      engine.disconnect(player, ring);
      expect(engine.portStats(ring).txFrames).toBe(1);
      engine.step(2);
      expect(engine.portStats(ring).txFrames).toBe(1);
      engine.connect(player, ring, 1);
      engine.step(1);
      engine.removePort(player);
      engine.step(2);
      expect(engine.portStats(ring).txFrames).toBe(2);
      expect(readTx(engine, ring)).toEqual(constant(FRAME, 1234));
    });

    it('does not advance before start() and counts frames after', () => {
      const { engine } = open({}, false);
      engine.step(5);
      expect(engine.stats().frames).toBe(0);
      engine.start();
      engine.step(7);
      expect(engine.stats().frames).toBe(7);
    });

    it('reports engine statistics', () => {
      const { engine } = open();
      engine.step(3);
      const stats = engine.stats();
      expect(stats).toMatchObject({ frames: 3, xruns: 0, deviceErrors: 0, eventsDropped: 0, deviceState: 'null', deviceRate: 0, devicePeriodFrames: 0 });
      expect(stats.realtime).toBe(false);
      expect(stats.aecDelayMs).toBe(-1);
      expect(stats.aecDelaySource).toBe('none');
      expect(stats.aec).toEqual({ erleDb: 0, converged: false, engine: 'speex', userEase: 'off', delayEstimateMs: -1, delayConfidence: 0 });
      expect(stats.aecPost).toEqual({ talk: 'idle', suppressionDb: 0, agcGainDb: 0, agcAppliedDb: 0, duckActive: false, limiterDb: 0 });
      expect(stats.tickAvgUs).toBeGreaterThanOrEqual(0);
      expect(stats.tickMaxUs).toBeGreaterThanOrEqual(stats.tickAvgUs);
      const plain = open({ aec: false, aecDelayMs: 30 }).engine;
      expect(plain.stats().aec).toBeNull();
      expect(plain.stats().aecDelayMs).toBe(30);
      expect(plain.stats().aecDelaySource).toBe('config');
      const fixed = open({ aecDelayMs: 45 }).engine;
      fixed.step(2);
      expect(fixed.stats()).toMatchObject({ aecDelayMs: 45, aecDelaySource: 'config' });
    });

    it('runs each echo engine the build has, and says which', () => {
      const built = binding.buildInfo().echoEngines;
      expect(built[0]).toBe('speex');
      for (const name of built) {
        const { engine } = open({ aecEngine: name, aecSuppression: 'moderate' });
        engine.step(3);
        expect(engine.stats().aec?.engine).toBe(name);
        const echo = new binding.EchoCanceller({ engine: name });
        echo.process(new Int16Array(480), new Int16Array(480));
        expect(echo.stats()).toMatchObject({ engine: name, frames: 3 });
      }
    });

    it.runIf(binding.buildInfo().echoEngines.includes('webrtc'))(
      'refuses webrtc at a rate it does not run at (24 kHz) with ERR_ENGINE_INIT, and takes that rate with speex or AEC off',
      () => {
        const message = 'the webrtc echo engine needs 10 ms frames at 8000, 16000, 32000 or 48000 Hz';
        expectCode(() => new binding.Engine({ manualClock: true, bridgeRate: 24000, aecEngine: 'webrtc' }, () => undefined), 'ERR_ENGINE_INIT');
        expect(() => new binding.Engine({ manualClock: true, bridgeRate: 24000, aecEngine: 'webrtc' }, () => undefined)).toThrow(message);
        expectCode(() => new binding.EchoCanceller({ engine: 'webrtc', rate: 24000 }), 'ERR_ENGINE_INIT');
        new binding.Engine({ manualClock: true, bridgeRate: 24000, aecEngine: 'webrtc', aec: false }, () => undefined).close();
        new binding.Engine({ manualClock: true, bridgeRate: 24000, aecEngine: 'speex' }, () => undefined).close();
        new binding.Engine({ manualClock: true, bridgeRate: 32000, aecEngine: 'webrtc' }, () => undefined).close();
      },
    );

    it('gives the sound device port silence from the null microphone and counts its frames', () => {
      const { engine } = open();
      const ring = sinkRing(engine);
      const player = engine.createPlayer(constant(RATE, 1000), RATE, false);
      engine.connect(0, ring, 1);
      engine.connect(player, 0, 1);
      engine.step(3);
      expect(readTx(engine, ring)).toEqual(new Int16Array(3 * FRAME));
      expect(engine.portStats(0)).toEqual({ rxFrames: 3, txFrames: 3, underruns: 0, dropped: 0 });
      expect(engine.meters(0)).toEqual({ rx: 0, tx: 98 });
    });

    it('delivers events asynchronously, never inside step()', async () => {
      const { engine, events } = open();
      const player = engine.createPlayer(constant(100, 1), RATE, false);
      engine.connect(player, sinkRing(engine), 1);
      engine.step(2);
      expect(events).toEqual([]);
      const [eof] = await waitForEvents(events, (e) => e.type === 'eof');
      expect(eof).toMatchObject({ type: 'eof', port: player, a: 1, b: 0 });
    });

    it('lets a port transmit to itself (loopback)', () => {
      const { engine } = open();
      const ring = engine.createRing(RATE, RATE, RATE, RATE, 0);
      engine.connect(ring, ring, 1);
      engine.writeRx(ring, constant(FRAME, 777));
      engine.step(1);
      expect(readTx(engine, ring)).toEqual(constant(FRAME, 777));
    });
  });

  describe('tone, player and recorder ports', () => {
    it('sends a tone into a ring: sample count, frequency, amplitude, tx_ready', async () => {
      const { engine, events } = open();
      const tone = engine.createTone(RATE, new Float64Array([440, 0, 0.5, 1000]), false);
      const ring = engine.createRing(RATE, RATE, RATE, 800, 0);
      engine.connect(tone, ring, 1);
      engine.step(50);
      expect(engine.ringStatus(ring).txBuffered).toBe(50 * FRAME);
      const x = readTx(engine, ring);
      expect(x.length).toBe(50 * FRAME);
      expect(Math.abs(zeroCrossingHz(x, RATE, FRAME) - 440)).toBeLessThan(4.4);
      expect(peak(x, FRAME)).toBeGreaterThanOrEqual(16300);
      expect(peak(x)).toBeLessThanOrEqual(16384);
      expect(toneAmplitude(x, RATE, 440, FRAME, 45 * FRAME)).toBeCloseTo(16383, -2);
      await waitForEvents(events, (e) => e.type === 'tx_ready');
      // b: the ring's write position when it was posted (800 samples written so far).
      expect(await settledEvents(events, (e) => e.type === 'tx_ready')).toEqual([{ type: 'tx_ready', port: ring, a: 800, b: 800 }]);
    });

    it('converts a port at another rate at the bridge edge', () => {
      const { engine } = open();
      const tone = engine.createTone(RATE, new Float64Array([440, 0, 0.5, 1000]), false);
      const ring = sinkRing(engine, 24000);
      engine.connect(tone, ring, 1);
      engine.step(30);
      const x = readTx(engine, ring);
      expect(x.length).toBe(30 * 240);
      expect(Math.abs(zeroCrossingHz(x, 24000, 480) - 440)).toBeLessThan(4.4);
      expect(toneAmplitude(x, 24000, 440, 480, 28 * 240)).toBeGreaterThan(16383 * 0.97);
      expect(toneAmplitude(x, 24000, 440, 480, 28 * 240)).toBeLessThan(16383 * 1.03);
    });

    it('plays tone segments, silence included, then raises tone_done once', async () => {
      const { engine, events } = open();
      const tone = engine.createTone(RATE, new Float64Array([440, 0, 0.5, 20, 0, 0, 0, 10]), false);
      const ring = sinkRing(engine);
      engine.connect(tone, ring, 1);
      engine.step(4);
      const x = readTx(engine, ring);
      expect(x.length).toBe(4 * FRAME);
      expect(peak(x, 80, 240)).toBeGreaterThan(16000);
      expect(x.subarray(320)).toEqual(new Int16Array(320));
      expect(engine.portStats(tone).rxFrames).toBe(3);
      expect(engine.meters(tone).rx).toBe(0);
      await waitForEvents(events, (e) => e.type === 'tone_done');
      expect(await settledEvents(events, (e) => e.type === 'tone_done')).toEqual([{ type: 'tone_done', port: tone, a: 0, b: 0 }]);
    });

    it('mixes the two frequencies of a dual tone and loops without tone_done', async () => {
      const { engine, events } = open();
      const tone = engine.createTone(RATE, new Float64Array([500, 1000, 0.8, 100]), true);
      const ring = sinkRing(engine);
      engine.connect(tone, ring, 1);
      engine.step(20);
      const x = readTx(engine, ring);
      expect(peak(x)).toBeLessThanOrEqual(26214);
      expect(toneAmplitude(x, RATE, 500, FRAME, 9 * FRAME)).toBeCloseTo(13107, -2);
      expect(toneAmplitude(x, RATE, 1000, FRAME, 9 * FRAME)).toBeCloseTo(13107, -2);
      expect(toneAmplitude(x, RATE, 1000, 11 * FRAME, 19 * FRAME)).toBeCloseTo(13107, -2);
      expect(await settledEvents(events, (e) => e.type === 'tone_done')).toEqual([]);
    });

    it('plays a player into a ring sample for sample, pads the last frame, raises eof once', async () => {
      const { engine, events } = open();
      const samples = Int16Array.from({ length: 400 }, (_, i) => ((i * 37) % 2000) - 1000);
      const player = engine.createPlayer(samples, RATE, false);
      const copy = samples.slice();
      samples.fill(0);
      const ring = sinkRing(engine);
      engine.connect(player, ring, 1);
      engine.step(5);
      const x = readTx(engine, ring);
      expect(x.length).toBe(5 * FRAME);
      expect(x.subarray(0, 400)).toEqual(copy);
      expect(x.subarray(400)).toEqual(new Int16Array(400));
      expect(engine.portStats(player).rxFrames).toBe(3);
      await waitForEvents(events, (e) => e.type === 'eof');
      expect(await settledEvents(events, (e) => e.type === 'eof')).toEqual([{ type: 'eof', port: player, a: 1, b: 0 }]);
    });

    it('loops a player, counting each pass in eof', async () => {
      const { engine, events } = open();
      const samples = Int16Array.from({ length: 100 }, (_, i) => i * 100 - 5000);
      const player = engine.createPlayer(samples, RATE, true);
      const ring = sinkRing(engine);
      engine.connect(player, ring, 1);
      engine.step(3);
      const x = readTx(engine, ring);
      expect(x).toEqual(Int16Array.from({ length: 3 * FRAME }, (_, i) => samples[i % 100] ?? 0));
      const eofs = await waitForEvents(events, (e) => e.type === 'eof', 4);
      expect(eofs.map((e) => [e.port, e.a])).toEqual([
        [player, 1],
        [player, 2],
        [player, 3],
        [player, 4],
      ]);
    });

    it('keeps at most the recorder capacity, counts the dropped samples, notifies once per read', async () => {
      const { engine, events } = open();
      const samples = Int16Array.from({ length: 800 }, (_, i) => (i - 400) * 40);
      const player = engine.createPlayer(samples, RATE, false);
      const recorder = engine.createRecorder(RATE, 512, 320);
      engine.connect(player, recorder, 1);
      engine.step(5);
      expect(engine.portStats(recorder)).toEqual({ rxFrames: 0, txFrames: 5, underruns: 0, dropped: 288 });
      const first = readRecorder(engine, recorder);
      expect(first).toEqual(samples.subarray(0, 512));
      expect(readRecorder(engine, recorder).length).toBe(0);
      await waitForEvents(events, (e) => e.type === 'recorder_data');
      expect(events.filter((e) => e.type === 'recorder_data')).toEqual([{ type: 'recorder_data', port: recorder, a: 320, b: 0 }]);
      engine.step(2);
      expect(readRecorder(engine, recorder)).toEqual(new Int16Array(320));
      const notices = await waitForEvents(events, (e) => e.type === 'recorder_data', 2);
      expect(notices.map((e) => e.a)).toEqual([320, 320]);
    });
  });

  describe('ring port', () => {
    it('plays nothing below the prebuffer, plays once it is reached, then underruns', async () => {
      const { engine, events } = open();
      const { ring, recorder } = playoutRing(engine, 480);
      expect(engine.writeRx(ring, constant(320, 1000))).toBe(320);
      engine.step(3);
      expect(readRecorder(engine, recorder)).toEqual(new Int16Array(3 * FRAME));
      expect(engine.ringStatus(ring)).toMatchObject({ playing: false, played: 0, rxBuffered: 320 });
      engine.writeRx(ring, constant(160, 1000));
      engine.step(1);
      expect(readRecorder(engine, recorder)).toEqual(constant(FRAME, 1000));
      expect(engine.ringStatus(ring)).toMatchObject({ playing: true, played: 160, rxBuffered: 320 });
      engine.step(2);
      expect(readRecorder(engine, recorder)).toEqual(constant(2 * FRAME, 1000));
      expect(engine.ringStatus(ring)).toMatchObject({ playing: true, played: 480, rxBuffered: 0, underruns: 0 });
      engine.step(1);
      expect(readRecorder(engine, recorder)).toEqual(new Int16Array(FRAME));
      expect(engine.ringStatus(ring)).toMatchObject({ playing: false, played: 480, underruns: 1 });
      const [underrun] = await waitForEvents(events, (e) => e.type === 'underrun');
      expect(underrun).toEqual({ type: 'underrun', port: ring, a: 1, b: 0 });
    });

    it('starts playing when setPrebuffer() lowers the threshold', () => {
      const { engine } = open();
      const { ring, recorder } = playoutRing(engine, 1000);
      engine.writeRx(ring, constant(500, -700));
      engine.step(1);
      expect(engine.ringStatus(ring).played).toBe(0);
      engine.setPrebuffer(ring, 400);
      engine.step(1);
      expect(readRecorder(engine, recorder)).toEqual(Int16Array.from([...new Int16Array(FRAME), ...constant(FRAME, -700)]));
      expect(engine.ringStatus(ring).played).toBe(FRAME);
    });

    it('drains a reply shorter than the prebuffer in full, padded, without the next write', async () => {
      const { engine, events } = open();
      const { ring, recorder } = playoutRing(engine, 800);
      engine.writeRx(ring, constant(250, 2000));
      engine.step(2);
      expect(engine.ringStatus(ring).played).toBe(0);
      engine.drain(ring);
      engine.writeRx(ring, constant(500, 3000));
      engine.step(3);
      const x = readRecorder(engine, recorder);
      const expected = new Int16Array(5 * FRAME);
      expected.fill(2000, 2 * FRAME, 2 * FRAME + 250);
      expect(x).toEqual(expected);
      expect(engine.ringStatus(ring)).toMatchObject({ played: 250, playing: false, rxBuffered: 500, underruns: 0 });
      await waitForEvents(events, (e) => e.type === 'drained');
      expect(await settledEvents(events, (e) => e.type === 'drained' || e.type === 'underrun')).toEqual([{ type: 'drained', port: ring, a: 250, b: 0 }]);
      engine.writeRx(ring, constant(300, 3000));
      engine.step(1);
      expect(readRecorder(engine, recorder)).toEqual(constant(FRAME, 3000));
    });

    it('ends a drained reply inside its last frame and starts the next reply on a fresh frame', async () => {
      const { engine, events } = open();
      const { ring, recorder } = playoutRing(engine, 0);
      engine.writeRx(ring, constant(400, 1000));
      engine.step(1);
      engine.drain(ring);
      engine.writeRx(ring, constant(400, -1000));
      engine.step(3);
      const expected = constant(4 * FRAME, 1000);
      expected.fill(0, 400, 480);
      expected.fill(-1000, 480, 640);
      expect(readRecorder(engine, recorder)).toEqual(expected);
      const [drained] = await waitForEvents(events, (e) => e.type === 'drained');
      expect(drained).toEqual({ type: 'drained', port: ring, a: 400, b: 0 });
    });

    it('reports drained on the next tick when drain() comes after the audio played out', async () => {
      const { engine, events } = open();
      const { ring } = playoutRing(engine, 0);
      engine.writeRx(ring, constant(FRAME, 900));
      engine.step(2);
      engine.drain(ring);
      expect(await settledEvents(events, (e) => e.type === 'drained')).toEqual([]);
      engine.step(1);
      const [drained] = await waitForEvents(events, (e) => e.type === 'drained');
      expect(drained).toEqual({ type: 'drained', port: ring, a: FRAME, b: 0 });
      expect(events.map((e) => e.type)).toEqual(['underrun', 'drained']);
    });

    it('flushes: the next tick plays nothing of the flushed audio', async () => {
      const { engine, events } = open();
      const { ring, recorder } = playoutRing(engine, 0);
      engine.writeRx(ring, constant(800, 1000));
      engine.step(1);
      engine.flush(ring);
      engine.step(1);
      expect(readRecorder(engine, recorder)).toEqual(Int16Array.from([...constant(FRAME, 1000), ...new Int16Array(FRAME)]));
      expect(engine.ringStatus(ring)).toMatchObject({
        rxBuffered: 0,
        readPosition: 800,
        writePosition: 800,
        played: 160,
        playing: false,
      });
      const [flushed] = await waitForEvents(events, (e) => e.type === 'flushed');
      expect(flushed).toEqual({ type: 'flushed', port: ring, a: 160, b: 0 });
      engine.writeRx(ring, constant(800, 1000));
      engine.step(1);
      engine.flush(ring);
      engine.writeRx(ring, constant(FRAME, -500));
      engine.step(1);
      expect(readRecorder(engine, recorder)).toEqual(Int16Array.from([...constant(FRAME, 1000), ...constant(FRAME, -500)]));
      const notices = await waitForEvents(events, (e) => e.type === 'flushed', 2);
      expect(notices[1]).toEqual({ type: 'flushed', port: ring, a: 320, b: 0 });
      expect(engine.ringStatus(ring).played).toBe(480);
    });

    it('runs the two directions of a ring at different rates (16 kHz out, 24 kHz in)', async () => {
      const { engine, events } = open();
      const ring = engine.createRing(24000, 16000, 24000, 640, 0, 16000);
      const tone = engine.createTone(RATE, Float64Array.from([1000, 0, 0.5, 1000]), false);
      const recorder = engine.createRecorder(RATE, RATE, RATE);
      engine.connect(tone, ring, 1);
      engine.connect(ring, recorder, 1);
      engine.writeRx(ring, sine(2400, 500, 8000, 24000));
      engine.drain(ring);
      engine.step(12);
      await waitForEvents(events, (e) => e.type === 'drained');
      expect(readTx(engine, ring).length).toBe(12 * 160);
      expect(engine.ringStatus(ring).played).toBe(2400);
      expect(readRecorder(engine, recorder).length).toBe(12 * FRAME);
      expect(() => engine.createRing(24000, 16000, 24000, 640, 0, 22050)).toThrow(RangeError);
    });

    it('answers every drain() and flush() with one event, even with nothing to play or discard', async () => {
      const { engine, events } = open();
      const { ring } = playoutRing(engine, 0);
      engine.drain(ring);
      engine.step(1);
      engine.flush(ring);
      engine.step(1);
      engine.drain(ring);
      engine.step(1);
      engine.drain(ring);
      engine.step(1);
      const settled = await settledEvents(events, (e) => e.type === 'drained' || e.type === 'flushed');
      expect(settled.map((e) => e.type)).toEqual(['drained', 'flushed', 'drained', 'drained']);
    });

    it('cancels a drain that a later flush discarded', async () => {
      const { engine, events } = open();
      const { ring } = playoutRing(engine, 1000);
      engine.writeRx(ring, constant(400, 100));
      engine.drain(ring);
      engine.flush(ring);
      engine.step(3);
      expect((await settledEvents(events, () => true)).map((e) => e.type)).toEqual(['flushed']);
    });

    it('plays the whole of a short burst from a port at another rate, tail included', async () => {
      const { engine, events } = open();
      const rate = 24000;
      const ring = engine.createRing(rate, rate, rate, rate, 0);
      const recorder = engine.createRecorder(RATE, RATE, RATE);
      engine.connect(ring, recorder, 1);
      const burst = sine((rate * 20) / 1000, 1000, 10000, rate);
      engine.writeRx(ring, burst);
      engine.drain(ring);
      engine.step(6);
      await waitForEvents(events, (e) => e.type === 'drained');
      const played = readRecorder(engine, recorder);
      const energy = (x: Int16Array, r: number): number => x.reduce((sum, v) => sum + v * v, 0) / r;
      expect(energy(played, RATE) / energy(burst, rate)).toBeGreaterThan(0.95);
      expect(energy(played, RATE) / energy(burst, rate)).toBeLessThan(1.05);
    });

    it('counts underruns, one per run dry, with events', async () => {
      const { engine, events } = open();
      const { ring, recorder } = playoutRing(engine, 0);
      engine.writeRx(ring, constant(200, 700));
      engine.step(3);
      engine.writeRx(ring, constant(FRAME, 700));
      engine.step(2);
      const expected = new Int16Array(5 * FRAME);
      expected.fill(700, 0, 200).fill(700, 3 * FRAME, 4 * FRAME);
      expect(readRecorder(engine, recorder)).toEqual(expected);
      expect(engine.ringStatus(ring)).toMatchObject({ underruns: 2, played: 360, readPosition: 360, writePosition: 360 });
      expect(engine.portStats(ring).underruns).toBe(2);
      const underruns = await waitForEvents(events, (e) => e.type === 'underrun', 2);
      expect(underruns.map((e) => [e.port, e.a])).toEqual([
        [ring, 1],
        [ring, 2],
      ]);
    });

    it('bounds both rings: writeRx returns what fitted, tx overflow counts as dropped', () => {
      const { engine } = open();
      const ring = engine.createRing(RATE, 512, 2048, 512, 0);
      expect(engine.writeRx(ring, constant(3000, 1))).toBe(2048);
      expect(engine.writeRx(ring, constant(10, 1))).toBe(0);
      const player = engine.createPlayer(constant(RATE, 5), RATE, false);
      engine.connect(player, ring, 1);
      engine.step(5);
      expect(engine.ringStatus(ring)).toMatchObject({ txBuffered: 512, dropped: 288 });
      expect(engine.portStats(ring)).toMatchObject({ txFrames: 5, dropped: 288 });
      expect(readTx(engine, ring)).toEqual(constant(512, 5));
    });
  });

  describe('mixing, levels and meters', () => {
    it('starts at unity levels and keeps levels as float32', () => {
      const { engine } = open();
      const ring = sinkRing(engine);
      expect([engine.getLevel(ring, true), engine.getLevel(ring, false)]).toEqual([1, 1]);
      engine.setLevel(ring, true, 0.3);
      engine.setLevel(ring, false, 10);
      expect(engine.getLevel(ring, true)).toBe(Math.fround(0.3));
      expect(engine.getLevel(ring, false)).toBe(10);
      expect(engine.getLevel(0, true)).toBe(1);
    });

    it('gives exact zeros at tx level 0', () => {
      const { engine } = open();
      const tone = engine.createTone(RATE, new Float64Array([440, 0, 1, 1000]), false);
      const ring = sinkRing(engine);
      engine.connect(tone, ring, 1);
      engine.setLevel(ring, false, 0);
      engine.step(3);
      expect(readTx(engine, ring)).toEqual(new Int16Array(3 * FRAME));
      expect(engine.meters(ring).tx).toBe(0);
      expect(engine.meters(tone).rx).toBeGreaterThan(0);
    });

    it('halves the amplitude at rx level 0.5, scales by the connection level, clips above unity', () => {
      const { engine } = open();
      const samples = Int16Array.from({ length: 1600 }, (_, i) => [10000, -5000, 12345, -1][i % 4] ?? 0);
      const player = engine.createPlayer(samples, RATE, false);
      const ring = sinkRing(engine);
      engine.connect(player, ring, 1);
      engine.setLevel(player, true, 0.5);
      engine.step(1);
      const half = readTx(engine, ring);
      for (let i = 0; i < FRAME; i++) {
        const x = samples[i] ?? 0;
        expect(Math.abs((half[i] ?? 0) - x / 2)).toBeLessThanOrEqual(Math.abs(x) * 0.01 + 1);
      }
      expect(Array.from(half.subarray(0, 4))).toEqual([5000, -2500, 6172, 0]);
      engine.setLevel(player, true, 1);
      engine.connect(player, ring, 0.25);
      engine.step(1);
      expect(Array.from(readTx(engine, ring).subarray(0, 4))).toEqual([2500, -1250, 3086, 0]);
      engine.connect(player, ring, 1);
      engine.setLevel(player, true, 4);
      engine.step(1);
      expect(Array.from(readTx(engine, ring).subarray(0, 4))).toEqual([32767, -20000, 32767, -4]);
    });

    it('adds two sources', () => {
      const { engine } = open();
      const a = engine.createPlayer(constant(RATE, 1000), RATE, false);
      const b = engine.createPlayer(constant(RATE, -3000), RATE, false);
      const ring = sinkRing(engine);
      engine.connect(a, ring, 1);
      engine.connect(b, ring, 1);
      engine.step(2);
      expect(readTx(engine, ring)).toEqual(constant(2 * FRAME, -2000));
    });

    it('attenuates an overflowing mix instead of wrapping or hard clipping', () => {
      const { engine } = open();
      const loud = sine(RATE, 500, 32767);
      const a = engine.createPlayer(loud, RATE, false);
      const b = engine.createPlayer(loud, RATE, false);
      const ring = sinkRing(engine);
      engine.connect(a, ring, 1);
      engine.connect(b, ring, 1);
      engine.step(5);
      const x = readTx(engine, ring);
      expect(x.length).toBe(5 * FRAME);
      expect(peak(x)).toBeGreaterThan(32000);
      for (let i = 0; i < x.length; i++) {
        const input = loud[i] ?? 0;
        if (Math.abs(input) < 1000) continue;
        const ratio = (x[i] ?? 0) / (2 * input);
        expect(ratio).toBeGreaterThan(0.49);
        expect(ratio).toBeLessThan(0.51);
      }
      const c = engine.createPlayer(constant(RATE, 30000), RATE, false);
      const d = engine.createPlayer(constant(RATE, 30000), RATE, false);
      const sum = sinkRing(engine);
      engine.connect(c, sum, 1);
      engine.connect(d, sum, 1);
      engine.step(3);
      for (const v of readTx(engine, sum)) {
        expect(v).toBeGreaterThan(32000);
        expect(v).toBeLessThanOrEqual(32767);
      }
    });

    it('returns to exact unity after an overflow has been attenuated', () => {
      const { engine } = open();
      const sink = sinkRing(engine);
      const loud = engine.createPlayer(constant(FRAME * 2, 30000), RATE, false);
      const steady = engine.createPlayer(constant(RATE * 3, 20000), RATE, false);
      engine.connect(loud, sink, 1);
      engine.connect(steady, sink, 1);
      engine.step(300);
      const out = readTx(engine, sink);
      expect(Math.max(...out.subarray(0, FRAME * 2))).toBeLessThanOrEqual(32767);
      expect([...new Set(out.subarray(RATE * 2, RATE * 3))]).toEqual([20000]);
    });

    it('passes a lone -32768 untouched (it is not an overflow)', () => {
      const { engine } = open();
      const sink = sinkRing(engine);
      const samples = constant(FRAME * 20, 20000);
      samples[0] = -32768;
      const player = engine.createPlayer(samples, RATE, false);
      engine.connect(player, sink, 1);
      engine.step(20);
      expect(readTx(engine, sink)).toEqual(samples);
    });

    it('drops the meters to 0 once a port is disconnected', () => {
      const { engine } = open();
      const sink = sinkRing(engine);
      const tone = engine.createTone(RATE, Float64Array.from([440, 0, 0.5, 1000]), true);
      engine.connect(tone, sink, 1);
      engine.step(2);
      expect(engine.meters(tone).rx).toBeGreaterThan(0);
      expect(engine.meters(sink).tx).toBeGreaterThan(0);
      engine.disconnect(tone, sink);
      engine.step(1);
      expect(engine.meters(tone)).toEqual({ rx: 0, tx: 0 });
      expect(engine.meters(sink)).toEqual({ rx: 0, tx: 0 });
    });

    it('meters on the 0..255 mu-law scale, 0 on silence', () => {
      const { engine } = open();
      const quiet = engine.createPlayer(constant(RATE, -100), RATE, false);
      const mid = engine.createPlayer(constant(RATE, 4000), RATE, false);
      const full = engine.createPlayer(constant(RATE, 32767), RATE, false);
      const silent = engine.createPlayer(new Int16Array(RATE), RATE, false);
      const tone = engine.createTone(RATE, new Float64Array([440, 0, 0.5, 1000]), false);
      const rings = [sinkRing(engine), sinkRing(engine), sinkRing(engine), sinkRing(engine)];
      expect(engine.meters(quiet)).toEqual({ rx: 0, tx: 0 });
      [quiet, full, silent, tone].forEach((p, i) => engine.connect(p, rings[i] ?? -1, 1));
      engine.step(5);
      expect(engine.meters(quiet).rx).toBe(26);
      expect(engine.meters(rings[0] ?? -1).tx).toBe(26);
      expect(engine.meters(full).rx).toBe(255);
      engine.connect(mid, rings[1] ?? -1, 1);
      engine.disconnect(full, rings[1] ?? -1);
      engine.step(1);
      expect(engine.meters(mid).rx).toBe(160);
      expect(engine.meters(rings[1] ?? -1).tx).toBe(160);
      expect(engine.meters(silent)).toEqual({ rx: 0, tx: 0 });
      expect(engine.meters(rings[2] ?? -1).tx).toBe(0);
      const toneLevel = engine.meters(tone).rx;
      expect(toneLevel).toBeGreaterThanOrEqual(195);
      expect(toneLevel).toBeLessThanOrEqual(205);
      for (const p of [quiet, full, silent, tone, ...rings]) {
        const m = engine.meters(p);
        for (const v of [m.rx, m.tx]) expect(Number.isInteger(v) && v >= 0 && v <= 255).toBe(true);
      }
    });
  });

  describe('argument errors', () => {
    it('checks engine options', () => {
      const make =
        (options: unknown, onEvent: unknown = () => undefined) =>
        () =>
          new binding.Engine(options as NativeEngineOptions, onEvent as (e: NativeEvent) => void);
      expect(make(null)).toThrow(new TypeError('options must be an object'));
      expect(make({}, null)).toThrow(new TypeError('onEvent must be a function'));
      expect(make({ device: 'pulse' })).toThrow(new RangeError("options.device must be 'null' or 'alsa'"));
      expect(make({ manualClock: 'yes' })).toThrow(new TypeError('options.manualClock must be a boolean'));
      expect(make({ bridgeRate: '16000' })).toThrow(new TypeError('options.bridgeRate must be a number'));
      expect(make({ bridgeRate: 4000 })).toThrow(new RangeError('options.bridgeRate must be an integer from 8000 to 48000'));
      expect(make({ bridgeRate: 16050 })).toThrow(new RangeError('options.bridgeRate and options.deviceRate must be multiples of 100 Hz'));
      expect(make({ capture: 5 })).toThrow(new TypeError('options.capture must be a string'));
      expect(make({ prefillPeriods: 4 })).toThrow(new RangeError('options.prefillPeriods must be less than options.bufferPeriods'));
      expect(make({ periodMs: 50 })).toThrow(new RangeError('options.periodMs must be an integer from 10 to 40'));
      expect(make({ periodMs: 25, prefillPeriods: 3 })).toThrow(new RangeError('options.periodMs must be a whole number of 10 ms ticks'));
      expect(make({ periodMs: 20 })).toThrow(new RangeError('options.prefillPeriods (10 ms each) must cover one options.periodMs and a tick more'));
      expect(make({ prefillPeriods: 1 })).toThrow(new RangeError('options.prefillPeriods (10 ms each) must cover one options.periodMs and a tick more'));
      expect(make({ periodMs: 30, prefillPeriods: 4, bufferPeriods: 5 })).toThrow(
        new RangeError('options.bufferPeriods (10 ms each) must cover at least two options.periodMs'),
      );
      expect(make({ aecDelayMs: -2 })).toThrow(new RangeError('options.aecDelayMs must be an integer from -1 to 1000'));
      expect(make({ aecEngine: 'pulse' })).toThrow(new RangeError("options.aecEngine must be 'speex' or 'webrtc'"));
      expect(make({ aecEngine: 1 })).toThrow(new TypeError('options.aecEngine must be a string'));
      expect(make({ aecSuppression: 'max' })).toThrow(new RangeError("options.aecSuppression must be 'low', 'moderate' or 'high'"));
      expect(make({ aecNearTalkMaxCutDb: -61 })).toThrow(new RangeError('options.aecNearTalkMaxCutDb must be an integer from -60 to 0'));
      expect(make({ aecNearTalkMaxCutDb: 1 })).toThrow(new RangeError('options.aecNearTalkMaxCutDb must be an integer from -60 to 0'));
      expect(make({ aecMaxDelayMs: 5 })).toThrow(new RangeError('options.aecMaxDelayMs must be an integer from 10 to 1000'));
      expect(make({ post: { suppressDb: 5 } })).toThrow(new RangeError('options.suppressDb must be an integer from -80 to 0'));
      expect(make({ shaper: { maxOutputDbfs: -61 } })).toThrow(new RangeError('options.maxOutputDbfs must be an integer from -60 to 0'));
      expect(make({ shaper: 3 })).toThrow(new TypeError('options.shaper must be an object'));
    });

    it('checks the arguments of the port constructors', () => {
      const { engine } = open();
      const e = engine as unknown as Record<string, (...args: unknown[]) => unknown>;
      const call =
        (method: string, ...args: unknown[]) =>
        () =>
          e[method]?.apply(engine, args);
      const pcm = new Int16Array(10);
      expect(call('createPlayer', [1, 2], RATE, false)).toThrow(new TypeError('samples must be an Int16Array'));
      expect(call('createPlayer', pcm, '16000', false)).toThrow(new TypeError('rate must be a number'));
      expect(call('createPlayer', pcm, 7900, false)).toThrow(new RangeError('rate must be an integer from 8000 to 192000'));
      expect(call('createPlayer', pcm, 16000.5, false)).toThrow(new RangeError('rate must be an integer from 8000 to 192000'));
      expect(call('createPlayer', pcm, 16050, false)).toThrow(new RangeError('rate must be a multiple of 100 Hz (10 ms frames)'));
      expect(call('createPlayer', pcm, RATE, 1)).toThrow(new TypeError('loop must be a boolean'));
      expect(call('createRecorder', RATE, undefined, 1)).toThrow(new TypeError('capacity must be a number'));
      expect(call('createRecorder', RATE, 159, 1)).toThrow(new RangeError('capacity must be an integer from 160 to 9600000'));
      expect(call('createRecorder', RATE, 1600, 1601)).toThrow(new RangeError('notify must be an integer from 1 to 1600'));
      expect(call('createRecorder', RATE, 1600, 0)).toThrow(new RangeError('notify must be an integer from 1 to 1600'));
      const rows = 'segments must be a Float64Array of [freq1, freq2, amplitude, ms] rows';
      expect(call('createTone', RATE, new Float32Array(4), false)).toThrow(new TypeError(rows));
      expect(call('createTone', RATE, new Float64Array(0), false)).toThrow(new RangeError('segments must hold one or more rows of 4 numbers'));
      expect(call('createTone', RATE, new Float64Array(5), false)).toThrow(new RangeError('segments must hold one or more rows of 4 numbers'));
      expect(call('createTone', RATE, new Float64Array([440, 0, 1, 10]), 'no')).toThrow(new TypeError('loop must be a boolean'));
      const freq = new RangeError('segments: frequencies must be from 0 to below half the rate');
      expect(call('createTone', RATE, new Float64Array([8000, 0, 1, 10]), false)).toThrow(freq);
      expect(call('createTone', RATE, new Float64Array([440, -1, 1, 10]), false)).toThrow(freq);
      const amp = new RangeError('segments: amplitude must be from 0 to 1');
      expect(call('createTone', RATE, new Float64Array([440, 0, 1.5, 10]), false)).toThrow(amp);
      expect(call('createTone', RATE, new Float64Array([440, 0, NaN, 10]), false)).toThrow(amp);
      const ms = new RangeError('segments: duration must be 1 ms to 10 min');
      expect(call('createTone', RATE, new Float64Array([440, 0, 1, 10, 440, 0, 1, 0.5]), false)).toThrow(ms);
      expect(call('createTone', RATE, new Float64Array([440, 0, 1, 600001]), false)).toThrow(ms);
      expect(call('createRing', RATE, 100, 1600, 160, 0)).toThrow(new RangeError('txCapacity must be an integer from 160 to 9600000'));
      expect(call('createRing', RATE, 1600, 1600, 1601, 0)).toThrow(new RangeError('batch must be an integer from 1 to 1600'));
      expect(call('createRing', RATE, 1600, 1600, 0, 0)).toThrow(new RangeError('batch must be an integer from 1 to 1600'));
      expect(call('createRing', RATE, 1600, 1600, 160, 2049)).toThrow(new RangeError('prebuffer must be an integer from 0 to 2048'));
      expect(call('createRing', RATE, 1600, 1600, 160, null)).toThrow(new TypeError('prebuffer must be a number'));
    });

    it('checks the arguments of the other methods', () => {
      const { engine } = open();
      const ring = engine.createRing(RATE, 1600, 4096, 160, 0);
      const recorder = engine.createRecorder(RATE, 1600, 160);
      const e = engine as unknown as Record<string, (...args: unknown[]) => unknown>;
      const call =
        (method: string, ...args: unknown[]) =>
        () =>
          e[method]?.apply(engine, args);
      expect(call('step', '1')).toThrow(new TypeError('ticks must be a number'));
      expect(call('step', -1)).toThrow(new RangeError('ticks must be an integer from 0 to 1000000'));
      expect(call('step', 1.5)).toThrow(new RangeError('ticks must be an integer from 0 to 1000000'));
      expect(call('connect', 'a', 0, 1)).toThrow(new TypeError('port must be a number'));
      expect(call('connect', ring, undefined, 1)).toThrow(new TypeError('port must be a number'));
      expect(call('connect', ring, 0, '1')).toThrow(new TypeError('level must be a number'));
      for (const level of [-0.1, 10.5, NaN]) {
        expect(call('connect', ring, 0, level)).toThrow(new RangeError('level must be from 0 to 10'));
        expect(call('setLevel', ring, true, level)).toThrow(new RangeError('level must be from 0 to 10'));
      }
      expect(call('setLevel', ring, 'yes', 1)).toThrow(new TypeError('rx must be a boolean'));
      expect(call('getLevel', ring, 1)).toThrow(new TypeError('rx must be a boolean'));
      expect(call('readTx', ring, new Int32Array(4))).toThrow(new TypeError('out must be an Int16Array'));
      expect(call('readRecorder', recorder, new Uint16Array(4))).toThrow(new TypeError('out must be an Int16Array'));
      expect(call('writeRx', ring, [1, 2])).toThrow(new TypeError('samples must be an Int16Array'));
      expect(call('setPrebuffer', ring, 'x')).toThrow(new TypeError('prebuffer must be a number'));
      expect(call('setPrebuffer', ring, -1)).toThrow(new RangeError('prebuffer must be an integer from 0 to 4096'));
      expect(call('setPrebuffer', ring, 4097)).toThrow(new RangeError('prebuffer must be an integer from 0 to 4096'));
    });

    it('checks resample() and EchoCanceller arguments and keeps their shapes', () => {
      expect(() => binding.resample([1] as unknown as Int16Array, RATE, 48000, 5)).toThrow(new TypeError('samples must be an Int16Array'));
      expect(() => binding.resample(new Int16Array(4), 999, 48000, 5)).toThrow(new RangeError('inRate must be an integer from 1000 to 384000'));
      expect(() => binding.resample(new Int16Array(4), RATE, 48000, 11)).toThrow(new RangeError('quality must be an integer from 0 to 10'));
      const tone = sine(1600, 440, 10000);
      const up = binding.resample(tone, RATE, 48000, 5);
      expect(up.length).toBe(4800);
      expect(toneAmplitude(up, 48000, 440, 480, 4320)).toBeCloseTo(10000, -3);
      const same = binding.resample(tone, RATE, RATE, 5);
      expect(same).toEqual(tone);
      expect(same).not.toBe(tone);
      expect(binding.resample(new Int16Array(3), 16000, 44100, 5).length).toBe(9);
      expect(() => new binding.EchoCanceller(null as unknown as object)).toThrow(new TypeError('options must be an object'));
      expect(() => new binding.EchoCanceller({ rate: 'x' as unknown as number })).toThrow(new TypeError('options.rate must be a number'));
      const echo = new binding.EchoCanceller({});
      expect(() => echo.process(new Int16Array(320), new Int16Array(160))).toThrow(new RangeError('mic and reference must have the same length'));
      expect(() => echo.process(new Int16Array(100), new Int16Array(100))).toThrow(new RangeError('mic length must be a multiple of the frame (160)'));
      expect(echo.process(new Int16Array(320), new Int16Array(320)).length).toBe(320);
      expect(echo.stats()).toEqual({ erleDb: 0, converged: false, frames: 2, engine: 'speex', userEase: 'off' });
      expect(() => new binding.EchoCanceller({ engine: 'pulse' as 'speex' })).toThrow(new RangeError("options.engine must be 'speex' or 'webrtc'"));
      expect(() => new binding.EchoCanceller({ suppression: 'max' as 'low' })).toThrow(
        new RangeError("options.suppression must be 'low', 'moderate' or 'high'"),
      );
      expect(() => new binding.EchoCanceller({ referenceLeadMs: 201 })).toThrow(new RangeError('options.referenceLeadMs must be an integer from 0 to 200'));
      expect(Array.isArray(binding.listDevices())).toBe(true);
    });

    it('checks DelayEstimator arguments and starts without an estimate', () => {
      expect(() => new binding.DelayEstimator(null as unknown as object)).toThrow(new TypeError('options must be an object'));
      expect(() => new binding.DelayEstimator({ rate: 16100 })).toThrow(new RangeError('options.rate must be a multiple of 400 Hz'));
      expect(() => new binding.DelayEstimator({ maxDelayMs: 2000 })).toThrow(new RangeError('options.maxDelayMs must be an integer from 10 to 1000'));
      const estimator = new binding.DelayEstimator({ rate: 48000 });
      expect(() => estimator.process(new Int16Array(960), new Int16Array(480))).toThrow(new RangeError('mic and reference must have the same length'));
      expect(() => estimator.process(new Int16Array(100), new Int16Array(100))).toThrow(new RangeError('mic length must be a multiple of the frame (480)'));
      estimator.process(new Int16Array(4800), new Int16Array(4800));
      expect(estimator.estimate()).toEqual({ delayMs: -1, confidence: 0, changes: 0 });
    });
  });

  describe('error codes', () => {
    it('ERR_PORT_KIND: wrong kind of port for the operation', () => {
      const { engine } = open();
      const ring = engine.createRing(RATE, 1600, 1600, 160, 0);
      const recorder = engine.createRecorder(RATE, 1600, 160);
      const player = engine.createPlayer(constant(10, 1), RATE, false);
      const tone = engine.createTone(RATE, new Float64Array([440, 0, 1, 10]), false);
      const buf = new Int16Array(10);
      expect(() => engine.removePort(0)).toThrow('the sound device port cannot be removed');
      expectCode(() => engine.removePort(0), 'ERR_PORT_KIND');
      expectCode(() => engine.connect(recorder, ring, 1), 'ERR_PORT_KIND');
      expect(() => engine.connect(recorder, ring, 1)).toThrow('the source port cannot transmit (it is a sink only)');
      expectCode(() => engine.connect(ring, player, 1), 'ERR_PORT_KIND');
      expect(() => engine.connect(ring, tone, 1)).toThrow('the sink port cannot receive (it is a source only)');
      for (const fn of [
        () => engine.readTx(player, buf),
        () => engine.readTx(player, 'x' as unknown as Int16Array),
        () => engine.writeRx(tone, buf),
        () => engine.flush(recorder),
        () => engine.drain(0),
        () => engine.setPrebuffer(player, 0),
        () => engine.ringStatus(recorder),
      ]) {
        expectCode(fn, 'ERR_PORT_KIND');
        expect(fn).toThrow('port is not a ring port');
      }
      for (const port of [ring, 0, player]) {
        expectCode(() => engine.readRecorder(port, buf), 'ERR_PORT_KIND');
        expect(() => engine.readRecorder(port, buf)).toThrow('port is not a recorder');
      }
    });

    it('ERR_PORT_DESTROYED: removed and unknown ports, even after their slot is reused', () => {
      const { engine } = open();
      const ring = engine.createRing(RATE, 1600, 1600, 160, 0);
      const removed = engine.createRing(RATE, 1600, 1600, 160, 0);
      engine.removePort(removed);
      const buf = new Int16Array(10);
      const uses = (port: number) => [
        () => engine.removePort(port),
        () => engine.connect(port, ring, 1),
        () => engine.connect(ring, port, 1),
        () => engine.disconnect(port, 0),
        () => engine.setLevel(port, true, 1),
        () => engine.getLevel(port, true),
        () => engine.meters(port),
        () => engine.readRecorder(port, buf),
        () => engine.readTx(port, buf),
        () => engine.writeRx(port, buf),
        () => engine.flush(port),
        () => engine.drain(port),
        () => engine.setPrebuffer(port, 0),
        () => engine.ringStatus(port),
        () => engine.portStats(port),
      ];
      for (const fn of uses(removed)) {
        expectCode(fn, 'ERR_PORT_DESTROYED');
        expect(fn).toThrow(/does not exist \(destroyed\?\)/);
      }
      engine.step(1);
      const reused = engine.createRing(RATE, 1600, 1600, 160, 0);
      expect(reused).not.toBe(removed);
      expect(engine.ringStatus(reused).played).toBe(0);
      for (const fn of uses(removed)) expectCode(fn, 'ERR_PORT_DESTROYED');
      for (const id of [12345, 1.5, -1, NaN, 32, 1, 2 ** 32 + ring, ring + 32]) {
        expectCode(() => engine.portStats(id), 'ERR_PORT_DESTROYED');
      }
      expect(() => engine.meters(12345)).toThrow('port 12345');
    });

    it('ERR_TOO_MANY_PORTS: 32 slots including the device', () => {
      const { engine } = open();
      const ids: number[] = [];
      for (let i = 0; i < 31; i++) ids.push(engine.createRecorder(RATE, 160, 160));
      expect(new Set(ids).size).toBe(31);
      expectCode(() => engine.createPlayer(constant(10, 1), RATE, false), 'ERR_TOO_MANY_PORTS');
      expect(() => engine.createTone(RATE, new Float64Array([440, 0, 1, 10]), false)).toThrow('the bridge has no free slot (32 at most)');
      expectCode(() => engine.createRing(RATE, 1600, 1600, 160, 0), 'ERR_TOO_MANY_PORTS');
      engine.removePort(ids[7] ?? -1);
      const again = engine.createRing(RATE, 1600, 1600, 160, 0);
      expect(ids).not.toContain(again);
      expectCode(() => engine.createRecorder(RATE, 160, 160), 'ERR_TOO_MANY_PORTS');
    });

    it('ERR_BUSY: at most 1024 bridge operations wait for the next tick', () => {
      const { engine } = open();
      const ring = engine.createRing(RATE, 1600, 1600, 160, 0);
      let accepted = 0;
      expectCode(() => {
        for (;;) {
          engine.disconnect(ring, 0);
          accepted++;
        }
      }, 'ERR_BUSY');
      expect(accepted).toBe(1023);
      engine.step(1);
      engine.connect(ring, 0, 1);
    });

    it('ERR_NOT_MANUAL: step() on a real-time engine', () => {
      const { engine } = open({ manualClock: false }, false);
      expectCode(() => engine.step(1), 'ERR_NOT_MANUAL');
      expect(() => engine.step(1)).toThrow('step() needs an engine created with manualClock');
      expect(() => engine.step(-1)).toThrow(RangeError);
    });

    it('ERR_ENGINE_CLOSED: every method after close(), which may be repeated', () => {
      const { engine } = open();
      const ring = engine.createRing(RATE, 1600, 1600, 160, 0);
      const recorder = engine.createRecorder(RATE, 1600, 160);
      engine.close();
      engine.close();
      const buf = new Int16Array(160);
      const calls: (() => unknown)[] = [
        () => engine.start(),
        () => engine.step(1),
        () => engine.createPlayer(buf, RATE, false),
        () => engine.createPlayer('bad' as unknown as Int16Array, RATE, false),
        () => engine.createRecorder(RATE, 1600, 160),
        () => engine.createTone(RATE, new Float64Array([440, 0, 1, 10]), false),
        () => engine.createRing(RATE, 1600, 1600, 160, 0),
        () => engine.removePort(ring),
        () => engine.connect(ring, 0, 1),
        () => engine.disconnect(ring, 0),
        () => engine.setLevel(ring, true, 1),
        () => engine.getLevel(ring, true),
        () => engine.meters(0),
        () => engine.readRecorder(recorder, buf),
        () => engine.readTx(ring, buf),
        () => engine.writeRx(ring, buf),
        () => engine.flush(ring),
        () => engine.drain(ring),
        () => engine.setPrebuffer(ring, 0),
        () => engine.ringStatus(ring),
        () => engine.portStats('x' as unknown as number),
        () => engine.stats(),
      ];
      for (const fn of calls) {
        expectCode(fn, 'ERR_ENGINE_CLOSED');
        expect(fn).toThrow('the audio engine is closed');
      }
    });
  });
});

describe('FakeEngine test controls', () => {
  it('feeds the microphone and returns what the speaker played, at the bridge rate', () => {
    const engine = new FakeEngine({ manualClock: true }, () => undefined);
    engine.start();
    const ring = engine.createRing(RATE, RATE, RATE, RATE, 0);
    engine.connect(0, ring, 1);
    engine.connect(ring, 0, 1);
    const mic = sine(400, 440, 8000);
    expect(engine.feedCapture(mic)).toBe(400);
    engine.writeRx(ring, constant(FRAME, 321));
    engine.step(3);
    const tx = new Int16Array(1000);
    expect(tx.subarray(0, engine.readTx(ring, tx))).toEqual(Int16Array.from([...mic, ...new Int16Array(80)]));
    expect(engine.takePlayback()).toEqual(Int16Array.from([...constant(FRAME, 321), ...new Int16Array(320)]));
    expect(engine.takePlayback().length).toBe(0);
    engine.close();
    expectCode(() => engine.feedCapture(mic), 'ERR_ENGINE_CLOSED');
  });

  it('ticks in real time after start() without a manual clock', async () => {
    const engine = new FakeEngine({}, () => undefined);
    engine.start();
    await sleep(120);
    engine.close();
    const frames = engine.takePlayback().length / FRAME;
    expect(frames).toBeGreaterThanOrEqual(5);
    expect(frames).toBeLessThanOrEqual(20);
  });
});

describe('an addon built without WebRTC (the fake pretending one; test/build/no-webrtc.test.ts builds the real one)', () => {
  const binding = createFakeBinding({ echoEngines: ['speex'] });
  const unavailable = "echo engine 'webrtc' is not built into this addon (webrtc-audio-processing was not found at build time); built: speex";

  it('lists only speex and refuses the webrtc engine with ERR_AEC_ENGINE_UNAVAILABLE', () => {
    expect(binding.buildInfo()).toEqual({ echoEngines: ['speex'], webrtcApm: '' });
    expectCode(() => new binding.Engine({ manualClock: true, aecEngine: 'webrtc' }, () => undefined), 'ERR_AEC_ENGINE_UNAVAILABLE');
    expect(() => new binding.Engine({ manualClock: true, aecEngine: 'webrtc' }, () => undefined)).toThrow(unavailable);
    expectCode(() => new binding.EchoCanceller({ engine: 'webrtc' }), 'ERR_AEC_ENGINE_UNAVAILABLE');
    new binding.Engine({ manualClock: true, aecEngine: 'speex' }, () => undefined).close();
  });
});
