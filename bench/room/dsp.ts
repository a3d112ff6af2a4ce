/**
 * Signal tools of the room bench's analysis: a band-limited resampler with a time offset, FFT
 * cross-correlation to find where one recording sits in another, and levels and projections over ranges.
 */
import type { SampleRange } from '../echo-scenario.js';

/** Half-width of the resampler's windowed sinc, in zero crossings of the lower rate. */
const SINC_ZEROS = 24;

/**
 * `x` at `fromRate` resampled to `toRate` (windowed sinc, cut at 0.95 of the lower Nyquist). Output
 * sample n is the input at time (n + offset) / toRate seconds, so `offset` (output samples, may be
 * fractional or negative) shifts the result earlier. `length` output samples (default: all of x).
 */
export function resample(x: ArrayLike<number>, fromRate: number, toRate: number, offset = 0, length?: number): Float64Array {
  const ratio = fromRate / toRate;
  const cutoff = 0.95 * Math.min(1, 1 / ratio); // in cycles per input sample x 2
  const halfWidth = Math.ceil(SINC_ZEROS / cutoff);
  const count = length ?? Math.floor(x.length / ratio);
  const out = new Float64Array(count);
  for (let n = 0; n < count; n++) {
    const t = (n + offset) * ratio;
    const centre = Math.floor(t);
    let sum = 0;
    for (let k = centre - halfWidth + 1; k <= centre + halfWidth; k++) {
      if (k < 0 || k >= x.length) continue;
      const d = t - k;
      const arg = Math.PI * cutoff * d;
      const sinc = d === 0 ? 1 : Math.sin(arg) / arg;
      const w = 0.5 + 0.5 * Math.cos((Math.PI * d) / halfWidth);
      sum += x[k]! * cutoff * sinc * w;
    }
    out[n] = sum;
  }
  return out;
}

/** In-place radix-2 complex FFT (`re`, `im` of a power-of-two length); `inverse` without the 1/N. */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const angle = ((inverse ? 2 : -2) * Math.PI) / size;
    const wr = Math.cos(angle);
    const wi = Math.sin(angle);
    for (let start = 0; start < n; start += size) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < size / 2; k++) {
        const a = start + k;
        const b = a + size / 2;
        const tr = re[b]! * cr - im[b]! * ci;
        const ti = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a]! += tr;
        im[a]! += ti;
        const next = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = next;
      }
    }
  }
}

/**
 * Where `needle` (the part of a reference within `range`) best matches `haystack`: the lag L (may be
 * fractional, by a parabola through the peak) with haystack[n + L] ≈ g · reference[n], found by FFT
 * cross-correlation over every lag (or only lags within `near.within` of `near.lag`), and the peak's
 * normalised correlation (1 = a scaled copy).
 */
export function locate(
  reference: ArrayLike<number>,
  range: SampleRange,
  haystack: ArrayLike<number>,
  near?: { lag: number; within: number },
): { lag: number; correlation: number } {
  const length = range.end - range.start;
  let size = 1;
  while (size < haystack.length + length) size <<= 1;
  const aRe = new Float64Array(size);
  const aIm = new Float64Array(size);
  const bRe = new Float64Array(size);
  const bIm = new Float64Array(size);
  for (let n = 0; n < haystack.length; n++) aRe[n] = haystack[n]!;
  for (let n = 0; n < length; n++) bRe[n] = reference[range.start + n] ?? 0;
  fft(aRe, aIm, false);
  fft(bRe, bIm, false);
  for (let k = 0; k < size; k++) {
    const re = aRe[k]! * bRe[k]! + aIm[k]! * bIm[k]!;
    const im = aIm[k]! * bRe[k]! - aRe[k]! * bIm[k]!;
    aRe[k] = re;
    aIm[k] = im;
  }
  fft(aRe, aIm, true);
  // aRe[m] / size = sum_n haystack[m + n] needle[n]: the needle starting at haystack index m.
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  const first = near ? Math.max(0, Math.floor(near.lag + range.start - near.within)) : 0;
  const last = near ? Math.min(haystack.length - length, Math.ceil(near.lag + range.start + near.within)) : haystack.length - length;
  for (let m = first; m <= last; m++) {
    if (aRe[m]! > bestScore) {
      bestScore = aRe[m]!;
      best = m;
    }
  }
  const before = aRe[best - 1] ?? bestScore;
  const after = aRe[best + 1] ?? bestScore;
  const curvature = before - 2 * bestScore + after;
  const fraction = curvature < 0 ? (0.5 * (before - after)) / curvature : 0;
  const needleEnergy = energyOf(reference, range);
  const hayEnergy = energyOf(haystack, { start: best, end: best + length });
  return { lag: best + fraction - range.start, correlation: bestScore / size / Math.sqrt(needleEnergy * hayEnergy + 1e-30) };
}

/** Sum of squares of `x` over `range` (out-of-range samples count as zero). */
export function energyOf(x: ArrayLike<number>, range: SampleRange): number {
  let sum = 0;
  for (let n = Math.max(0, range.start); n < Math.min(range.end, x.length); n++) sum += x[n]! * x[n]!;
  return sum;
}

/** Mean power of `x` over the union of `ranges`. */
export function powerOver(x: ArrayLike<number>, ranges: readonly SampleRange[]): number {
  let sum = 0;
  let count = 0;
  for (const range of ranges) {
    sum += energyOf(x, range);
    count += range.end - range.start;
  }
  return sum / Math.max(1, count);
}

/** The gain of `component` within `mix` over `ranges`: <mix, component> / <component, component>. */
export function projectionGain(component: ArrayLike<number>, mix: ArrayLike<number>, ranges: readonly SampleRange[]): number {
  let cross = 0;
  let self = 0;
  for (const range of ranges) {
    for (let n = range.start; n < range.end; n++) {
      cross += (mix[n] ?? 0) * (component[n] ?? 0);
      self += (component[n] ?? 0) ** 2;
    }
  }
  return cross / Math.max(1e-30, self);
}

/** A power ratio (or power) in dB. */
export function db(power: number): number {
  return 10 * Math.log10(Math.max(power, 1e-30));
}

/** Normalised correlation of `a` and `b` over `ranges` (1 = one is a scaled copy of the other). */
export function correlationOver(a: ArrayLike<number>, b: ArrayLike<number>, ranges: readonly SampleRange[]): number {
  return projectionGain(a, b, ranges) * Math.sqrt(powerOver(a, ranges) / Math.max(1e-30, powerOver(b, ranges)));
}
