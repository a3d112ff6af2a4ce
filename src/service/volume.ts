/** Quietest audible volume step, in dB below full scale (volume 1 of 100). */
const RANGE_DB = 50;

/**
 * The playback gain for a volume of 0..100: 0 is silence, 100 is unity (AI audio then plays
 * unmodified), and each step in between is an equal step in loudness (dB), which is how ears hear it.
 */
export function volumeToGain(volume: number): number {
  if (volume <= 0) return 0;
  const clamped = Math.min(100, volume);
  return 10 ** ((-RANGE_DB * (100 - clamped)) / 100 / 20);
}

/** The volume (0..100, rounded) that a playback gain corresponds to. */
export function gainToVolume(gain: number): number {
  if (gain <= 0) return 0;
  return Math.max(1, Math.min(100, Math.round(100 + (100 * 20 * Math.log10(gain)) / RANGE_DB)));
}
