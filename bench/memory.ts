/**
 * Memory that audio buffers make resident: a playout ring sized for the longest reply (60 s at 24 kHz,
 * 2^21 samples, 4 MiB) should cost nothing until audio is written into it (issue 13). Measured as the
 * growth of this process's RSS, in KiB per ring, when four rings are created, then when 10 s of reply
 * audio has been written into each, then once it has played and the rings were trimmed (between
 * replies the AI port gives the playout ring's pages back: nothing proportional to the longest reply
 * stays resident).
 */
import { AudioEngine, AudioMediaRing } from '../src/media/index.js';

const RINGS = 4;

function rssKiB(): number {
  return Math.round(process.memoryUsage().rss / 1024);
}

/** KiB of RSS per 60-second ring: after creating it, and after 10 s of audio went into it. */
export async function benchMemory(): Promise<Record<string, number>> {
  const engine = await AudioEngine.create({ device: { type: 'null' }, manualClock: true });
  try {
    const start = rssKiB();
    const rings = Array.from({ length: RINGS }, () => AudioMediaRing.create(engine, { rate: 24000, txRate: 24000, batchMs: 40, prebufferMs: 100 }));
    const created = rssKiB();
    const tenSeconds = new Int16Array(24000 * 10).fill(1000);
    for (const ring of rings) ring.write(tenSeconds);
    const written = rssKiB();
    // Played out, then trimmed as the AI port does between replies.
    for (const ring of rings) ring.startTransmit(engine.playbackMedia);
    engine.step(1010);
    for (const ring of rings) ring.trim();
    const trimmed = rssKiB();
    for (const ring of rings) ring.destroy();
    return {
      'RSS per 60 s playout ring when created (KiB)': (created - start) / RINGS,
      'RSS per ring after 10 s of reply audio written (KiB; 10 s is 469 KiB)': (written - start) / RINGS,
      'RSS given back per ring when it is trimmed after playing (KiB)': (written - trimmed) / RINGS,
    };
  } finally {
    engine.close();
  }
}
