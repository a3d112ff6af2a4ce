/**
 * What each speexdsp resampler quality does to the signal at the device edge (issue 13: qualities
 * picked by measurement, with their cost in audio-thread.ts). Through the addon's own resampler, pure
 * tones at -6 dBFS:
 *   - playback, bridge rate to device rate (16 -> 48 kHz): the tone's gain (passband droop) and the
 *     images the interpolation leaves above the bridge's band, relative to the tone;
 *   - capture, device rate to bridge rate (48 -> 16 kHz): the gain of in-band tones, and what a tone
 *     above the bridge's band folds back into it (aliasing), relative to that tone.
 * Each output is fitted with the expected tone (least squares on sine and cosine past the filter's
 * start-up); what the fit leaves is the error. 16-bit output limits what can be seen to about -95 dB.
 */
import type { NativeBinding } from '../src/media/binding.js';

const AMPLITUDE = 16384; // -6 dBFS
const SECONDS = 1;
/** Output samples skipped at each end (filter start-up and tail). */
const EDGE_SECONDS = 0.05;

/** The tone at `freq` in `x` (sampled at `rate`): its gain (dB), its power, and the mean power of what is left beside it. */
function fitTone(x: Int16Array, rate: number, freq: number): { gainDb: number; residualPower: number; tonePower: number } {
  const from = Math.round(EDGE_SECONDS * rate);
  const to = x.length - from;
  let ss = 0;
  let cc = 0;
  let sc = 0;
  let xs = 0;
  let xc = 0;
  for (let n = from; n < to; n++) {
    const w = (2 * Math.PI * freq * n) / rate;
    const s = Math.sin(w);
    const c = Math.cos(w);
    ss += s * s;
    cc += c * c;
    sc += s * c;
    xs += x[n]! * s;
    xc += x[n]! * c;
  }
  const det = ss * cc - sc * sc;
  const a = (xs * cc - xc * sc) / det;
  const b = (xc * ss - xs * sc) / det;
  let residual = 0;
  for (let n = from; n < to; n++) {
    const w = (2 * Math.PI * freq * n) / rate;
    const e = x[n]! - a * Math.sin(w) - b * Math.cos(w);
    residual += e * e;
  }
  const amplitude = Math.hypot(a, b);
  const count = to - from;
  return { gainDb: 20 * Math.log10(Math.max(amplitude, 1e-9) / AMPLITUDE), residualPower: residual / count, tonePower: (amplitude * amplitude) / 2 };
}

function tone(rate: number, freq: number): Int16Array {
  const out = new Int16Array(rate * SECONDS);
  for (let n = 0; n < out.length; n++) out[n] = Math.round(AMPLITUDE * Math.sin((2 * Math.PI * freq * n) / rate));
  return out;
}

const db = (ratio: number): number => 10 * Math.log10(Math.max(ratio, 1e-12));
/** The power of a sine of half an LSB's amplitude: what rounds to an output of zeros. */
const HALF_LSB_POWER = 0.125;

/** One quality's figures at the device edge. */
export interface ResamplerQuality {
  /** Playback: the tone's gain at 7 kHz (dB; 0 is flat). */
  playbackDroop7kDb: number;
  /** Playback: the worst image (all the output but the tone) over tones 0.1-7.5 kHz, dB under the tone. */
  playbackImagesDb: number;
  /** Capture: the tone's gain at 7 kHz (dB). */
  captureDroop7kDb: number;
  /** Capture: the worst alias of a tone at 8.5-23 kHz, dB under that tone (-90.3: none above half an LSB). */
  captureAliasDb: number;
}

const IN_BAND = [100, 500, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 7500];
const OUT_OF_BAND = [8500, 9000, 10000, 12000, 16000, 20000, 23000];

/** Measures `quality` between `bridgeRate` and `deviceRate`. */
export function resamplerQuality(binding: NativeBinding, quality: number, bridgeRate = 16000, deviceRate = 48000): ResamplerQuality {
  let playbackImagesDb = -Infinity;
  let playbackDroop7kDb = 0;
  let captureDroop7kDb = 0;
  for (const freq of IN_BAND) {
    const up = fitTone(binding.resample(tone(bridgeRate, freq), bridgeRate, deviceRate, quality), deviceRate, freq);
    playbackImagesDb = Math.max(playbackImagesDb, db(up.residualPower / up.tonePower));
    const down = fitTone(binding.resample(tone(deviceRate, freq), deviceRate, bridgeRate, quality), bridgeRate, freq);
    if (freq === 7000) {
      playbackDroop7kDb = up.gainDb;
      captureDroop7kDb = down.gainDb;
    }
  }
  let captureAliasDb = -Infinity;
  for (const freq of OUT_OF_BAND) {
    const down = binding.resample(tone(deviceRate, freq), deviceRate, bridgeRate, quality);
    const from = Math.round(EDGE_SECONDS * bridgeRate);
    let power = 0;
    for (let n = from; n < down.length - from; n++) power += down[n]! * down[n]!;
    // An output of zeros holds no alias above half an LSB: the figure is then that bound.
    const aliasPower = Math.max(power / (down.length - 2 * from), HALF_LSB_POWER);
    captureAliasDb = Math.max(captureAliasDb, db(aliasPower / ((AMPLITUDE * AMPLITUDE) / 2)));
  }
  return { playbackDroop7kDb, playbackImagesDb, captureDroop7kDb, captureAliasDb };
}

/** For `npm run bench`: the figures of qualities 3, 5, 8 and 10. */
export function benchResamplerQuality(binding: NativeBinding): Record<string, number> {
  const out: Record<string, number> = {};
  for (const q of [3, 5, 8, 10]) {
    const r = resamplerQuality(binding, q);
    out[`q${q}: playback 16->48 kHz, worst image under the tone (dB)`] = r.playbackImagesDb;
    out[`q${q}: playback, gain at 7 kHz (dB)`] = r.playbackDroop7kDb;
    out[`q${q}: capture 48->16 kHz, worst alias of 8.5-23 kHz (dB; -90.3: below 1/2 LSB)`] = r.captureAliasDb;
    out[`q${q}: capture, gain at 7 kHz (dB)`] = r.captureDroop7kDb;
  }
  return out;
}
