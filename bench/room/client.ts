/**
 * The room client (room-client.c): compiled on first use with the system's C compiler and libjack,
 * started on a JACK server, stopped with SIGTERM; its recording read back as five 16 kHz channels.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Room } from './rooms.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository (this module runs from dist/bench/room, or from bench/room under vitest). */
const ROOT = resolve(here, basename(resolve(here, '..', '..')) === 'dist' ? '../../..' : '../..');
const SOURCE = join(ROOT, 'bench', 'room', 'room-client.c');
const BINARY = join(ROOT, 'build', 'bench', 'room-client');

/** Sample rate of the room's recording. */
export const ROOM_RATE = 16000;
/** JACK client name of the room; the daemon's ALSA device connects to its ports. */
export const ROOM_CLIENT = 'room';

/** ALSA configuration of a PCM named `pcm` whose playback and capture are the room's ports. */
export function roomAlsaConfig(pcm = 'room'): string {
  return [
    `pcm.${pcm}raw { type jack playback_ports { 0 ${ROOM_CLIENT}:speaker } capture_ports { 0 ${ROOM_CLIENT}:mic } }`,
    `pcm.${pcm} { type plug slave.pcm "${pcm}raw" }`,
  ].join('\n');
}

/** The room client's counters, printed when it stops. */
export interface RoomStats {
  rate: number;
  /** 16 kHz samples recorded. */
  frames: number;
  /** First sample where the daemon's output rose above -50 dBFS (the timeline's zero), or -1. */
  onset: number;
  /** 48 kHz samples the loudspeaker clipped, and samples above -50 dBFS. */
  clipped48: number;
  active48: number;
  /** 16 kHz samples lost because the recording ring was full. */
  dropped: number;
  callbacks: number;
  /** Cycles the JACK server reported as late (xruns) while the room ran. */
  xruns: number;
  /** Samples by which the echo lags the speaker channel in the recording (the bulk delay - 3 ms). */
  recordedLag: number;
  irLength: number;
}

/** What the room injected and what the daemon played, sample by sample, in PCM16 units. */
export interface RoomRecording {
  speaker: Float32Array;
  echo: Float32Array;
  user: Float32Array;
  noise: Float32Array;
  mic: Float32Array;
}

/** Compiles the client when the binary is missing or older than its source; returns its path. */
export function roomClientBinary(): string {
  if (!existsSync(BINARY) || statSync(BINARY).mtimeMs < statSync(SOURCE).mtimeMs) {
    mkdirSync(dirname(BINARY), { recursive: true });
    execFileSync('cc', ['-O3', '-ffast-math', '-Wall', '-Wextra', '-Werror', '-o', BINARY, SOURCE, '-ljack', '-lm'], { stdio: 'inherit' });
  }
  return BINARY;
}

/** A running room client. */
export class RoomClient {
  private stats: Promise<RoomStats>;
  private stopped: Promise<{ stats: RoomStats; recording: RoomRecording }> | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly recordFile: string,
    lines: AsyncIterator<string>,
  ) {
    this.stats = (async () => {
      const line = await lines.next();
      if (line.done) throw new Error('room client: exited without its counters');
      return JSON.parse(line.value) as RoomStats;
    })();
  }

  /**
   * Starts the room on the JACK server `server`, recording to `recordFile`; `userFile` holds the
   * user's speech (raw float32 at 16 kHz, full scale 1), started `userOffsetMs` after the daemon's
   * output first becomes audible ('-' for none). Resolves once its ports exist.
   */
  static async start(server: string, room: Room, recordFile: string, userFile: string, userOffsetMs = 0, seed = 1): Promise<RoomClient> {
    const args = [ROOM_CLIENT, recordFile, room.bulkMs, room.irMs, room.rt60Ms, room.erlDb, room.clip, room.noiseDbfs, seed, userFile, userOffsetMs].map(
      String,
    );
    const child = spawn(roomClientBinary(), args, { env: { ...process.env, JACK_DEFAULT_SERVER: server }, stdio: ['ignore', 'pipe', 'pipe'] });
    let errors = '';
    child.stderr?.on('data', (d: Buffer) => (errors += d.toString()));
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const first = await Promise.race([
      lines.next(),
      new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`room client exited with ${code}: ${errors}`)))),
    ]);
    if (first.done || first.value !== 'ready') throw new Error(`room client did not start: ${errors}`);
    return new RoomClient(child, recordFile, lines);
  }

  /** Stops the room and returns its counters and recording (the same ones on every call). */
  stop(): Promise<{ stats: RoomStats; recording: RoomRecording }> {
    this.stopped ??= this.finish();
    return this.stopped;
  }

  private async finish(): Promise<{ stats: RoomStats; recording: RoomRecording }> {
    this.child.kill('SIGTERM');
    const stats = await this.stats;
    const bytes = new Uint8Array(readFileSync(this.recordFile));
    const all = new Float32Array(bytes.buffer, 0, Math.floor(bytes.length / 4));
    const frames = Math.floor(all.length / 5);
    const channel = (c: number): Float32Array => {
      const out = new Float32Array(frames);
      for (let n = 0; n < frames; n++) out[n] = all[5 * n + c]! * 32768;
      return out;
    };
    return { stats, recording: { speaker: channel(0), echo: channel(1), user: channel(2), noise: channel(3), mic: channel(4) } };
  }
}
