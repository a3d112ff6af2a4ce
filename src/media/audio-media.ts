import { EventEmitter } from 'node:events';
import type { NativeEvent } from './binding.js';
import type { AudioEngine } from './engine.js';
import { checkLevel } from './validate.js';

/**
 * A port of the conference bridge (PJSUA2's AudioMedia). TX and RX are seen from the bridge: rx is
 * what the bridge receives from this port, tx what it sends to it.
 */
export class AudioMedia {
  /** The engine this port belongs to. */
  readonly engine: AudioEngine;
  private readonly id: number;

  /** @internal Ports are made by AudioEngine and the create() factories. */
  constructor(engine: AudioEngine, portId: number) {
    this.engine = engine;
    this.id = portId;
  }

  /** The bridge port id (0 is the sound device). */
  get portId(): number {
    return this.id;
  }

  /** Sends this port's audio to `sink`, scaled by `level` (default 1.0). Calling it again changes the level. */
  startTransmit(sink: AudioMedia, level = 1): void {
    this.checkSink(sink);
    checkLevel(level, 'level');
    this.engine.call((n) => n.connect(this.portId, sink.portId, level));
  }

  /** Stops sending this port's audio to `sink` (no effect when it was not sending). */
  stopTransmit(sink: AudioMedia): void {
    this.checkSink(sink);
    this.engine.call((n) => n.disconnect(this.portId, sink.portId));
  }

  /** Scales what the bridge receives from this port: 1.0 unity, 0 silence, up to 10. */
  adjustRxLevel(level: number): void {
    checkLevel(level, 'level');
    this.engine.call((n) => n.setLevel(this.portId, true, level));
  }

  /** Scales what the bridge transmits to this port: 1.0 unity, 0 silence (exact zeros), up to 10. */
  adjustTxLevel(level: number): void {
    checkLevel(level, 'level');
    this.engine.call((n) => n.setLevel(this.portId, false, level));
  }

  /** Level of the last frame received from this port, 0..255. */
  getRxLevel(): number {
    return this.engine.call((n) => n.meters(this.portId).rx);
  }

  /** Level of the last frame transmitted to this port, 0..255. */
  getTxLevel(): number {
    return this.engine.call((n) => n.meters(this.portId).tx);
  }

  /** The rx multiplier set by adjustRxLevel(). */
  getRxLevelAdjust(): number {
    return this.engine.call((n) => n.getLevel(this.portId, true));
  }

  /** The tx multiplier set by adjustTxLevel(). */
  getTxLevelAdjust(): number {
    return this.engine.call((n) => n.getLevel(this.portId, false));
  }

  private checkSink(sink: AudioMedia): void {
    if (!(sink instanceof AudioMedia)) throw new TypeError('sink must be an AudioMedia');
    if (sink.engine !== this.engine) throw new TypeError('sink must belong to the same AudioEngine');
  }
}

/**
 * A port that can be destroyed (everything but the sound device), with typed events: `Events` maps
 * each event name to its arguments. The engine routes the port's native events to handleEvent().
 */
export abstract class DestroyableMedia<Events extends Record<keyof Events, unknown[]> = Record<never, never>> extends AudioMedia {
  /** Port kind, for statistics. */
  abstract readonly kind: string;
  private readonly emitter = new EventEmitter();
  private destroyed = false;

  /** @internal */
  constructor(engine: AudioEngine, portId: number) {
    super(engine, portId);
    engine.register(portId, this);
  }

  /** Adds a listener. */
  on<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Adds a listener called at most once. */
  once<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Removes a listener. */
  off<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** @internal Called by the engine with this port's native events. */
  abstract handleEvent(event: NativeEvent): void;

  /** Emits an event to the listeners. */
  protected emitEvent<K extends keyof Events & string>(event: K, ...args: Events[K]): void {
    this.emitter.emit(event, ...args);
  }

  /** How many listeners an event has. */
  protected listeners(event: keyof Events & string): number {
    return this.emitter.listenerCount(event);
  }

  /** Whether destroy() was called. */
  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** Removes the port from the bridge; later calls on it throw ERR_PORT_DESTROYED. Safe to call twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.engine.unregister(this.portId);
    if (!this.engine.isClosed) this.engine.call((n) => n.removePort(this.portId));
  }
}
