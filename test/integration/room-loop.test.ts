/**
 * The closed-loop room of the bench (bench/room) is a real loop: what the daemon plays leaves through
 * its ALSA device (JACK dummy server, paced), passes the room client's echo path with the configured
 * bulk delay and echo return loss, and comes back as the daemon's microphone, which it sends to the
 * service. Checked with a known signal (a white noise reply) against the room's component recordings.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RoomClient, roomAlsaConfig } from '../../bench/room/client.js';
import { correlationOver, locate, powerOver, projectionGain, resample } from '../../bench/room/dsp.js';
import type { Room } from '../../bench/room/rooms.js';
import { whiteNoise } from '../../bench/echo-scenario.js';
import { FakeRealtimeServer } from '../fakes/openai-realtime-server.js';
import { DaemonUnderTest } from '../helpers/daemon.js';
import { JackDevice } from '../helpers/jack-device.js';

const ROOM: Room = { name: 'test', label: 'test', bulkMs: 40, irMs: 60, rt60Ms: 100, erlDb: 6, clip: 0, noiseDbfs: -80, serDb: 0, volume: 100 };
const RATE = 16000;

let d: DaemonUnderTest | undefined;
let jack: JackDevice | undefined;
let server: FakeRealtimeServer | undefined;
let room: RoomClient | undefined;
afterEach(async () => {
  await d?.remove();
  await room?.stop().catch(() => undefined);
  await jack?.remove();
  await server?.close();
  d = jack = server = room = undefined;
});

describe('closed-loop room', () => {
  it("carries the daemon's output to its microphone with the room's delay and level", async () => {
    server = await FakeRealtimeServer.start();
    server.onResponseCreate = () => undefined;
    d = new DaemonUnderTest();
    jack = new JackDevice('speakerd-test-room', roomAlsaConfig(), true);
    await jack.start();
    room = await RoomClient.start(jack.name, ROOM, join(d.dir, 'room.f32'), '-');
    d.writeConfig({
      audio: { device: 'alsa', capture: 'room', playback: 'room', alsaConfig: jack.config, volume: ROOM.volume },
      ai: { backend: 'openai', url: server.url },
      earcons: { enabled: false },
    });
    d.start(['--set', 'aec.enabled=false'], { JACK_DEFAULT_SERVER: jack.name });
    await server.waitFor('input_audio_buffer.append', { timeoutMs: 15000 });
    // White noise band-limited to 4.75 kHz, well inside every resampler's passband on the way.
    const probe = whiteNoise(15000, -20, 7);
    const reply = Int16Array.from(resample(probe, 10000, 24000), (v) => Math.round(v));
    await server.sendResponse({ audio: reply, chunkMs: 100, interval: 20 });
    await new Promise((r) => setTimeout(r, 2500));
    const uplink = server.audioReceived[0]!;
    const { stats, recording } = await room.stop();
    expect(stats.dropped).toBe(0);
    expect(stats.onset).toBeGreaterThan(0);
    const active = { start: stats.onset + 1600, end: stats.onset + 20800 };

    // What the room heard from the loudspeaker is the reply, at unity (volume 100).
    const played = resample(reply, 24000, RATE);
    const inSpeaker = locate(played, { start: 1600, end: 20800 }, recording.speaker);
    expect(inSpeaker.correlation).toBeGreaterThan(0.8);
    const aligned = resample(reply, 24000, RATE, -inSpeaker.lag, recording.speaker.length);
    expect(correlationOver(aligned, recording.speaker, [active])).toBeGreaterThan(0.99);
    expect(Math.abs(20 * Math.log10(projectionGain(aligned, recording.speaker, [active])))).toBeLessThan(0.5);

    // The echo follows the loudspeaker by the bulk delay (less the room's 3 ms of converters in the
    // recording) at the echo return loss.
    const echoPath = locate(recording.speaker, active, recording.echo);
    expect(stats.recordedLag).toBe(((ROOM.bulkMs - 3) * RATE) / 1000);
    expect(Math.round(echoPath.lag)).toBe(stats.recordedLag);
    const erl =
      10 *
      Math.log10(
        powerOver(recording.speaker, [active]) / powerOver(recording.echo, [{ start: active.start + stats.recordedLag, end: active.end + stats.recordedLag }]),
      );
    expect(Math.abs(erl - ROOM.erlDb)).toBeLessThan(0.5);
    for (let n = 0; n < recording.mic.length; n += 97) expect(recording.mic[n]).toBeCloseTo(recording.echo[n]! + recording.user[n]! + recording.noise[n]!, 1);

    // And the daemon sent what its microphone picked up: the echo, whole (no canceller).
    const sent = resample(uplink, 24000, RATE);
    const echoInUplink = locate(recording.echo, { start: active.start + stats.recordedLag, end: active.end }, sent);
    expect(echoInUplink.correlation).toBeGreaterThan(0.8);
    const sentAligned = resample(uplink, 24000, RATE, echoInUplink.lag, recording.mic.length);
    expect(correlationOver(recording.echo, sentAligned, [{ start: active.start + stats.recordedLag, end: active.end }])).toBeGreaterThan(0.99);
    expect(Math.abs(20 * Math.log10(projectionGain(recording.echo, sentAligned, [{ start: active.start + stats.recordedLag, end: active.end }])))).toBeLessThan(
      1,
    );
  }, 40000);
});
