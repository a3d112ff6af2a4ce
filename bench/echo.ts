import { loadNativeBinding } from '../src/media/native-binding.js';
import { createEchoScenario, erleDb, nearEndLossDb, shiftSignal } from './echo-scenario.js';

const RATE = 16000;
const FRAME = 160;
/** How far the reference leads the echo, as the engine feeds it (aecMarginMs, default 20 ms). */
const MARGIN_SAMPLES = (20 * RATE) / 1000;
/** 40 s: speech needs 15-20 s to bring speexdsp to its steady state on this room. */
const SECONDS = { converge: 20, farOnly: 8, doubleTalk: 8, nearOnly: 4 };
/** Fresh cancellers run over the same audio; the CPU figure is their median. */
const RUNS = 3;

/**
 * The native echo canceller (250 ms filter, denoise and residual echo suppression on) on the synthetic
 * room of echo-scenario.ts, seed 1, 40 s. Returns:
 * - `erleDb`: echo return loss enhancement with the far end alone, after 20 s of far-end speech;
 * - `doubleTalkLossDb`, `nearOnlyLossDb`: loss of the near-end talker by projection (includes about
 *   0.7 dB of phase rotation by speexdsp's DC notch);
 * - `cpuPercentOfCore`: CPU time of process() (user + system) per second of audio, % of one core;
 * - `audioSeconds`: length of the audio processed per run.
 */
export async function benchEcho(): Promise<Record<string, number>> {
  const binding = loadNativeBinding();
  const scenario = createEchoScenario({ seed: 1, seconds: SECONDS });
  const reference = shiftSignal(scenario.far, scenario.delaySamples - MARGIN_SAMPLES);
  const audioSeconds = scenario.mic.length / RATE;
  const cpu: number[] = [];
  let out: Int16Array = new Int16Array(0);
  for (let run = 0; run < RUNS; run++) {
    const canceller = new binding.EchoCanceller({ rate: RATE, frame: FRAME, tailMs: 250, denoise: true });
    const before = process.cpuUsage();
    out = canceller.process(scenario.mic, reference);
    const used = process.cpuUsage(before);
    cpu.push(((used.user + used.system) / 1e6 / audioSeconds) * 100);
  }
  cpu.sort((a, b) => a - b);
  const { farOnly, doubleTalk, nearOnly } = scenario.segments;
  return {
    erleDb: erleDb(scenario.mic, out, farOnly, FRAME),
    doubleTalkLossDb: nearEndLossDb(scenario.near, out, doubleTalk, FRAME),
    nearOnlyLossDb: nearEndLossDb(scenario.near, out, nearOnly, FRAME),
    cpuPercentOfCore: cpu[Math.floor(RUNS / 2)] ?? Number.NaN,
    audioSeconds,
  };
}
