/**
 * A deterministic synthetic echo scenario at 16 kHz for the echo canceller's test and bench.
 *
 * Two synthetic talkers (a Klatt-style cascade: Rosenberg glottal pulses with a moving pitch through three
 * moving formant resonators, fricative noise bursts, syllables at 3-5 Hz grouped in phrases with pauses),
 * a room (bulk delay, direct path, exponentially decaying random tail), white background noise, and a
 * timeline: far end alone (convergence), far end alone (measurement), double talk, near end alone.
 * Everything comes from one seeded PRNG, so a seed always gives the same samples.
 */

/** Sample rate of every scenario signal, in Hz. */
export const SCENARIO_RATE = 16000;

/** Length of each timeline segment, in seconds. */
export interface ScenarioSeconds {
  /** Far end alone, given to the canceller to converge. */
  converge: number;
  /** Far end alone, where echo return loss enhancement is measured. */
  farOnly: number;
  /** Far end and near end together. */
  doubleTalk: number;
  /** Near end alone. */
  nearOnly: number;
}

/** Options of `createEchoScenario`. Every field is optional; defaults are stated per field. */
export interface EchoScenarioOptions {
  /** Segment lengths; default {converge: 15, farOnly: 4, doubleTalk: 4, nearOnly: 2}. */
  seconds?: Partial<ScenarioSeconds>;
  /** Bulk playback-to-capture delay of the echo path in ms, default 40. */
  delayMs?: number;
  /** PRNG seed, default 1. */
  seed?: number;
  /** Echo RMS over far-end RMS (linear amplitude ratio), default 0.5 (-6 dB). */
  echoGain?: number;
  /** Reverberation time of the room tail in ms, default 200. */
  rt60Ms?: number;
  /** Far-end RMS over its active speech, in dBFS, default -20. */
  farDbfs?: number;
  /** Near-end RMS at the microphone over its active speech, in dBFS, default -30. */
  nearDbfs?: number;
  /** Background noise RMS at the microphone (white), in dBFS, default -60. */
  noiseDbfs?: number;
  /** Length of the room response in ms, default rt60Ms (it decays 60 dB per rt60Ms either way). */
  responseMs?: number;
  /**
   * The loudspeaker compresses its peaks: samples of the far end above this fraction of full scale are
   * soft-clipped (tanh knee) before the room; default none (a linear loudspeaker). The reference
   * (`far`) stays what was sent.
   */
  softClip?: number;
}

/**
 * The enclosure of issue 10: loudspeaker a few cm from the microphone (ERL 1 dB), volume 100 with the
 * loudspeaker compressing above 0.3 FS, a 400 ms room response with RT60 0.5 s, noise -62 dBFS, the user at
 * SER -15 dB (echo about -20 dBFS, user about -35 dBFS).
 */
export const ENCLOSURE_ROOM: EchoScenarioOptions = {
  echoGain: 10 ** (-1 / 20),
  softClip: 0.3,
  responseMs: 400,
  rt60Ms: 500,
  noiseDbfs: -62,
  farDbfs: -19,
  nearDbfs: -35,
  delayMs: 40,
};

/** The quiet living room of issue 10: ERL 10 dB, 40 ms, RT60 0.3 s, noise -55 dBFS, user at SER -5 dB. */
export const LIVING_ROOM: EchoScenarioOptions = {
  echoGain: 10 ** (-10 / 20),
  rt60Ms: 300,
  noiseDbfs: -55,
  farDbfs: -33,
  nearDbfs: -48,
  delayMs: 40,
};

/** A half-open range of sample indices [start, end). */
export interface SampleRange {
  start: number;
  end: number;
}

/** The generated signals (all PCM16 at SCENARIO_RATE, same length) and where each segment lies. */
export interface EchoScenario {
  /** What the loudspeaker plays (the far-end talker). */
  far: Int16Array;
  /** What the microphone captures: echo + near + noise. */
  mic: Int16Array;
  /** The echo component of `mic` alone. */
  echo: Int16Array;
  /** The near-end component of `mic` alone. */
  near: Int16Array;
  /** Bulk delay of the echo path, in samples. */
  delaySamples: number;
  segments: { converge: SampleRange; farOnly: SampleRange; doubleTalk: SampleRange; nearOnly: SampleRange };
}

