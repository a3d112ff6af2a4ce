/** Shared pieces of the control-socket tests: temp sockets, a started server, a raw line client. */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlServer } from '../../../src/control/server.js';
import type { ControlLogger, ControlServerOptions } from '../../../src/control/options.js';
import { FakeTarget } from './fake-target.js';

/** A fresh temp directory (removed by `cleanup`). */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'spk-ctl-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Collected log lines. */
export function memoryLogger(): { info: string[]; warn: string[]; audit: string[]; logger: ControlLogger } {
  const info: string[] = [];
  const warn: string[] = [];
  const audit: string[] = [];
  return { info, warn, audit, logger: { info: (m) => info.push(m), warn: (m) => warn.push(m), audit: (m) => audit.push(m) } };
}

/** The credentials of this test process (root in CI: the 'admin' level). */
export const selfPeer = (): { uid: number; gid: number; pid: number } => ({ uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, pid: process.pid });

/** A started server on a temp socket with a fake target. */
export interface Harness {
  server: ControlServer;
  target: FakeTarget;
  path: string;
  dir: string;
  warnings: string[];
  info: string[];
  /** Audit lines (changes and refusals). */
  audit: string[];
  close(): Promise<void>;
}

export async function startHarness(options: Partial<ControlServerOptions> = {}): Promise<Harness> {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'control.sock');
  const target = (options.target as FakeTarget | undefined) ?? new FakeTarget();
  const log = memoryLogger();
  const server = await ControlServer.start({ path, target, logger: log.logger, socketActivation: false, peerCredentials: selfPeer, ...options });
  return {
    server,
    target,
    path,
    dir,
    warnings: log.warn,
    info: log.info,
    audit: log.audit,
    close: async () => {
      await server.close();
      cleanup();
    },
  };
}

/** Waits until `check` is true (polling), or fails after `timeoutMs`. */
export async function waitUntil(check: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A raw socket that parses each line it receives as JSON (or keeps it as a string). */
export class LineClient {
  readonly lines: Record<string, unknown>[] = [];
  readonly socket: Socket;
  private buffer = '';
  private read = 0;
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.buffer += text;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) !== -1) {
        this.lines.push(JSON.parse(this.buffer.slice(0, nl)) as Record<string, unknown>);
        this.buffer = this.buffer.slice(nl + 1);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static connect(path: string): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once('connect', () => resolve(new LineClient(socket)));
      socket.once('error', reject);
    });
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends a request object as one line. */
  request(message: Record<string, unknown>): void {
    this.socket.write(`${JSON.stringify(message)}\n`);
  }

  /** The next line not yet returned by next(). */
  async next(timeoutMs = 3000): Promise<Record<string, unknown>> {
    await waitUntil(() => this.lines.length > this.read, timeoutMs, 'a line');
    return this.lines[this.read++]!;
  }

  /** Waits for `n` more lines and returns them. */
  async take(n: number, timeoutMs = 3000): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next(timeoutMs));
    return out;
  }

  /** Sends a request and returns the next line (its reply, when nothing else is in flight). */
  async call(message: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.request(message);
    return this.next();
  }

  async waitClosed(timeoutMs = 3000): Promise<void> {
    await waitUntil(() => this.closed, timeoutMs, 'the socket to close');
  }

  close(): void {
    this.socket.destroy();
  }
}
