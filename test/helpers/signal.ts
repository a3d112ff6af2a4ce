/** Signal measurements for tests: tone power, frequency, level. */

/** `x` at 16 kHz with each sample repeated three times: 48 kHz, as a microphone file at the device rate. */
export function upsample3(x: Int16Array): Int16Array {
  const out = new Int16Array(x.length * 3);
  x.forEach((v, i) => out.fill(v, i * 3, i * 3 + 3));
  return out;
}

/** A sine as 16-bit PCM. */
export function sine(rate: number, freq: number, amplitude: number, samples: number, phase = 0): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = Math.round(amplitude * Math.sin(phase + (2 * Math.PI * freq * i) / rate));
  return out;
}

/** RMS of a range of samples. */
export function rms(x: Int16Array, start = 0, end = x.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += (x[i] ?? 0) ** 2;
  return end > start ? Math.sqrt(sum / (end - start)) : 0;
}

/** Largest absolute sample. */
export function peak(x: Int16Array, start = 0, end = x.length): number {
  let p = 0;
  for (let i = start; i < end; i++) p = Math.max(p, Math.abs(x[i] ?? 0));
  return p;
}

/** Amplitude of the component at `freq` (Goertzel), in the units of the samples. */
export function toneAmplitude(x: Int16Array, rate: number, freq: number, start = 0, end = x.length): number {
  const n = end - start;
  const w = (2 * Math.PI * freq) / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = start; i < end; i++) {
    const s0 = (x[i] ?? 0) + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.sqrt(Math.max(power, 0))) / n;
}

/** Dominant frequency from zero crossings (for clean tones). */
export function zeroCrossingFrequency(x: Int16Array, rate: number, start = 0, end = x.length): number {
  let crossings = 0;
  for (let i = start + 1; i < end; i++) {
    if (((x[i - 1] ?? 0) < 0 && (x[i] ?? 0) >= 0) || ((x[i - 1] ?? 0) >= 0 && (x[i] ?? 0) < 0)) crossings++;
  }
  return (crossings / 2) * (rate / (end - start));
}

/** Int16 PCM as little-endian bytes (for raw ALSA file-plugin input). */
export function toRawLE(x: Int16Array): Buffer {
  const b = Buffer.alloc(x.length * 2);
  for (let i = 0; i < x.length; i++) b.writeInt16LE(x[i] ?? 0, i * 2);
  return b;
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
