/**
 * The fake conference bridge, a port of native/bridge/conference_bridge.cc: each tick, queued
 * operations are applied, every source with listeners is read once, converted to the bridge rate,
 * scaled by its rx level and added (32-bit) into each listener's mix with the connection's level;
 * then every sink gets its mix with smoothed overflow attenuation, clipping and its tx level.
 */
import { f32, measureLevel, saturate16, saturateFloat } from './dsp.js';
import type { FakePort } from './port.js';

/** A structural change, applied at the start of the next tick. */
export type BridgeOp =
  | { type: 'add'; slot: number; port: FakePort }
  | { type: 'remove'; slot: number }
  | { type: 'connect'; slot: number; sink: number; level: number }
  | { type: 'disconnect'; slot: number; sink: number };

/** Levels (multipliers, float32) and meters (0..255) of one slot. */
export interface SlotLevels {
  rxLevel: number;
  txLevel: number;
  rxMeter: number;
  txMeter: number;
}

/** Bridge slots, slot 0 being the sound device (kMaxSlots). */
export const MAX_SLOTS = 32;
/** Pending operations the bridge accepts (the native queue's capacity). */
export const OP_CAPACITY = 1024;
const GAIN_RELEASE = f32(0.1);
/** Within this distance of unity the gain snaps to exactly 1, so unity audio passes bit-exact. */
const GAIN_SNAP = f32(1e-4);

interface Slot {
  port: FakePort | null;
  listeners: { sink: number; level: number }[];
  transmitters: number;
  sourceSilent: boolean;
  mixed: boolean;
  gain: number;
  mix: Int32Array;
}

/** Slots, levels, queued operations and the tick. */
export class FakeBridge {
  /** Samples per tick at the bridge rate. */
  readonly frame: number;
  private readonly levels: SlotLevels[] = [];
  private readonly slots: Slot[] = [];
  private readonly ops: BridgeOp[] = [];
  private readonly portBuffer: Int16Array;
  private readonly bridgeBuffer: Int16Array;

  constructor(readonly rate: number) {
    this.frame = rate / 100;
    this.portBuffer = new Int16Array(192000 / 100);
    this.bridgeBuffer = new Int16Array(this.frame);
    for (let i = 0; i < MAX_SLOTS; i++) {
      this.levels.push({ rxLevel: 1, txLevel: 1, rxMeter: 0, txMeter: 0 });
      const mix = new Int32Array(this.frame);
      this.slots.push({ port: null, listeners: [], transmitters: 0, sourceSilent: true, mixed: false, gain: 1, mix });
    }
  }

  /** Queues an operation; false when OP_CAPACITY operations are already pending. */
  enqueue(op: BridgeOp): boolean {
    if (this.ops.length >= OP_CAPACITY) return false;
    this.ops.push(op);
    return true;
  }

  /** Applies every queued operation in order. */
  applyOps(): void {
    for (let op = this.ops.shift(); op !== undefined; op = this.ops.shift()) {
      if (op.type === 'add') this.add(op.slot, op.port);
      else if (op.type === 'remove') this.remove(op.slot);
      else if (op.type === 'connect') this.connect(op.slot, op.sink, op.level);
      else this.disconnect(op.slot, op.sink);
    }
  }

  /** One 10 ms tick. */
  tick(): void {
    this.applyOps();
    this.slots.forEach((s, i) => {
      s.mixed = false;
      // Meters of a port that is no longer connected fall to silence.
      if (s.listeners.length === 0) this.level(i).rxMeter = 0;
      if (s.transmitters === 0) this.level(i).txMeter = 0;
    });
    this.slots.forEach((s, i) => {
      if (s.port !== null && s.listeners.length > 0) this.pullSource(i, s.port);
    });
    this.slots.forEach((s, i) => {
      if (s.port !== null && s.transmitters > 0) this.pushSink(i, s.port);
    });
  }

  private slot(index: number): Slot {
    const s = this.slots[index];
    if (s === undefined) throw new RangeError(`bridge slot ${index} out of range`);
    return s;
  }

  /** Levels and meters of a slot. */
  level(index: number): SlotLevels {
    const l = this.levels[index];
    if (l === undefined) throw new RangeError(`bridge slot ${index} out of range`);
    return l;
  }

  private add(index: number, port: FakePort): void {
    const s = this.slot(index);
    if (s.port !== null) this.remove(index);
    Object.assign(s, { port, listeners: [], transmitters: 0, sourceSilent: true, gain: 1 });
    Object.assign(this.level(index), { rxMeter: 0, txMeter: 0 });
  }

