/**
 * Footprint of the daemon by thread, measured from outside through /proc (issue 13):
 *   - the default daemon on the null device;
 *   - full duplex: the daemon on a paced JACK dummy device (48 kHz; the daemon's ALSA periods 20 ms,
 *     and 10 ms beside it), AEC on, talking to the fake OpenAI service in another process, which
 *     streams a reply while the mic streams up;
 *   - the floor: a bare Node + `ws` process sending the same appends and decoding the same replies,
 *     and a bare Node process with a 40 ms timer.
 * Per thread group: % of one core per audio second (the devices are paced: one wall second is one
 * audio second). JS heap: KiB allocated per audio second, collections (v8.GCProfiler, preloaded).
 * Memory: peak and steady RSS net of the JACK rig's /dev/shm mappings, split anon / file / shared.
 * Run alone: `npm run build:ts && node dist/bench/footprint.js [seconds] [batchMs,...] [duplex]`
 * ('duplex': the full-duplex daemon only). The daemon runs with the systemd unit's node flags and
 * environment; FOOTPRINT_NODE_ARGS (even empty) replaces them, FOOTPRINT_EXTRA_ARGS adds flags to them.
 * FOOTPRINT_PROFILE=<seconds>: after its measured window, the full-duplex daemon's audio thread is
 * sampled with perf that long and its time split by part (bench/audio-profile.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../src/control/client.js';
import { JackDevice } from '../test/helpers/jack-device.js';
import { printProfile, profileThread, type ThreadProfile } from './audio-profile.js';
import type { HeapProbeLine } from './heap-probe.js';
import { cpuByGroup, MemorySampler, RIG_THREADS, threadTimes, wakeups, type MemorySplit } from './proc-stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const DAEMON = join(here, '..', 'src', 'cli', 'speakerd.js');

/** Node flags (ExecStart=) and environment (Environment=) the systemd unit runs the daemon with. */
export function unitSettings(): { nodeArgs: string[]; env: Record<string, string> } {
  const unit = readFileSync(join(here, '..', '..', 'systemd', 'speakerd.service'), 'utf8');
  const exec = /^ExecStart=(\S+)((?: --\S+)*) \S+$/m.exec(unit);
  const env: Record<string, string> = {};
  for (const [, key, value] of unit.matchAll(/^Environment=([A-Z_]+)=(\S*)$/gm)) env[key as string] = value as string;
  return { nodeArgs: (exec?.[2] ?? '').split(' ').filter(Boolean), env };
}
const PROBE = join(here, 'heap-probe.js');

/** Seconds to sample the full-duplex daemon's audio thread with perf (FOOTPRINT_PROFILE), or none. */
function profileSeconds(): number | undefined {
  const seconds = Number(process.env.FOOTPRINT_PROFILE ?? 0);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

/** What one measured process cost over the window. */
export interface Footprint {
  /** % of one core per audio second, by thread group, and 'whole process'. */
  cpu: Record<string, number>;
  /** Wakeups of the JS main thread per second (voluntary context switches). */
  jsWakeupsPerS: number;
  allocKiBPerS: number;
  gcPerS: number;
  gcMsPerS: number;
  peak: MemorySplit | null;
  steady: MemorySplit | null;
  /** The audio thread by part, sampled by perf after the measured window (FOOTPRINT_PROFILE). */
  audioProfile?: ThreadProfile;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function lines(child: ChildProcess): AsyncIterator<string> {
  if (!child.stdout) throw new Error('no stdout');
  return createInterface({ input: child.stdout })[Symbol.asyncIterator]();
}

async function readProbe(file: string, count: number): Promise<HeapProbeLine[]> {
  for (let i = 0; i < 100; i++) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // not written yet
    }
    const got = text.split('\n').filter(Boolean);
    if (got.length >= count) return got.map((l) => JSON.parse(l) as HeapProbeLine);
    await sleep(20);
  }
  throw new Error('the heap probe did not answer');
}

