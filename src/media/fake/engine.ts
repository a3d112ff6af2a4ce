/**
 * FakeEngine: the NativeEngine interface in TypeScript, with the observable semantics of
 * native/addon/engine_wrap.cc and native/engine/engine.cc (port ids, argument checks, error codes,
 * operations applied on the next tick, events delivered asynchronously), plus test controls for the
 * fake sound device: feedCapture() into the microphone, takePlayback() from the speaker.
 */
import type { NativeEchoEngineName, NativeEngine, NativeEngineOptions, NativeEngineStats, NativeEvent, NativeEventType } from '../binding.js';
import type { NativeMeters, NativePortStats, NativeRingStatus } from '../binding.js';
import { codedError, requireBool, requireInt, requireInt16Array, requireNumber, requireObject } from './args.js';
import { FakeBridge, type BridgeOp } from './bridge.js';
import { RealtimeClock, TickStats } from './clock.js';
import { DevicePort } from './device.js';
import { f32 } from './dsp.js';
import { checkEchoEngineTiming } from './echo-options.js';
import { EventQueue } from './events.js';
import { parseEngineOptions, type ResolvedOptions } from './options.js';
import type { FakePort } from './port.js';
import { makePlayer, makeRecorder, makeRing, makeTone } from './port-factory.js';
import { PortTable, slotOf, type Entry } from './port-table.js';
import { RecorderPort } from './ports.js';
import type { RingPort } from './ring-port.js';

const MAX_LEVEL = 10;

/** The audio clock as a watchdog reads it (EngineClock in native/engine/engine.h); times from performance.now(). */
export interface FakeEngineClock {
  readonly frames: number;
  /** When close() ran; 0 while the engine is open. */
  readonly stoppedAt: number;
}

/** A pure-TypeScript engine; see the module comment. Construct through createFakeBinding().Engine. */
export class FakeEngine implements NativeEngine {
  private readonly options: ResolvedOptions;
  private readonly bridge: FakeBridge;
  private readonly device: DevicePort;
  private readonly events: EventQueue;
  private readonly ports = new PortTable();
  private closed = false;
  private running = false;
  private readonly clock = new RealtimeClock(() => this.tick());
  /** stallForTest(): no tick runs before this time (ms since the epoch). */
  private stalledUntil = 0;
  private readonly tickStats = new TickStats();
  private readonly clockState = { frames: 0, stoppedAt: 0 };

  /** `echoEngines`: the echo engines the pretended build has (default both). */
  constructor(options: NativeEngineOptions, onEvent: (event: NativeEvent) => void, echoEngines?: readonly NativeEchoEngineName[]) {
    requireObject(options, 'options');
    if (typeof onEvent !== 'function') throw new TypeError('onEvent must be a function');
    this.options = parseEngineOptions(options, echoEngines);
    if (this.options.aec) checkEchoEngineTiming(this.options.aecEngine, this.options.bridgeRate, this.options.bridgeRate / 100);
    this.events = new EventQueue(onEvent);
    this.bridge = new FakeBridge(this.options.bridgeRate);
    this.device = new DevicePort(this.options.bridgeRate);
    this.device.attach(0, this.post);
    this.bridge.enqueue({ type: 'add', slot: 0, port: this.device });
    this.bridge.applyOps();
  }

  start(): void {
    this.requireOpen();
    if (this.running) return;
    this.running = true;
    if (this.options.device === 'alsa') this.post('device_open', 0, 0, 0, 'sound device open');
    if (!this.options.manualClock) this.clock.start();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.running = false;
    this.clock.stop();
    this.clockState.stoppedAt = performance.now();
  }

  step(ticks: number): void {
    this.requireOpen();
    const n = requireInt(ticks, 'ticks', 0, 1000000);
    if (!this.options.manualClock) throw codedError('ERR_NOT_MANUAL', 'step() needs an engine created with manualClock');
    for (let i = 0; i < n && this.running; i++) this.tick();
  }

  createPlayer(samples: Int16Array, rate: number, loop: boolean): number {
    this.requireOpen();
    return this.addPort(makePlayer(samples, rate, loop));
  }

