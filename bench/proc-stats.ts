/**
 * What another process costs, read from outside through /proc (so that measuring costs the measured
 * process nothing): CPU time per thread (schedstat, in ns) and resident memory split into anonymous,
 * file-backed and shared pages, net of the JACK test rig's /dev/shm mappings (a board has no JACK).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** CPU time (ns) and name of each thread of a process, by thread id. */
export type ThreadTimes = Map<number, { name: string; ns: number }>;

/** Reads every thread's on-CPU time (the first field of /proc/<pid>/task/<tid>/schedstat). */
export function threadTimes(pid: number): ThreadTimes {
  const out: ThreadTimes = new Map();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      out.set(Number(tid), { name, ns });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** Times a thread gave up the CPU to wait (voluntary context switches): each is one wakeup after it. */
export function wakeups(pid: number, tid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    return Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The group of the JACK client's threads: the test rig, which a board does not have. */
export const RIG_THREADS = 'ALSA plugin threads (JACK client: test rig)';

/**
 * The thread groups the bench reports. Node 20 names all its own threads "node": the main thread
 * (tid = pid) runs JavaScript; the others are V8's platform workers (GC, compilation), the libuv pool
 * and Node's signal thread. The engine names its threads speakerd-audio, speakerd-ctl and
 * speakerd-wdog; threads that an ALSA plugin starts while the device opens are named speakerd-plugin
 * (with the jack plugin: the JACK client's threads, part of the test rig); speakerd-net carries the
 * AI service's socket and the native uplink.
 */
export function threadGroup(pid: number, tid: number, name: string): string {
  if (tid === pid) return 'JS main thread';
  if (name === 'speakerd-audio') return 'audio thread';
  if (name === 'speakerd-ctl') return 'engine control thread';
  if (name === 'speakerd-wdog') return 'watchdog thread';
  if (name === 'speakerd-plugin') return RIG_THREADS;
  if (name === 'speakerd-net') return 'network thread (socket, native uplink)';
  if (name === 'node') return 'Node workers (V8 platform, libuv pool)';
  return `other (${name})`;
}

/** CPU ns spent per thread group between two readings (threads that ended in between are lost). */
export function cpuByGroup(pid: number, before: ThreadTimes, after: ThreadTimes): Record<string, number> {
  const groups: Record<string, number> = {};
  for (const [tid, t] of after) {
    const group = threadGroup(pid, tid, t.name);
    groups[group] = (groups[group] ?? 0) + t.ns - (before.get(tid)?.ns ?? 0);
  }
  return groups;
}

/** Resident memory of a process in KiB. */
export interface MemorySplit {
  anon: number;
  file: number;
  /** Shared memory (shmem, tmpfs) other than the JACK rig's. */
  shared: number;
  /** The JACK rig's /dev/shm mappings and libjack + ALSA jack plugin pages (excluded from `total`). */
  jackShm: number;
  /** anon + file + shared: RSS net of the rig. */
  total: number;
  /** The kernel's peak RSS (VmHWM) minus the rig's mappings now. */
  hwmNet: number;
}

function kib(status: string, key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : 0;
}

/** RSS of the JACK rig in the process, in KiB: [shared memory (/dev/shm/jack*), file pages (libjack, the ALSA jack plugin)]. */
export function jackRigKiB(pid: number): [number, number] {
  let text = '';
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return [0, 0];
  }
  const totals: [number, number] = [0, 0];
  let kind = -1;
  for (const line of text.split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) kind = /\s\/dev\/shm\/jack/.test(line) ? 0 : /\/(libjack|libasound_module_pcm_jack)[^/]*$/.test(line) ? 1 : -1;
    else if (kind >= 0 && line.startsWith('Rss:')) totals[kind as 0 | 1] += Number(/(\d+)/.exec(line)?.[1] ?? 0);
  }
  return totals;
}

/** The memory split now (null when the process is gone). */
export function memorySplit(pid: number): MemorySplit | null {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const [rigShm, rigFile] = jackRigKiB(pid);
  const anon = kib(status, 'RssAnon');
  const file = Math.max(0, kib(status, 'RssFile') - rigFile);
  const shared = Math.max(0, kib(status, 'RssShmem') - rigShm);
  const jackShm = rigShm + rigFile;
  return { anon, file, shared, jackShm, total: anon + file + shared, hwmNet: kib(status, 'VmHWM') - jackShm };
}

/** Samples a process's memory every `everyMs` and keeps the peak (of the net total) and the last reading. */
export class MemorySampler {
  peak: MemorySplit | null = null;
  last: MemorySplit | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 100,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.sample();
  }

  /** Takes one reading now. */
  sample(): void {
    const now = memorySplit(this.pid);
    if (!now) return;
    this.last = now;
    if (!this.peak || now.total > this.peak.total) this.peak = now;
  }

  /** Stops sampling. */
  stop(): void {
    clearInterval(this.timer);
  }
}
