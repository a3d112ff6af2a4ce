/**
 * One closed-loop run: the daemon (dist/src/cli/speakerd.js) on an ALSA device whose loudspeaker and
 * microphone are the room client's ports on a JACK dummy server (paced, 48 kHz, 10 ms periods), talking
 * to the fake OpenAI Realtime service, which streams the assistant's reply and records every
 * input_audio_buffer.append (what a server VAD would hear).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../../src/control/client.js';
import { volumeToGain } from '../../src/service/volume.js';
import { FakeRealtimeServer } from '../../test/fakes/openai-realtime-server.js';
import { SCENARIO_RATE, synthesizeSpeech, type SampleRange } from '../echo-scenario.js';
import { RoomClient, type RoomRecording, type RoomStats } from './client.js';
import { resample } from './dsp.js';
import { REPLY_DBFS, REPLY_MS, TIMELINE, TIMELINE_MS, type Room } from './rooms.js';

const here = dirname(fileURLToPath(import.meta.url));
const DAEMON = join(here, '..', '..', 'src', 'cli', 'speakerd.js');
/** Rate of audio on the OpenAI wire. */
export const WIRE_RATE = 24000;
const CLOCK_TICKS = 100;

/** Everything a run produced, for the metrics. */
export interface RunRecord {
  room: Room;
  stats: RoomStats;
  recording: RoomRecording;
  /** What the daemon sent the service, PCM16 at WIRE_RATE. */
  uplink: Int16Array;
  /** The user's utterances, in samples of the recording. */
  utterances: SampleRange[];
  /** The user's speech level at the microphone (active RMS), in dBFS. */
  userDbfs: number;
  /** CPU time of the daemon per second of wall (= audio) time while the reply played, in % of a core. */
  cpuPercent: number;
  /** Device xruns and playback underruns the daemon counted during the timeline. */
  daemonXruns: number;
  /** The daemon's echo canceller as `status` showed it every 50 ms while the reply played (runRoom's `timeline`). */
  timeline?: StatusSample[];
}

/** One look at the daemon's echo canceller through `status`. */
export interface StatusSample {
  /** ms since the reply was sent (it reaches the room a prebuffer and a period or two later). */
  ms: number;
  /** The double-talk detector's decision. */
  talk: string;
  /** The echo path delay in use, ms, and where it comes from. */
  delayMs: number;
  delaySource: string;
  /** Residual echo suppression now, the AGC's learnt and applied gains, dB; the reply ducked. */
  suppressionDb: number;
  agcGainDb: number;
  agcAppliedDb: number;
  duckActive: boolean;
}

/** Where the user's utterances lie, in ms from the reply's start. */
function utteranceRanges(rate: number): SampleRange[] {
  return TIMELINE.utterances.map(([start, length]) => ({ start: (start * rate) / 1000, end: ((start + length) * rate) / 1000 }));
}

