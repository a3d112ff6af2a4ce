/** Settings of the energy voice activity detector. */
export interface VadOptions {
  /** Samples per analysis frame (10 ms at the rate). */
  frame: number;
  /** Speech must be this many dB above the tracked noise floor. */
  marginDb: number;
  /** And at least this loud (dBFS), so digital silence or hiss is never speech. */
  minDbfs: number;
  /** Frames of speech before it counts as started (30 ms). */
  startFrames: number;
  /** Frames of quiet before speech counts as stopped (700 ms). */
  stopFrames: number;
}

/** What one frame changed. */
export type VadEdge = 'start' | 'stop' | null;

/**
 * Exact sum of squares of samples[start, end), accumulated in small integers: each |s| = 256a + b,
 * s^2 = 65536 a^2 + 512 ab + b^2. V8 keeps these as small integers even unoptimised (the unit runs
 * Node with --no-opt), where a double accumulator would box a number per sample (megabytes a second
 * of garbage at 16 kHz).
 */
export function sumOfSquares(samples: Int16Array, start: number, end: number): number {
  let aa = 0;
  let ab = 0;
  let bb = 0;
  for (let i = start; i < end; i++) {
    const s = samples[i] ?? 0;
    const v = s < 0 ? -s : s;
    const a = v >> 8;
    const b = v & 255;
    aa += a * a;
    ab += a * b;
    bb += b * b;
  }
  return aa * 65536 + ab * 512 + bb;
}

function dbfs(samples: Int16Array, start: number, end: number): number {
  const sum = sumOfSquares(samples, start, end);
  const rms = Math.sqrt(sum / Math.max(1, end - start));
  return rms > 0 ? 20 * Math.log10(rms / 32768) : -120;
}

/**
 * A small energy voice activity detector with an adaptive noise floor (falls at once, rises slowly),
 * for the parrot backend. Feed it frames; it reports the edges of speech.
 */
export class EnergyVad {
  private floor = -60;
  private above = 0;
  private below = 0;
  private speaking = false;

  constructor(private readonly options: VadOptions) {}

  /** Whether speech is in progress. */
  get inSpeech(): boolean {
    return this.speaking;
  }

  /** Analyses `samples` frame by frame; returns the last edge seen (null when none). */
  push(samples: Int16Array, extraMarginDb = 0): VadEdge {
    let edge: VadEdge = null;
    for (let at = 0; at + this.options.frame <= samples.length; at += this.options.frame) {
      const level = dbfs(samples, at, at + this.options.frame);
      const loud = level > Math.max(this.options.minDbfs, this.floor + this.options.marginDb + extraMarginDb);
      // The floor follows quiet frames down at once and creeps up (1 dB/s during speech, 5 dB/s
      // otherwise), so a steady noise that starts loud still becomes the floor.
      this.floor = level < this.floor ? level : this.floor + (loud ? 0.01 : 0.05);
      if (loud) {
        this.above++;
        this.below = 0;
      } else {
        this.below++;
        this.above = 0;
      }
      if (!this.speaking && this.above >= this.options.startFrames) {
        this.speaking = true;
        edge = 'start';
      } else if (this.speaking && this.below >= this.options.stopFrames) {
        this.speaking = false;
        edge = 'stop';
      }
    }
    return edge;
  }

  /** Forgets an utterance in progress (the noise floor is kept). */
  reset(): void {
    this.speaking = false;
    this.above = 0;
    this.below = 0;
  }
}
