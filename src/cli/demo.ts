#!/usr/bin/env node
/**
 * A demonstration of the media plane, runnable with no sound card: a chime and a WAV file play through
 * the conference bridge on the null device (or an ALSA device) while a recorder captures the mix.
 * Usage: speakerd-demo [--seconds N] [--out FILE] [--alsa CAPTURE,PLAYBACK]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AudioEngine, AudioMediaPlayer, AudioMediaRecorder, AudioMediaTone, encodeWav } from '../media/index.js';

function speechLikeWav(rate: number, seconds: number): Buffer {
  const samples = new Int16Array(rate * seconds);
  for (let i = 0; i < samples.length; i++) {
    const t = i / rate;
    const syllable = Math.max(0, Math.sin(2 * Math.PI * 3 * t));
    const pitch = 140 + 30 * Math.sin(2 * Math.PI * 0.5 * t);
    let v = 0;
    for (let h = 1; h <= 8; h++) v += Math.sin(2 * Math.PI * pitch * h * t) / h;
    samples[i] = Math.round(6000 * syllable * v);
  }
  return encodeWav(samples, rate);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '3' }, out: { type: 'string' }, alsa: { type: 'string' } },
  });
  const seconds = Number(values.seconds);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) throw new RangeError('--seconds must be from 0 to 3600');
  const dir = mkdtempSync(join(tmpdir(), 'speakerd-demo-'));
  const out = values.out ?? join(dir, 'mix.wav');
  const [capture, playback] = (values.alsa ?? '').split(',');
  const engine = await AudioEngine.create({
    device: values.alsa ? { type: 'alsa', capture: capture ?? 'default', playback: playback ?? capture ?? 'default' } : { type: 'null' },
  });
  engine.on('device', (d: { state: string; message?: string }) => console.log(`device ${d.state}${d.message ? `: ${d.message}` : ''}`));
  const wavFile = join(dir, 'voice.wav');
  writeFileSync(wavFile, speechLikeWav(22050, 2));
  const player = await AudioMediaPlayer.create(engine, wavFile);
  const chime = AudioMediaTone.create(engine, [{ freq: 660, ms: 120, amplitude: 0.25 }, { ms: 30 }, { freq: 880, ms: 180, amplitude: 0.25 }]);
  const recorder = await AudioMediaRecorder.create(engine, out);
  for (const source of [player, chime]) {
    source.startTransmit(engine.playbackMedia);
    source.startTransmit(recorder);
  }
  engine.captureMedia.startTransmit(recorder);
  player.on('eof', () => console.log('player: end of file'));
  chime.on('done', () => console.log('chime: done'));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await recorder.close();
  const s = engine.stats();
  console.log(
    `recorded ${(recorder.bytesWritten / 2 / recorder.rate).toFixed(2)} s to ${out}; ` +
      `frames ${s.frames}, xruns ${s.xruns}, underruns ${s.underruns}, dropped ${s.dropped}, ` +
      `tick avg ${s.tickAvgUs.toFixed(1)} us / max ${s.tickMaxUs.toFixed(1)} us, device ${s.deviceState}`,
  );
  engine.close();
}

main().catch((error: unknown) => {
  const e = error as Error & { code?: string };
  console.error(`speakerd-demo: ${e.code ? `${e.code}: ` : ''}${e.message}`);
  process.exit(1);
});
