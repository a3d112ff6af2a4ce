import { loadNativeBinding } from '../src/media/native-binding.js';
import type { NativeBinding, NativeEchoEngineName } from '../src/media/binding.js';
import { createEchoScenario, erleDb, estimateLag, nearEndLossDb, shiftSignal, type EchoScenario } from './echo-scenario.js';

const RATE = 16000;
const FRAME = 160;
/** How far the reference leads the echo, as the engine feeds it (aecMarginMs, default 20 ms). */
const MARGIN_SAMPLES = (20 * RATE) / 1000;
/** 40 s: speech needs 15-20 s to bring speexdsp to its steady state on this room. */
const SECONDS = { converge: 20, farOnly: 8, doubleTalk: 8, nearOnly: 4 };
/** Fresh cancellers (estimators) run over the same audio; the CPU figure is their median. */
const RUNS = 3;
/** Echo path delays the estimator is run on. */
const DELAYS_MS = [40, 120, 300];

/** Median of `runs` measurements of CPU time (user + system) per second of audio, % of one core. */
function cpuPercent(audioSeconds: number, runs: number, work: () => void): number {
  const cpu: number[] = [];
  for (let run = 0; run < runs; run++) {
    const before = process.cpuUsage();
    work();
    const used = process.cpuUsage(before);
    cpu.push(((used.user + used.system) / 1e6 / audioSeconds) * 100);
  }
  cpu.sort((a, b) => a - b);
  return cpu[Math.floor(runs / 2)] ?? Number.NaN;
}

/** One echo engine on the scenario: quality at the engine's own latency, and its cost. */
function benchEngine(binding: NativeBinding, engine: NativeEchoEngineName, scenario: EchoScenario): Record<string, number> {
  const reference = shiftSignal(scenario.far, scenario.delaySamples - MARGIN_SAMPLES);
  const audioSeconds = scenario.mic.length / RATE;
  let out: Int16Array = new Int16Array(0);
  const cpu = cpuPercent(audioSeconds, RUNS, () => {
    out = new binding.EchoCanceller({ rate: RATE, frame: FRAME, tailMs: 250, denoise: true, engine }).process(scenario.mic, reference);
  });
  const { farOnly, doubleTalk, nearOnly } = scenario.segments;
  const lag = engine === 'speex' ? FRAME : estimateLag(scenario.near, out, nearOnly, 3 * FRAME);
  return {
    erleDb: erleDb(scenario.mic, out, farOnly, lag),
    doubleTalkLossDb: nearEndLossDb(scenario.near, out, doubleTalk, lag),
    nearOnlyLossDb: nearEndLossDb(scenario.near, out, nearOnly, lag),
    latencyMs: (lag * 1000) / RATE,
    cpuPercentOfCore: cpu,
  };
}

/** The delay estimator on the scenario at each of DELAYS_MS: worst error, worst time to a first estimate, cost. */
function benchDelayEstimator(binding: NativeBinding): Record<string, number> {
  let worstErrorMs = 0;
  let worstSeconds = 0;
  let cpu = 0;
  for (const delayMs of DELAYS_MS) {
    const scenario = createEchoScenario({ seed: 1, seconds: SECONDS, delayMs });
    const audioSeconds = scenario.mic.length / RATE;
    cpu = Math.max(
      cpu,
      cpuPercent(audioSeconds, RUNS, () => new binding.DelayEstimator({ rate: RATE }).process(scenario.mic, scenario.far)),
    );
    const estimator = new binding.DelayEstimator({ rate: RATE });
    let found = -1;
    for (let at = 0; at < scenario.mic.length; at += FRAME * 25) {
      estimator.process(scenario.mic.subarray(at, at + FRAME * 25), scenario.far.subarray(at, at + FRAME * 25));
      const { delayMs: estimate } = estimator.estimate();
      if (estimate >= 0 && found < 0) found = (at + FRAME * 25) / RATE;
      if (found >= 0) worstErrorMs = Math.max(worstErrorMs, Math.abs(estimate - delayMs));
    }
    worstSeconds = Math.max(worstSeconds, found < 0 ? Number.POSITIVE_INFINITY : found);
  }
  return { worstErrorMs, worstSecondsToEstimate: worstSeconds, cpuPercentOfCore: cpu };
}

/**
 * Each echo engine the addon has (250 ms filter for speex, denoise and residual echo suppression on;
 * WebRTC AEC2 with extended filter and delay-agnostic mode, low suppression) on the synthetic room of
 * echo-scenario.ts, seed 1, 40 s, 40 ms echo path, the figures of both side by side:
 * - `erleDb`: echo return loss enhancement with the far end alone, after 20 s of far-end speech;
 * - `doubleTalkLossDb`, `nearOnlyLossDb`: loss of the near-end talker by projection (speex: includes
 *   about 0.7 dB of phase rotation by its DC notch);
 * - `latencyMs`: the engine's own delay of the microphone (speex one frame; webrtc measured);
 * - `cpuPercentOfCore`: CPU time of process() (user + system) per second of audio, % of one core;
 * and the echo path delay estimator on the same room with 40, 120 and 300 ms paths: the largest error
 * once it has an estimate (ms), the longest time to its first estimate (s), its CPU per audio second.
 */
export async function benchEcho(): Promise<Record<string, number>> {
  const binding = loadNativeBinding();
  const scenario = createEchoScenario({ seed: 1, seconds: SECONDS });
  const engines = binding.buildInfo().echoEngines;
  const results = new Map(engines.map((engine) => [engine, benchEngine(binding, engine, scenario)]));
  const rows: Record<string, number> = {};
  for (const metric of ['erleDb', 'doubleTalkLossDb', 'nearOnlyLossDb', 'latencyMs', 'cpuPercentOfCore']) {
    for (const engine of engines) rows[`${engine}: ${metric}`] = results.get(engine)?.[metric] ?? Number.NaN;
  }
  for (const [name, value] of Object.entries(benchDelayEstimator(binding))) rows[`delay estimator: ${name}`] = value;
  rows.audioSeconds = scenario.mic.length / RATE;
  return rows;
}
