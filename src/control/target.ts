import type { EventEmitter } from 'node:events';
import type { NativeAecPostStats } from '../media/binding-post.js';

/** Service states (design.md); `muted` is an overlay reported beside the state. */
export type ServiceState = 'starting' | 'connecting' | 'listening' | 'user_speaking' | 'thinking' | 'speaking' | 'offline' | 'error' | 'stopping';

/** What `status` reports. Every field is always present. */
export interface ServiceStatus {
  state: ServiceState;
  muted: boolean;
  /** 0..100 */
  volume: number;
  backend: string;
  connection: { state: string; connected: boolean; reconnects: number };
  uptimeS: number;
  audio: {
    frames: number;
    xruns: number;
    underruns: number;
    dropped: number;
    deviceState: string;
    /** The open sound device's rate in Hz (0: none open, the null device included). */
    deviceRate: number;
    /** The open sound device's capture period as granted (audio.periodMs asks for it), in ms; 0: none open. */
    devicePeriodMs: number;
    tickAvgUs: number;
    tickMaxUs: number;
    /**
     * The echo canceller: its engine, ERLE, the echo path delay the reference is aligned with
     * (`delayMs`, -1 unknown) and where it comes from (`delaySource`: 'config' = aec.delayMs, 'device' =
     * snd_pcm_delay, 'estimate'), and the estimator's own figure and confidence (0-1) even when not applied.
     */
    aec: {
      erleDb: number;
      converged: boolean;
      engine?: string;
      /** Whether the engine eases its own suppressor for the user (aec.userMaxCutDb): 'off', 'on' or 'unsupported'. */
      userEase?: string;
      delayMs?: number;
      delaySource?: string;
      delayEstimateMs?: number;
      delayConfidence?: number;
    } | null;
    /** Double-talk state, residual echo suppression, AGC gain, ducking, output ceiling; null without an engine. */
    aecPost?: NativeAecPostStats | null;
  };
  lastError: { code: string; message: string; httpStatus?: number; at: string } | null;
  /** Position of the hardware mute switch: true muted, false open, null without a switch (or not read yet). */
  muteSwitch?: boolean | null;
  /** What the LEDs show (docs/leds-buttons.md), null without LEDs. */
  leds?: LedStatus | null;
}

/** What the LEDs show: the layer chosen by priority, its look, and the current frame. */
export interface LedStatus {
  driver: string;
  count: number;
  layer: string;
  pattern: string;
  color: string;
  periodMs: number;
  muted: boolean;
  night: boolean;
  /** One '#rrggbb' per LED. */
  colors: string[];
}

/** One event published to subscribers: `{"event": name, "data": {...}}` on the socket. */
export interface ServiceEvent {
  event:
    | 'state'
    | 'transcript'
    | 'response_start'
    | 'response_done'
    | 'speech_started'
    | 'speech_stopped'
    | 'tool_call'
    | 'tool_call_cancelled'
    | 'session_ending'
    | 'turn'
    | 'error'
    | 'config_reloaded'
    | 'volume'
    | 'mute'
    | 'mute_switch'
    | 'leds'
    | 'button';
  data: Record<string, unknown>;
}

/** An ALSA device as listed by `devices`. */
export interface DeviceEntry {
  name: string;
  description: string;
  direction: 'input' | 'output' | 'duplex';
}

/**
 * What the control socket drives: implemented by the daemon (src/service/), faked in control tests.
 * Methods throw errors with a stable `code` (e.g. ERR_AI_NOT_CONNECTED, ERR_CONFIG_INVALID) that the
 * control server passes on as `{code, message}`.
 */
export interface ControlTarget {
  /** Emits 'event' with a ServiceEvent for every change. */
  readonly events: EventEmitter;
  status(): ServiceStatus;
  /** The events a new subscriber gets first so it never starts blind (at least the current 'state'). */
  snapshot(): ServiceEvent[];
  setMuted(muted: boolean): void;
  isMuted(): boolean;
  /** 0..100, persisted. */
  setVolume(volume: number): void;
  getVolume(): number;
  connect(): void;
  disconnect(): void;
  interrupt(): void;
  /**
   * Push-to-talk over the socket: opens (true) or closes (false) the user's turn. With turn detection
   * 'none' the turn is committed at its end; otherwise the microphone is gated like the talk button.
   * Returns whether a turn is open afterwards.
   */
  talk(open: boolean): boolean;
  say(text: string): void;
  toolResult(callId: string, output: unknown): void;
  /** A non-secret key's value, or the whole non-secret configuration when `key` is omitted. */
  configGet(key?: string): unknown;
  /** Validates, applies (live when possible) and persists one key; secret keys are write-only. */
  configSet(key: string, value: unknown): Promise<void>;
  /** Re-reads the configuration files (like SIGHUP). */
  reload(): Promise<void>;
  devices(): DeviceEntry[];
  version(): { version: string; node: string; addon: string; echoEngines?: string[] };
  /** Signal levels 0..255 of the microphone (after echo cancellation) and the speaker. */
  levels(): { mic: number; speaker: number };
}
