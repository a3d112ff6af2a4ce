/**
 * Reply audio keeps playing when the link drops, and nothing is mixed over it: the device stays
 * `speaking` until the last sample, and the connection-lost earcon comes after it. On a real-time
 * device (JACK dummy server, the speaker recorded through ALSA's file plugin).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseWav } from '../../src/media/wav.js';
import { FakeRealtimeServer, tone } from '../fakes/openai-realtime-server.js';
import { DaemonUnderTest } from '../helpers/daemon.js';
import { JackDevice } from '../helpers/jack-device.js';
import { toneAmplitude, waitFor } from '../helpers/signal.js';

let d: DaemonUnderTest | undefined;
let jack: JackDevice | undefined;
let server: FakeRealtimeServer | undefined;
afterEach(async () => {
  await d?.remove();
  await jack?.remove();
  await server?.close();
  d = undefined;
  jack = undefined;
  server = undefined;
});

/** Amplitude of `freq` in each 20 ms block. */
function blocks(samples: Int16Array, rate: number, freq: number): number[] {
  const size = rate / 50;
  const out: number[] = [];
  for (let start = 0; start + size <= samples.length; start += size) out.push(toneAmplitude(samples, rate, freq, start, start + size));
  return out;
}

describe('reply audio when the link drops', () => {
  it('plays to its end with nothing mixed over it; speaking until then, offline after, the earcon after that', async () => {
    server = await FakeRealtimeServer.start();
    d = new DaemonUnderTest();
    const speakerFile = join(d.dir, 'speaker.wav');
    jack = new JackDevice('speakerd-test-playout', `pcm.spk { type file slave.pcm "jack" file "${speakerFile}" format "wav" }`);
    await jack.start();
    d.writeConfig({
      audio: { device: 'alsa', capture: 'jack', playback: 'spk', alsaConfig: jack.config, volume: 100 },
      ai: { backend: 'openai', url: server.url },
      earcons: { enabled: true, volume: 1 },
    });
    d.start([], { JACK_DEFAULT_SERVER: jack.name });
    await d.notice(/READY=1/);
    await d.notice(/STATUS=listening/, 0, 8000);
    await server.waitFor('input_audio_buffer.append');
    // 2 s of a 300 Hz reply, delivered in 0.1 s; then the link drops while it plays.
    await server.sendResponse({ audio: tone(2000, 300, 8000), chunkMs: 200, interval: 10 });
    await d.notice(/STATUS=speaking/, 0, 5000);
    const mark = d.notices.length;
    const dropAt = performance.now();
    // The service goes away for good: the port's reconnects are refused.
    void server.close();
    server = undefined;
    const offline = await d.notice(/STATUS=offline/, mark, 8000);
    const between = d.notices.slice(mark, d.notices.indexOf(offline)).map((n) => n.message);
    expect(between.filter((m) => m.startsWith('STATUS=') && m !== 'STATUS=speaking')).toEqual([]);
    // The device went offline only once the reply had played (about 1.9 s of it remained).
    expect(offline.at - dropAt).toBeGreaterThan(1200);
    await new Promise((r) => setTimeout(r, 1200));
    d.child?.kill('SIGTERM');
    expect(await d.exited(3000)).toBe(0);
    await waitFor(() => existsSync(speakerFile) && readFileSync(speakerFile).length > 44, 2000, 'speaker file');
    const played = parseWav(readFileSync(speakerFile));
    const reply = blocks(played.samples, played.rate, 300);
    const lost = blocks(played.samples, played.rate, 880);
    const replyBlocks = reply.map((a, i) => (a > 2000 ? i : -1)).filter((i) => i >= 0);
    expect(replyBlocks.length).toBeGreaterThanOrEqual(95);
    const first = replyBlocks[0] as number;
    const last = replyBlocks.at(-1) as number;
    expect(last - first + 1).toBe(replyBlocks.length);
    // Not one 20 ms block of the reply carries the earcon's 880 Hz (the block where the reply ends may
    // hold the earcon's first samples); the earcon sounds right after the reply.
    for (let i = first; i < last; i++) expect(lost[i], `block ${i}`).toBeLessThan(800);
    expect(Math.max(...lost.slice(last, last + 10))).toBeGreaterThan(3000);
  }, 40000);
});
