/**
 * The audio thread's work per audio second, by part (issue 13): the engine on the null device with a
 * manual clock (ticks run on this thread, so process CPU time is the tick's cost), a reply playing
 * through the speaker so that the echo canceller and the playback resampler work on real signal.
 * The device at 48 kHz (resampled to and from the 16 kHz bridge) or at the bridge rate (nothing
 * resampled: audio.matchBridgeRate), the echo canceller on or off, and the resampler qualities.
 */
import { AudioEngine, AudioMediaPlayer, type AudioEngineOptions } from '../src/media/index.js';

/** Audio seconds per measurement. */
const SECONDS = 60;

function speechLike(rate: number, seconds: number): Int16Array {
  const out = new Int16Array(rate * seconds);
  for (let i = 0; i < out.length; i++) {
    const t = i / rate;
    out[i] = Math.round(8000 * Math.max(0, Math.sin(2 * Math.PI * 3 * t)) * Math.sin(2 * Math.PI * 180 * t) + ((i * 7919) % 400) - 200);
  }
  return out;
}

/** % of one core per audio second that the engine's ticks cost with `options`. */
async function tickCost(options: AudioEngineOptions): Promise<number> {
  const engine = await AudioEngine.create({ manualClock: true, ...options });
  try {
    const reply = AudioMediaPlayer.fromPcm(engine, speechLike(16000, 5), 16000, { loop: true });
    reply.startTransmit(engine.playbackMedia);
    engine.step(100);
    const before = process.cpuUsage();
    for (let s = 0; s < SECONDS; s++) engine.step(100);
    const used = process.cpuUsage(before);
    return ((used.user + used.system) / 1000 / (SECONDS * 1000)) * 100;
  } finally {
    engine.close();
  }
}

/** Per-audio-second costs of the audio thread's parts. */
export async function benchAudioThread(): Promise<Record<string, number>> {
  const at48 = { type: 'null' as const, rate: 48000 };
  const at16 = { type: 'null' as const, rate: 16000 };
  const full = await tickCost({ device: at48 });
  const noResample = await tickCost({ device: at16 });
  const noAec = await tickCost({ device: at48, aec: { enabled: false } });
  const bare = await tickCost({ device: at16, aec: { enabled: false } });
  const out: Record<string, number> = {
    'tick, device 48 kHz, AEC on (speexdsp, denoise): default (% of a core)': full,
    'tick, device at the bridge rate (16 kHz), AEC on (% of a core)': noResample,
    'tick, device 48 kHz, AEC off (% of a core)': noAec,
    'tick, 16 kHz, AEC off: bridge and device edge only (% of a core)': bare,
    'echo engine (speexdsp AEC + preprocess) per audio second (% of a core)': full - noAec,
    'resamplers 48k<->16k (capture q5 + playback q5) per audio second (% of a core)': full - noResample,
  };
  for (const [capture, playback] of [
    [3, 3],
    [5, 5],
    [5, 8],
    [8, 10],
  ] as const) {
    out[`resamplers at capture q${capture} / playback q${playback}, AEC off (% of a core)`] =
      (await tickCost({ device: at48, aec: { enabled: false }, resampleQuality: { capture, playback } })) - bare;
  }
  return out;
}
