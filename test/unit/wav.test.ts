import { describe, expect, it } from 'vitest';
import { downmix, encodeWav, parseWav, wavHeader } from '../../src/media/wav.js';

function withFmt(mutate: (b: Buffer) => void): Buffer {
  const b = encodeWav(new Int16Array([1, -2, 3, -4]), 16000);
  mutate(b);
  return b;
}

describe('parseWav', () => {
  it('round-trips encodeWav, mono and stereo', () => {
    const mono = parseWav(encodeWav(new Int16Array([0, 32767, -32768, 5]), 8000));
    expect(mono).toEqual({ rate: 8000, channels: 1, samples: new Int16Array([0, 32767, -32768, 5]) });
    const stereo = parseWav(encodeWav(new Int16Array([1, 2, 3, 4]), 44100, 2));
    expect(stereo.channels).toBe(2);
    expect(stereo.rate).toBe(44100);
    expect([...stereo.samples]).toEqual([1, 2, 3, 4]);
  });

  it('skips unknown chunks, including odd-sized ones with their pad byte', () => {
    const base = encodeWav(new Int16Array([7, 8]), 16000);
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.from([0])]);
    const file = Buffer.concat([base.subarray(0, 36), list, base.subarray(36)]);
    expect([...parseWav(file).samples]).toEqual([7, 8]);
  });

  it('accepts WAVE_FORMAT_EXTENSIBLE with a PCM sub-format', () => {
    const fmt = Buffer.alloc(40);
    fmt.writeUInt16LE(0xfffe, 0);
    fmt.writeUInt16LE(1, 2);
    fmt.writeUInt32LE(24000, 4);
    fmt.writeUInt32LE(48000, 8);
    fmt.writeUInt16LE(2, 12);
    fmt.writeUInt16LE(16, 14);
    fmt.writeUInt16LE(22, 16);
    fmt.writeUInt16LE(1, 24);
    const data = Buffer.from([1, 0, 2, 0]);
    const body = Buffer.concat([Buffer.from('WAVEfmt '), Buffer.from([40, 0, 0, 0]), fmt, Buffer.from('data'), Buffer.from([4, 0, 0, 0]), data]);
    const riff = Buffer.alloc(8);
    riff.write('RIFF');
    riff.writeUInt32LE(body.length, 4);
    expect(parseWav(Buffer.concat([riff, body]))).toMatchObject({ rate: 24000, channels: 1 });
  });

  it('reads a streaming data size (0xFFFFFFFF) to the end of the file', () => {
    const b = withFmt((x) => x.writeUInt32LE(0xffffffff, 40));
    expect([...parseWav(b).samples]).toEqual([1, -2, 3, -4]);
  });

  const bad: [string, Buffer, string, RegExp][] = [
    ['empty', Buffer.alloc(0), 'ERR_WAV_MALFORMED', /shorter than a RIFF header/],
    ['not RIFF', Buffer.from('RIFX0000WAVEfmt '), 'ERR_WAV_MALFORMED', /signature/],
    ['truncated data', encodeWav(new Int16Array(100), 16000).subarray(0, 100), 'ERR_WAV_MALFORMED', /truncated/],
    ['no data chunk', encodeWav(new Int16Array(0), 16000).subarray(0, 36), 'ERR_WAV_MALFORMED', /no data chunk/],
    ['no fmt chunk', Buffer.concat([Buffer.from('RIFF\x04\x00\x00\x00WAVE', 'latin1')]), 'ERR_WAV_MALFORMED', /no fmt chunk/],
    ['data before fmt', Buffer.from('RIFF\x0c\x00\x00\x00WAVEdata\x00\x00\x00\x00', 'latin1'), 'ERR_WAV_MALFORMED', /before fmt/],
    ['short fmt', withFmt((x) => x.writeUInt32LE(8, 16)), 'ERR_WAV_MALFORMED', /./],
    ['half a frame', withFmt((x) => x.writeUInt32LE(7, 40)), 'ERR_WAV_MALFORMED', /whole frames/],
    ['float', withFmt((x) => x.writeUInt16LE(3, 20)), 'ERR_WAV_UNSUPPORTED', /format tag 3/],
    ['8-bit', withFmt((x) => x.writeUInt16LE(8, 34)), 'ERR_WAV_UNSUPPORTED', /8-bit/],
    ['6 channels', withFmt((x) => x.writeUInt16LE(6, 22)), 'ERR_WAV_UNSUPPORTED', /6 channels/],
    ['zero channels', withFmt((x) => x.writeUInt16LE(0, 22)), 'ERR_WAV_UNSUPPORTED', /0 channels/],
    ['rate 4 kHz', withFmt((x) => x.writeUInt32LE(4000, 24)), 'ERR_WAV_UNSUPPORTED', /4000 Hz/],
    ['rate 1 MHz', withFmt((x) => x.writeUInt32LE(1000000, 24)), 'ERR_WAV_UNSUPPORTED', /1000000 Hz/],
  ];
  it.each(bad)('rejects %s', (_name, buf, code, message) => {
    expect(() => parseWav(buf)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });

  it('enforces the size limit before parsing', () => {
    expect(() => parseWav(encodeWav(new Int16Array(1000), 16000), { maxBytes: 100 })).toThrow(expect.objectContaining({ code: 'ERR_WAV_TOO_LARGE' }));
  });
});

describe('wav helpers', () => {
  it('downmixes by averaging', () => {
    expect([...downmix(new Int16Array([100, 200, -100, -300]), 2)]).toEqual([150, -200]);
  });
  it('writes a canonical header', () => {
    const h = wavHeader(48000, 2, 400);
    expect(h.length).toBe(44);
    expect(h.readUInt32LE(4)).toBe(436);
    expect(h.readUInt32LE(28)).toBe(192000);
    expect(h.readUInt32LE(40)).toBe(400);
  });
});
