/**
 * One client of the control socket: reads framed requests, runs them, writes replies and, once
 * subscribed, events. Output is bounded: requests are taken one line at a time and reading stops
 * while more than READ_PAUSE_BYTES of output waits to be sent (a client that pipelines is served at
 * its own reading pace), and a client whose unsent output still passes the limit (a stalled
 * subscriber) is dropped, never waited for.
 */
import type { Socket } from 'node:net';
import { ControlError, wireErrorOf } from './errors.js';
import { execute } from './dispatch.js';
import { LineReader, type FramedItem } from './framing.js';
import { encodeError, encodeEvent, encodeOk, isMutating, type ControlRequest, type RequestId } from './protocol.js';
import { mayMutate, type PeerCredentials, type ResolvedOptions } from './options.js';
import { Subscription } from './subscription.js';
import { parseRequestLine } from './validate.js';

/** Time a dropped client is given to read its last line before its socket is destroyed. */
export const DROP_GRACE_MS = 1000;

/** Unsent bytes above which reading from a client pauses until its output drains. */
const READ_PAUSE_BYTES = 64 * 1024;

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly options: ResolvedOptions;
  subscribed(connection: ClientConnection): void;
  unsubscribed(connection: ClientConnection): void;
  closed(connection: ClientConnection): void;
}

/** One connected client. */
export class ClientConnection {
  private readonly reader: LineReader;
  private readonly peer: PeerCredentials | null;
  private subscription: Subscription | null = null;
  private pending = 0;
  private inputEnded = false;
  private closing = false;
  /** The unread rest of a chunk, kept while reading waits for output to drain. */
  private backlog: Buffer | null = null;
  private waitingForDrain = false;

  constructor(
    private readonly socket: Socket,
    private readonly host: ConnectionHost,
  ) {
    const { options } = host;
    this.reader = new LineReader(options.maxLineBytes);
    this.peer = this.readPeer();
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', () => {});
    socket.on('close', () => this.onClose());
  }

  /** The peer's credentials when known. */
  get credentials(): PeerCredentials | null {
    return this.peer;
  }

  /** Sends an already encoded event line when this client's subscription selects it. */
  deliver(event: string, line: string): void {
    if (this.subscription?.wants(event)) this.write(line);
  }

  /** Ends the connection now (server shutdown). */
  destroy(): void {
    this.closing = true;
    this.subscription?.stop();
    this.socket.destroy();
  }

  /** Writes one line; drops the client when its unsent output passes the limit. */
  write(line: string): void {
    const socket = this.socket;
    if (this.closing || socket.destroyed || !socket.writable) return;
    socket.write(line);
    const unsent = socket.writableLength;
    if (unsent > this.host.options.subscriberBufferBytes) {
      this.drop(`the client did not read its output (${unsent} bytes unsent, limit ${this.host.options.subscriberBufferBytes})`);
    }
  }

  private outputBacklogged(): boolean {
    return this.socket.writableLength > READ_PAUSE_BYTES;
  }

  /** Handles the lines of a chunk until output backs up; then keeps the rest and waits for 'drain'. */
  private feed(chunk: Buffer): void {
    const used = this.reader.push(chunk, (item) => {
      this.onItem(item);
      return !this.outputBacklogged() || this.closing;
    });
    if (used < chunk.length) this.backlog = chunk.subarray(used);
    if ((this.backlog !== null || this.outputBacklogged()) && !this.closing && !this.waitingForDrain) {
      this.waitingForDrain = true;
      this.socket.pause();
      this.socket.once('drain', () => this.drained());
    }
  }

  private drained(): void {
    this.waitingForDrain = false;
    if (this.closing) return;
    const rest = this.backlog;
    this.backlog = null;
    if (rest !== null) this.feed(rest);
    if (!this.waitingForDrain) this.socket.resume();
  }

  private readPeer(): PeerCredentials | null {
    try {
      return this.host.options.peerCredentials(this.socket);
    } catch (error) {
      this.host.options.logger.warn(`reading peer credentials failed: ${(error as Error).message}`);
      return null;
    }
  }

