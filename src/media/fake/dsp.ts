/**
 * Sample arithmetic of the fake, ported from native/common/audio_types.h and native/dsp/level_meter.h
 * (float32 steps are rounded with Math.fround so mixes match the native engine), and a linear
 * interpolating resampler standing in for speexdsp.
 */

/** Rounds to float32, the precision the native bridge computes in. */
export const f32 = Math.fround;

/** int32 to int16 with clipping (Saturate16). */
export function saturate16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

/** float to int16: clipping, then truncation towards zero (SaturateFloat). */
export function saturateFloat(v: number): number {
  return v >= 32767 ? 32767 : v <= -32768 ? -32768 : Math.trunc(v) || 0;
}

const SEGMENT_END = [0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff, 0x3fff, 0x7fff];

/** Mean absolute amplitude to the 0..255 meter scale: inverted G.711 mu-law (LinearToLevel). */
export function linearToLevel(meanAbs: number): number {
  const pcm = Math.min(meanAbs, 32635) + 0x84;
  let seg = 0;
  while (seg < 8 && pcm > (SEGMENT_END[seg] ?? 0)) ++seg;
  if (seg >= 8) return 255;
  const ulaw = (seg << 4) | ((pcm >> (seg + 3)) & 0xf);
  return Math.min(255, Math.trunc((ulaw * 255) / 0x7f));
}

/** Level meter of `count` samples, 0 for silence (MeasureLevel). */
export function measureLevel(samples: Int16Array, count: number): number {
  if (count <= 0) return 0;
  let sum = 0;
  for (let i = 0; i < count; i++) sum += Math.abs(samples[i] ?? 0);
  const mean = Math.floor(sum / count);
  return mean === 0 ? 0 : linearToLevel(mean);
}

/**
 * Frame-locked streaming resampler by linear interpolation: each call turns one input frame into one
 * output frame, keeping the previous input sample as history (less than one input sample of delay).
 */
export class LinearResampler {
  private last = 0;

  constructor(
    readonly inRate: number,
    readonly outRate: number,
  ) {}

  /** Converts `inLen` samples of `input` into exactly `outLen` samples of `out`. */
  process(input: Int16Array, inLen: number, out: Int16Array, outLen: number): void {
    const step = inLen / outLen;
    for (let j = 0; j < outLen; j++) {
      const p = (j + 1) * step - 1;
      const k = Math.floor(p);
      const a = k < 0 ? this.last : (input[k] ?? 0);
      const b = input[k + 1] ?? a;
      out[j] = saturate16(Math.round(a + (b - a) * (p - k)));
    }
    if (inLen > 0) this.last = input[inLen - 1] ?? 0;
  }

  /** Forgets the history. */
  reset(): void {
    this.last = 0;
  }
}

/** Whole-buffer conversion: ceil(n * outRate / inRate) samples, linear interpolation. */
export function resampleBuffer(samples: Int16Array, inRate: number, outRate: number): Int16Array {
  const outLen = Math.ceil((samples.length * outRate) / inRate);
  if (inRate === outRate) return samples.slice();
  const out = new Int16Array(outLen);
  const last = samples.length - 1;
  for (let j = 0; j < outLen; j++) {
    const p = (j * inRate) / outRate;
    const k = Math.min(Math.floor(p), last);
    const a = samples[k] ?? 0;
    const b = samples[Math.min(k + 1, last)] ?? 0;
    out[j] = saturate16(Math.round(a + (b - a) * (p - k)));
  }
  return out;
}
