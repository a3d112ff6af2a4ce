/**
 * Ports of the fake bridge, as native/ports/*.h: passive elements whose getFrame() is what the bridge
 * receives from them (rx) and putFrame() what it transmits to them (tx), one 10 ms frame per tick.
 */
import type { NativeEventType } from '../binding.js';
import { LinearResampler } from './dsp.js';

/** Where ports raise events (the engine queues them for asynchronous delivery). */
export type PostEvent = (type: NativeEventType, port: number, a: number, b: number) => void;

/** Counters every port keeps (NativePortStats). */
export interface PortCounters {
  rxFrames: number;
  txFrames: number;
  underruns: number;
  dropped: number;
}

/** Base of every fake port: rate, frame, id, counters and the edge resamplers. */
export abstract class FakePort {
  /** Samples per 10 ms frame at the port's rate (what it transmits to the bridge). */
  readonly frame: number;
  /** Samples per 10 ms frame of what the port receives from the bridge. */
  readonly putFrameSamples: number;
  readonly counters: PortCounters = { rxFrames: 0, txFrames: 0, underruns: 0, dropped: 0 };
  /** Port rate to bridge rate, for sources at another rate. */
  toBridge: LinearResampler | null = null;
  /** Bridge rate to port rate, for sinks at another rate. */
  fromBridge: LinearResampler | null = null;
  private id = 0;
  private events: PostEvent | null = null;

  /** `rate`: what the port transmits to the bridge; `putRate`: what it receives (default the same). */
  constructor(
    readonly rate: number,
    readonly putRate: number = rate,
  ) {
    this.frame = rate / 100;
    this.putFrameSamples = putRate / 100;
  }

  /** Whether the port can be a source (rx) of the bridge. */
  abstract readonly canTransmit: boolean;
  /** Whether the port can be a sink (tx) of the bridge. */
  abstract readonly canReceive: boolean;

  /** Fills `frame` samples; false when the port has nothing to say this tick. */
  getFrame(out: Int16Array): boolean {
    void out;
    return false;
  }

  /** Receives `putFrameSamples` samples. */
  putFrame(input: Int16Array): void {
    void input;
  }

  /** Builds the edge resamplers for a bridge at `bridgeRate` (PrepareForBridge). */
  prepareForBridge(bridgeRate: number): void {
    if (this.canTransmit && this.rate !== bridgeRate) this.toBridge = new LinearResampler(this.rate, bridgeRate);
    if (this.canReceive && this.putRate !== bridgeRate) this.fromBridge = new LinearResampler(bridgeRate, this.putRate);
  }

  /** Gives the port its id and event sink. */
  attach(id: number, events: PostEvent): void {
    this.id = id;
    this.events = events;
  }

  protected post(type: NativeEventType, a = 0, b = 0): void {
    this.events?.(type, this.id, a, b);
  }
}
