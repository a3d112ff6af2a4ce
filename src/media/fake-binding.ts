/**
 * A pure-TypeScript implementation of the NativeBinding interface, for tests of the layers above the
 * addon. It keeps the native engine's observable semantics (port ids, argument checks and messages,
 * error codes, queued operations, 32-bit mixing with overflow attenuation, levels, meters, ports,
 * asynchronous events); test/contract runs the same suite against it and the addon.
 *
 * Differences by design: resampling is linear interpolation (not speexdsp), the echo canceller passes
 * the microphone through, and the sound device is FakeEngine's feedCapture()/takePlayback() rather
 * than a clock-driven ALSA or null device ('alsa' pretends to open at start()).
 */
import type {
  NativeBinding,
  NativeDeviceInfo,
  NativeEchoCanceller,
  NativeEchoOptions,
  NativeWatchdogOptions,
} from './binding.js';
import { optionBool, optionInt, requireInt, requireInt16Array, requireObject } from './fake/args.js';
import { resampleBuffer } from './fake/dsp.js';
import { FakeEngine } from './fake/engine.js';
import { FakeWatchdog, type FakeNotifySend } from './fake/watchdog.js';

export { FakeEngine } from './fake/engine.js';
export { FakeWatchdog, type FakeNotifySend } from './fake/watchdog.js';

/**
 * The fake echo canceller: checks its options and arguments like the addon's, returns the microphone
 * unchanged and reports { erleDb: 0, converged: false }.
 */
export class FakeEchoCanceller implements NativeEchoCanceller {
  private readonly frame: number;

  constructor(options: NativeEchoOptions) {
    const o = requireObject(options, 'options');
    const rate = optionInt(o, 'rate', 16000, 8000, 48000);
    this.frame = optionInt(o, 'frame', rate / 100, 16, 4800);
    optionInt(o, 'tailMs', 250, 10, 1000);
    optionBool(o, 'denoise', true);
    optionInt(o, 'echoSuppressDb', -40, -90, 0);
    optionInt(o, 'echoSuppressActiveDb', -15, -90, 0);
  }

  process(mic: Int16Array, reference: Int16Array): Int16Array {
    const m = requireInt16Array(mic, 'mic');
    const r = requireInt16Array(reference, 'reference');
    if (m.length !== r.length) throw new RangeError('mic and reference must have the same length');
    if (m.length % this.frame !== 0) {
      throw new RangeError(`mic length must be a multiple of the frame (${this.frame})`);
    }
    return m.slice();
  }

  stats(): { erleDb: number; converged: boolean } {
    return { erleDb: 0, converged: false };
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
  return {
    Engine: FakeEngine,
    EchoCanceller: FakeEchoCanceller,
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
