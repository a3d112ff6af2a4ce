/**
 * A room run written to a directory and read back, for analysis outside the bench (`run.js --dump`):
 * each signal of the recording as raw little-endian float32 (PCM16 units, 16 kHz), the uplink as
 * PCM16 at the wire rate, and the rest (room, stats, utterances, levels) as meta.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RoomRecording } from './client.js';
import type { RunRecord } from './session.js';

const SIGNALS = ['speaker', 'echo', 'user', 'noise', 'mic'] as const satisfies readonly (keyof RoomRecording)[];

/** Writes `run` into `dir` (created if missing). */
export function writeRunDump(dir: string, run: RunRecord): void {
  mkdirSync(dir, { recursive: true });
  for (const name of SIGNALS) {
    const signal = run.recording[name];
    writeFileSync(join(dir, `${name}.f32`), Buffer.from(signal.buffer, signal.byteOffset, signal.byteLength));
  }
  writeFileSync(join(dir, 'uplink.s16'), Buffer.from(run.uplink.buffer, run.uplink.byteOffset, run.uplink.byteLength));
  const { recording: _recording, uplink: _uplink, ...meta } = run;
  writeFileSync(join(dir, 'meta.json'), `${JSON.stringify(meta, null, 1)}\n`);
}

/** Reads back what writeRunDump wrote. */
export function readRunDump(dir: string): RunRecord {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Omit<RunRecord, 'recording' | 'uplink'>;
  const floats = (name: string): Float32Array => {
    const bytes = readFileSync(join(dir, `${name}.f32`));
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  };
  const recording = Object.fromEntries(SIGNALS.map((name) => [name, floats(name)])) as unknown as RoomRecording;
  const uplinkBytes = readFileSync(join(dir, 'uplink.s16'));
  const uplink = new Int16Array(uplinkBytes.buffer.slice(uplinkBytes.byteOffset, uplinkBytes.byteOffset + uplinkBytes.byteLength));
  return { ...meta, recording, uplink };
}