const DEFAULT_SECONDS: ScenarioSeconds = { converge: 15, farOnly: 4, doubleTalk: 4, nearOnly: 2 };
const FS = SCENARIO_RATE;
const FULL_SCALE = 32767;

type Rng = () => number;

/** mulberry32: a small, fast 32-bit PRNG returning [0, 1). */
function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniform(rng: Rng, low: number, high: number): number {
  return low + (high - low) * rng();
}

/** Standard normal deviate (Box-Muller). */
function gaussian(rng: Rng): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** A talker's voice: pitch range in Hz and a scale applied to the (adult male) formant table. */
interface Voice {
  f0Low: number;
  f0High: number;
  formantScale: number;
}

/** F1-F3 of ten English vowels (Peterson & Barney, male), Hz. */
const VOWELS: readonly (readonly [number, number, number])[] = [
  [270, 2290, 3010],
  [390, 1990, 2550],
  [530, 1840, 2480],
  [660, 1720, 2410],
  [730, 1090, 2440],
  [570, 840, 2410],
  [440, 1020, 2240],
  [300, 870, 2240],
  [640, 1190, 2390],
  [490, 1350, 1690],
];
const BANDWIDTHS = [90, 110, 170];

/** Per-sample control tracks of a talker: voicing amplitude, frication amplitude, pitch, formants. */
interface Plan {
  voiced: Float32Array;
  noise: Float32Array;
  f0: Float32Array;
  formants: [Float32Array, Float32Array, Float32Array];
}

/** Lays out phrases of 4-10 syllables (3-5 Hz) separated by 250-700 ms pauses inside `range`. */
function planSpeech(rng: Rng, length: number, range: SampleRange, voice: Voice): Plan {
  const plan: Plan = {
    voiced: new Float32Array(length),
    noise: new Float32Array(length),
    f0: new Float32Array(length).fill(voice.f0Low),
    formants: [new Float32Array(length), new Float32Array(length), new Float32Array(length)],
  };
  let t = range.start;
  while (t < range.end) {
    const syllables = 4 + Math.floor(rng() * 7);
    for (let s = 0; s < syllables && t < range.end; s++) {
      const duration = Math.round(FS / uniform(rng, 3, 5));
      // Pitch declines over the phrase, with a random accent and a glide within each syllable.
      const decline = 1 - s / syllables;
      const f0 = voice.f0Low + (voice.f0High - voice.f0Low) * Math.min(1, 0.6 * decline + 0.4 * rng());
      const glide = uniform(rng, -0.15, 0.1);
      const vowel = VOWELS[Math.floor(rng() * VOWELS.length)] ?? VOWELS[0]!;
      const peak = uniform(rng, 0.5, 1);
      const onset = rng() < 0.6 ? Math.round(uniform(rng, 0.03, 0.07) * FS) : 0;
      const end = Math.min(t + duration, range.end);
      for (let n = t; n < end; n++) {
        const x = (n - t - onset) / Math.max(1, duration - onset);
        // Frication about 10 dB below the vowels (vowel level grows with the pitch).
        if (n - t < onset) plan.noise[n] = (peak * voice.f0Low) / 1000;
        else plan.voiced[n] = peak * Math.min(1, 3 * Math.sin(Math.PI * x));
        plan.f0[n] = f0 * (1 + (glide * (n - t)) / duration);
        for (let k = 0; k < 3; k++) plan.formants[k]![n] = (vowel[k] ?? 500) * voice.formantScale;
      }
      t = end;
    }
    t += Math.round(uniform(rng, 0.25, 0.7) * FS);
  }
  return plan;
}

/** Rosenberg glottal flow over one period, phase in [0, 1). */
function glottalFlow(phase: number): number {
  if (phase < 0.4) return 0.5 * (1 - Math.cos((Math.PI * phase) / 0.4));
  if (phase < 0.56) return Math.cos((Math.PI * (phase - 0.4)) / 0.32);
  return 0;
}

