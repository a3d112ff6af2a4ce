/**
 * Room runs dumped for analysis outside the bench (run.js --dump) read back as they were written, and
 * the detector timing on them: the addon's echo engine and post filter find a user talking over the
 * far end, and give the user no frame while the far end talks alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEchoScenario, LIVING_ROOM } from '../../../bench/echo-scenario.js';
import { detectorTiming } from '../../../bench/room/detector-timing.js';
import { readRunDump, writeRunDump } from '../../../bench/room/dump.js';
import type { RunRecord } from '../../../bench/room/session.js';
import { ROOMS, TIMELINE } from '../../../bench/room/rooms.js';
import { loadNativeBinding } from '../../../src/media/native-binding.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A run of the synthetic living room laid out on the room bench's timeline (reply at sample 0). */
function syntheticRun(): RunRecord {
  const s = createEchoScenario({
    ...LIVING_ROOM,
    seconds: { converge: TIMELINE.convergeMs / 1000, farOnly: TIMELINE.farOnlyMs / 1000, doubleTalk: 4, nearOnly: 2 },
  });
  const floats = (x: Int16Array): Float32Array => Float32Array.from(x);
  const half = (s.segments.doubleTalk.start + s.segments.doubleTalk.end) / 2;
  return {
    room: ROOMS[0]!,
    stats: {
      rate: 16000,
      frames: s.mic.length,
      onset: 0,
      clipped48: 0,
      active48: 0,
      dropped: 0,
      callbacks: 0,
      xruns: 0,
      recordedLag: s.delaySamples,
      irLength: 0,
    },
    recording: { speaker: floats(s.far), echo: floats(s.echo), user: floats(s.near), noise: new Float32Array(s.mic.length), mic: floats(s.mic) },
    uplink: Int16Array.from({ length: 2400 }, (_, i) => (i * 37) % 2000),
    utterances: [
      { start: s.segments.doubleTalk.start, end: half },
      { start: half, end: s.segments.doubleTalk.end },
    ],
    userDbfs: -48,
    cpuPercent: 2.5,
    daemonXruns: 0,
  };
}

describe('room run dumps', () => {
  it('read back every signal, the uplink and the figures as written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'speakerd-dump-'));
    dirs.push(dir);
    const run = syntheticRun();
    writeRunDump(join(dir, 'run'), run);
    const back = readRunDump(join(dir, 'run'));
    expect(back).toEqual(run);
    expect(back.recording.mic).toBeInstanceOf(Float32Array);
    expect(back.uplink).toBeInstanceOf(Int16Array);
  });

  it('time the detector: the user over the far end is found, the far end alone is not taken for them', () => {
    const timing = detectorTiming(loadNativeBinding(), syntheticRun(), 'speex');
    expect(timing.firstMs).toHaveLength(2);
    // Found inside each half of the double talk (its synthetic words start where its plan puts them).
    for (const ms of timing.firstMs) {
      expect(ms).not.toBeNull();
      expect(ms as number).toBeLessThan(2000);
    }
    expect(timing.falsePercent).toBeLessThan(2);
  });
});
