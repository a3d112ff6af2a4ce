import { AudioEngine, AudioMediaPlayer, AudioMediaRecorder, AudioMediaRing, AudioMediaTone } from '../src/media/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Audio seconds each measurement runs. */
const SECONDS = 60;

/** CPU time (user + system) of `work`, in ms. */
function cpuMs(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/** Percentage of one core used per second of audio. */
function percentOfCore(cpu: number, audioSeconds: number): number {
  return (cpu / (audioSeconds * 1000)) * 100;
}

function speechLike(rate: number, seconds: number): Int16Array {
  const out = new Int16Array(rate * seconds);
  for (let i = 0; i < out.length; i++) {
    const t = i / rate;
    out[i] = Math.round(8000 * Math.max(0, Math.sin(2 * Math.PI * 3 * t)) * Math.sin(2 * Math.PI * 180 * t));
  }
  return out;
}

/**
 * The bridge alone (16 kHz device, no echo canceller): 8 ports (the device, 2 players, 2 tones, a
 * ring port, 2 recorders). With `foreignRates` the ring runs at 24 kHz and one recorder at 48 kHz,
 * so three port edges resample.
 */
async function benchBridge(dir: string, foreignRates: boolean): Promise<number> {
  const engine = await AudioEngine.create({ manualClock: true, device: { type: 'null', rate: 16000 }, aec: { enabled: false } });
  try {
    const voice = speechLike(16000, 5);
    const sources = [
      AudioMediaPlayer.fromPcm(engine, voice, 16000, { loop: true }),
      AudioMediaPlayer.fromPcm(engine, voice, 16000, { loop: true }),
      AudioMediaTone.create(engine, [{ freq: 440, ms: 1000 }], { loop: true }),
      AudioMediaTone.create(engine, [{ freq: 660, freq2: 990, ms: 1000 }], { loop: true }),
    ];
    const ringRate = foreignRates ? 24000 : 16000;
    const ring = AudioMediaRing.create(engine, { rate: ringRate, rxSeconds: 120 });
    const recorders = [
      await AudioMediaRecorder.create(engine, join(dir, 'a.wav'), { ringSeconds: SECONDS + 5 }),
      await AudioMediaRecorder.create(engine, join(dir, 'b.wav'), { rate: foreignRates ? 48000 : 16000, ringSeconds: SECONDS + 5 }),
    ];
    for (const s of sources) {
      s.startTransmit(engine.playbackMedia);
      s.startTransmit(recorders[0]!);
    }
    engine.captureMedia.startTransmit(ring);
    ring.startTransmit(engine.playbackMedia);
    engine.playbackMedia.startTransmit(recorders[1]!);
    ring.write(speechLike(ringRate, SECONDS));
    const cpu = cpuMs(() => engine.step(SECONDS * 100));
    for (const r of recorders) r.destroy();
    return percentOfCore(cpu, SECONDS);
  } finally {
    engine.close();
  }
}

/** The device edge alone: 48 kHz device, resamplers to and from 16 kHz, echo canceller and preprocess. */
async function benchDeviceEdge(): Promise<{ percent: number; tickAvgUs: number }> {
  const engine = await AudioEngine.create({ manualClock: true, device: { type: 'null', rate: 48000 } });
  try {
    const cpu = cpuMs(() => engine.step(SECONDS * 100));
    return { percent: percentOfCore(cpu, SECONDS), tickAvgUs: engine.stats().tickAvgUs };
  } finally {
    engine.close();
  }
}

/** Bridge and device-edge costs per second of audio, as a percentage of one core. */
export async function benchMedia(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'speakerd-bench-'));
  try {
    const bridge = await benchBridge(dir, false);
    const resampling = await benchBridge(dir, true);
    const edge = await benchDeviceEdge();
    return {
      'bridge tick, 8 ports at the bridge rate (% of a core)': bridge,
      'bridge tick, 8 ports, 3 of them resampling (% of a core)': resampling,
      'device edge 48k<->16k + AEC + preprocess (% of a core)': edge.percent,
      'device edge tick average (us per 10 ms)': edge.tickAvgUs,
      'device edge + bridge at bridge rate (% of a core, target <= 0.6)': edge.percent + bridge,
      'device edge + bridge with 3 resampling ports (% of a core)': edge.percent + resampling,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