  createRecorder(rate: number, capacity: number, notify: number): number {
    this.requireOpen();
    return this.addPort(makeRecorder(rate, capacity, notify));
  }

  createTone(rate: number, segments: Float64Array, loop: boolean): number {
    this.requireOpen();
    return this.addPort(makeTone(rate, segments, loop));
  }

  createRing(rate: number, txCapacity: number, rxCapacity: number, batch: number, prebuffer: number, txRate?: number): number {
    this.requireOpen();
    return this.addPort(makeRing(rate, txCapacity, rxCapacity, batch, prebuffer, txRate));
  }

  stallForTest(ms: number): void {
    this.requireOpen();
    this.stalledUntil = Date.now() + requireInt(ms, 'ms', 0, 600000);
  }

  removePort(port: number): void {
    const entry = this.lookup(port);
    if (entry.port === null) throw codedError('ERR_PORT_KIND', 'the sound device port cannot be removed');
    this.enqueue({ type: 'remove', slot: slotOf(entry) });
    this.ports.clear(entry);
  }

  connect(source: number, sink: number, level: number): void {
    const from = this.lookup(source);
    const to = this.lookup(sink);
    const gain = requireNumber(level, 'level');
    if (!(gain >= 0 && gain <= MAX_LEVEL)) throw new RangeError('level must be from 0 to 10');
    if (!(from.port?.canTransmit ?? true)) {
      throw codedError('ERR_PORT_KIND', 'the source port cannot transmit (it is a sink only)');
    }
    if (!(to.port?.canReceive ?? true)) {
      throw codedError('ERR_PORT_KIND', 'the sink port cannot receive (it is a source only)');
    }
    this.enqueue({ type: 'connect', slot: slotOf(from), sink: slotOf(to), level: f32(gain) });
  }

  disconnect(source: number, sink: number): void {
    const from = this.lookup(source);
    const to = this.lookup(sink);
    this.enqueue({ type: 'disconnect', slot: slotOf(from), sink: slotOf(to) });
  }

  setLevel(port: number, rx: boolean, level: number): void {
    const levels = this.bridge.level(slotOf(this.lookup(port)));
    const isRx = requireBool(rx, 'rx');
    const value = requireNumber(level, 'level');
    if (!(value >= 0 && value <= MAX_LEVEL)) throw new RangeError('level must be from 0 to 10');
    if (isRx) levels.rxLevel = f32(value);
    else levels.txLevel = f32(value);
  }

  getLevel(port: number, rx: boolean): number {
    const levels = this.bridge.level(slotOf(this.lookup(port)));
    return requireBool(rx, 'rx') ? levels.rxLevel : levels.txLevel;
  }

  meters(port: number): NativeMeters {
    const levels = this.bridge.level(slotOf(this.lookup(port)));
    return { rx: levels.rxMeter, tx: levels.txMeter };
  }

  readRecorder(port: number, out: Int16Array): number {
    const entry = this.lookup(port);
    if (!(entry.port instanceof RecorderPort)) throw codedError('ERR_PORT_KIND', 'port is not a recorder');
    return entry.port.read(requireInt16Array(out, 'out'));
  }

  readTx(port: number, out: Int16Array): number {
    const ring = this.lookupRing(port);
    return ring.readTx(requireInt16Array(out, 'out'));
  }

  trimRx(port: number): number {
    return this.lookupRing(port).trimRx();
  }

  readTxBase64(port: number, out: Uint8Array, offset: number, samples: number): number {
    const ring = this.lookupRing(port);
    if (!(out instanceof Uint8Array)) throw new TypeError('out must be a Uint8Array');
    return ring.readTxBase64(out, requireInt(offset, 'offset', 0, out.length), requireInt(samples, 'samples', 1, 1 << 24));
  }

  writeRx(port: number, samples: Int16Array): number {
    const ring = this.lookupRing(port);
    return ring.writeRx(requireInt16Array(samples, 'samples'));
  }

  flush(port: number): void {
    this.lookupRing(port).flush();
  }

  drain(port: number): void {
    this.lookupRing(port).drain();
  }

  setPrebuffer(port: number, samples: number): void {
    const ring = this.lookupRing(port);
    ring.setPrebuffer(requireInt(samples, 'prebuffer', 0, ring.rxCapacity));
  }

