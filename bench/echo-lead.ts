/**
 * How much each echo engine's ERLE depends on the exact lead of the reference over the echo: the
 * engine feeds the reference `aec.marginMs` (20 ms) ahead of the estimated echo path, an estimate good
 * to a few samples, so an engine that needs one particular alignment shows it here. On bench/echo.ts's
 * room (seed 1, 16 kHz, 120 ms path) with leads from 16 to 24 ms in 0.5 ms steps: the ERLE with the
 * far end alone at each lead, and the spread. WebRTC's AEC3 (webrtc-audio-processing 1.x) works in
 * 4 ms (64-sample) blocks, and its ERLE varies with the lead within a block.
 *
 *   node dist/bench/echo-lead.js      (scripts/test-webrtc1.sh --bench runs it on the 1.x build)
 */
import { loadNativeBinding } from '../src/media/native-binding.js';
import { createEchoScenario, erleDb, estimateLag, shiftSignal } from './echo-scenario.js';

const RATE = 16000;
const FRAME = 160;
/** Leads in samples: 16 to 24 ms at 16 kHz, in 8-sample (0.5 ms) steps, two AEC3 blocks. */
const LEADS = Array.from({ length: 17 }, (_, i) => 256 + 8 * i);

/** Per engine: ERLE (dB, far end alone) at each lead, and the lowest and highest. */
export function benchEchoLead(): Record<string, number> {
  const binding = loadNativeBinding();
  const scenario = createEchoScenario({ seed: 1, delayMs: 120 });
  const rows: Record<string, number> = {};
  for (const engine of binding.buildInfo().echoEngines) {
    const erles = LEADS.map((lead) => {
      const reference = shiftSignal(scenario.far, scenario.delaySamples - lead);
      const out = new binding.EchoCanceller({ rate: RATE, frame: FRAME, engine }).process(scenario.mic, reference);
      const lag = engine === 'speex' ? FRAME : estimateLag(scenario.near, out, scenario.segments.nearOnly, 3 * FRAME);
      const erle = erleDb(scenario.mic, out, scenario.segments.farOnly, lag);
      rows[`${engine}: erleDb at lead ${lead} samples`] = erle;
      return erle;
    });
    rows[`${engine}: lowest erleDb over the leads`] = Math.min(...erles);
    rows[`${engine}: highest erleDb over the leads`] = Math.max(...erles);
  }
  return rows;
}

if (process.argv[1]?.endsWith('echo-lead.js')) {
  const { webrtcApm } = loadNativeBinding().buildInfo();
  console.log(`echo engines by reference lead (webrtc-audio-processing ${webrtcApm || 'none'})`);
  for (const [name, value] of Object.entries(benchEchoLead())) console.log(`  ${name.padEnd(48)} ${value.toFixed(1)}`);
}