/**
 * Renders a plan: glottal pulses with 1 % jitter and 5 % shimmer per period plus aspiration noise
 * (about 20 dB below the pulses) through a cascade of three Klatt resonators, plus frication.
 */
function renderSpeech(rng: Rng, plan: Plan): Float64Array {
  const out = new Float64Array(plan.voiced.length);
  const smooth = 1 - Math.exp(-1 / (0.015 * FS));
  const state = [0, 0, 0, 0, 0, 0];
  const freq = [500, 1500, 2500];
  let f0 = plan.f0[0] ?? 100;
  let amp = 0;
  let phase = 0;
  let flowPrev = 0;
  let hissPrev = 0;
  let jitter = 1;
  let shimmer = 1;
  for (let n = 0; n < out.length; n++) {
    f0 += smooth * ((plan.f0[n] ?? f0) - f0);
    amp += smooth * ((plan.voiced[n] ?? 0) - amp);
    phase += (f0 * jitter) / FS;
    if (phase >= 1) {
      phase -= 1;
      jitter = 1 + 0.01 * gaussian(rng);
      shimmer = 1 + 0.05 * gaussian(rng);
    }
    const flow = glottalFlow(phase);
    let x = ((flow - flowPrev) * shimmer + (0.3 * f0 * gaussian(rng)) / FS) * amp;
    flowPrev = flow;
    for (let k = 0; k < 3; k++) {
      const target = plan.formants[k]![n] ?? 0;
      if (target > 0) freq[k]! += smooth * (target - freq[k]!);
      const r = Math.exp((-Math.PI * BANDWIDTHS[k]!) / FS);
      const b = 2 * r * Math.cos((2 * Math.PI * freq[k]!) / FS);
      const c = -r * r;
      const y = (1 - b - c) * x + b * state[2 * k]! + c * state[2 * k + 1]!;
      state[2 * k + 1] = state[2 * k]!;
      state[2 * k] = y;
      x = y;
    }
    const hiss = gaussian(rng);
    out[n] = x + (plan.noise[n] ?? 0) * 0.1 * (hiss - hissPrev);
    hissPrev = hiss;
  }
  return out;
}

/** Scales `x` in place so that its RMS over samples where `active` is non-zero is `dbfs`. */
function normalise(x: Float64Array, active: (n: number) => boolean, dbfs: number): void {
  let sum = 0;
  let count = 0;
  for (let n = 0; n < x.length; n++) {
    if (!active(n)) continue;
    sum += x[n]! * x[n]!;
    count++;
  }
  const gain = (FULL_SCALE * 10 ** (dbfs / 20)) / Math.sqrt(sum / Math.max(1, count) + 1e-30);
  for (let n = 0; n < x.length; n++) x[n]! *= gain;
}

/**
 * Room response after the bulk delay: a direct path and a random tail decaying 60 dB in rt60, cut at
 * responseMs.
 */
function roomResponse(rng: Rng, rt60Ms: number, responseMs: number, gain: number): Float64Array {
  const length = Math.round((responseMs / 1000) * FS);
  const decay = Math.round((rt60Ms / 1000) * FS);
  const h = new Float64Array(length);
  const tail = Math.sqrt(0.5 / (decay / (6 * Math.log(10)))); // tail energy about -3 dB re direct
  for (let n = 1; n < length; n++) h[n] = tail * gaussian(rng) * 10 ** ((-3 * n) / decay);
  h[0] = 1;
  let energy = 0;
  for (const v of h) energy += v * v;
  const scale = gain / Math.sqrt(energy);
  for (let n = 0; n < length; n++) h[n]! *= scale;
  return h;
}

/** The loudspeaker's compression: |x| above `knee` (fraction of full scale) bends on a tanh curve. */
function softClip(x: Int16Array, knee: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let n = 0; n < x.length; n++) {
    const v = x[n]! / FULL_SCALE;
    const a = Math.abs(v);
    const bent = a <= knee ? a : knee + (1 - knee) * Math.tanh((a - knee) / (1 - knee));
    out[n] = Math.sign(v) * bent * FULL_SCALE;
  }
  return out;
}

