/**
 * Converts PCM16 between the rate the bridge ring runs at and a rate a service announced after
 * connect (ElevenLabs' metadata), by linear interpolation with the phase carried across chunks. The
 * usual case (rates equal) is a pass-through.
 */
export class RateAdapter {
  private readonly step: number;
  private position = 0;
  private last = 0;

  /** Converts from `fromRate` to `toRate` (Hz). */
  constructor(
    readonly fromRate: number,
    readonly toRate: number,
  ) {
    if (!(fromRate > 0 && toRate > 0)) throw new RangeError('rates must be positive');
    this.step = fromRate / toRate;
  }

  /** Converts one chunk (the result's length follows the ratio, phase kept for the next chunk). */
  convert(input: Int16Array): Int16Array {
    if (this.fromRate === this.toRate) return input;
    const out: number[] = [];
    // position is relative to the chunk, -1 being the last sample of the previous chunk.
    let p = this.position;
    while (p < input.length - 1) {
      const i = Math.floor(p);
      const frac = p - i;
      const a = i < 0 ? this.last : (input[i] ?? 0);
      const b = input[i + 1] ?? a;
      out.push(Math.round(a + (b - a) * frac));
      p += this.step;
    }
    this.position = p - input.length;
    if (input.length > 0) this.last = input[input.length - 1] ?? 0;
    return Int16Array.from(out);
  }
}
