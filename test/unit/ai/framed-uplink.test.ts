/**
 * The uplink's native framing (readTxBase64, FramedUplink) against the JS path it replaces: byte for
 * byte the same base64 and the same OpenAI append, for random audio, every length modulo 3 (base64
 * padding), reads across the ring's wraparound; with the addon and with the TypeScript fake.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { OpenAiBackend } from '../../../src/ai/backends/openai.js';
import { FramedUplink } from '../../../src/ai/framed-uplink.js';
import { pcmToBase64 } from '../../../src/ai/pcm.js';
import type { NativeBinding, NativeEngine } from '../../../src/media/binding.js';
import { createFakeBinding } from '../../../src/media/fake-binding.js';
import { AudioEngine, AudioMediaPlayer, AudioMediaRing } from '../../../src/media/index.js';
import { loadNativeBinding } from '../../../src/media/native-binding.js';

const RATE = 16000;

/** Deterministic noise over the full int16 range (extremes included). */
function noise(n: number, seed: number): Int16Array {
  let x = seed >>> 0 || 1;
  return Int16Array.from({ length: n }, (_, i) => {
    if (i % 97 === 0) return i % 2 ? 32767 : -32768;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) % 65536) - 32768;
  });
}

const bindings: [string, NativeBinding][] = [
  ['fake', createFakeBinding()],
  ['native', loadNativeBinding()],
];

