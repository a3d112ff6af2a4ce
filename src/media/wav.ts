import { MediaError } from './errors.js';

/** Decoded PCM of a WAV file: interleaved 16-bit samples. */
export interface WavAudio {
  rate: number;
  channels: number;
  samples: Int16Array;
}

/** Limits applied while parsing; defaults: 64 MiB, 8 kHz..192 kHz, 1..2 channels. */
export interface WavLimits {
  maxBytes?: number;
  minRate?: number;
  maxRate?: number;
  maxChannels?: number;
}

const FORMAT_PCM = 1;
const FORMAT_EXTENSIBLE = 0xfffe;
const STREAMING_SIZE = 0xffffffff;
const HEADER_BYTES = 44;

function malformed(message: string): MediaError {
  return new MediaError('ERR_WAV_MALFORMED', `malformed WAV: ${message}`);
}

function unsupported(message: string): MediaError {
  return new MediaError('ERR_WAV_UNSUPPORTED', `unsupported WAV: ${message}`);
}

interface FmtChunk {
  format: number;
  channels: number;
  rate: number;
  bits: number;
}

function readFmt(buf: Buffer, offset: number, size: number): FmtChunk {
  if (size < 16) throw malformed(`fmt chunk is ${size} bytes, needs 16`);
  let format = buf.readUInt16LE(offset);
  const channels = buf.readUInt16LE(offset + 2);
  const rate = buf.readUInt32LE(offset + 4);
  const bits = buf.readUInt16LE(offset + 14);
  if (format === FORMAT_EXTENSIBLE) {
    if (size < 40) throw malformed('WAVE_FORMAT_EXTENSIBLE fmt chunk shorter than 40 bytes');
    format = buf.readUInt16LE(offset + 24);
  }
  return { format, channels, rate, bits };
}

function checkFmt(fmt: FmtChunk, limits: Required<WavLimits>): void {
  if (fmt.format !== FORMAT_PCM) throw unsupported(`format tag ${fmt.format} (only PCM is supported)`);
  if (fmt.bits !== 16) throw unsupported(`${fmt.bits}-bit samples (only 16-bit PCM is supported)`);
  if (fmt.channels < 1 || fmt.channels > limits.maxChannels) {
    throw unsupported(`${fmt.channels} channels (1 to ${limits.maxChannels} supported)`);
  }
  if (fmt.rate < limits.minRate || fmt.rate > limits.maxRate) {
    throw unsupported(`sample rate ${fmt.rate} Hz (${limits.minRate} to ${limits.maxRate} supported)`);
  }
}

/**
 * Parses a RIFF/WAVE file holding 16-bit PCM. Unknown chunks are skipped; a data chunk that declares
 * more bytes than the file holds is reported as truncated (the streaming size 0xFFFFFFFF means "to the
 * end of the file"). Throws MediaError ERR_WAV_MALFORMED, ERR_WAV_UNSUPPORTED or ERR_WAV_TOO_LARGE.
 */
export function parseWav(buf: Buffer, limits: WavLimits = {}): WavAudio {
  const lim: Required<WavLimits> = { maxBytes: 64 * 1024 * 1024, minRate: 8000, maxRate: 192000, maxChannels: 2, ...limits };
  if (buf.length > lim.maxBytes) {
    throw new MediaError('ERR_WAV_TOO_LARGE', `WAV file is ${buf.length} bytes, the limit is ${lim.maxBytes}`);
  }
  if (buf.length < 12) throw malformed(`file is ${buf.length} bytes, shorter than a RIFF header`);
  if (buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    throw malformed('no RIFF/WAVE signature');
  }
  let fmt: FmtChunk | undefined;
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('latin1', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (body + size > buf.length) throw malformed('fmt chunk is truncated');
      fmt = readFmt(buf, body, size);
    } else if (id === 'data') {
      if (!fmt) throw malformed('data chunk before fmt chunk');
      checkFmt(fmt, lim);
      const available = buf.length - body;
      const bytes = size === STREAMING_SIZE ? available - (available % (2 * fmt.channels)) : size;
      if (bytes > available) throw malformed(`truncated: data chunk declares ${size} bytes, the file holds ${available}`);
      if (bytes % (2 * fmt.channels) !== 0) throw malformed(`data chunk of ${bytes} bytes is not whole frames`);
      const samples = new Int16Array(bytes / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(body + i * 2);
      return { rate: fmt.rate, channels: fmt.channels, samples };
    }
    offset = body + size + (size % 2);
  }
  throw malformed(fmt ? 'no data chunk' : 'no fmt chunk');
}

/** Averages interleaved channels into one. */
export function downmix(samples: Int16Array, channels: number): Int16Array {
  if (channels === 1) return samples;
  const out = new Int16Array(Math.floor(samples.length / channels));
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[i * channels + c] ?? 0;
    out[i] = Math.round(sum / channels);
  }
  return out;
}

/** A canonical 44-byte header for 16-bit PCM with `dataBytes` of samples following it. */
export function wavHeader(rate: number, channels: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(Math.min(36 + dataBytes, STREAMING_SIZE), 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(FORMAT_PCM, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(Math.min(dataBytes, STREAMING_SIZE), 40);
  return h;
}

/** A whole WAV file in memory (tests, earcons). */
export function encodeWav(samples: Int16Array, rate: number, channels = 1): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) data.writeInt16LE(samples[i] ?? 0, i * 2);
  return Buffer.concat([wavHeader(rate, channels, data.length), data]);
}