/** Measures a running child (started with the heap probe) for `seconds` after `warmupS`. */
async function measure(child: ChildProcess, probeFile: string, seconds: number, sampler: MemorySampler): Promise<Footprint> {
  const pid = child.pid as number;
  const before = threadTimes(pid);
  const wakeupsBefore = wakeups(pid, pid);
  child.kill('SIGUSR2');
  const t0 = performance.now();
  const steadySamples: MemorySplit[] = [];
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    await sleep(250);
    if (sampler.last) steadySamples.push(sampler.last);
  }
  const after = threadTimes(pid);
  const wakeupsAfter = wakeups(pid, pid);
  child.kill('SIGUSR2');
  const wallNs = (performance.now() - t0) * 1e6;
  const [p0, p1] = (await readProbe(probeFile, 2)) as [HeapProbeLine, HeapProbeLine];
  const cpu: Record<string, number> = {};
  let whole = 0;
  for (const [group, ns] of Object.entries(cpuByGroup(pid, before, after))) {
    cpu[group] = (ns / wallNs) * 100;
    whole += ns;
  }
  cpu['whole process'] = (whole / wallNs) * 100;
  const s = wallNs / 1e9;
  const mean = (key: keyof MemorySplit): number => steadySamples.reduce((a, m) => a + m[key], 0) / Math.max(1, steadySamples.length);
  return {
    cpu,
    jsWakeupsPerS: (wakeupsAfter - wakeupsBefore) / s,
    allocKiBPerS: (p1.allocatedBytes - p0.allocatedBytes) / 1024 / s,
    gcPerS: (p1.collections - p0.collections) / s,
    gcMsPerS: (p1.gcMs - p0.gcMs) / s,
    peak: sampler.peak,
    steady: steadySamples.length
      ? { anon: mean('anon'), file: mean('file'), shared: mean('shared'), jackShm: mean('jackShm'), total: mean('total'), hwmNet: mean('hwmNet') }
      : null,
  };
}

