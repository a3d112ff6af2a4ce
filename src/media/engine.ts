import { EventEmitter } from 'node:events';
import type {
  NativeBinding,
  NativeBuildInfo,
  NativeEchoEngineName,
  NativeEchoSuppression,
  NativeEngine,
  NativeEngineOptions,
  NativeEngineStats,
  NativeEvent,
} from './binding.js';
import { MediaError, toMediaError } from './errors.js';
import { loadNativeBinding } from './native-binding.js';
import { AudioMedia } from './audio-media.js';
import { checkInt, checkOneOf, checkRate } from './validate.js';
import { resolveEchoEngine } from './echo-engine-choice.js';

/** The sound device: the null clock, or ALSA PCMs (plugin chains such as plug, dmix, file work). */
export type DeviceOptions =
  | { type: 'null'; rate?: number }
  | {
      type: 'alsa';
      /** Capture PCM, default 'default'. */
      capture?: string;
      /** Playback PCM, default 'default'. */
      playback?: string;
      /** Device rate, default 48000. */
      rate?: number;
      /**
       * Open the device at the bridge rate instead when both PCMs take it as it is (not through a
       * plug or rate plugin): nothing is resampled. Falls back to `rate` otherwise. Default false.
       */
      matchBridgeRate?: boolean;
      /** A private ALSA configuration file instead of the system's. */
      alsaConfig?: string;
      captureChannels?: number;
      playbackChannels?: number;
      /** ALSA buffer in 10 ms periods, default 4. */
      bufferPeriods?: number;
      /** Silent periods written before playback starts, default 2. */
      prefillPeriods?: number;
      /**
       * ALSA period in ms, 10-40 in whole 10 ms ticks, default 10: the audio thread wakes once a
       * period. bufferPeriods and prefillPeriods still count 10 ms; prefill covers a period and a tick, the buffer two periods.
       */
      periodMs?: number;
    };

/** Echo canceller settings; defaults: on, 250 ms tail, measured delay, 20 ms margin, denoise on. */
export interface AecOptions {
  enabled?: boolean;
  /**
   * Echo engine, default 'speex' here (the daemon's configuration defaults to 'auto'); 'webrtc' needs a
   * build with webrtc-audio-processing (ERR_AEC_ENGINE_UNAVAILABLE) and a bridge rate of 8, 16, 32 or
   * 48 kHz (ERR_ENGINE_INIT); 'auto' is webrtc when both hold, else speex.
   */
  engine?: NativeEchoEngineName | 'auto';
  /** WebRTC engine's residual echo suppression, default 'low'. */
  suppression?: NativeEchoSuppression;
  /** WebRTC AEC2: the most its suppressor cuts while the user talks, dB -60..0; default -60 = not eased. */
  nearTalkMaxCutDb?: number;
  tailMs?: number;
  /** Playback-to-capture delay in ms, overriding the estimated one; -1 (default) estimates it. */
  delayMs?: number;
  /** Longest delay the estimator searches, in ms, default 500. */
  maxDelayMs?: number;
  marginMs?: number;
  denoise?: boolean;
  /** Residual echo suppression while the far end plays alone, dB (<= 0), default -30; 0 = off. */
  suppressDb?: number;
  /** AGC after the canceller, default true. */
  agc?: boolean;
  /** AGC target speech level, dBFS, default -26. */
  agcTargetDbfs?: number;
  /** Ducking of a reply while the user talks over it, dB, default 0 = off. */
  duckDb?: number;
  /** Output peak ceiling, dBFS, default 0 = off. */
  maxOutputDbfs?: number;
}

/** Options of AudioEngine.create(). */
export interface AudioEngineOptions {
  /** Default { type: 'null' }. */
  device?: DeviceOptions;
  /** Rate the bridge mixes at, default 16000. */
  bridgeRate?: number;
  aec?: AecOptions;
  /** speexdsp qualities, defaults capture 5, playback 5 (bench/resampler-quality.ts). */
  resampleQuality?: { capture?: number; playback?: number };
  /** SCHED_FIFO for the audio thread when permitted, default true. */
  realtime?: boolean;
  /** Tests: no audio thread, time advances with step(). Default false. */
  manualClock?: boolean;
  /** Reject create() when the ALSA device cannot be opened, instead of retrying in the background. */
  requireDevice?: boolean;
  /** How long create() waits for the first device open attempt, default 5000 ms. */
  deviceTimeoutMs?: number;
  /** Device reopen backoff in ms, default 500 doubling to 10000. */
  retry?: { minMs?: number; maxMs?: number };
  /** The binding to use; default the native addon (tests pass the TypeScript fake). */
  binding?: NativeBinding;
}

/** Engine statistics: the native counters plus totals over ports and the last device error. */
export interface EngineStats extends NativeEngineStats {
  underruns: number;
  dropped: number;
  ports: { id: number; kind: string; rxFrames: number; txFrames: number; underruns: number; dropped: number }[];
  lastError: { code: string; message: string } | null;
}

