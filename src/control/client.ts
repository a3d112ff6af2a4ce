/**
 * A client of the control socket (used by speakerctl and the tests): numbered requests matched to
 * their replies, and subscribed events as 'event'.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { LineReader, type FramedItem } from './framing.js';
import type { ErrorReply, EventMessage, Reply } from './protocol.js';

/** Why a client call failed without a reply from the daemon. */
export type ControlClientErrorCode = 'ERR_NOT_RUNNING' | 'ERR_CONNECT' | 'ERR_TIMEOUT' | 'ERR_CLOSED' | 'ERR_BAD_REPLY';

/** A failure to talk to the daemon (as opposed to an error reply from it). */
export class ControlClientError extends Error {
  constructor(
    readonly code: ControlClientErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ControlClientError';
  }
}

/** Options of ControlClient.connect(). */
export interface ControlClientOptions {
  /** Time to connect, and default time to wait for each reply. Default 5000 ms. */
  timeoutMs?: number;
  /** Longest line accepted from the daemon. Default 16 MiB. */
  maxLineBytes?: number;
}

interface Pending {
  resolve(reply: Reply): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** One connection to the control socket. Emits 'event' (EventMessage) and 'close'. */
export class ControlClient extends EventEmitter {
  private readonly pending = new Map<number, Pending>();
  private readonly reader: LineReader;
  private nextId = 1;
  private unsolicited: ErrorReply | null = null;
  private ended = false;

  private constructor(
    private readonly socket: Socket,
    private readonly timeoutMs: number,
    maxLineBytes: number,
  ) {
    super();
    this.reader = new LineReader(maxLineBytes);
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk, (item) => this.onItem(item)));
    socket.on('error', () => {});
    socket.on('close', () => this.onClose());
  }

  /** Connects; rejects with ERR_NOT_RUNNING when there is no socket or nobody listens on it. */
  static connect(path: string, options: ControlClientOptions = {}): Promise<ControlClient> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const maxLineBytes = options.maxLineBytes ?? 16 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ControlClientError('ERR_TIMEOUT', `no answer from ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new ControlClient(socket, timeoutMs, maxLineBytes));
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(connectError(path, error));
      });
    });
  }

  /** True once the connection has closed. */
  get closed(): boolean {
    return this.ended;
  }

  /**
   * Sends `{"id":n,"cmd":cmd,...args}` and resolves with the reply, an error reply included; rejects
   * (ControlClientError) on timeout or when the connection closes first.
   */
  request(cmd: string, args: Record<string, unknown> = {}, timeoutMs = this.timeoutMs): Promise<Reply> {
    if (this.ended) return Promise.reject(this.closedError());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ControlClientError('ERR_TIMEOUT', `no reply to '${cmd}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(`${JSON.stringify({ ...args, id, cmd })}\n`);
    });
  }

  /** Closes the connection. */
  close(): void {
    this.socket.end();
    this.socket.destroy();
  }

  private onItem(item: FramedItem): void {
    if ('error' in item) return this.protocolError(`the daemon sent an unreadable line (${item.error.code})`);
    let message: unknown;
    try {
      message = JSON.parse(item.line);
    } catch {
      return this.protocolError('the daemon sent a line that is not JSON');
    }
    if (typeof message !== 'object' || message === null) return this.protocolError('the daemon sent a line that is not an object');
    const m = message as Record<string, unknown>;
    if (typeof m.event === 'string') {
      this.emit('event', { event: m.event, data: (m.data ?? {}) as Record<string, unknown> } satisfies EventMessage);
    } else if (typeof m.ok === 'boolean') {
      this.onReply(m as unknown as Reply);
    } else {
      this.protocolError('the daemon sent a line that is neither a reply nor an event');
    }
  }

  private onReply(reply: Reply): void {
    const pending = typeof reply.id === 'number' ? this.pending.get(reply.id) : undefined;
    if (pending === undefined) {
      if (!reply.ok) this.unsolicited = reply;
      return;
    }
    this.pending.delete(reply.id as number);
    clearTimeout(pending.timer);
    pending.resolve(reply);
  }

  private protocolError(message: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new ControlClientError('ERR_BAD_REPLY', message));
    }
  }

  private closedError(): ControlClientError {
    const u = this.unsolicited;
    return new ControlClientError('ERR_CLOSED', u ? `${u.error.code}: ${u.error.message}` : 'speakerd closed the connection');
  }

  private onClose(): void {
    this.ended = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      // The daemon may have said why before closing (ERR_TOO_MANY_CLIENTS): that is the reply.
      if (this.unsolicited !== null) p.resolve({ ...this.unsolicited, id });
      else p.reject(this.closedError());
    }
    this.emit('close');
  }
}

function connectError(path: string, error: NodeJS.ErrnoException): ControlClientError {
  if (error.code === 'ENOENT') return new ControlClientError('ERR_NOT_RUNNING', `speakerd is not running (no socket at ${path})`);
  if (error.code === 'ECONNREFUSED') {
    return new ControlClientError('ERR_NOT_RUNNING', `speakerd is not running (nothing listens on ${path})`);
  }
  if (error.code === 'EACCES' || error.code === 'EPERM') {
    return new ControlClientError('ERR_CONNECT', `permission denied on ${path} (is this user in the socket's group?)`);
  }
  return new ControlClientError('ERR_CONNECT', `cannot connect to ${path}: ${error.message}`);
}
