/**
 * The post filter after the echo canceller (double-talk detector, residual echo suppression, AGC) on the
 * synthetic rooms of issue 10, offline through the addon: the engine's blocks on whole buffers, fed the
 * way the engine feeds them (reference aligned to the echo's bulk delay minus a 20 ms margin).
 * Shared by bench/run.ts and the integration tests.
 */
import type { NativeBinding } from '../src/media/binding.js';
import { TALK_STATES, type NativeEchoPostOptions, type NativeEchoPostResult } from '../src/media/binding-post.js';
import {
  ENCLOSURE_ROOM,
  LIVING_ROOM,
  createEchoScenario,
  erleDb,
  nearEndLossDb,
  shiftSignal,
  type EchoScenario,
  type EchoScenarioOptions,
  type SampleRange,
} from './echo-scenario.js';

const RATE = 16000;
/** Samples per 10 ms frame; also the canceller's output lag. */
export const POST_FRAME = 160;
const MARGIN_SAMPLES = (20 * RATE) / 1000;
const NEAR = TALK_STATES.indexOf('near');
const DOUBLE = TALK_STATES.indexOf('double');

/** One room run through the canceller, then the post filter with and without its AGC. */
export interface PostRun {
  scenario: EchoScenario;
  reference: Int16Array;
  /** The canceller's output (speex echo + preprocess). */
  cancelled: Int16Array;
  /** The post filter without AGC (suppression figures). */
  suppressed: NativeEchoPostResult;
  /** The post filter with AGC (level figures). */
  levelled: NativeEchoPostResult;
  /** CPU of the post filter (with AGC), % of one core per second of audio. */
  cpuPercentOfCore: number;
}

/** Runs `room` (scenario options) through the canceller and the post filter. */
export function runPostFilter(binding: NativeBinding, room: EchoScenarioOptions, post: NativeEchoPostOptions = {}, tailMs = 250): PostRun {
  const PostFilter = binding.EchoPostFilter;
  if (PostFilter === undefined) throw new Error('this addon has no EchoPostFilter');
  const scenario = createEchoScenario(room);
  const reference = shiftSignal(scenario.far, scenario.delaySamples - MARGIN_SAMPLES);
  const canceller = new binding.EchoCanceller({ rate: RATE, frame: POST_FRAME, tailMs, denoise: true });
  const cancelled = canceller.process(scenario.mic, reference);
  const suppressed = new PostFilter({ ...post, agc: false }).process(scenario.mic, reference, cancelled);
  const before = process.cpuUsage();
  const levelled = new PostFilter({ ...post, agc: true }).process(scenario.mic, reference, cancelled);
  const used = process.cpuUsage(before);
  const cpuPercentOfCore = ((used.user + used.system) / 1e6 / (scenario.mic.length / RATE)) * 100;
  return { scenario, reference, cancelled, suppressed, levelled, cpuPercentOfCore };
}

/** Ground truth per 10 ms frame: is the far end's echo / the user audible at the microphone (-60 dBFS)? */
export function frameTruth(scenario: EchoScenario): { far: Uint8Array; near: Uint8Array } {
  const frames = scenario.mic.length / POST_FRAME;
  const far = new Uint8Array(frames);
  const near = new Uint8Array(frames);
  const threshold = POST_FRAME * (32768 * 10 ** (-60 / 20)) ** 2;
  for (let f = 0; f < frames; f++) {
    let e = 0;
    let u = 0;
    for (let i = f * POST_FRAME; i < (f + 1) * POST_FRAME; i++) {
      e += scenario.echo[i]! ** 2;
      u += scenario.near[i]! ** 2;
    }
    far[f] = e > threshold ? 1 : 0;
    near[f] = u > threshold ? 1 : 0;
  }
  return { far, near };
}

/**
 * Share of the user's energy in `range` that falls in frames the detector gave to the user (the
 * detector's frame f describes microphone frame f - 1: the canceller's lag).
 */
export function nearEnergyDetected(scenario: EchoScenario, states: Uint8Array, range: SampleRange): number {
  let total = 0;
  let found = 0;
  for (let f = range.start / POST_FRAME; f < range.end / POST_FRAME; f++) {
    let u = 0;
    for (let i = f * POST_FRAME; i < (f + 1) * POST_FRAME; i++) u += scenario.near[i]! ** 2;
    total += u;
    const s = states[f + 1] ?? 0;
    if (s === NEAR || s === DOUBLE) found += u;
  }
  return found / Math.max(1, total);
}