  ringStatus(port: number): NativeRingStatus {
    return this.lookupRing(port).status();
  }

  portStats(port: number): NativePortStats {
    const entry = this.lookup(port);
    return { ...(entry.port ?? this.device).counters };
  }

  /** The rate the fake's ALSA device runs at while open (0: the null device, or not started). */
  private openDeviceRate(): number {
    const o = this.options;
    if (o.device === 'null' || !this.running) return 0;
    return o.matchBridgeRate ? o.bridgeRate : o.deviceRate;
  }

  stats(): NativeEngineStats {
    this.requireOpen();
    const o = this.options;
    const deviceRate = this.openDeviceRate();
    const delay = o.aecDelayMs >= 0 ? Math.trunc((o.aecDelayMs * o.bridgeRate) / 1000) : -1;
    return {
      frames: this.tickStats.ticks,
      xruns: 0,
      deviceErrors: 0,
      eventsDropped: this.events.dropped,
      tickMaxUs: this.tickStats.maxUs,
      tickAvgUs: this.tickStats.avgUs,
      deviceState: o.device === 'null' ? 'null' : this.running ? 'open' : 'retrying',
      deviceRate,
      devicePeriodFrames: (deviceRate * o.periodMs) / 1000,
      realtime: false,
      aecDelayMs: delay < 0 ? -1 : (delay * 1000) / o.bridgeRate,
      aecDelaySource: delay < 0 ? 'none' : 'config',
      aec: o.aec
        ? {
            erleDb: 0,
            converged: false,
            engine: o.aecEngine,
            // The fake removes no echo, so it eases nothing either.
            userEase: o.aecNearTalkMaxCutDb > -60 ? 'unsupported' : 'off',
            delayEstimateMs: -1,
            delayConfidence: 0,
          }
        : null,
      aecPost: { talk: 'idle', suppressionDb: 0, agcGainDb: 0, agcAppliedDb: 0, duckActive: false, limiterDb: 0 },
    };
  }

  /**
   * Test control: queues microphone samples (bridge rate) for the device port, one frame per tick;
   * ticks without queued samples capture silence. Returns how many fitted (at most 60 s queue).
   */
  feedCapture(samples: Int16Array): number {
    this.requireOpen();
    return this.device.feed(requireInt16Array(samples, 'samples'));
  }

  /** @internal The frame counter and closed time that FakeWatchdog reads (also after close()). */
  watchdogClock(): FakeEngineClock {
    return this.clockState;
  }

  /** Test control: everything the speaker played since the last call (bridge rate; also after close). */
  takePlayback(): Int16Array {
    return this.device.take();
  }

  private readonly post = (type: NativeEventType, port: number, a: number, b: number, message?: string): void => {
    const timeUs = Number(process.hrtime.bigint() / 1000n);
    this.events.post(message === undefined ? { type, port, a, b, timeUs } : { type, port, a, b, timeUs, message });
  };

  private tick(): void {
    if (Date.now() < this.stalledUntil) return;
    this.tickStats.measure(() => {
      this.device.beginTick();
      this.bridge.tick();
      this.device.endTick();
    });
    this.clockState.frames++;
  }

  private requireOpen(): void {
    if (this.closed) throw codedError('ERR_ENGINE_CLOSED', 'the audio engine is closed');
  }

  private enqueue(op: BridgeOp): void {
    if (!this.bridge.enqueue(op)) {
      throw codedError('ERR_BUSY', 'too many bridge operations pending (is the clock stopped?)');
    }
  }

  private lookup(port: unknown): Entry {
    this.requireOpen();
    return this.ports.lookup(port);
  }

  private lookupRing(port: unknown): RingPort {
    this.requireOpen();
    return this.ports.lookupRing(port);
  }

  private addPort(port: FakePort): number {
    const slot = this.ports.freeSlot();
    port.prepareForBridge(this.options.bridgeRate);
    const id = this.ports.nextId(slot);
    port.attach(id, this.post);
    this.enqueue({ type: 'add', slot, port });
    this.ports.set(id, port);
    Object.assign(this.bridge.level(slot), { rxLevel: 1, txLevel: 1 });
    return id;
  }
}