/** Spawns `node [--import probe] script args`, measures it, then stops it. */
async function run(
  script: string,
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    ready: (child: ChildProcess) => Promise<void>;
    seconds: number;
    warmupS: number;
    nodeArgs?: string[];
    profileS?: number;
  },
): Promise<Footprint> {
  const dir = mkdtempSync(join(tmpdir(), 'speakerd-footprint-'));
  const probeFile = join(dir, 'heap.jsonl');
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', PROBE, script, ...args], {
    env: { ...process.env, ...options.env, SPEAKERD_HEAP_PROBE: probeFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const sampler = new MemorySampler(child.pid as number);
  try {
    await options.ready(child);
    await sleep(options.warmupS * 1000);
    const footprint = await measure(child, probeFile, options.seconds, sampler);
    if (options.profileS) footprint.audioProfile = await profileThread(child.pid as number, 'speakerd-audio', options.profileS);
    return footprint;
  } finally {
    sampler.stop();
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function daemonReady(socket: string, connected: boolean): Promise<void> {
  const deadline = Date.now() + 15000;
  for (;;) {
    if (Date.now() > deadline) throw new Error('bench: the daemon did not come up');
    try {
      const client = await ControlClient.connect(socket);
      const reply = (await client.request('status')) as unknown as { result: { connection: { connected: boolean }; audio: { deviceState: string } } };
      client.close();
      if (!connected || (reply.result.connection.connected && reply.result.audio.deviceState === 'open')) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
}

/** The daemon with `config` in its own /etc. */
function daemon(
  config: unknown,
  seconds: number,
  connected: boolean,
  env: NodeJS.ProcessEnv = {},
  nodeArgs: string[] = [],
  profileS?: number,
): Promise<Footprint> {
  const dir = mkdtempSync(join(tmpdir(), 'speakerd-footprint-etc-'));
  writeFileSync(join(dir, 'speakerd.json'), JSON.stringify(config));
  const socket = join(dir, 'control.sock');
  return run(DAEMON, ['--etc-dir', dir], {
    env: { SPEAKERD_CONTROL_SOCKET: socket, SPEAKERD_STATE_FILE: join(dir, 'state.json'), ...env },
    ready: () => daemonReady(socket, connected),
    seconds,
    warmupS: 3,
    nodeArgs,
    profileS,
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}

async function firstLine(child: ChildProcess): Promise<string> {
  const next = await lines(child).next();
  if (next.done) throw new Error('bench child ended before its first line');
  return next.value;
}

/** Every scenario at one batch size: the footprints by name. */
export async function footprints(seconds: number, batchMs: number, settings = unitSettings(), duplexOnly = false): Promise<Record<string, Footprint>> {
  const out: Record<string, Footprint> = {};
  const { nodeArgs, env } = settings;
  if (!duplexOnly) out['daemon, null device, defaults'] = await daemon({}, seconds, false, env, nodeArgs);
  if (process.env.FOOTPRINT_NULL_ONLY === '1') return out;
  const service = spawn(process.execPath, [join(here, 'ai-service.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const jack = new JackDevice('speakerd-bench');
  try {
    const url = await firstLine(service);
    const paced = await jack.start().then(
      () => true,
      (error: Error) => (console.log(`  (full duplex skipped: no JACK dummy device: ${error.message.split('\n')[0]})`), false),
    );
    const config = {
      audio: { device: 'alsa', capture: 'jack', playback: 'jack', alsaConfig: jack.config },
      aec: { enabled: true },
      ai: { backend: 'openai', url, batchMs },
    };
    if (paced) {
      out[`daemon, full duplex on JACK, AEC on, ${batchMs} ms batches`] = await daemon(
        config,
        seconds,
        true,
        { ...env, JACK_DEFAULT_SERVER: jack.name },
        nodeArgs,
        profileSeconds(),
      );
      // The same with 10 ms ALSA periods (the default until December 2026): what waking the audio
      // thread once per 20 ms period saves.
      out[`daemon, full duplex on JACK, AEC on, 10 ms periods (audio.periodMs 10), ${batchMs} ms batches`] = await daemon(
        { ...config, audio: { ...config.audio, periodMs: 10, prefillPeriods: 2 } },
        seconds,
        true,
        { ...env, JACK_DEFAULT_SERVER: jack.name },
        nodeArgs,
      );
      // The same with the speex engine, the issue's own figures' canceller: what the engine costs.
      out[`daemon, full duplex on JACK, AEC on (speex), ${batchMs} ms batches`] = await daemon(
        { ...config, aec: { enabled: true, engine: 'speex' } },
        seconds,
        true,
        { ...env, JACK_DEFAULT_SERVER: jack.name },
        nodeArgs,
      );
      // The same through Node's sockets, every batch through JS: what the native socket saves.
      out[`daemon, full duplex, Node sockets (ai.nativeSocket false), ${batchMs} ms batches`] = await daemon(
        { ...config, ai: { ...config.ai, nativeSocket: false } },
        seconds,
        true,
        { ...env, JACK_DEFAULT_SERVER: jack.name },
        nodeArgs,
      );
    }
    if (duplexOnly) return out;
    out[`floor: bare Node + ws, ${batchMs} ms appends, replies decoded`] = await run(join(here, 'floor-sender.js'), [url, String(batchMs)], {
      ready: async (child) => void (await firstLine(child)),
      seconds,
      warmupS: 2,
    });
  } finally {
    service.kill('SIGTERM');
    await jack.remove();
  }
  out['floor: bare Node, 40 ms timer'] = await run(join(here, 'ai-client.js'), ['idle', String(seconds + 10)], {
    ready: async () => undefined,
    seconds,
    warmupS: 1,
  });
  return out;
}

function fmt(n: number | undefined, digits = 2): string {
  return n === undefined ? '-' : n.toFixed(digits);
}

/** Prints the footprints as tables, with the daemon's ratios to the ws floor. */
export function printFootprints(results: Record<string, Footprint>): void {
  const names = Object.keys(results);
  const groups = [...new Set(names.flatMap((n) => Object.keys(results[n]?.cpu ?? {})))].sort((a, b) =>
    a === 'whole process' ? 1 : b === 'whole process' ? -1 : a.localeCompare(b),
  );
  for (const name of names) {
    const r = results[name] as Footprint;
    console.log(`\n  ${name}`);
    for (const g of groups) if (r.cpu[g] !== undefined) console.log(`    CPU ${g.padEnd(50)} ${fmt(r.cpu[g], 3)} % of a core`);
    const rig = r.cpu[RIG_THREADS];
    if (rig !== undefined) console.log(`    CPU ${'whole process, net of the test rig'.padEnd(50)} ${fmt((r.cpu['whole process'] ?? 0) - rig, 3)} % of a core`);
    console.log(`    JS main thread wakeups                                 ${fmt(r.jsWakeupsPerS, 1)} per second`);
    console.log(
      `    JS heap allocated                                      ${fmt(r.allocKiBPerS, 1)} KiB per audio second (${fmt(r.gcPerS, 3)} GC/s, ${fmt(r.gcMsPerS, 3)} ms GC/s)`,
    );
    const m = (s: MemorySplit | null): string =>
      s
        ? `${fmt(s.total / 1024, 1)} MB (anon ${fmt(s.anon / 1024, 1)}, file ${fmt(s.file / 1024, 1)}, shared ${fmt(s.shared / 1024, 1)}; JACK rig excluded ${fmt(s.jackShm / 1024, 1)})`
        : '-';
    console.log(`    RSS peak (sampled every 100 ms)                        ${m(r.peak)}`);
    console.log(`    RSS steady (mean over the window)                      ${m(r.steady)}`);
    if (r.audioProfile) printProfile('audio thread by part, in the running daemon (perf, after the window above)', r.audioProfile);
  }
  const floor = names.find((n) => n.startsWith('floor: bare Node + ws'));
  const duplex = names.find((n) => n.includes('full duplex on JACK'));
  if (floor && duplex) {
    const f = results[floor] as Footprint;
    const d = results[duplex] as Footprint;
    console.log('\n  full duplex daemon / bare Node + ws floor');
    console.log(`    JS main thread CPU                                     ${fmt((d.cpu['JS main thread'] ?? 0) / (f.cpu['JS main thread'] ?? 1))} x`);
    console.log(`    whole process CPU                                      ${fmt((d.cpu['whole process'] ?? 0) / (f.cpu['whole process'] ?? 1))} x`);
    console.log(`    JS heap allocated                                      ${fmt(d.allocKiBPerS / Math.max(0.001, f.allocKiBPerS))} x`);
    console.log(`    RSS peak                                               ${fmt((d.peak?.total ?? 0) / (f.peak?.total ?? 1))} x`);
  }
}

/** For `npm run bench`: one batch size (40 ms), 20 s per scenario, the daemon run as the unit runs it. */
export async function benchFootprint(seconds = 20, batches = [40]): Promise<void> {
  const settings = unitSettings();
  console.log(
    `  daemon: node ${settings.nodeArgs.join(' ')}, ${Object.entries(settings.env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} (systemd/speakerd.service)`,
  );
  for (const batchMs of batches) printFootprints(await footprints(seconds, batchMs, settings));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 20);
  const batches = (process.argv[3] ?? '40').split(',').map(Number);
  // FOOTPRINT_NODE_ARGS (even empty) replaces the unit's settings: node flags, and no unit environment.
  const override = process.env.FOOTPRINT_NODE_ARGS;
  // FOOTPRINT_EXTRA_ARGS adds node flags to the unit's (its environment kept): to try a flag.
  const extra = (process.env.FOOTPRINT_EXTRA_ARGS ?? '').split(' ').filter(Boolean);
  const unit = unitSettings();
  const settings = override === undefined ? { ...unit, nodeArgs: [...unit.nodeArgs, ...extra] } : { nodeArgs: override.split(' ').filter(Boolean), env: {} };
  console.log(
    `speakerd footprint: node ${process.version}, ${process.arch}, ${seconds} s per scenario; daemon: node ${settings.nodeArgs.join(' ')} ${JSON.stringify(settings.env)}`,
  );
  for (const batchMs of batches) printFootprints(await footprints(seconds, batchMs, settings, process.argv[4] === 'duplex'));
}