function toPcm16(x: Float64Array): Int16Array {
  const out = new Int16Array(x.length);
  for (let n = 0; n < x.length; n++) out[n] = Math.max(-32768, Math.min(32767, Math.round(x[n]!)));
  return out;
}

function segmentsOf(seconds: ScenarioSeconds): EchoScenario['segments'] {
  let at = 0;
  const next = (s: number): SampleRange => {
    const start = at;
    at += Math.round((s * FS) / 160) * 160;
    return { start, end: at };
  };
  const converge = next(seconds.converge);
  const farOnly = next(seconds.farOnly);
  const doubleTalk = next(seconds.doubleTalk);
  return { converge, farOnly, doubleTalk, nearOnly: next(seconds.nearOnly) };
}

/**
 * Generates the scenario. Far end speaks from 0 to the end of double talk; near end from the start of
 * double talk to the end. Length is a multiple of 160 samples (10 ms).
 */
export function createEchoScenario(options: EchoScenarioOptions = {}): EchoScenario {
  const rng = createRng(options.seed ?? 1);
  const segments = segmentsOf({ ...DEFAULT_SECONDS, ...options.seconds });
  const length = segments.nearOnly.end;
  const delaySamples = Math.round(((options.delayMs ?? 40) / 1000) * FS);
  const farRange = { start: 0, end: segments.doubleTalk.end };
  const nearRange = { start: segments.doubleTalk.start, end: length };
  const farPlan = planSpeech(rng, length, farRange, { f0Low: 160, f0High: 250, formantScale: 1.15 });
  const nearPlan = planSpeech(rng, length, nearRange, { f0Low: 90, f0High: 140, formantScale: 1 });
  const farFloat = renderSpeech(rng, farPlan);
  const nearFloat = renderSpeech(rng, nearPlan);
  normalise(farFloat, (n) => farPlan.voiced[n]! + farPlan.noise[n]! > 0, options.farDbfs ?? -20);
  normalise(nearFloat, (n) => nearPlan.voiced[n]! + nearPlan.noise[n]! > 0, options.nearDbfs ?? -30);
  const far = toPcm16(farFloat);
  const near = toPcm16(nearFloat);
  const rt60Ms = options.rt60Ms ?? 200;
  const h = roomResponse(rng, rt60Ms, options.responseMs ?? rt60Ms, options.echoGain ?? 0.5);
  const played = options.softClip === undefined ? Float64Array.from(far) : softClip(far, options.softClip);
  const echoFloat = new Float64Array(length);
  for (let n = delaySamples; n < length; n++) {
    const taps = Math.min(h.length, n - delaySamples + 1);
    let sum = 0;
    for (let k = 0; k < taps; k++) sum += h[k]! * played[n - delaySamples - k]!;
    echoFloat[n] = sum;
  }
  const echo = toPcm16(echoFloat);
  const noiseRms = FULL_SCALE * 10 ** ((options.noiseDbfs ?? -60) / 20);
  const micFloat = new Float64Array(length);
  for (let n = 0; n < length; n++) micFloat[n] = echoFloat[n]! + near[n]! + noiseRms * gaussian(rng);
  return { far, mic: toPcm16(micFloat), echo, near, delaySamples, segments };
}

/** Seeded white Gaussian noise as PCM16 with an RMS of `dbfs` (a probe for latency and level checks). */
export function whiteNoise(samples: number, dbfs: number, seed = 1): Int16Array {
  const rng = createRng(seed);
  const rms = FULL_SCALE * 10 ** (dbfs / 20);
  const x = new Float64Array(samples);
  for (let n = 0; n < samples; n++) x[n] = rms * gaussian(rng);
  return toPcm16(x);
}

/** `signal` moved later by `samples` (earlier when negative), zero-filled, same length. */
export function shiftSignal(signal: Int16Array, samples: number): Int16Array {
  const out = new Int16Array(signal.length);
  for (let n = 0; n < signal.length; n++) {
    const from = n - samples;
    if (from >= 0 && from < signal.length) out[n] = signal[from]!;
  }
  return out;
}