  private remove(index: number): void {
    const s = this.slot(index);
    if (s.port === null) return;
    this.slots.forEach((other, i) => {
      if (other.port !== null) this.disconnect(i, index);
    });
    while (s.listeners.length > 0) this.disconnect(index, s.listeners[0]?.sink ?? -1);
    s.port = null;
  }

  private connect(source: number, sink: number, level: number): void {
    if (sink < 0 || sink >= MAX_SLOTS) return;
    const src = this.slot(source);
    if (src.port === null || this.slot(sink).port === null) return;
    const existing = src.listeners.find((l) => l.sink === sink);
    if (existing !== undefined) {
      existing.level = level;
      return;
    }
    src.listeners.push({ sink, level });
    this.slot(sink).transmitters++;
  }

  private disconnect(source: number, sink: number): void {
    if (sink < 0 || sink >= MAX_SLOTS) return;
    const src = this.slot(source);
    const i = src.listeners.findIndex((l) => l.sink === sink);
    if (i < 0) return;
    const last = src.listeners.pop();
    if (last !== undefined && i < src.listeners.length) src.listeners[i] = last;
    this.slot(sink).transmitters--;
  }

  private pullSource(index: number, port: FakePort): void {
    const s = this.slot(index);
    const levels = this.level(index);
    if (!port.canTransmit) return;
    const resampler = port.toBridge;
    if (!port.getFrame(this.portBuffer)) {
      const hadSound = !s.sourceSilent;
      s.sourceSilent = true;
      if (!hadSound || resampler === null) {
        levels.rxMeter = 0;
        return;
      }
      // The burst just ended: push its tail out of the resampler with silence, then clear it.
      this.portBuffer.fill(0, 0, port.frame);
      resampler.process(this.portBuffer, port.frame, this.bridgeBuffer, this.frame);
      resampler.reset();
    } else {
      s.sourceSilent = false;
      if (resampler !== null) resampler.process(this.portBuffer, port.frame, this.bridgeBuffer, this.frame);
    }
    const samples = resampler !== null ? this.bridgeBuffer : this.portBuffer;
    applyLevel(samples, this.frame, levels.rxLevel);
    levels.rxMeter = measureLevel(samples, this.frame);
    for (const { sink, level } of s.listeners) {
      const target = this.slot(sink);
      if (!target.mixed) {
        target.mix.fill(0);
        target.mixed = true;
      }
      for (let i = 0; i < this.frame; i++) {
        const v = samples[i] ?? 0;
        target.mix[i] = (target.mix[i] ?? 0) + (level === 1 ? v : Math.trunc(f32(v * level)));
      }
    }
  }

  private pushSink(index: number, port: FakePort): void {
    const s = this.slot(index);
    const levels = this.level(index);
    if (!port.canReceive) return;
    const out = this.bridgeBuffer;
    if (!s.mixed) out.fill(0);
    else s.gain = attenuate(s.mix, out, this.frame, s.gain);
    applyLevel(out, this.frame, levels.txLevel);
    levels.txMeter = measureLevel(out, this.frame);
    if (port.fromBridge !== null) {
      port.fromBridge.process(out, this.frame, this.portBuffer, port.putFrameSamples);
      port.putFrame(this.portBuffer);
    } else {
      port.putFrame(out);
    }
  }
}

function applyLevel(samples: Int16Array, n: number, level: number): void {
  if (level === 1) return;
  for (let i = 0; i < n; i++) samples[i] = saturateFloat(f32((samples[i] ?? 0) * level));
}

/** Writes the mix into `out` with overflow attenuation (attack at once, ~100 ms release); returns the new gain. */
function attenuate(mix: Int32Array, out: Int16Array, n: number, gain: number): number {
  let peak = 0;
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(mix[i] ?? 0));
  // -32768 alone is representable: only a larger magnitude is an overflow.
  const target = peak > 32768 ? f32(32767 / f32(peak)) : 1;
  let next = f32(gain + f32(f32(1 - gain) * GAIN_RELEASE));
  if (next > 1 - GAIN_SNAP) next = 1;
  if (next > target) next = target;
  if (next === 1 && gain === 1) {
    for (let i = 0; i < n; i++) out[i] = saturate16(mix[i] ?? 0);
    return next;
  }
  // Ramp across the frame on release; step at once on attack so the frame cannot overflow.
  const start = next < gain ? next : gain;
  const step = f32(f32(next - start) / n);
  for (let i = 0; i < n; i++) out[i] = saturateFloat(f32(f32(mix[i] ?? 0) * f32(start + f32(step * i))));
  return next;
}
