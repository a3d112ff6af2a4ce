/**
 * A pure-TypeScript implementation of the NativeBinding interface, for tests of the layers above the
 * addon. It keeps the native engine's observable semantics (port ids, argument checks and messages,
 * error codes, queued operations, 32-bit mixing with overflow attenuation, levels, meters, ports,
 * asynchronous events); test/contract runs the same suite against it and the addon.
 *
 * Differences by design: resampling is linear interpolation (not speexdsp), the echo canceller passes
 * the microphone through, the delay estimator never finds a delay, and the sound device is FakeEngine's feedCapture()/takePlayback() rather
 * than a clock-driven ALSA or null device ('alsa' pretends to open at start()).
 */
import type {
  NativeBinding,
  NativeBuildInfo,
  NativeDelayEstimator,
  NativeDelayEstimatorOptions,
  NativeDeviceInfo,
  NativeEchoCanceller,
  NativeEchoEngineName,
  NativeEchoOptions,
  NativeEngineOptions,
  NativeEvent,
  NativeUserEase,
  NativeWatchdogOptions,
} from './binding.js';
import { optionBool, optionInt, requireInt, requireInt16Array, requireObject } from './fake/args.js';
import { ALL_ECHO_ENGINES, checkEchoEngineTiming, optionEchoEngine, optionSuppression } from './fake/echo-options.js';
import { resampleBuffer } from './fake/dsp.js';
import { FakeEngine } from './fake/engine.js';
import { FakeWatchdog, type FakeNotifySend } from './fake/watchdog.js';

export { FakeEngine } from './fake/engine.js';
export { FakeWatchdog, type FakeNotifySend } from './fake/watchdog.js';

function checkFrames(mic: unknown, reference: unknown, frame: number): Int16Array {
  const m = requireInt16Array(mic, 'mic');
  const r = requireInt16Array(reference, 'reference');
  if (m.length !== r.length) throw new RangeError('mic and reference must have the same length');
  if (m.length % frame !== 0) throw new RangeError(`mic length must be a multiple of the frame (${frame})`);
  return m;
}

/**
 * The fake echo canceller: checks its options and arguments like the addon's (an engine the pretended
 * build lacks included), returns the microphone unchanged and reports { erleDb: 0, converged: false }.
 */
export class FakeEchoCanceller implements NativeEchoCanceller {
  private readonly frame: number;
  private readonly engine: NativeEchoEngineName;
  private readonly userEase: NativeUserEase;
  private frames = 0;

  constructor(options: NativeEchoOptions, echoEngines: readonly NativeEchoEngineName[] = ALL_ECHO_ENGINES) {
    const o = requireObject(options, 'options');
    const rate = optionInt(o, 'rate', 16000, 8000, 48000);
    this.frame = optionInt(o, 'frame', rate / 100, 16, 4800);
    optionInt(o, 'tailMs', 250, 10, 1000);
    optionBool(o, 'denoise', true);
    optionInt(o, 'echoSuppressDb', -40, -90, 0);
    optionInt(o, 'echoSuppressActiveDb', -15, -90, 0);
    optionSuppression(o, 'suppression');
    optionInt(o, 'referenceLeadMs', 20, 0, 200);
    // It removes nothing, so it eases nothing either.
    this.userEase = optionInt(o, 'nearTalkMaxCutDb', -60, -60, 0) > -60 ? 'unsupported' : 'off';
    this.engine = optionEchoEngine(o, 'engine', echoEngines);
    checkEchoEngineTiming(this.engine, rate, this.frame);
  }

  process(mic: Int16Array, reference: Int16Array, nearTalk?: Uint8Array, easedPowerRatio?: Float32Array): Int16Array {
    const m = checkFrames(mic, reference, this.frame);
    const frames = m.length / this.frame;
    if (nearTalk !== undefined && (!(nearTalk instanceof Uint8Array) || nearTalk.length !== frames)) {
      throw new TypeError('nearTalk must be a Uint8Array with one value per frame');
    }
    if (easedPowerRatio !== undefined) {
      if (!(easedPowerRatio instanceof Float32Array) || easedPowerRatio.length !== frames) {
        throw new TypeError('easedPowerRatio must be a Float32Array with one value per frame');
      }
      easedPowerRatio.fill(1);
    }
    this.frames += frames;
    return m.slice();
  }

