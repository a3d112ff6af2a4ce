/**
 * A server-style voice activity detector, as a realtime service runs it on what the device sends:
 * 20 ms frames, a frame is speech when its level is both above the noise floor by a margin and above
 * an absolute threshold (server_vad's threshold 0.5 taken as 20 dB below the nominal speech level of
 * -26 dBFS); speech starts after 100 ms of speech frames and stops after 500 ms without (silence
 * duration 500 ms; the 300 ms prefix padding only moves the reported start, not the decision).
 */

/** Frame of the detector, in ms. */
export const VAD_FRAME_MS = 20;
/** Nominal level of a user's speech for a service (ITU-T P.56 active level), in dBFS. */
export const NOMINAL_SPEECH_DBFS = -26;

/** The detector's settings. */
export interface VadSettings {
  /** A frame must be this far above the noise floor, in dB. */
  marginDb: number;
  /** A frame must be above this level, in dBFS. */
  thresholdDbfs: number;
  /** Speech frames in a row that start speech, in ms. */
  startMs: number;
  /** Silence that ends speech, in ms. */
  silenceMs: number;
}

/** The settings the bench uses (see the module comment). */
export const SERVER_VAD: VadSettings = { marginDb: 6, thresholdDbfs: NOMINAL_SPEECH_DBFS - 20, startMs: 100, silenceMs: 500 };

/** What the detector decided: sample positions where speech started, and per frame whether it was in speech. */
export interface VadResult {
  starts: number[];
  inSpeech: Uint8Array;
  frameSamples: number;
}

/** Level of each frame of `x` (PCM16 units) in dBFS. */
export function frameLevels(x: ArrayLike<number>, frameSamples: number): Float64Array {
  const frames = Math.floor(x.length / frameSamples);
  const levels = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let n = f * frameSamples; n < (f + 1) * frameSamples; n++) sum += x[n]! * x[n]!;
    levels[f] = 10 * Math.log10(sum / frameSamples / 32768 ** 2 + 1e-20);
  }
  return levels;
}

/**
 * Runs the detector over `x` (PCM16 units at `rate`) with a noise floor of `floorDbfs` (the level
 * of what is sent while nobody speaks).
 */
export function runVad(x: ArrayLike<number>, rate: number, floorDbfs: number, settings: VadSettings = SERVER_VAD): VadResult {
  const frameSamples = (rate * VAD_FRAME_MS) / 1000;
  const levels = frameLevels(x, frameSamples);
  const threshold = Math.max(settings.thresholdDbfs, floorDbfs + settings.marginDb);
  const startFrames = Math.round(settings.startMs / VAD_FRAME_MS);
  const silenceFrames = Math.round(settings.silenceMs / VAD_FRAME_MS);
  const inSpeech = new Uint8Array(levels.length);
  const starts: number[] = [];
  let speaking = false;
  let run = 0;
  let quiet = 0;
  for (let f = 0; f < levels.length; f++) {
    const speech = levels[f]! > threshold;
    if (!speaking) {
      run = speech ? run + 1 : 0;
      if (run >= startFrames) {
        speaking = true;
        quiet = 0;
        starts.push((f - startFrames + 1) * frameSamples);
      }
    } else {
      quiet = speech ? 0 : quiet + 1;
      if (quiet >= silenceFrames) {
        speaking = false;
        run = 0;
      }
    }
    inSpeech[f] = speaking ? 1 : 0;
  }
  return { starts, inSpeech, frameSamples };
}
