/** The public media API of speakerd (PJSUA2-style names). */
export { AudioEngine } from './engine.js';
export type { AudioEngineOptions, DeviceOptions, AecOptions, EngineStats } from './engine.js';
export { AudioMedia, DestroyableMedia } from './audio-media.js';
export { AudioMediaPlayer } from './player.js';
export type { PlayerOptions, PlayerEvents } from './player.js';
export { AudioMediaRecorder } from './recorder.js';
export type { RecorderOptions, RecorderEvents } from './recorder.js';
export { AudioMediaTone } from './tone.js';
export type { ToneSegment, ToneEvents } from './tone.js';
export { AudioMediaRing } from './ring.js';
export type { RingOptions, RingEvents } from './ring.js';
export { MediaError } from './errors.js';
export type { MediaErrorCode } from './errors.js';
export { parseWav, encodeWav, wavHeader, downmix } from './wav.js';
export type { WavAudio, WavLimits } from './wav.js';
export type { NativeBinding } from './binding.js';
export { loadNativeBinding } from './native-binding.js';
export { createFakeBinding } from './fake-binding.js';
