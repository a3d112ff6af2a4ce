import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioEngine, AudioMediaPlayer, AudioMediaRecorder, AudioMediaRing, AudioMediaTone, MediaError, encodeWav } from '../../src/media/index.js';

// Bad inputs against the native engine: each gets a clear, typed error and the engine keeps working.

const engines: AudioEngine[] = [];
const dirs: string[] = [];
async function manual(): Promise<AudioEngine> {
  const e = await AudioEngine.create({ manualClock: true });
  engines.push(e);
  return e;
}
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'speakerd-err-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  engines.splice(0).forEach((e) => e.close());
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

describe('media API bad inputs (native engine)', () => {
  it('rejects bad engine options naming the option', async () => {
    await expect(AudioEngine.create({ bridgeRate: 22050 })).rejects.toThrow(RangeError);
    await expect(AudioEngine.create({ bridgeRate: 22050 })).rejects.toThrow(/bridgeRate/);
    await expect(AudioEngine.create({ aec: { tailMs: 5 } })).rejects.toThrow(/aec\.tailMs/);
    await expect(AudioEngine.create({ aec: { engine: 'pulse' as never } })).rejects.toThrow(
      new RangeError("aec.engine must be 'auto', 'speex', 'webrtc', got 'pulse'"),
    );
    await expect(AudioEngine.create({ aec: { suppression: 'max' as never } })).rejects.toThrow(/aec\.suppression/);
    await expect(AudioEngine.create({ aec: { maxDelayMs: 5 } })).rejects.toThrow(/aec\.maxDelayMs/);
    await expect(AudioEngine.create({ device: { type: 'null', rate: 44101 } })).rejects.toThrow(/device\.rate/);
    await expect(AudioEngine.create(null as never)).rejects.toThrow(TypeError);
  });

  it('rejects absurd levels and keeps the old level', async () => {
    const e = await manual();
    const tone = AudioMediaTone.create(e, [{ freq: 440, ms: 100 }]);
    tone.adjustRxLevel(0.5);
    for (const bad of [NaN, -1, 10.5, Infinity]) {
      expect(() => tone.adjustRxLevel(bad)).toThrow(RangeError);
      expect(() => tone.startTransmit(e.playbackMedia, bad)).toThrow(/level/);
    }
    expect(() => tone.adjustTxLevel('1' as never)).toThrow(TypeError);
    expect(tone.getRxLevelAdjust()).toBe(0.5);
  });

  it('gives ERR_PORT_DESTROYED for a destroyed port and ERR_PORT_KIND for a wrong direction', async () => {
    const e = await manual();
    const tone = AudioMediaTone.create(e, [{ freq: 440, ms: 100 }]);
    const other = AudioMediaTone.create(e, [{ freq: 440, ms: 100 }]);
    expect(() => e.captureMedia.startTransmit(tone)).toThrow(expect.objectContaining({ code: 'ERR_PORT_KIND' }));
    tone.destroy();
    tone.destroy();
    expect(() => tone.startTransmit(e.playbackMedia)).toThrow(expect.objectContaining({ code: 'ERR_PORT_DESTROYED' }));
    expect(() => tone.getRxLevel()).toThrow(MediaError);
    other.startTransmit(e.playbackMedia);
    e.step(5);
    expect(other.getRxLevel()).toBeGreaterThan(0);
  });

  it('refuses a sink from another engine', async () => {
    const a = await manual();
    const b = await manual();
    const tone = AudioMediaTone.create(a, [{ freq: 440, ms: 100 }]);
    expect(() => tone.startTransmit(b.playbackMedia)).toThrow(/same AudioEngine/);
    expect(() => tone.startTransmit({} as never)).toThrow(TypeError);
  });

  it('gives ERR_ENGINE_CLOSED after close(), and close() twice is harmless', async () => {
    const e = await manual();
    const tone = AudioMediaTone.create(e, [{ freq: 440, ms: 100 }]);
    const ring = AudioMediaRing.create(e, { rate: 24000 });
    e.close();
    e.close();
    const closed = expect.objectContaining({ code: 'ERR_ENGINE_CLOSED' });
    expect(() => e.stats()).toThrow(closed);
    expect(() => e.step(1)).toThrow(closed);
    expect(() => tone.startTransmit(e.playbackMedia)).toThrow(closed);
    expect(() => ring.write(new Int16Array(10))).toThrow(closed);
    expect(() => AudioMediaTone.create(e, [{ freq: 440, ms: 100 }])).toThrow(closed);
    expect(() => tone.destroy()).not.toThrow();
  });

  it('says step() needs a manual clock', async () => {
    const e = await AudioEngine.create();
    engines.push(e);
    expect(() => e.step(1)).toThrow(expect.objectContaining({ code: 'ERR_NOT_MANUAL' }));
  });

  it('limits the bridge to 32 ports and frees slots on destroy', async () => {
    const e = await manual();
    const tones = Array.from({ length: 31 }, () => AudioMediaTone.create(e, [{ freq: 440, ms: 10 }]));
    expect(() => AudioMediaTone.create(e, [{ freq: 440, ms: 10 }])).toThrow(expect.objectContaining({ code: 'ERR_TOO_MANY_PORTS' }));
    tones[3]?.destroy();
    e.step(1);
    expect(() => AudioMediaTone.create(e, [{ freq: 440, ms: 10 }])).not.toThrow();
  });

  it('reports missing, unreadable, malformed and unsupported WAV files', async () => {
    const e = await manual();
    const dir = tempDir();
    await expect(AudioMediaPlayer.create(e, join(dir, 'missing.wav'))).rejects.toMatchObject({ code: 'ERR_FILE' });
    await expect(AudioMediaPlayer.create(e, dir)).rejects.toMatchObject({ code: 'ERR_FILE' });
    const truncated = join(dir, 'truncated.wav');
    writeFileSync(truncated, encodeWav(new Int16Array(1000), 16000).subarray(0, 500));
    await expect(AudioMediaPlayer.create(e, truncated)).rejects.toMatchObject({ code: 'ERR_WAV_MALFORMED' });
    const text = join(dir, 'text.wav');
    writeFileSync(text, 'hello, I am not a sound');
    await expect(AudioMediaPlayer.create(e, text)).rejects.toMatchObject({ code: 'ERR_WAV_MALFORMED' });
    const big = join(dir, 'big.wav');
    writeFileSync(big, encodeWav(new Int16Array(100000), 16000));
    await expect(AudioMediaPlayer.create(e, big, { limits: { maxBytes: 1000 } })).rejects.toMatchObject({ code: 'ERR_WAV_TOO_LARGE' });
    const float = encodeWav(new Int16Array(100), 16000);
    float.writeUInt16LE(3, 20);
    writeFileSync(join(dir, 'float.wav'), float);
    await expect(AudioMediaPlayer.create(e, join(dir, 'float.wav'))).rejects.toMatchObject({ code: 'ERR_WAV_UNSUPPORTED' });
    await expect(AudioMediaPlayer.create(e, '')).rejects.toThrow(TypeError);
    expect(e.stats().ports).toHaveLength(0);
  });

  it('reports a recorder file that cannot be created', async () => {
    const e = await manual();
    await expect(AudioMediaRecorder.create(e, join(tempDir(), 'no', 'dir.wav'))).rejects.toMatchObject({ code: 'ERR_FILE' });
    await expect(AudioMediaRecorder.create(e, join(tempDir(), 'r.wav'), { rate: 22050 })).rejects.toThrow(/options\.rate/);
  });

  it('validates ring and tone arguments', async () => {
    const e = await manual();
    expect(() => AudioMediaRing.create(e, { rate: 11025 })).toThrow(RangeError);
    expect(() => AudioMediaRing.create(e, { rate: 24000, prebufferMs: -5 })).toThrow(/prebufferMs/);
    const ring = AudioMediaRing.create(e, { rate: 24000 });
    expect(() => ring.write([1, 2, 3] as never)).toThrow(TypeError);
    expect(() => AudioMediaTone.create(e, [])).toThrow(TypeError);
    expect(() => AudioMediaTone.create(e, [{ freq: 9000, ms: 10 }])).toThrow(/segments\[0\]\.freq/);
    expect(() => AudioMediaTone.create(e, [{ freq: 440, ms: 0 }])).toThrow(/segments\[0\]\.ms/);
  });
});
