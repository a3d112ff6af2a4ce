/**
 * The post filter after the echo canceller (double-talk detector, residual echo suppression, AGC) on the
 * synthetic rooms of issue 10, offline through the addon: the engine's blocks on whole buffers, fed the
 * way the engine feeds them (reference aligned to the echo's bulk delay minus a 20 ms margin).
 * Shared by bench/run.ts and the integration tests.
 */
import type { NativeBinding } from '../src/media/binding.js';
import type { NativeEchoPostOptions, NativeEchoPostResult } from '../src/media/binding-post.js';
import {
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
export function runPostFilter(
  binding: NativeBinding,
  room: EchoScenarioOptions,
  post: NativeEchoPostOptions = {},
  tailMs = 250,
): PostRun {
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
    if (s === 2 || s === 3) found += u;
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
    if (s === 2 || s === 3) count++;
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