  reset(): void {
    // Nothing adapted: the fake passes the microphone through.
  }

  stats(): { erleDb: number; converged: boolean; frames: number; engine: NativeEchoEngineName; userEase: NativeUserEase } {
    return { erleDb: 0, converged: false, frames: this.frames, engine: this.engine, userEase: this.userEase };
  }
}

/** The fake delay estimator: checks options and arguments like the addon's and never finds a delay. */
export class FakeDelayEstimator implements NativeDelayEstimator {
  private readonly frame: number;

  constructor(options: NativeDelayEstimatorOptions) {
    const o = requireObject(options, 'options');
    const rate = optionInt(o, 'rate', 16000, 8000, 48000);
    if (rate % 400 !== 0) throw new RangeError('options.rate must be a multiple of 400 Hz');
    optionInt(o, 'maxDelayMs', 500, 10, 1000);
    this.frame = rate / 100;
  }

  process(mic: Int16Array, reference: Int16Array): void {
    checkFrames(mic, reference, this.frame);
  }

  estimate(): { delayMs: number; confidence: number; changes: number } {
    return { delayMs: -1, confidence: 0, changes: 0 };
  }
}

/** Whole-buffer resampling by linear interpolation; output length ceil(n * outRate / inRate). */
export function fakeResample(samples: Int16Array, inRate: number, outRate: number, quality: number): Int16Array {
  const pcm = requireInt16Array(samples, 'samples');
  const from = requireInt(inRate, 'inRate', 1000, 384000);
  const to = requireInt(outRate, 'outRate', 1000, 384000);
  requireInt(quality, 'quality', 0, 10);
  return resampleBuffer(pcm, from, to);
}

/** The fake has no sound cards: always []. */
export function fakeListDevices(): NativeDeviceInfo[] {
  return [];
}

/** Options of createFakeBinding(). */
export interface FakeBindingOptions {
  /**
   * Where sd_notify states go (the binding's notify(), and the pings of its Watchdog). Default none:
   * notify() returns false and the watchdog only counts its pings, as the addon without $NOTIFY_SOCKET.
   */
  notify?: FakeNotifySend;
  /** The echo engines the pretended build has, default ['speex', 'webrtc'] (['speex']: an addon built without WebRTC). */
  echoEngines?: readonly NativeEchoEngineName[];
  /** The webrtc-audio-processing API the pretended webrtc engine is built on, default '0.3' (AEC2); '1' is AEC3. */
  webrtcApm?: '0.3' | '1';
}

/**
 * A fresh fake binding. `Engine` is FakeEngine, whose extra methods feedCapture()/takePlayback()
 * drive the fake sound device: `new binding.Engine(...) as FakeEngine`, or construct FakeEngine directly.
 * `Watchdog` is a FakeWatchdog that reads FakeEngines' frame counters.
 */
export function createFakeBinding(
  options: FakeBindingOptions = {},
): NativeBinding & { Engine: typeof FakeEngine; Watchdog: new (options: NativeWatchdogOptions) => FakeWatchdog } {
  const send = options.notify ?? null;
  const echoEngines = [...(options.echoEngines ?? ALL_ECHO_ENGINES)];
  const buildInfo = (): NativeBuildInfo => ({ echoEngines: [...echoEngines], webrtcApm: echoEngines.includes('webrtc') ? (options.webrtcApm ?? '0.3') : '' });
  return {
    Engine: class extends FakeEngine {
      constructor(engineOptions: NativeEngineOptions, onEvent: (event: NativeEvent) => void) {
        super(engineOptions, onEvent, echoEngines);
      }
    },
    EchoCanceller: class extends FakeEchoCanceller {
      constructor(echoOptions: NativeEchoOptions) {
        super(echoOptions, echoEngines);
      }
    },
    DelayEstimator: FakeDelayEstimator,
    buildInfo,
    resample: fakeResample,
    listDevices: fakeListDevices,
    notify: (state: string) => (send ? send(state) : false),
    Watchdog: class extends FakeWatchdog {
      constructor(watchdogOptions: NativeWatchdogOptions) {
        super(watchdogOptions, send);
      }
    },
  };
}