/** The nominal user level at the microphone: reply level, volume, echo return loss and SER. */
export function userLevelDbfs(room: Room): number {
  return REPLY_DBFS + 20 * Math.log10(volumeToGain(room.volume)) - room.erlDb + room.serDb;
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The daemon's device xruns plus port underruns so far, from `status` on its control socket. */
async function xrunsOf(socket: string): Promise<number> {
  const client = await ControlClient.connect(socket);
  try {
    const reply = (await client.request('status')) as unknown as { result: { audio: { xruns: number; underruns: number } } };
    return reply.result.audio.xruns + reply.result.audio.underruns;
  } finally {
    client.close();
  }
}

interface StatusReply {
  result: {
    audio: {
      aec: { delayMs: number; delaySource: string } | null;
      aecPost: { talk: string; suppressionDb: number; agcGainDb: number; agcAppliedDb: number; duckActive: boolean } | null;
    };
  };
}

/** Asks the daemon at `socket` for `status` every 50 ms until `stop` resolves; what it saw, timed from `t0` (performance.now()). */
export async function pollStatus(socket: string, t0: number, stop: Promise<void>): Promise<StatusSample[]> {
  const client = await ControlClient.connect(socket);
  const samples: StatusSample[] = [];
  let stopped = false;
  void stop.then(() => (stopped = true));
  try {
    while (!stopped) {
      const { audio } = ((await client.request('status')) as unknown as StatusReply).result;
      if (audio.aec && audio.aecPost) {
        const { talk, suppressionDb, agcGainDb, agcAppliedDb, duckActive } = audio.aecPost;
        const ms = Math.round(performance.now() - t0);
        samples.push({ ms, talk, delayMs: audio.aec.delayMs, delaySource: audio.aec.delaySource, suppressionDb, agcGainDb, agcAppliedDb, duckActive });
      }
      await sleep(50);
    }
  } finally {
    client.close();
  }
  return samples;
}

/**
 * Runs `room` with the daemon configured by `set` (`--set` pairs) on the JACK server `jackServer`
 * whose ALSA configuration `alsaConfig` defines the PCM 'room' (see roomAlsaConfig). With `timeline`,
 * the daemon's echo canceller is looked at through `status` every 50 ms while the reply plays (the
 * requests cost the daemon a little CPU: for the dump, not for the figures).
 */
export async function runRoom(
  room: Room,
  set: Readonly<Record<string, string>>,
  jackServer: string,
  alsaConfig: string,
  seed = 1,
  timeline = false,
): Promise<RunRecord> {
  const dir = mkdtempSync(join(tmpdir(), 'speakerd-room-'));
  const userDbfs = userLevelDbfs(room);
  const timelineSamples = (TIMELINE_MS * SCENARIO_RATE) / 1000;
  const user = synthesizeSpeech('near', timelineSamples, utteranceRanges(SCENARIO_RATE), userDbfs, seed + 100);
  writeFileSync(join(dir, 'user.f32'), Buffer.from(Float32Array.from(user, (v) => v / 32768).buffer));
  const replySamples = (REPLY_MS * SCENARIO_RATE) / 1000;
  const far = synthesizeSpeech('far', replySamples, [{ start: 0, end: replySamples }], REPLY_DBFS, seed);
  const reply = Int16Array.from(resample(far, SCENARIO_RATE, WIRE_RATE), (v) => Math.max(-32768, Math.min(32767, Math.round(v))));
  const server = await FakeRealtimeServer.start();
  server.onResponseCreate = () => undefined;
  const etc = join(dir, 'etc');
  mkdirSync(etc, { recursive: true });
  writeFileSync(
    join(etc, 'speakerd.json'),
    JSON.stringify({
      audio: { device: 'alsa', capture: 'room', playback: 'room', alsaConfig, volume: room.volume },
      ai: { backend: 'openai', url: server.url },
      earcons: { enabled: false },
    }),
  );
  const roomClient = await RoomClient.start(jackServer, room, join(dir, 'room.f32'), join(dir, 'user.f32'), 0, seed).catch(async (error: unknown) => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  let output = '';
  const daemon = spawn(process.execPath, [DAEMON, '--etc-dir', etc, ...Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${v}`])], {
    env: { ...process.env, JACK_DEFAULT_SERVER: jackServer, SPEAKERD_CONTROL_SOCKET: join(dir, 'control.sock'), SPEAKERD_STATE_FILE: join(dir, 'state.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  daemon.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  daemon.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => daemon.once('exit', r));
  try {
    await Promise.race([
      server.waitFor('input_audio_buffer.append', { timeoutMs: 15000 }),
      exited.then((code) => Promise.reject(new Error(`the daemon exited with ${code}: ${output.trim().split('\n').slice(-3).join(' | ')}`))),
    ]);
    await sleep(TIMELINE.floorMs[0] + 500);
    const control = join(dir, 'control.sock');
    const xrunsBefore = await xrunsOf(control);
    const before = cpuTicks(daemon.pid!);
    const t0 = performance.now();
    void server.sendResponse({ audio: reply, chunkMs: 100, interval: 50, transcript: 'reply' });
    const played = sleep(TIMELINE_MS + 400);
    // Awaited together: a failed status request fails the run when it happens, not as an unhandled rejection.
    const [, samples] = await Promise.all([played, timeline ? pollStatus(control, t0, played) : undefined]);
    const cpuPercent = ((cpuTicks(daemon.pid!) - before) / CLOCK_TICKS / ((performance.now() - t0) / 1000)) * 100;
    const daemonXruns = (await xrunsOf(control)) - xrunsBefore;
    if (server.connections !== 1) throw new Error(`the daemon connected ${server.connections} times (expected once): ${output}`);
    const uplink = server.audioReceived[0] ?? new Int16Array(0);
    const { stats, recording } = await roomClient.stop();
    if (stats.onset < 0) throw new Error('the reply never reached the room');
    const utterances = utteranceRanges(stats.rate).map((r) => ({ start: r.start + stats.onset, end: r.end + stats.onset }));
    return { room, stats, recording, uplink, utterances, userDbfs, cpuPercent, daemonXruns, ...(samples ? { timeline: samples } : {}) };
  } finally {
    daemon.kill('SIGTERM');
    await exited;
    await roomClient.stop().catch(() => undefined);
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
