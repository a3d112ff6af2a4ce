/** Echo engine options of the fake, checked with the messages of native/addon/echo_options.h. */
import type { NativeEchoEngineName, NativeEchoSuppression } from '../binding.js';
import { WEBRTC_ECHO_RATES } from '../echo-engine-choice.js';
import { codedError, optionString } from './args.js';

/** Every echo engine an addon can be built with. */
export const ALL_ECHO_ENGINES: readonly NativeEchoEngineName[] = ['speex', 'webrtc'];

/**
 * `o[key]`: 'speex' (default) or 'webrtc'; one not in `built` is Error{code:'ERR_AEC_ENGINE_UNAVAILABLE'}
 * (the addon's message: only webrtc can be missing).
 */
export function optionEchoEngine(o: Record<string, unknown>, key: string, built: readonly NativeEchoEngineName[]): NativeEchoEngineName {
  const name = optionString(o, key, 'speex');
  if (name !== 'speex' && name !== 'webrtc') throw new RangeError(`options.${key} must be 'speex' or 'webrtc'`);
  if (!built.includes(name)) {
    throw codedError(
      'ERR_AEC_ENGINE_UNAVAILABLE',
      `echo engine '${name}' is not built into this addon (webrtc-audio-processing was not found at build time); built: speex`,
    );
  }
  return name;
}

/**
 * The addon's webrtc engine runs only on 10 ms frames at 8, 16, 32 or 48 kHz: anything else is
 * Error{code:'ERR_ENGINE_INIT'} with its message (native/dsp/webrtc_echo.cc).
 */
export function checkEchoEngineTiming(engine: NativeEchoEngineName, rate: number, frame: number): void {
  if (engine !== 'webrtc') return;
  if (!WEBRTC_ECHO_RATES.includes(rate) || frame !== rate / 100) {
    throw codedError('ERR_ENGINE_INIT', 'the webrtc echo engine needs 10 ms frames at 8000, 16000, 32000 or 48000 Hz');
  }
}

/** `o[key]`: 'low' (default), 'moderate' or 'high'. */
export function optionSuppression(o: Record<string, unknown>, key: string): NativeEchoSuppression {
  const name = optionString(o, key, 'low');
  if (name !== 'low' && name !== 'moderate' && name !== 'high') {
    throw new RangeError(`options.${key} must be 'low', 'moderate' or 'high'`);
  }
  return name;
}
