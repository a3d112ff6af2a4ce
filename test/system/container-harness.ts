import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot, run, type RunResult } from './unit-file.js';

// A real systemd (Debian 12, systemd 252) booted with systemd-nspawn, driven with nsenter. The shell
// helpers in scripts/container/ do the work (and can be used by hand); this wraps them for vitest.

const scripts = join(projectRoot, 'scripts', 'container');
/** Cache of the root file system and of the throw-away runs: $SPEAKERD_TEST_CACHE or /var/cache/speakerd-test. */
export const cacheDir = process.env.SPEAKERD_TEST_CACHE ?? '/var/cache/speakerd-test';
const runsDir = join(cacheDir, 'runs');

/** Commands inside the container get a clean environment, not the test runner's. */
const containerEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', SYSTEMD_PAGER: '' };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why the container tests cannot run here, or null when they can. Builds (or reuses) the cached root
 * file system, which is the slow part the first time (about 20 s, from Debian's mirror).
 */
export async function containerSkipReason(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'not root: booting a container needs root';
  for (const tool of ['systemd-nspawn', 'nsenter', 'mmdebstrap']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      return `${tool} is not installed (apt-get install -y systemd-container mmdebstrap)`;
    }
  }
  const build = await run(join(scripts, 'build-rootfs.sh'), [], { timeoutMs: 300000 });
  if (build.code !== 0) return `the container root file system cannot be built: ${build.stderr.trim() || `exit ${build.code}`}`;
  return null;
}

/** Tears down runs left behind by test processes that died without cleaning up. */
function reapStaleRuns(): void {
  if (!existsSync(runsDir)) return;
  for (const name of readdirSync(runsDir)) {
    const owner = Number(name.split('-')[0]);
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !alive(owner)) {
      spawnSync(join(scripts, 'down.sh'), [join(runsDir, name)], { stdio: 'inherit' });
    }
  }
}

/** A booted container with speakerd installed (not started). */
export class Container {
  private constructor(
    readonly dir: string,
    readonly leader: number,
    /** What up.sh reported (timings). */
    readonly bootLog: string,
  ) {}

  /**
   * Boots a container with the project staged into it (scripts/container/up.sh, given `upArgs`).
   * Always pair with down(); a process exit or SIGINT/SIGTERM also tears it down.
   */
  static async boot(upArgs: string[] = []): Promise<Container> {
    reapStaleRuns();
    const dir = join(runsDir, `${process.pid}-${Date.now().toString(36)}`);
    const teardown = (): void => {
      spawnSync(join(scripts, 'down.sh'), [dir], { stdio: 'inherit' });
    };
    process.once('exit', teardown);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        teardown();
        process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
      });
    }
    const up = await run(join(scripts, 'up.sh'), [dir, ...upArgs], { timeoutMs: 180000 });
    if (up.code !== 0) {
      teardown();
      throw new Error(`scripts/container/up.sh failed (exit ${up.code}):\n${up.stderr}`);
    }
    return new Container(dir, Number(up.stdout.trim()), up.stderr.trim());
  }

  /** Powers the container off and removes its overlay (scripts/container/down.sh). */
  async down(): Promise<void> {
    await run(join(scripts, 'down.sh'), [this.dir], { timeoutMs: 60000 });
  }

  /** Runs a command inside the container (all its namespaces, a clean environment). */
  exec(args: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    return run('nsenter', ['-t', String(this.leader), '-a', ...args], { ...options, env: containerEnv });
  }

  /** Like exec(), but throws with the output when the command fails; returns stdout. */
  async check(args: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<string> {
    const result = await this.exec(args, options);
    if (result.code !== 0) throw new Error(`${args.join(' ')} failed (exit ${result.code}):\n${result.stdout}${result.stderr}`);
    return result.stdout;
  }

  /** Writes a file inside the container (through the container's own view of its file system). */
  async write(path: string, content: string, mode = '0644'): Promise<void> {
    await this.check(['sh', '-c', `mkdir -p "$(dirname "$1")" && cat >"$1" && chmod ${mode} "$1"`, 'sh', path], { input: content });
  }

  /** `systemctl show` properties of a unit. */
  async show(unit: string, properties: string[]): Promise<Record<string, string>> {
    const out = await this.check(['systemctl', 'show', unit, ...properties.map((p) => `--property=${p}`)]);
    const result: Record<string, string> = {};
    for (const line of out.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) result[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return result;
  }

  /** The unit's journal (message text only). */
  async journal(unit: string): Promise<string> {
    return (await this.exec(['journalctl', '--no-pager', '-o', 'short-monotonic', '-u', unit])).stdout;
  }

  /** Polls `probe` every 100 ms until it returns a value other than undefined, or throws after `timeoutMs`. */
  async waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The nspawn console output so far (for failure messages). */
  console(): string {
    const file = join(this.dir, 'nspawn.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }
}