describe.each(bindings)('%s binding: readTxBase64', (_name, binding) => {
  const engines: NativeEngine[] = [];
  afterEach(() => {
    for (const engine of engines.splice(0)) engine.close();
  });

  /** Two identical rings fed by one player of random audio; the ring holds 256 samples (wraps every 1.6 ticks). */
  function twinRings(): { engine: NativeEngine; framed: number; plain: number } {
    const engine = new binding.Engine({ manualClock: true }, () => undefined);
    engines.push(engine);
    engine.start();
    const player = engine.createPlayer(noise(RATE, 7), RATE, true);
    const framed = engine.createRing(RATE, 256, 256, 160, 0);
    const plain = engine.createRing(RATE, 256, 256, 160, 0);
    engine.connect(player, framed, 1);
    engine.connect(player, plain, 1);
    engine.step(1);
    return { engine, framed, plain };
  }

  it('writes exactly what Buffer base64 makes of the same samples, for every length mod 3 and across wraparound', () => {
    const { engine, framed, plain } = twinRings();
    const out = new Uint8Array(1024).fill(0x2a);
    let compared = 0;
    for (let round = 0; round < 60; round++) {
      engine.step(1);
      // Lengths 1..160 in turn: 2n bytes cover every remainder mod 3 (no padding, '=' and '==').
      for (let take = 1 + (round % 7) * 23; ; take = 1 + ((take * 5) % 160)) {
        const offset = 1 + (round % 5);
        out.fill(0x2a);
        const written = engine.readTxBase64(framed, out, offset, take);
        const reference = new Int16Array(take);
        const read = engine.readTx(plain, reference);
        if (written === 0) {
          // Too few waiting: nothing was consumed; put the twin back in step by draining both.
          expect(read).toBeLessThan(take);
          engine.readTxBase64(framed, out, 0, Math.max(1, read));
          break;
        }
        expect(read).toBe(take);
        const expected = pcmToBase64(reference);
        expect(written).toBe(expected.length);
        expect(Buffer.from(out.subarray(offset, offset + written)).toString('latin1')).toBe(expected);
        // Nothing before the offset is touched.
        expect(out[offset - 1]).toBe(0x2a);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('reads nothing while fewer samples wait, and refuses a buffer too small', () => {
    const { engine, framed } = twinRings();
    const out = new Uint8Array(1024);
    expect(engine.readTxBase64(framed, out, 0, 161)).toBe(0);
    expect(engine.readTxBase64(framed, out, 0, 160)).toBe(Math.ceil(320 / 3) * 4);
    expect(() => engine.readTxBase64(framed, new Uint8Array(10), 0, 160)).toThrow(RangeError);
    expect(() => engine.readTxBase64(framed, out, 1020, 3)).toThrow(RangeError);
    expect(() => engine.readTxBase64(framed, new Int16Array(4) as never, 0, 1)).toThrow(TypeError);
  });
});

describe.each(bindings)('%s binding: FramedUplink', (_name, binding) => {
  const engines: AudioEngine[] = [];
  afterEach(() => {
    for (const engine of engines.splice(0)) engine.close();
  });

  /**
   * One noise source into two rings: `framedRing` read through a FramedUplink, `plainRing` whose
   * batches `expected` holds as OpenAiBackend.encodeAudio() frames them.
   */
  async function framedAndPlain(seed: number) {
    const engine = await AudioEngine.create({ device: { type: 'null' }, manualClock: true, binding });
    engines.push(engine);
    const player = AudioMediaPlayer.fromPcm(engine, noise(RATE * 2, seed), RATE, { loop: true });
    // 8 kHz, 11 ms batches: 88 samples, 176 bytes (one '=' of padding); a 0.1 s ring wraps often.
    const options = { rate: 8000, batchMs: 11, txSeconds: 0.1, prebufferMs: 0 };
    const framedRing = AudioMediaRing.create(engine, options);
    const plainRing = AudioMediaRing.create(engine, options);
    player.startTransmit(framedRing);
    player.startTransmit(plainRing);
    const backend = new OpenAiBackend({});
    const uplink = new FramedUplink(framedRing, backend.audioTemplate);
    const expected: string[] = [];
    plainRing.on('tx', (batch) => expected.push(backend.encodeAudio(batch) as string));
    /** Steps `ticks` ticks one at a time, each read out of both rings before the next (neither overflows). */
    const stepReadingOut = async (ticks: number): Promise<void> => {
      for (let i = 0; i < ticks; i++) {
        engine.step(1);
        const deadline = Date.now() + 1000;
        while (framedRing.status().txBuffered >= 88 || plainRing.status().txBuffered >= 88) {
          if (Date.now() > deadline) throw new Error('the batches were not read');
          await new Promise((r) => setTimeout(r, 1));
        }
      }
    };
    return { engine, framedRing, backend, uplink, expected, stepReadingOut };
  }

  it('frames each batch exactly as OpenAiBackend.encodeAudio() does, reusing its buffers once released', async () => {
    const { framedRing, uplink, expected, stepReadingOut } = await framedAndPlain(11);
    const frames: string[] = [];
    const buffers = new Set<Buffer>();
    framedRing.setTxReader((timeUs, waiting) =>
      uplink.pull(timeUs, waiting, (frame, samples, capturedUs, release) => {
        expect(samples).toBe(88);
        expect(capturedUs).toBeLessThanOrEqual(timeUs);
        frames.push(frame.toString('utf8'));
        buffers.add(frame);
        release();
      }),
    );
    await stepReadingOut(100);
    expect(frames.length).toBeGreaterThan(50);
    expect(frames).toEqual(expected.slice(0, frames.length));
    expect(JSON.parse(frames[0] as string)).toEqual({ type: 'input_audio_buffer.append', audio: expect.any(String) });
    // Released buffers are reused: one buffer serves every batch.
    expect(buffers.size).toBe(1);
    expect(uplink.pooled).toBe(1);
  });

  it('completes a batch begun on the slow path first: every sample leaves once, in order', async () => {
    const { engine, framedRing, backend, uplink, expected, stepReadingOut } = await framedAndPlain(5);
    const sent: string[] = [];
    framedRing.on('tx', (batch) => sent.push(backend.encodeAudio(batch) as string));
    // Before the session: the slow path reads 5 ticks (400 samples): 4 batches of 88 and 48 held over.
    framedRing.setTxReader(() => undefined);
    engine.step(5);
    framedRing.pullBatches();
    expect(framedRing.partialBatch).toBe(48);
    framedRing.setTxReader((timeUs, waiting) =>
      uplink.pull(timeUs, waiting, (frame, _samples, _at, release) => {
        sent.push(frame.toString('utf8'));
        release();
      }),
    );
    await stepReadingOut(40);
    expect(framedRing.partialBatch).toBe(0);
    expect(sent.length).toBeGreaterThan(30);
    expect(sent).toEqual(expected.slice(0, sent.length));
  });
});