function dot(a: Int16Array, b: Int16Array, range: SampleRange, lag: number): number {
  let sum = 0;
  for (let n = range.start; n < range.end; n++) sum += a[n]! * (b[n + lag] ?? 0);
  return sum;
}

function energy(x: Int16Array, range: SampleRange, lag: number): number {
  let sum = 0;
  for (let n = range.start + lag; n < range.end + lag; n++) sum += (x[n] ?? 0) ** 2;
  return sum;
}

/**
 * Echo return loss enhancement over `range`: 10 log10(P(mic) / P(out)), in dB. `lag` is the canceller's
 * latency in samples (out[n + lag] corresponds to mic[n]), default 0.
 */
export function erleDb(mic: Int16Array, out: Int16Array, range: SampleRange, lag = 0): number {
  return 10 * Math.log10((energy(mic, range, 0) + 1) / (energy(out, range, lag) + 1));
}

/**
 * Loss of the near-end component through the canceller over `range`, in dB: -20 log10(g) with
 * g = <out, near> / <near, near>, the gain of `near` within `out` (out taken `lag` samples later, the
 * canceller's latency, default 0). Residual echo is uncorrelated with `near`, so it cannot make the loss
 * look smaller. Infinity when out does not contain `near` at all.
 */
export function nearEndLossDb(near: Int16Array, out: Int16Array, range: SampleRange, lag = 0): number {
  const gain = dot(near, out, range, lag) / Math.max(1, energy(near, range, 0));
  return gain > 0 ? -20 * Math.log10(gain) : Number.POSITIVE_INFINITY;
}

/**
 * The lag in [0, maxLag] samples at which `output` best matches `input` over `range` (largest normalised
 * cross-correlation): a system's latency, e.g. the canceller's on the near-end component.
 */
export function estimateLag(input: Int16Array, output: Int16Array, range: SampleRange, maxLag: number): number {
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let lag = 0; lag <= maxLag; lag++) {
    const score = dot(input, output, range, lag) / Math.sqrt(energy(output, range, lag) + 1);
    if (score > bestScore) {
      bestScore = score;
      best = lag;
    }
  }
  return best;
}

/** RMS level of `x` over `range`, in dB relative to full scale (20 log10(rms / 32768)). */
export function levelDbfs(x: Int16Array, range: SampleRange): number {
  return 10 * Math.log10(energy(x, range, 0) / Math.max(1, range.end - range.start) / 32768 ** 2 + 1e-12);
}

/** Which of the scenario's two talkers: the far end (the assistant's voice) or the near end (the user). */
export type Talker = 'far' | 'near';

const VOICES: Readonly<Record<Talker, Voice>> = {
  far: { f0Low: 160, f0High: 250, formantScale: 1.15 },
  near: { f0Low: 90, f0High: 140, formantScale: 1 },
};

/**
 * Synthetic speech of one talker at SCENARIO_RATE, `length` samples, speaking only inside `ranges`
 * (each filled with phrases and pauses), with an RMS over its active speech of `dbfs`. As floats in
 * PCM16 units; the same seed gives the same samples.
 */
export function synthesizeSpeech(talker: Talker, length: number, ranges: readonly SampleRange[], dbfs: number, seed = 1): Float64Array {
  const rng = createRng(seed);
  const voice = VOICES[talker];
  const merged: Plan = {
    voiced: new Float32Array(length),
    noise: new Float32Array(length),
    f0: new Float32Array(length).fill(voice.f0Low),
    formants: [new Float32Array(length), new Float32Array(length), new Float32Array(length)],
  };
  for (const range of ranges) {
    const plan = planSpeech(rng, length, range, voice);
    for (let n = range.start; n < Math.min(range.end, length); n++) {
      merged.voiced[n] = plan.voiced[n]!;
      merged.noise[n] = plan.noise[n]!;
      merged.f0[n] = plan.f0[n]!;
      for (let k = 0; k < 3; k++) merged.formants[k]![n] = plan.formants[k]![n]!;
    }
  }
  const speech = renderSpeech(rng, merged);
  normalise(speech, (n) => merged.voiced[n]! + merged.noise[n]! > 0, dbfs);
  return speech;
}
