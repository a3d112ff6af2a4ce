import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNativeBinding } from '../../src/media/native-binding.js';
import type { NativeNotifyReceiver } from '../../src/media/binding.js';
import { waitFor } from './signal.js';

/** The built daemon (tests run after `npm run build`). */
export const DAEMON = join(process.cwd(), 'dist/src/cli/speakerd.js');

/** A daemon process with its own /etc, state, socket and sd_notify receiver in a temp dir. */
export class DaemonUnderTest {
  readonly dir = mkdtempSync(join(tmpdir(), 'speakerd-daemon-'));
  readonly etc = join(this.dir, 'etc');
  readonly socket = join(this.dir, 'run', 'control.sock');
  readonly stateFile = join(this.dir, 'state', 'state.json');
  readonly notifyPath = join(this.dir, 'notify.sock');
  readonly notices: { message: string; pid: number; at: number }[] = [];
  output = '';
  child: ChildProcess | null = null;
  exitCode: number | null = null;
  private receiver: NativeNotifyReceiver;
  private poller: NodeJS.Timeout;

  constructor() {
    mkdirSync(join(this.etc, 'conf.d'), { recursive: true });
    this.receiver = new (loadNativeBinding().NotifyReceiver!)(this.notifyPath);
    this.poller = setInterval(() => {
      for (let n = this.receiver.receive(0); n; n = this.receiver.receive(0)) this.notices.push({ ...n, at: performance.now() });
    }, 5);
  }

  /** Writes /etc/speakerd/speakerd.json (or a conf.d file when `name` is given). */
  writeConfig(config: unknown, name?: string): void {
    writeFileSync(name ? join(this.etc, 'conf.d', name) : join(this.etc, 'speakerd.json'), JSON.stringify(config));
  }

  /** Starts the daemon; resolves once it has spawned. */
  start(args: string[] = [], env: NodeJS.ProcessEnv = {}): void {
    const child = spawn(process.execPath, [DAEMON, '--etc-dir', this.etc, ...args], {
      env: {
        ...process.env,
        NOTIFY_SOCKET: this.notifyPath,
        SPEAKERD_CONTROL_SOCKET: this.socket,
        SPEAKERD_STATE_FILE: this.stateFile,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.on('exit', (code) => (this.exitCode = code));
    this.child = child;
  }

  /** Waits for a notify datagram matching `pattern` (after `since` datagrams). */
  async notice(pattern: RegExp, since = 0, timeoutMs = 5000): Promise<{ message: string; pid: number; at: number }> {
    await waitFor(() => this.notices.slice(since).some((n) => pattern.test(n.message)), timeoutMs, `notify ${pattern}`);
    return this.notices.slice(since).find((n) => pattern.test(n.message)) as never;
  }

  /** Sends one request on the control socket and returns the reply. */
  request(request: Record<string, unknown>, timeoutMs = 5000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.socket);
      let buffer = '';
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no reply to ${JSON.stringify(request)}`));
      }, timeoutMs);
      socket.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.on('connect', () => socket.write(`${JSON.stringify({ id: 1, ...request })}\n`));
      socket.on('data', (d) => {
        buffer += d.toString();
        const line = buffer.split('\n').find((l) => l.includes('"id"'));
        if (!line) return;
        clearTimeout(timer);
        socket.end();
        resolve(JSON.parse(line) as Record<string, unknown>);
      });
    });
  }

  /** Waits for the process to exit and returns its code. */
  async exited(timeoutMs = 5000): Promise<number | null> {
    await waitFor(() => this.exitCode !== null || this.child?.signalCode != null, timeoutMs, 'daemon exit');
    return this.exitCode;
  }

  /** Kills what is left and removes the directory. */
  async remove(): Promise<void> {
    clearInterval(this.poller);
    if (this.child && this.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await new Promise((r) => this.child?.once('exit', r));
    }
    this.receiver.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