  private drop(reason: string): void {
    this.host.options.logger.warn(`dropping a control client: ${reason}`);
    this.closing = true;
    this.stopSubscription();
    const socket = this.socket;
    socket.pause();
    socket.end(encodeEvent('dropped', { reason }));
    const timer = setTimeout(() => socket.destroy(), DROP_GRACE_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  private onItem(item: FramedItem): void {
    if (this.closing) return;
    if ('error' in item) {
      this.write(encodeError(null, item.error.toWire()));
      return;
    }
    const v = parseRequestLine(item.line);
    if (v.ok) this.run(v.id, v.request);
    else this.write(encodeError(v.id, v.error.toWire()));
  }

  private run(id: RequestId, request: ControlRequest): void {
    if (this.pending >= this.host.options.maxPendingPerClient) {
      this.fail(id, new ControlError('ERR_TOO_MANY_PENDING', `at most ${this.host.options.maxPendingPerClient} requests may await a reply`));
      return;
    }
    if (isMutating(request)) {
      if (!mayMutate(this.host.options, this.peer)) {
        this.fail(id, new ControlError('ERR_FORBIDDEN', `'${request.cmd}' is not allowed for uid ${this.peer?.uid}`));
        return;
      }
      this.audit(request.cmd);
    }
    if (request.cmd === 'subscribe') return this.subscribe(id, request);
    if (request.cmd === 'unsubscribe') {
      this.stopSubscription();
      this.reply(id, { subscribed: false });
      this.maybeFinish();
      return;
    }
    let out: Record<string, unknown> | Promise<Record<string, unknown>>;
    try {
      out = execute(this.host.options.target, request);
    } catch (error) {
      this.fail(id, error);
      return;
    }
    if (out instanceof Promise) this.await(id, request.cmd, out);
    else this.reply(id, out);
  }

  private await(id: RequestId, cmd: string, result: Promise<Record<string, unknown>>): void {
    this.pending++;
    let answered = false;
    const answer = (send: () => void): void => {
      if (answered) return;
      answered = true;
      send();
    };
    const timeoutMs = this.host.options.commandTimeoutMs;
    const timer = setTimeout(() => answer(() => this.fail(id, new ControlError('ERR_TIMEOUT', `'${cmd}' took longer than ${timeoutMs} ms`))), timeoutMs);
    timer.unref();
    result
      .then(
        (value) => answer(() => this.reply(id, value)),
        (error: unknown) => answer(() => this.fail(id, error)),
      )
      .finally(() => {
        clearTimeout(timer);
        this.pending--;
        this.maybeFinish();
      });
  }

  private subscribe(id: RequestId, request: Extract<ControlRequest, { cmd: 'subscribe' }>): void {
    this.stopSubscription();
    let subscription: Subscription;
    let snapshot: string[];
    try {
      subscription = new Subscription(request, this.host.options, (line) => this.write(line));
      snapshot = subscription.snapshotLines();
    } catch (error) {
      this.fail(id, error);
      return;
    }
    this.reply(id, subscription.describe());
    for (const line of snapshot) this.write(line);
    if (this.closing) return;
    this.subscription = subscription;
    subscription.start();
    this.host.subscribed(this);
  }

  private stopSubscription(): void {
    if (this.subscription === null) return;
    this.subscription.stop();
    this.subscription = null;
    this.host.unsubscribed(this);
  }

  private reply(id: RequestId, result: object): void {
    let line: string;
    try {
      line = encodeOk(id, result);
    } catch (error) {
      this.fail(id, error);
      return;
    }
    this.write(line);
  }

  private fail(id: RequestId, error: unknown): void {
    const { wire, internal } = wireErrorOf(error);
    if (internal) this.host.options.logger.warn(`a control command failed: ${(error as Error)?.stack ?? String(error)}`);
    this.write(encodeError(id, wire));
  }

  private audit(cmd: string): void {
    const peer = this.peer;
    const who = peer === null ? 'an unknown peer' : `uid ${peer.uid} gid ${peer.gid} pid ${peer.pid}`;
    this.host.options.logger.info(`control: '${cmd}' from ${who}`);
  }

  private onEnd(): void {
    this.reader.end((item) => this.onItem(item));
    this.inputEnded = true;
    this.maybeFinish();
  }

  /** A client that has stopped writing is closed once it has had every reply (and is not subscribed). */
  private maybeFinish(): void {
    if (this.inputEnded && this.pending === 0 && this.subscription === null && !this.closing) {
      this.closing = true;
      this.socket.end();
    }
  }

  private onClose(): void {
    this.closing = true;
    this.stopSubscription();
    this.host.closed(this);
  }
}
