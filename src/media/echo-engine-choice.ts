import type { NativeBinding, NativeEchoEngineName } from './binding.js';

/**
 * The echo engine `choice` stands for on this build: 'auto' is webrtc when the addon was built with
 * webrtc-audio-processing (it keeps the user through double talk in a quiet room, where speex's
 * residual echo is too close to the user for the post filter to tell them apart; docs/audio.md),
 * else speex. A named engine is itself.
 */
export function resolveEchoEngine(choice: NativeEchoEngineName | 'auto', binding: Pick<NativeBinding, 'buildInfo'>): NativeEchoEngineName {
  if (choice !== 'auto') return choice;
  return binding.buildInfo().echoEngines.includes('webrtc') ? 'webrtc' : 'speex';
}
