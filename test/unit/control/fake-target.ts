/**
 * An in-memory ControlTarget for control-socket tests: behaves like a small service (state, mute,
 * volume, a flat configuration with a secret key) and emits ServiceEvents the way the daemon does.
 * Test controls: `emit()`, `setState()`, `calls`, `levelValues`, `configSetGate`, `failNext`.
 */
import { EventEmitter } from 'node:events';
import type { ControlTarget, DeviceEntry, ServiceEvent, ServiceState, ServiceStatus } from '../../../src/control/target.js';

/** An error with a code, as the daemon throws them. */
export class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const SECRET_KEYS = new Set(['ai.apiKeyFile']);

/** The fake service. */
export class FakeTarget implements ControlTarget {
  readonly events = new EventEmitter();
  state: ServiceState = 'listening';
  muted = false;
  volume = 50;
  connected = true;
  /** Every mutating call, in order. */
  readonly calls: { method: string; args: unknown[] }[] = [];
  /** What levels() returns; counted in `levelReads`. */
  levelValues = { mic: 12, speaker: 200 };
  levelReads = 0;
  /** When set, configSet waits for it (to hold requests pending). */
  configSetGate: Promise<void> | null = null;
  /** When set, the next call of that method throws this. */
  failNext: { method: string; error: unknown } | null = null;
  readonly config: Record<string, unknown> = {
    'ai.backend': 'parrot',
    'ai.voice': 'alloy',
    'ai.apiKeyFile': '/etc/speakerd/key',
    'audio.device': 'null',
    'control.socket': '/run/speakerd/control.sock',
  };

  constructor() {
    this.events.setMaxListeners(0);
  }

  /** Publishes an event to the control server. */
  emit(event: ServiceEvent['event'], data: Record<string, unknown> = {}): void {
    this.events.emit('event', { event, data } satisfies ServiceEvent);
  }

  setState(state: ServiceState): void {
    this.state = state;
    this.emit('state', { state });
  }

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
    if (this.failNext?.method === method) {
      const { error } = this.failNext;
      this.failNext = null;
      throw error;
    }
  }

  status(): ServiceStatus {
    this.record('status');
    return {
      state: this.state,
      muted: this.muted,
      volume: this.volume,
      backend: 'parrot',
      connection: { state: this.connected ? 'open' : 'closed', connected: this.connected, reconnects: 0 },
      uptimeS: 3723,
      audio: {
        frames: 48000,
        xruns: 0,
        underruns: 1,
        dropped: 2,
        deviceState: 'open',
        deviceRate: 48000,
        devicePeriodMs: 20,
        tickAvgUs: 120,
        tickMaxUs: 900,
        aec: { erleDb: 41.5, converged: true },
      },
      lastError: null,
    };
  }

  snapshot(): ServiceEvent[] {
    this.record('snapshot');
    return [
      { event: 'state', data: { state: this.state } },
      { event: 'mute', data: { muted: this.muted } },
      { event: 'volume', data: { volume: this.volume } },
    ];
  }

  setMuted(muted: boolean): void {
    this.record('setMuted', muted);
    if (muted === this.muted) return;
    this.muted = muted;
    this.emit('mute', { muted });
  }

  isMuted(): boolean {
    return this.muted;
  }

  setVolume(volume: number): void {
    this.record('setVolume', volume);
    if (!Number.isInteger(volume) || volume < 0 || volume > 100) throw new RangeError('volume out of range');
    this.volume = volume;
    this.emit('volume', { volume });
  }

  getVolume(): number {
    return this.volume;
  }

  connect(): void {
    this.record('connect');
    this.connected = true;
    this.setState('connecting');
    this.setState('listening');
  }

  disconnect(): void {
    this.record('disconnect');
    this.connected = false;
    this.setState('offline');
  }

  talk(open: boolean): boolean {
    this.record('talk', open);
    return open;
  }

  interrupt(): void {
    this.record('interrupt');
    this.emit('response_done', { status: 'cancelled' });
  }

  say(text: string): void {
    this.record('say', text);
    if (!this.connected) throw new CodedError('ERR_AI_NOT_CONNECTED', 'the AI service is not connected');
  }

  toolResult(callId: string, output: unknown): void {
    this.record('toolResult', callId, output);
    if (!callId.startsWith('call_')) throw new CodedError('ERR_UNKNOWN_CALL', `no tool call ${callId} is waiting`);
  }

  configGet(key?: string): unknown {
    this.record('configGet', key);
    if (key === undefined) return Object.fromEntries(Object.entries(this.config).filter(([k]) => !SECRET_KEYS.has(k)));
    if (SECRET_KEYS.has(key)) throw new CodedError('ERR_CONFIG_SECRET', `${key} is write-only`);
    if (!(key in this.config)) throw new CodedError('ERR_CONFIG_UNKNOWN_KEY', `no configuration key ${key}`);
    return this.config[key];
  }

  async configSet(key: string, value: unknown): Promise<void> {
    this.record('configSet', key, value);
    if (this.configSetGate !== null) await this.configSetGate;
    if (!(key in this.config)) throw new CodedError('ERR_CONFIG_UNKNOWN_KEY', `no configuration key ${key}`);
    if (typeof value !== typeof this.config[key]) throw new CodedError('ERR_CONFIG_INVALID', `${key} must be a ${typeof this.config[key]}`);
    this.config[key] = value;
  }

  async reload(): Promise<void> {
    this.record('reload');
    await new Promise((r) => setTimeout(r, 5));
    this.emit('config_reloaded', { changed: [] });
  }

  devices(): DeviceEntry[] {
    return [
      { name: 'default', description: 'Default ALSA device', direction: 'duplex' },
      { name: 'hw:CARD=seeed2micvoicec,DEV=0', description: 'seeed-2mic-voicecard', direction: 'duplex' },
    ];
  }

  version(): { version: string; node: string; addon: string } {
    return { version: '0.1.0', node: process.version, addon: 'fake' };
  }

  levels(): { mic: number; speaker: number } {
    this.levelReads++;
    return this.levelValues;
  }
}
