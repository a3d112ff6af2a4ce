/**
 * Types of the offline wrappers of what follows the echo canceller (the double-talk detector, residual
 * echo suppression and AGC) and of the playback side (ducking, output ceiling): the engine's own DSP
 * blocks run on whole buffers, for tests and benchmarks. Native only (the fake binding has none).
 */

/** Who talks in a 10 ms frame, as the double-talk detector decides (the values of `states`). */
export const TALK_STATES = ['idle', 'far', 'near', 'double'] as const;

/** A double-talk decision: nobody, the far end alone, the user alone, both. */
export type TalkState = (typeof TALK_STATES)[number];

/** Options of the post filter (also the engine's `post` options). Every field is optional. */
export interface NativeEchoPostOptions {
  rate?: number;
  frame?: number;
  /** The detector's reference envelope decays 60 dB in this, ms (room reverberation), default 500. */
  dtdTailMs?: number;
  /** The detector holds a user decision this long, ms, default 300. */
  dtdHangoverMs?: number;
  /** Frames in a row that must show the user before the detector decides for it, default 3. */
  dtdOnsetFrames?: number;
  /** Margin over the learnt leakage medians for the user, dB, default 15. */
  dtdMarginDb?: number;
  /** The canceller's output lag in frames, default 1 (speex_preprocess). */
  outputLagFrames?: number;
  /** Residual echo suppression while the far end plays alone, dB (<= 0), default -30; 0 = off. */
  suppressDb?: number;
  /** Suppression while the user talks over the far end, dB (<= 0), default 0. */
  suppressDoubleTalkDb?: number;
  /** AGC on, default true. */
  agc?: boolean;
  /** AGC target speech level, dBFS, default -26. */
  agcTargetDbfs?: number;
  /** Most AGC gain, dB, default 30. */
  agcMaxGainDb?: number;
  /** Apply a gain above unity only while the user talks (noise and echo between words stay at the microphone's level), default true. */
  agcGate?: boolean;
}

/** What `EchoPostFilter.process` returns, per sample (`out`) and per 10 ms frame (the rest). */
export interface NativeEchoPostResult {
  out: Int16Array;
  /** TALK_STATES index per frame. */
  states: Uint8Array;
  /** Frames in a row the detector's raw decision has shown the user. */
  nearRuns: Uint16Array;
  /**
   * Frames in a row the raw decision has shown the user while the far end's voice played (not in its
   * pauses or reverberant tail): the engine eases its canceller for the user from `dtdOnsetFrames` of them.
   */
  easeRuns: Uint16Array;
  /** The AGC's learnt gain per frame, dB. */
  agcGainDb: Float32Array;
  /** The gain the AGC applied per frame (the learnt one while the user talks, at most 0 dB between words), dB. */
  agcAppliedDb: Float32Array;
  suppressionDb: Float32Array;
}

/** The offline post filter. */
export interface NativeEchoPostFilter {
  /**
   * `mic` and `reference` as given to the canceller, `cancelled` its output (same length, whole frames);
   * `easedPowerRatio` (one per frame) what the canceller reported with it (NativeEchoCanceller.process).
   */
  process(mic: Int16Array, reference: Int16Array, cancelled: Int16Array, easedPowerRatio?: Float32Array): NativeEchoPostResult;
}

/** Options of the playback shaper (also the engine's). Every field is optional. */
export interface NativePlaybackShaperOptions {
  rate?: number;
  frame?: number;
  /** Ducking depth in dB while the user talks over a reply, default 0 = off. */
  duckDb?: number;
  /** The user must talk over the reply this long before it ducks, ms, default 60. */
  duckEngageMs?: number;
  /** Ducking holds this long after the user stops, ms, default 300. */
  duckHoldMs?: number;
  /** Output peak ceiling in dBFS, default 0 = off. */
  maxOutputDbfs?: number;
}

/** The post filter's and playback side's figures in the engine's stats(). */
export interface NativeAecPostStats {
  /** The double-talk detector's last decision. */
  talk: TalkState;
  /** Residual echo suppression gain now, dB (0 = open). */
  suppressionDb: number;
  /** AGC gain learnt for the user's speech, dB. */
  agcGainDb: number;
  /** AGC gain applied now, dB: the learnt one while the user talks, at most 0 dB between words. */
  agcAppliedDb: number;
  /** The reply is ducked for the user's speech. */
  duckActive: boolean;
  /** The output ceiling's deepest gain reduction in the last frame, dB (<= 0). */
  limiterDb: number;
}

/** The offline playback shaper. */
export interface NativePlaybackShaper {
  /** `states`/`nearRuns` per frame as the post filter gave them; returns the shaped speaker signal. */
  process(speaker: Int16Array, states: Uint8Array, nearRuns: Uint16Array): { out: Int16Array; ducked: Uint8Array };
}
