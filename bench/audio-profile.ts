/**
 * The audio thread's cost by part inside the running daemon (issue 13), from `perf record` samples of
 * that one thread with DWARF call stacks. The manual-clock bench (audio-thread.ts) runs the tick back
 * to back with warm caches; here the thread wakes once a period on a paced device, as on a board, so
 * what the echo engine and the device I/O really cost shows. Needs `perf` (Debian's linux-perf) and
 * the right to sample the process (root, or perf_event_paranoid <= 1); skipped otherwise.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { threadTimes } from './proc-stats.js';

const run = promisify(execFile);

/** A part of the audio thread's work: the frames that make a sample belong to it. */
interface Part {
  label: string;
  frame: RegExp;
}

/** Checked from the sampled function outwards; the first part one of its callers belongs to wins. */
const PARTS: readonly Part[] = [
  { label: 'echo engine (canceller and its own suppressor)', frame: /EchoEngine::Process/ },
  { label: 'delay estimator', frame: /speakerd::DelayEstimator::/ },
  { label: 'post filter (double talk, residual suppression, AGC)', frame: /speakerd::(EchoPostFilter|DoubleTalkDetector|ResidualSuppressor|Agc)::/ },
  { label: 'playback shaper (ducking, ceiling)', frame: /speakerd::(Ducker|OutputLimiter|PlaybackShaper)::/ },
  { label: 'resamplers', frame: /speakerd::Resampler::Process/ },
  { label: 'bridge (mixing, ports, rings, events)', frame: /speakerd::(ConferenceBridge|RingPort|PlayerPort|RecorderPort)/ },
  { label: 'device I/O (ALSA reads and writes, waiting for a period)', frame: /speakerd::AlsaDuplex::/ },
  { label: 'rest of the engine tick', frame: /speakerd::Engine::/ },
];

/** Resampler samples are split by where they run: the device edge or a port in the bridge. */
const DEVICE_RESAMPLERS = 'resamplers at the device (48 kHz <-> bridge)';
const PORT_RESAMPLERS = "resamplers in the bridge (ports' own rates)";
const OTHER = 'outside the engine (thread start, unresolved)';

/** The part one sample's call stack (innermost frame first) belongs to. */
export function classifyStack(frames: readonly string[]): string {
  for (let i = 0; i < frames.length; i++) {
    const part = PARTS.find((p) => p.frame.test(frames[i] as string));
    if (!part) continue;
    if (part.label !== 'resamplers') return part.label;
    return frames.slice(i + 1).some((f) => /speakerd::ConferenceBridge::/.test(f)) ? PORT_RESAMPLERS : DEVICE_RESAMPLERS;
  }
  return OTHER;
}

/** Splits `perf script -F tid,ip,sym` output into call stacks, innermost frame first. */
export function parseStacks(script: string): string[][] {
  const stacks: string[][] = [];
  for (const block of script.split(/\n\s*\n/)) {
    const frames = block
      .split('\n')
      .slice(1)
      .map((line) => line.trim().replace(/^[0-9a-f]+\s+/, ''))
      .filter(Boolean);
    if (frames.length) stacks.push(frames);
  }
  return stacks;
}

/** Shares (%) of the samples by part, largest first. */
export function sharesByPart(stacks: readonly string[][]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const stack of stacks) {
    const part = classifyStack(stack);
    counts.set(part, (counts.get(part) ?? 0) + 1);
  }
  const total = Math.max(1, stacks.length);
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).map(([part, n]) => [part, (n / total) * 100]));
}

/** The thread of `pid` named `name`, or undefined. */
function threadNamed(pid: number, name: string): number | undefined {
  return [...threadTimes(pid)].find(([, t]) => t.name === name)?.[0];
}

/** CPU time of one thread so far, in ns (schedstat). */
function threadNs(pid: number, tid: number): number {
  const thread = threadTimes(pid).get(tid);
  if (thread === undefined) throw new Error(`thread ${tid} ended`);
  return thread.ns;
}

/** The result of a profile: the thread's CPU while sampled and its parts, or why it did not run. */
export type ThreadProfile = { cpuPercent: number; samples: number; parts: Record<string, number> } | { skipped: string };

/** Samples the thread `name` of `pid` for `seconds` and splits its time by part. */
export async function profileThread(pid: number, name: string, seconds: number): Promise<ThreadProfile> {
  const tid = threadNamed(pid, name);
  if (tid === undefined) return { skipped: `no thread named ${name}` };
  const dir = mkdtempSync(join(tmpdir(), 'speakerd-profile-'));
  const data = join(dir, 'perf.data');
  try {
    const before = threadNs(pid, tid);
    const t0 = performance.now();
    await run('perf', [
      'record',
      '-q',
      '-e',
      'cpu-clock',
      '-F',
      '2000',
      '--call-graph',
      'dwarf,16384',
      '-t',
      String(tid),
      '-o',
      data,
      '--',
      'sleep',
      String(seconds),
    ]);
    const cpuPercent = ((threadNs(pid, tid) - before) / ((performance.now() - t0) * 1e6)) * 100;
    const { stdout } = await run('perf', ['script', '-i', data, '-F', 'tid,ip,sym'], { maxBuffer: 512 * 1024 * 1024 });
    const stacks = parseStacks(stdout);
    if (stacks.length === 0) return { skipped: 'perf recorded no samples' };
    return { cpuPercent, samples: stacks.length, parts: sharesByPart(stacks) };
  } catch (error) {
    return { skipped: `perf: ${(error as Error).message.split('\n')[0]}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Prints a profile: each part's share of the thread and, from the thread's CPU, % of a core. */
export function printProfile(title: string, profile: ThreadProfile): void {
  console.log(`\n  ${title}`);
  if ('skipped' in profile) {
    console.log(`    skipped: ${profile.skipped}`);
    return;
  }
  console.log(`    thread CPU while sampled (perf's own cost included)   ${profile.cpuPercent.toFixed(3)} % of a core, ${profile.samples} samples`);
  for (const [part, share] of Object.entries(profile.parts)) {
    console.log(`    ${part.padEnd(58)} ${share.toFixed(1).padStart(5)} %  ${((share * profile.cpuPercent) / 100).toFixed(3)} % of a core`);
  }
}
