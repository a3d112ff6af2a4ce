/**
 * Audio formats of ElevenLabs Agents (protocols.md 4.2): `pcm_<rate>` (PCM16 little-endian) or
 * `ulaw_8000` (G.711 µ-law), announced by the service in `conversation_initiation_metadata` and
 * never assumed. The µ-law codec is the standard G.711 one (bias 0x84, clip 32635).
 */
import { base64ToPcm, pcmToBase64 } from '../pcm.js';

/** One announced audio format: its rate and whether it is µ-law. */
export interface ElevenLabsFormat {
  /** The format as the service named it, e.g. `pcm_16000`. */
  name: string;
  rate: number;
  ulaw: boolean;
}

const PCM_RATES = new Set([8000, 16000, 22050, 24000, 44100, 48000]);

/** Parses a format name; null for one speakerd cannot play or send (mp3, opus, unknown rates). */
export function parseFormat(name: string): ElevenLabsFormat | null {
  if (name === 'ulaw_8000') return { name, rate: 8000, ulaw: true };
  const m = /^pcm_(\d{4,5})$/.exec(name);
  const rate = m ? Number(m[1]) : NaN;
  return PCM_RATES.has(rate) ? { name, rate, ulaw: false } : null;
}

const BIAS = 0x84;
const CLIP = 32635;

/** One PCM16 sample as a µ-law byte. */
function ulawByte(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  const magnitude = Math.min(CLIP, Math.abs(sample)) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** One µ-law byte as a PCM16 sample. */
function ulawSample(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + BIAS) << exponent) - BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

/** Microphone samples as the base64 payload of a `user_audio_chunk` in `format`. */
export function encodeChunk(pcm: Int16Array, format: ElevenLabsFormat): string {
  if (!format.ulaw) return pcmToBase64(pcm);
  const bytes = Buffer.alloc(pcm.length);
  for (let i = 0; i < pcm.length; i++) bytes[i] = ulawByte(pcm[i] ?? 0);
  return bytes.toString('base64');
}

/** The base64 payload of an `audio` event in `format` as PCM16 samples. */
export function decodeChunk(b64: string, format: ElevenLabsFormat): Int16Array {
  if (!format.ulaw) return base64ToPcm(b64);
  const bytes = Buffer.from(b64, 'base64');
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = ulawSample(bytes[i] ?? 0xff);
  return out;
}
