import type { NativeBinding, NativeEchoEngineName } from './binding.js';

/** The bridge rates the webrtc echo engine runs at (its 10 ms frames at its native band rates). */
export const WEBRTC_ECHO_RATES: readonly number[] = [8000, 16000, 32000, 48000];

/**
 * The echo engine `choice` stands for on this build at `bridgeRate`: 'auto' is webrtc when the addon
 * was built with webrtc-audio-processing 0.3 (AEC2) and the rate is one it runs at (it keeps the user
 * through double talk in a quiet room, where speex's residual echo is too close to the user for the
 * post filter to tell them apart; docs/audio.md), else speex. AEC3 (the 1.x API, Yocto's) is not
 * chosen by 'auto': it has not been through the closed-loop room bench, and through the engine it
 * removed less echo than AEC2 (scripts/test-webrtc1.sh). A named engine is itself.
 */
export function resolveEchoEngine(choice: NativeEchoEngineName | 'auto', binding: Pick<NativeBinding, 'buildInfo'>, bridgeRate: number): NativeEchoEngineName {
  if (choice !== 'auto') return choice;
  const build = binding.buildInfo();
  return build.echoEngines.includes('webrtc') && build.webrtcApm === '0.3' && WEBRTC_ECHO_RATES.includes(bridgeRate) ? 'webrtc' : 'speex';
}