/** What a port object gives the engine so native events can reach it (DestroyableMedia). */
export interface PortOwner {
  readonly kind: string;
  handleEvent(event: NativeEvent): void;
}

const ECHO_ENGINES: readonly (NativeEchoEngineName | 'auto')[] = ['auto', 'speex', 'webrtc'];
const ECHO_SUPPRESSIONS: readonly NativeEchoSuppression[] = ['low', 'moderate', 'high'];

function toNativeOptions(opts: AudioEngineOptions, binding: NativeBinding): NativeEngineOptions {
  const device = opts.device ?? { type: 'null' };
  const aec = opts.aec ?? {};
  const bridgeRate = checkRate(opts.bridgeRate ?? 16000, 'bridgeRate');
  const native: NativeEngineOptions = {
    device: device.type,
    manualClock: opts.manualClock ?? false,
    bridgeRate,
    deviceRate: checkRate(device.rate ?? 48000, 'device.rate'),
    aec: aec.enabled ?? true,
    aecEngine: resolveEchoEngine(checkOneOf(aec.engine ?? 'speex', 'aec.engine', ECHO_ENGINES), binding, bridgeRate),
    aecSuppression: checkOneOf(aec.suppression ?? 'low', 'aec.suppression', ECHO_SUPPRESSIONS),
    aecNearTalkMaxCutDb: checkInt(aec.nearTalkMaxCutDb ?? -60, 'aec.nearTalkMaxCutDb', -60, 0),
    aecTailMs: checkInt(aec.tailMs ?? 250, 'aec.tailMs', 10, 1000),
    aecDelayMs: checkInt(aec.delayMs ?? -1, 'aec.delayMs', -1, 1000),
    aecMaxDelayMs: checkInt(aec.maxDelayMs ?? 500, 'aec.maxDelayMs', 10, 1000),
    aecMarginMs: checkInt(aec.marginMs ?? 20, 'aec.marginMs', 0, 200),
    denoise: aec.denoise ?? true,
    post: {
      suppressDb: checkInt(aec.suppressDb ?? -30, 'aec.suppressDb', -80, 0),
      agc: aec.agc ?? true,
      agcTargetDbfs: checkInt(aec.agcTargetDbfs ?? -26, 'aec.agcTargetDbfs', -60, -3),
    },
    shaper: {
      duckDb: checkInt(aec.duckDb ?? 0, 'aec.duckDb', 0, 60),
      maxOutputDbfs: checkInt(aec.maxOutputDbfs ?? 0, 'aec.maxOutputDbfs', -60, 0),
    },
    captureQuality: checkInt(opts.resampleQuality?.capture ?? 5, 'resampleQuality.capture', 0, 10),
    playbackQuality: checkInt(opts.resampleQuality?.playback ?? 5, 'resampleQuality.playback', 0, 10),
    realtime: opts.realtime ?? true,
    retryMinMs: checkInt(opts.retry?.minMs ?? 500, 'retry.minMs', 10, 60000),
    retryMaxMs: checkInt(opts.retry?.maxMs ?? 10000, 'retry.maxMs', 10, 600000),
  };
  if (device.type === 'alsa') {
    Object.assign(native, {
      capture: device.capture ?? 'default',
      playback: device.playback ?? 'default',
      matchBridgeRate: device.matchBridgeRate ?? false,
      captureChannels: checkInt(device.captureChannels ?? 1, 'device.captureChannels', 1, 8),
      playbackChannels: checkInt(device.playbackChannels ?? 1, 'device.playbackChannels', 1, 8),
      bufferPeriods: checkInt(device.bufferPeriods ?? 4, 'device.bufferPeriods', 2, 32),
      prefillPeriods: checkInt(device.prefillPeriods ?? 2, 'device.prefillPeriods', 1, 31),
      periodMs: checkInt(device.periodMs ?? 10, 'device.periodMs', 10, 40),
    });
    if (device.alsaConfig !== undefined) native.alsaConfig = device.alsaConfig;
  }
  return native;
}

/**
 * The audio engine: the sound device, echo canceller and conference bridge on a native thread.
 * Events: 'device' ({state: 'open' | 'failed' | 'lost', code?, message?}) and 'error' (MediaError
 * ERR_DEVICE_OPEN / ERR_DEVICE_LOST; emitted only when someone listens, so it can never crash the
 * process). The engine keeps its clock running on the null clock while the device is retried.
 */
