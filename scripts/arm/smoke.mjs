// Smoke test of a (cross-)built addon on the CPU that runs it (under qemu-user on the build host):
// the loader picks the build for this CPU, the engine ticks on the null device with the echo
// canceller and both resamplers, the offline echo canceller and resampler run, and an sd_notify
// datagram reaches a receiver with this process's pid. Prints one line; exits 1 on any failure.
//
//   node scripts/arm/smoke.mjs        (after `npm run build:ts`; run from the repository)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNativeAddon, loadNativeBinding } from '../../dist/src/media/native-binding.js';
import { AudioEngine } from '../../dist/src/media/index.js';

const root = new URL('../..', import.meta.url).pathname;
const path = findNativeAddon(root);
const binding = loadNativeBinding();
const engine = await AudioEngine.create({ manualClock: true, device: { type: 'null', rate: 48000 } });
engine.step(100);
const { tickAvgUs } = engine.stats();
engine.close();

const sine = Int16Array.from({ length: 48000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48000)));
const down = binding.resample(sine, 48000, 16000, 5);
if (down.length < 15800 || down.length > 16200) throw new Error(`resample: ${down.length} samples`);
const aec = new binding.EchoCanceller({ rate: 16000, frame: 160, tailMs: 100, denoise: true });
const out = aec.process(down, down);
if (out.length !== down.length) throw new Error(`echo canceller: ${out.length} samples`);

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
  `smoke ok on ${process.arch} (node ${process.version}): ${path.slice(root.length)}, ` +
    `100 ticks at 48 kHz with AEC (${tickAvgUs.toFixed(0)} us per 10 ms tick), resampler, echo canceller, sd_notify`,
);
