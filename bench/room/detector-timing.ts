/**
 * When the double-talk detector finds the user over the reply, offline on room runs dumped by
 * `run.js --dump` (issue 10): the microphone and the reference (the speaker, aligned to the echo's
 * recorded lag less the 20 ms margin, as the engine aligns it) go through the echo engine and the post
 * filter of the addon with their defaults, and for each utterance over the reply the time from its
 * first sample to the first frame the detector gives the user is printed, with the share of frames
 * it gives the user while the assistant talks alone (after convergence: false detections).
 *   node dist/bench/room/detector-timing.js [--engine speex|webrtc] DIR...
 */
import { parseArgs } from 'node:util';
import { shiftSignal } from '../echo-scenario.js';
import type { NativeBinding, NativeEchoEngineName } from '../../src/media/binding.js';
import { TALK_STATES } from '../../src/media/binding-post.js';
import { loadNativeBinding } from '../../src/media/native-binding.js';
import { readRunDump } from './dump.js';
import { TIMELINE } from './rooms.js';
import type { RunRecord } from './session.js';

const RATE = 16000;
const FRAME = 160;
const MARGIN_SAMPLES = (20 * RATE) / 1000;
const NEAR = TALK_STATES.indexOf('near');
const DOUBLE = TALK_STATES.indexOf('double');

/** What the detector made of one run. */
export interface DetectorTiming {
  /** Per utterance over the reply: ms from its first sample to the first frame given to the user, or null. */
  firstMs: (number | null)[];
  /** Frames given to the user while only the assistant talks, after convergence (%). */
  falsePercent: number;
}

function toPcm16(signal: Float32Array, length: number): Int16Array {
  const out = new Int16Array(length);
  for (let n = 0; n < length; n++) out[n] = Math.max(-32768, Math.min(32767, Math.round(signal[n] ?? 0)));
  return out;
}

/** Runs `run`'s microphone through `engine` and the post filter and times the detector. */
export function detectorTiming(binding: NativeBinding, run: RunRecord, engine: NativeEchoEngineName): DetectorTiming {
  const PostFilter = binding.EchoPostFilter;
  if (PostFilter === undefined) throw new Error('this addon has no EchoPostFilter');
  const length = Math.floor(run.recording.mic.length / FRAME) * FRAME;
  const mic = toPcm16(run.recording.mic, length);
  const reference = shiftSignal(toPcm16(run.recording.speaker, length), run.stats.recordedLag - MARGIN_SAMPLES);
  const cancelled = new binding.EchoCanceller({ engine, rate: RATE, frame: FRAME, tailMs: 250, denoise: true }).process(mic, reference);
  const { states } = new PostFilter({}).process(mic, reference, cancelled);
  const user = (frame: number): boolean => states[frame] === NEAR || states[frame] === DOUBLE;
  const firstMs = run.utterances.slice(0, 2).map((u) => {
    for (let f = Math.floor(u.start / FRAME); f < Math.floor(u.end / FRAME); f++) if (user(f)) return ((f * FRAME - u.start) * 1000) / RATE;
    return null;
  });
  const from = Math.floor((run.stats.onset + (TIMELINE.convergeMs * RATE) / 1000) / FRAME);
  const to = Math.floor((run.stats.onset + ((TIMELINE.convergeMs + TIMELINE.farOnlyMs) * RATE) / 1000) / FRAME);
  let flagged = 0;
  for (let f = from; f < to; f++) if (user(f)) flagged++;
  return { firstMs, falsePercent: (100 * flagged) / Math.max(1, to - from) };
}

if (process.argv[1]?.endsWith('detector-timing.js')) {
  const { values, positionals } = parseArgs({ options: { engine: { type: 'string', default: 'webrtc' } }, allowPositionals: true });
  const engine = values.engine as NativeEchoEngineName;
  const fail = (message: string): never => {
    console.error(message);
    process.exit(2);
  };
  if (engine !== 'speex' && engine !== 'webrtc') fail(`--engine takes speex or webrtc, got '${values.engine}'`);
  if (positionals.length === 0) fail('usage: detector-timing.js [--engine speex|webrtc] DIR... (directories written by run.js --dump)');
  const binding = loadNativeBinding();
  for (const dir of positionals) {
    const t = detectorTiming(binding, readRunDump(dir), engine);
    const first = t.firstMs.map((ms) => (ms === null ? 'missed' : `${Math.max(0, ms).toFixed(0)} ms`)).join(' / ');
    console.log(`${dir}: the user over the reply found after ${first}; ${t.falsePercent.toFixed(1)} % of far-only frames given to the user`);
  }
}
