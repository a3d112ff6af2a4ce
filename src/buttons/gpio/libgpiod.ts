/**
 * GPIO through libgpiod's command-line tools, 1.x (Debian 12: `apt install gpiod`) or 2.x (their
 * version is asked once; libgpiod-args.ts holds the two command lines), for lack of an ioctl in
 * Node.js. Outputs: one `gpioset` per line holds it at a value; a change ends that
 * process (SIGTERM) and starts another, so each change costs one process start (a few ms of CPU): fine
 * for LEDs that change on state changes, costly for a blinking GPIO LED (prefer a gpio-leds overlay and
 * the sysfs driver, which blinks in the kernel). Inputs: `gpioget` once for the initial values, then one
 * long-running `gpiomon` that prints an edge per line (nothing runs while nothing happens).
 * Under the systemd unit these tools must be in ExecPaths= (speakerd.service lists them).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { gpioError, unavailableChip, type GpioChip, type GpioEdge, type GpioInputs, type GpioLineConfig, type GpioOutputs } from './chip.js';
import { libgpiodMajor, LIBGPIOD_V1, LIBGPIOD_V2, type LibgpiodDialect } from './libgpiod-args.js';

/** Where the tools are looked for by default. */
export const LIBGPIOD_DIR = '/usr/bin';

function failure(tool: string, chip: string, code: number | null, stderr: string): Error & { code: string } {
  return gpioError('ERR_GPIO', `GPIO ${chip}: ${tool} failed (${code === null ? 'killed' : `exit ${code}`}): ${stderr.trim().slice(0, 300) || 'no message'}`);
}

/** One output line held by a gpioset process. */
class HeldLine {
  private child: ChildProcess | null = null;
  private value: boolean | null = null;

  constructor(
    private readonly tools: string,
    private readonly chip: string,
    private readonly config: GpioLineConfig,
    private readonly dialect: LibgpiodDialect,
  ) {}

  async set(value: boolean): Promise<void> {
    if (value === this.value && this.child) return;
    await this.stop();
    const args = this.dialect.gpioset(this.chip, this.config, value);
    const child = spawn(join(this.tools, 'gpioset'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    this.child = child;
    this.value = value;
    await new Promise<void>((resolve, reject) => {
      const early = setTimeout(resolve, 150);
      child.once('error', (e) => (clearTimeout(early), reject(gpioError('ERR_GPIO_UNAVAILABLE', `GPIO ${this.chip}: cannot run gpioset: ${e.message}`))));
      child.once('exit', (code) => (clearTimeout(early), reject(failure('gpioset', this.chip, code, stderr))));
    }).catch((error: unknown) => {
      this.child = null;
      this.value = null;
      throw error;
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    // A process that already ended (also by a signal: the OOM killer, an admin's kill) has nothing to stop.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.removeAllListeners('exit');
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 5000 }, (error, stdout, stderr) => (error ? reject(Object.assign(error, { stderr })) : resolve(stdout)));
  });
}

/** A chip driven by libgpiod's tools in `dir`. */
class LibgpiodChip implements GpioChip {
  private dialect: Promise<LibgpiodDialect> | null = null;

  constructor(
    readonly path: string,
    private readonly dir: string,
  ) {}

  /** The tools' command lines, by their version (asked once). */
  private tools(): Promise<LibgpiodDialect> {
    this.dialect ??= run(join(this.dir, 'gpioset'), ['--version']).then(
      (text) => (libgpiodMajor(text) === 2 ? LIBGPIOD_V2 : LIBGPIOD_V1),
      () => LIBGPIOD_V1,
    );
    return this.dialect;
  }

  async requestOutputs(lines: readonly GpioLineConfig[], initial: readonly boolean[]): Promise<GpioOutputs> {
    const dialect = await this.tools();
    const held = lines.map((l) => new HeldLine(this.dir, this.path, l, dialect));
    const set = async (values: readonly boolean[]): Promise<void> => {
      await Promise.all(held.map((h, i) => h.set(values[i] ?? false)));
    };
    try {
      await set(initial);
    } catch (error) {
      await Promise.all(held.map((h) => h.stop()));
      throw error;
    }
    return { set, release: async () => void (await Promise.all(held.map((h) => h.stop()))) };
  }

  async requestInputs(
    lines: readonly GpioLineConfig[],
    onEdge: (edge: GpioEdge) => void,
    onError: (error: Error & { code: string }) => void,
  ): Promise<GpioInputs> {
    const dialect = await this.tools();
    const initial: boolean[] = [];
    for (const l of lines) {
      try {
        initial.push((await run(join(this.dir, 'gpioget'), dialect.gpioget(this.path, l))).trim() === '1');
      } catch (error) {
        const e = error as Error & { code?: unknown; stderr?: string };
        throw failure('gpioget', this.path, typeof e.code === 'number' ? e.code : null, e.stderr ?? e.message);
      }
    }
    const monitors = lines.map((l) => this.monitor(l, dialect, onEdge, onError));
    return { initial, release: async () => void (await Promise.all(monitors.map((m) => m()))) };
  }

  /** Starts gpiomon on one line (its own flags); returns its stopper. */
  private monitor(
    l: GpioLineConfig,
    dialect: LibgpiodDialect,
    onEdge: (edge: GpioEdge) => void,
    onError: (error: Error & { code: string }) => void,
  ): () => Promise<void> {
    const child = spawn(join(this.dir, 'gpiomon'), dialect.gpiomon(this.path, l), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stopping = false;
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const edge = dialect.edge(line);
      if (edge) onEdge(edge);
    });
    child.once('error', (e) => onError(gpioError('ERR_GPIO_UNAVAILABLE', `GPIO ${this.path}: cannot run gpiomon: ${e.message}`)));
    child.once('exit', (code) => {
      if (!stopping) onError(failure('gpiomon', this.path, code, stderr));
    });
    return async () => {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    };
  }
}

/**
 * Opens a chip through libgpiod's tools in `dir` (default /usr/bin); when they are not installed, a chip
 * that refuses every request with ERR_GPIO_UNAVAILABLE.
 */
export function libgpiodChip(path: string, dir = LIBGPIOD_DIR): GpioChip {
  try {
    for (const tool of ['gpioset', 'gpioget', 'gpiomon']) accessSync(join(dir, tool), constants.X_OK);
  } catch {
    return unavailableChip(path, `libgpiod's tools are not in ${dir} (apt install gpiod); without them GPIO needs a native binding`);
  }
  return new LibgpiodChip(path, dir);
}
