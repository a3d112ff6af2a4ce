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
import { refusalOf, requirementOf, type AccessLevel } from './access.js';
import { encodeError, encodeEvent, encodeOk, isMutating, type ControlRequest, type RequestId } from './protocol.js';
import { levelOf, type PeerCredentials, type ResolvedOptions } from './options.js';
import type { TokenBucket } from './token-bucket.js';
import { Subscription } from './subscription.js';
import { parseRequestLine } from './validate.js';

/** Time a dropped client is given to read its last line before its socket is destroyed. */
export const DROP_GRACE_MS = 1000;

/** Unsent bytes above which reading from a client pauses until its output drains. */
const READ_PAUSE_BYTES = 64 * 1024;

/** The per-uid budgets a connection draws from (shared by every connection of that uid). */
export interface PeerBudgets {
  mutating: TokenBucket;
  expensive: TokenBucket;
}

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly options: ResolvedOptions;
  /** The budgets of the peer's uid. */
  budgets(peer: PeerCredentials | null): PeerBudgets;
  /** Writes an audit record (coalesced per uid beyond a burst, never dropped). */
  audit(who: string, what: string, line: string): void;
  /** The peer's uid was dropped for refusals: keep it out for a while. */
  penalize(peer: PeerCredentials | null): void;
  subscribed(connection: ClientConnection): void;
  unsubscribed(connection: ClientConnection): void;
  closed(connection: ClientConnection): void;
}

/** Commands whose cost (device enumeration, re-reading the configuration) is limited per client. */
const EXPENSIVE: ReadonlySet<string> = new Set(['devices', 'reload']);

/** One connected client. */
export class ClientConnection {
  private readonly reader: LineReader;
  /** What this client may do (docs/security.md). */
  readonly level: AccessLevel;
  private readonly budgets: PeerBudgets;
  private idleTimer: NodeJS.Timeout | null = null;
  private refusals = 0;
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
    private readonly peer: PeerCredentials | null,
  ) {
    const { options } = host;
    this.reader = new LineReader(options.maxLineBytes);
    this.level = levelOf(options, peer);
    this.budgets = host.budgets(peer);
    this.armIdle();
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', () => {});
    socket.on('close', () => this.onClose());
  }

  /** The peer's credentials when known. */
  get credentials(): PeerCredentials | null {
    return this.peer;
  }

  /** Whether this client holds one of the slots kept for admins' use. */
  get isAdmin(): boolean {
    return this.level === 'admin';
  }

  /** Sends an already encoded event line when this client's subscription selects it. */
  deliver(event: string, line: string): void {
    if (this.subscription?.wants(event)) this.write(line);
  }

  /** Ends the connection now (server shutdown). */
  destroy(): void {
    this.closing = true;
    this.disarmIdle();
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

  private drop(reason: string): void {
    this.host.options.logger.warn(`dropping a control client (${this.who()}): ${reason}`);
    this.closing = true;
    this.disarmIdle();
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
    // Only whole requests count as activity: a byte now and then does not hold a slot.
    this.armIdle();
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
    if (!this.permitted(id, request)) return;
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

  /** Checks the level and the expensive-command budget; refuses (and audits the refusal) when not allowed. */
  private permitted(id: RequestId, request: ControlRequest): boolean {
    const { options } = this.host;
    const requirement = requirementOf(request, options.keyAccess);
    const refusal = refusalOf(request, requirement, this.level, this.peer);
    const key = request.cmd === 'config_set' ? ` key=${request.key}` : '';
    const uid = this.peer === null ? 'unidentified peer' : `uid=${this.peer.uid}`;
    if (refusal !== null) {
      this.host.audit(
        uid,
        `refused '${request.cmd}'${key}`,
        `control: refused '${request.cmd}'${key} from ${this.who()} level=${this.level} required=${refusal.required}`,
      );
      this.fail(id, refusal);
      if (++this.refusals >= options.maxRefusals) {
        this.host.penalize(this.peer);
        this.drop(`${this.refusals} requests refused`);
      }
      return false;
    }
    const mutating = isMutating(request);
    const limited = EXPENSIVE.has(request.cmd)
      ? this.limit(request.cmd, this.budgets.expensive, options.expensiveBurst, options.expensiveRefillMs)
      : mutating && this.level !== 'admin'
        ? this.limit(request.cmd, this.budgets.mutating, options.mutatingBurst, options.mutatingRefillMs)
        : null;
    if (limited !== null) {
      this.fail(id, limited);
      return false;
    }
    if (mutating) this.host.audit(uid, `'${request.cmd}'${key}`, `control: '${request.cmd}'${key} from ${this.who()} level=${this.level}`);
    return true;
  }

  /** ERR_RATE_LIMITED when the uid's budget for this kind of command is spent, else null (a token is taken). */
  private limit(cmd: string, bucket: TokenBucket, burst: number, refillMs: number): ControlError | null {
    if (bucket.take()) return null;
    return new ControlError(
      'ERR_RATE_LIMITED',
      `'${cmd}' is limited to ${burst} in a burst and one every ${refillMs} ms per user; try again in ${bucket.msUntilNext()} ms`,
    );
  }

  private who(): string {
    const peer = this.peer;
    return peer === null ? 'an unidentified peer' : `uid=${peer.uid} gid=${peer.gid} pid=${peer.pid}`;
  }

  /** (Re)starts the idle timer; a subscribed client or one awaiting replies is never idle. */
  private armIdle(): void {
    this.disarmIdle();
    if (this.closing) return;
    this.idleTimer = setTimeout(() => this.onIdle(), this.host.options.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private disarmIdle(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private onIdle(): void {
    this.idleTimer = null;
    if (this.closing) return;
    if (this.subscription !== null || this.pending > 0) {
      this.armIdle();
      return;
    }
    this.closing = true;
    const { idleTimeoutMs } = this.host.options;
    const socket = this.socket;
    socket.end(encodeError(null, { code: 'ERR_IDLE', message: `no request for ${idleTimeoutMs} ms; closing` }));
    const timer = setTimeout(() => socket.destroy(), DROP_GRACE_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
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
    this.disarmIdle();
    this.stopSubscription();
    this.host.closed(this);
  }
}