/** Share of frames in `range` the detector gave to the user (microphone frames, lag as above). */
export function nearFrameShare(states: Uint8Array, range: SampleRange): number {
  let count = 0;
  const first = range.start / POST_FRAME;
  const last = range.end / POST_FRAME;
  for (let f = first; f < last; f++) {
    const s = states[f + 1] ?? 0;
    if (s === NEAR || s === DOUBLE) count++;
  }
  return count / Math.max(1, last - first);
}

/** Echo below it in `range` after the canceller alone and after the post filter, in dB. */
export function residualFigures(run: PostRun, range: SampleRange): { cancellerDb: number; postDb: number } {
  const { echo } = run.scenario;
  return {
    cancellerDb: erleDb(echo, run.cancelled, range, POST_FRAME),
    postDb: erleDb(echo, run.suppressed.out, range, POST_FRAME),
  };
}

/** The user's loss in `range` through the canceller alone and through the post filter (no AGC), dB. */
export function userLossFigures(run: PostRun, range: SampleRange): { cancellerDb: number; postDb: number } {
  const { near } = run.scenario;
  return {
    cancellerDb: nearEndLossDb(near, run.cancelled, range, POST_FRAME),
    postDb: nearEndLossDb(near, run.suppressed.out, range, POST_FRAME),
  };
}

/** The user's level after the AGC over `range`, dBFS: the user's level at the microphone plus its gain. */
export function userLevelAfterAgc(run: PostRun, range: SampleRange, nearDbfs: number): number {
  return nearDbfs - nearEndLossDb(run.scenario.near, run.levelled.out, range, POST_FRAME);
}

/**
 * `npm run bench`: the post filter on the enclosure and the living room (seed 1), after 5 s and 15 s of
 * far end alone. Per room and convergence: echo removed far-only by the canceller alone and with the
 * post filter, the user's loss in double talk, share of far-only frames taken for the user, the user's
 * level after the AGC, and CPU of the post filter (% of one core per second of audio), plus the
 * playback shaper's CPU with ducking and ceiling on.
 */
export async function benchEchoPost(binding: NativeBinding): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  const rooms = [
    ['enclosure', ENCLOSURE_ROOM],
    ['living', LIVING_ROOM],
  ] as const;
  for (const [name, room] of rooms) {
    for (const converge of [5, 15]) {
      const run = runPostFilter(binding, { ...room, seed: 1, seconds: { converge, farOnly: 4, doubleTalk: 4, nearOnly: 3 } });
      const { farOnly, doubleTalk, nearOnly } = run.scenario.segments;
      const residual = residualFigures(run, farOnly);
      const loss = userLossFigures(run, doubleTalk);
      const key = `${name} ${converge} s`;
      rows[`${key}: echo removed far-only, canceller (dB)`] = residual.cancellerDb;
      rows[`${key}: echo removed far-only, + post filter (dB)`] = residual.postDb;
      rows[`${key}: user loss in double talk, + post filter (dB)`] = loss.postDb;
      rows[`${key}: far-only frames taken for the user (share)`] = nearFrameShare(run.suppressed.states, farOnly);
      rows[`${key}: user after AGC (dBFS)`] = userLevelAfterAgc(run, nearOnly, room.nearDbfs ?? -30);
      rows[`${key}: post filter CPU (% of a core)`] = run.cpuPercentOfCore;
    }
  }
  const Shaper = binding.PlaybackShaper;
  if (Shaper !== undefined) {
    const seconds = 60;
    const far = createEchoScenario({ seed: 1, seconds: { converge: seconds, farOnly: 0, doubleTalk: 0, nearOnly: 0 } }).far;
    const frames = far.length / POST_FRAME;
    const states = new Uint8Array(frames).fill(DOUBLE);
    const nearRuns = Uint16Array.from({ length: frames }, (_, f) => f % 200);
    const before = process.cpuUsage();
    new Shaper({ duckDb: 12, maxOutputDbfs: -20 }).process(far, states, nearRuns);
    const used = process.cpuUsage(before);
    rows['playback shaper (ducking + ceiling) CPU (% of a core)'] = ((used.user + used.system) / 1e6 / seconds) * 100;
  }
  return rows;
}
