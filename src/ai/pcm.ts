import { endianness } from 'node:os';

/** Whether this CPU stores 16-bit samples little-endian (ARM and x86 Linux do). */
const HOST_IS_LE = endianness() === 'LE';

function swapped(samples: Int16Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i] ?? 0;
    out[i] = ((v & 0xff) << 8) | ((v >> 8) & 0xff);
  }
  return out;
}

/** PCM16 samples as base64 of their little-endian bytes (the wire format of every vendor). */
export function pcmToBase64(samples: Int16Array): string {
  const le = HOST_IS_LE ? samples : swapped(samples);
  return Buffer.from(le.buffer, le.byteOffset, le.byteLength).toString('base64');
}

/** Decodes base64 little-endian PCM16; a trailing odd byte is dropped. */
export function base64ToPcm(text: string): Int16Array {
  const bytes = Buffer.from(text, 'base64');
  return bytesToPcm(bytes);
}

/** Little-endian PCM16 bytes as samples (copied when the buffer is not 2-byte aligned). */
export function bytesToPcm(bytes: Buffer): Int16Array {
  const count = bytes.length >> 1;
  const aligned =
    bytes.byteOffset % 2 === 0 ? new Int16Array(bytes.buffer, bytes.byteOffset, count) : new Int16Array(new Uint8Array(bytes.subarray(0, count * 2)).buffer);
  return HOST_IS_LE ? aligned : swapped(aligned);
}
