// Smoke test of a (cross-)built addon on the CPU that runs it (under qemu-user on the build host):
// the loader picks the build for this CPU; for each echo engine the build has, the engine ticks on the
// null device with it and both resamplers, and the offline echo canceller removes a synthetic echo
// and keeps the near end; aec.engine 'auto' runs webrtc when the build has it; the resampler runs; an
// sd_notify datagram reaches a receiver with this process's pid. Prints one line; exits 1 on any failure.
//
//   node scripts/arm/smoke.mjs [--engines=speex,webrtc]     (after `npm run build:ts`; from the repository)
//
// --engines: the echo engines the build must have, exactly (the ARM builds: speex,webrtc).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNativeAddon, loadNativeBinding } from '../../dist/src/media/native-binding.js';
import { AudioEngine } from '../../dist/src/media/index.js';

const root = new URL('../..', import.meta.url).pathname;
const expectedEngines = process.argv.find((a) => a.startsWith('--engines='))?.slice('--engines='.length);
const path = findNativeAddon(root);
const binding = loadNativeBinding();
const { echoEngines } = binding.buildInfo();
if (expectedEngines !== undefined && echoEngines.join(',') !== expectedEngines) {
  throw new Error(`echo engines: the build has ${echoEngines.join(',')}, expected ${expectedEngines}`);
}

// The engine ticking on the null device with the echo canceller (engine `aecEngine`) and the resamplers.
async function tick(aecEngine) {
  const engine = await AudioEngine.create({ manualClock: true, device: { type: 'null', rate: 48000 }, aec: { engine: aecEngine } });
  try {
    engine.step(100);
    const { tickAvgUs, frames, aec } = engine.stats();
    if (frames < 100 || aec === null) throw new Error(`engine (${aecEngine}): ${frames} frames, aec ${JSON.stringify(aec)}`);
    return { running: aec.engine, tickAvgUs };
  } finally {
    engine.close();
  }
}

// The offline canceller on 3 s of a far end (amplitude-modulated noise) echoed through a three-tap
// path 5 ms late, then 1 s of the near end alone (a 440 Hz tone): the echo removed over the far end's
// last second, and the near end's loss over the last half second.
const RATE = 16000;
const FAR = 3 * RATE;
const LENGTH = 4 * RATE;
let seed = 12345;
const noise = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const far = Int16Array.from({ length: LENGTH }, (_, i) => (i < FAR ? Math.round(6000 * noise() * (0.6 + 0.4 * Math.sin((2 * Math.PI * 3 * i) / RATE))) : 0));
const near = Int16Array.from({ length: LENGTH }, (_, i) => (i < FAR ? 0 : Math.round(3000 * Math.sin((2 * Math.PI * 440 * i) / RATE))));
const at = (i) => far[i] ?? 0;
const mic = Int16Array.from({ length: LENGTH }, (_, i) => Math.round(0.5 * at(i - 80) + 0.25 * at(i - 117) - 0.1 * at(i - 170)) + near[i]);
const power = (x, start, end) => x.subarray(start, end).reduce((sum, v) => sum + v * v, 0) / (end - start) + 1;
const MIN_ERLE_DB = 20;
const MAX_NEAR_LOSS_DB = 6;

function cancel(engine) {
  const canceller = new binding.EchoCanceller({ rate: RATE, frame: 160, engine });
  const out = canceller.process(mic, far);
  const stats = canceller.stats();
  const erleDb = 10 * Math.log10(power(mic, FAR - RATE, FAR) / power(out, FAR - RATE, FAR));
  const nearLossDb = 10 * Math.log10(power(near, LENGTH - RATE / 2, LENGTH) / power(out, LENGTH - RATE / 2, LENGTH));
  if (out.length !== LENGTH || stats.engine !== engine || !stats.converged || erleDb < MIN_ERLE_DB || nearLossDb > MAX_NEAR_LOSS_DB) {
    throw new Error(
      `echo canceller (${engine}): ${out.length} samples, stats ${JSON.stringify(stats)}, ERLE ${erleDb.toFixed(1)} dB, near-end loss ${nearLossDb.toFixed(1)} dB`,
    );
  }
  return `${engine} ERLE ${erleDb.toFixed(0)} dB, near-end loss ${nearLossDb.toFixed(1)} dB`;
}

const ticks = [];
const cancellers = [];
for (const engine of echoEngines) {
  const { running, tickAvgUs } = await tick(engine);
  if (running !== engine) throw new Error(`engine: aec.engine '${engine}' runs '${running}'`);
  ticks.push(`${engine} ${tickAvgUs.toFixed(0)} us`);
  cancellers.push(cancel(engine));
}
const auto = (await tick('auto')).running;
if (auto !== (echoEngines.includes('webrtc') ? 'webrtc' : 'speex'))
  throw new Error(`engine: aec.engine 'auto' runs '${auto}' with ${echoEngines.join(',')} built`);

const sine = Int16Array.from({ length: 48000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48000)));
const down = binding.resample(sine, 48000, 16000, 5);
if (down.length < 15800 || down.length > 16200) throw new Error(`resample: ${down.length} samples`);

const dir = mkdtempSync(join(tmpdir(), 'speakerd-smoke-'));
try {
  const receiver = new binding.NotifyReceiver(join(dir, 'notify'));
  process.env.NOTIFY_SOCKET = join(dir, 'notify');
  if (!binding.notify('STATUS=smoke')) throw new Error('notify() returned false');
  const got = receiver.receive(5000);
  receiver.close();
  if (!got || got.message !== 'STATUS=smoke' || got.pid !== process.pid) throw new Error(`sd_notify: ${JSON.stringify(got)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `smoke ok on ${process.arch} (node ${process.version}): ${path.slice(root.length)}, echo engines ${echoEngines.join(',')} ('auto' runs ${auto}); ` +
    `100 ticks at 48 kHz per engine (${ticks.join(', ')} per 10 ms tick); offline canceller: ${cancellers.join('; ')}; resampler, sd_notify`,
);