export class AudioEngine extends EventEmitter {
  /** The sound device as a source: the echo-cancelled microphone (bridge slot 0). */
  readonly captureMedia: AudioMedia;
  /** The sound device as a sink: the speaker (bridge slot 0). */
  readonly playbackMedia: AudioMedia;
  /** Rate the bridge mixes at. */
  readonly bridgeRate: number;
  /** The binding this engine runs on. */
  readonly binding: NativeBinding;
  private readonly native: NativeEngine;
  private readonly owners = new Map<number, PortOwner>();
  private lastError: { code: string; message: string } | null = null;
  private closed = false;

  private constructor(binding: NativeBinding, options: NativeEngineOptions) {
    super();
    this.binding = binding;
    this.bridgeRate = options.bridgeRate ?? 16000;
    try {
      this.native = new binding.Engine(options, (event) => this.dispatch(event));
    } catch (error) {
      throw toMediaError(error);
    }
    this.captureMedia = new AudioMedia(this, 0);
    this.playbackMedia = this.captureMedia;
  }

  /** Creates and starts an engine; with an ALSA device, waits for the first open attempt. */
  static async create(options: AudioEngineOptions = {}): Promise<AudioEngine> {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const binding = options.binding ?? loadNativeBinding();
    const native = toNativeOptions(options, binding);
    const engine = new AudioEngine(binding, native);
    const first = native.device === 'alsa' ? engine.firstDeviceResult(options.deviceTimeoutMs ?? 5000) : null;
    engine.call((n) => n.start());
    const failure = await first;
    if (failure && options.requireDevice) {
      engine.close();
      throw failure;
    }
    return engine;
  }

  /** What the addon was built with (its echo engines). */
  static buildInfo(binding: NativeBinding = loadNativeBinding()): NativeBuildInfo {
    return binding.buildInfo();
  }

  /** ALSA PCM devices known to this machine. */
  static listDevices(binding: NativeBinding = loadNativeBinding()): ReturnType<NativeBinding['listDevices']> {
    try {
      return binding.listDevices();
    } catch (error) {
      throw toMediaError(error);
    }
  }

  /** Whether close() was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Manual clock only: runs `ticks` 10 ms ticks now. */
  step(ticks = 1): void {
    this.call((n) => n.step(ticks));
  }

  /** Stops the audio clock for `ms`, as a hung audio thread would (watchdog tests). */
  stallForTest(ms: number): void {
    this.call((n) => n.stallForTest(ms));
  }

  /** Statistics: frames, xruns, underruns, dropped, tick time, echo canceller state, per port. */
  stats(): EngineStats {
    const base = this.call((n) => n.stats());
    const ports = [...this.owners.entries()].map(([id, owner]) => ({ id, kind: owner.kind, ...this.native.portStats(id) }));
    return {
      ...base,
      underruns: ports.reduce((sum, p) => sum + p.underruns, 0),
      dropped: ports.reduce((sum, p) => sum + p.dropped, 0),
      ports,
      lastError: this.lastError,
    };
  }

  /** Stops the audio thread, closes the device and frees every port. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close();
    this.owners.clear();
  }

  /** @internal Runs an operation on the native engine, turning its errors into MediaErrors. */
  call<T>(operation: (native: NativeEngine) => T): T {
    if (this.closed) throw new MediaError('ERR_ENGINE_CLOSED', 'the audio engine is closed');
    try {
      return operation(this.native);
    } catch (error) {
      throw toMediaError(error);
    }
  }

  /** @internal Routes a port's native events to its owner. */
  register(port: number, owner: PortOwner): void {
    this.owners.set(port, owner);
  }

  /** @internal Stops routing events to a destroyed port. */
  unregister(port: number): void {
    this.owners.delete(port);
  }

  private dispatch(event: NativeEvent): void {
    if (this.closed) return;
    switch (event.type) {
      case 'device_open':
        this.emit('device', { state: 'open' });
        return;
      case 'device_open_failed':
      case 'device_lost':
        this.deviceFailed(event);
        return;
      default:
        this.owners.get(event.port)?.handleEvent(event);
    }
  }

  private deviceFailed(event: NativeEvent): void {
    const code = event.type === 'device_lost' ? 'ERR_DEVICE_LOST' : 'ERR_DEVICE_OPEN';
    const message = event.message ?? 'sound device error';
    this.lastError = { code, message };
    this.emit('device', { state: event.type === 'device_lost' ? 'lost' : 'failed', code, message, retryInMs: event.b });
    if (this.listenerCount('error') > 0) this.emit('error', new MediaError(code, message, { errno: -event.a }));
  }

  private firstDeviceResult(timeoutMs: number): Promise<MediaError | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(null), timeoutMs);
      const finish = (result: MediaError | null): void => {
        clearTimeout(timer);
        this.off('device', onDevice);
        resolve(result);
      };
      const onDevice = (d: { state: string; code?: string; message?: string }): void => {
        finish(d.state === 'open' ? null : new MediaError('ERR_DEVICE_OPEN', d.message ?? 'cannot open the sound device'));
      };
      this.on('device', onDevice);
    });
  }
}
