/** PCM16 helpers for the fake OpenAI Realtime server: 24 kHz mono, little-endian on the wire. */
import { endianness } from 'node:os';

/** Sample rate of PCM16 audio on the OpenAI Realtime wire (`audio/pcm` / `pcm16`). */
export const WIRE_RATE = 24000;

/**
 * A sine tone as PCM16: `ms` long, `freq` Hz (default 440), peak `amplitude` (default 8000), at `rate`
 * (default 24000).
 */
export function tone(ms: number, freq = 440, amplitude = 8000, rate = WIRE_RATE): Int16Array {
  if (!(ms >= 0)) throw new RangeError(`tone: ms must be >= 0, got ${ms}`);
  const n = Math.round((ms * rate) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** PCM16 samples as base64 of their little-endian bytes. */
export function pcmToBase64(pcm: Int16Array): string {
  if (LITTLE_ENDIAN) return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).toString('base64');
  const b = Buffer.alloc(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) b.writeInt16LE(pcm[i] ?? 0, i * 2);
  return b.toString('base64');
}

/** Little-endian PCM16 bytes as samples (a copy); a trailing odd byte is dropped. */
export function bytesToPcm(b: Buffer): Int16Array {
  const n = b.length >> 1;
  if (LITTLE_ENDIAN) return new Int16Array(new Uint8Array(b.subarray(0, n * 2)).buffer);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = b.readInt16LE(i * 2);
  return out;
}

/** The chunks joined into one array. */
export function concatPcm(chunks: readonly Int16Array[]): Int16Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Int16Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** True when `s` is padded base64 (what the service accepts in `audio`). */
export function isBase64(s: string): boolean {
  return s.length % 4 === 0 && BASE64.test(s);
}
