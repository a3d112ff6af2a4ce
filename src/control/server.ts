/**
 * The control socket server (public protocol: docs/control-protocol.md). One Unix socket, many clients;
 * every client is bounded (line length, pending requests, unsent output) so that no client can slow the
 * daemon or another client.
 *
 *   const server = await ControlServer.start({ path: '/run/speakerd/control.sock', target: service });
 *   ...
 *   await server.close();
 */
import { createServer, type Server, type Socket } from 'node:net';
import { AuditTrail } from './audit-trail.js';
import { ClientConnection, DROP_GRACE_MS, type ConnectionHost, type PeerBudgets } from './connection.js';
import { TokenBucket } from './token-bucket.js';
import { encodeError, encodeEvent } from './protocol.js';
import { activationFd, clearStaleSocket, forgetActivation, listenOnFd, listenOnPath } from './listen.js';
import { levelOf, resolveOptions, type ControlServerOptions, type PeerCredentials, type ResolvedOptions } from './options.js';
import type { ServiceEvent } from './target.js';

/** A listening control socket. */
export class ControlServer {
  private readonly server: Server;
  private readonly clients = new Set<ClientConnection>();
  private readonly subscribers = new Set<ClientConnection>();
  private readonly onEvent = (event: ServiceEvent): void => this.publish(event);
  private readonly host: ConnectionHost;
  private readonly audit: AuditTrail;
  /** Budgets per uid ('unidentified' for peers without credentials), shared by their connections. */
  private readonly budgetsByUid = new Map<string, PeerBudgets>();
  /** Until when (performance.now()) a uid may not connect, after a client of it was dropped for refusals. */
  private readonly penalties = new Map<number, number>();
  private activated = false;
  private closed = false;

  private constructor(private readonly options: ResolvedOptions) {
    this.server = createServer({ allowHalfOpen: true });
    this.server.on('error', (error) => this.options.logger.warn(`control socket: ${error.message}`));
    this.server.on('connection', (socket) => this.accept(socket));
    this.audit = new AuditTrail({ write: (line) => options.logger.audit(line) });
    this.host = {
      options,
      budgets: (peer) => this.budgetsOf(peer),
      audit: (who, what, line) => this.audit.record(who, what, line),
      penalize: (peer) => {
        if (peer !== null && levelOf(this.options, peer) !== 'admin') this.penalties.set(peer.uid, performance.now() + this.options.penaltyMs);
      },
      subscribed: (c) => this.subscribers.add(c),
      unsubscribed: (c) => this.subscribers.delete(c),
      closed: (c) => {
        this.clients.delete(c);
        this.subscribers.delete(c);
      },
    };
  }

  /**
   * Starts listening: on the socket systemd handed over when LISTEN_PID/LISTEN_FDS name this process
   * (unless `socketActivation: false`), else on a new socket file at `path` with `mode`/`group`, after
   * removing a stale file left by a crash. Rejects with ERR_SOCKET_IN_USE when another process answers
   * on `path`, ERR_SOCKET_PATH when `path` is not a socket or cannot be set up; throws TypeError or
   * RangeError for bad options.
   */
  static async start(options: ControlServerOptions): Promise<ControlServer> {
    const server = new ControlServer(resolveOptions(options));
    await server.listen();
    return server;
  }

  /** Path of the socket file (for a socket-activated server: the configured path, owned by systemd). */
  get path(): string {
    return this.options.path;
  }

  /** True when listening on the socket systemd handed over. */
  get socketActivated(): boolean {
    return this.activated;
  }

  /** Clients connected now. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Clients subscribed now. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /**
   * Stops listening, disconnects every client and removes the socket file this server created (libuv
   * unlinks it; a socket-activated one belongs to systemd and stays). Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.options.target.events.off('event', this.onEvent);
    for (const client of this.clients) client.destroy();
    this.clients.clear();
    this.subscribers.clear();
    this.audit.flush();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async listen(): Promise<void> {
    const { options } = this;
    const fd = options.socketActivation ? activationFd(options.env, process.pid) : null;
    if (fd !== null) {
      await listenOnFd(this.server, fd);
      forgetActivation(options.env);
      this.activated = true;
    } else {
      await clearStaleSocket(options.path);
      await listenOnPath(this.server, options.path, options.mode, options.group);
    }
    options.target.events.on('event', this.onEvent);
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const peer = this.readPeer(socket);
    const full = this.slotRefusal(peer);
    if (full !== null) {
      this.refuse(socket, full.message, full.log);
      return;
    }
    this.clients.add(new ClientConnection(socket, this.host, peer));
  }

  private readPeer(socket: Socket): PeerCredentials | null {
    try {
      return this.options.peerCredentials(socket);
    } catch (error) {
      this.options.logger.warn(`reading peer credentials failed: ${(error as Error).message}`);
      return null;
    }
  }

  /**
   * Why a new client cannot have a slot, or null: all slots taken; all but the ones kept for admins
   * taken (for a non-admin); or its uid holds its share already (non-admins only).
   */
  private slotRefusal(peer: PeerCredentials | null): { message: string; log: string } | null {
    const { maxClients, adminReservedSlots, maxClientsPerUid } = this.options;
    const same = (message: string): { message: string; log: string } => ({ message, log: message });
    if (this.clients.size >= maxClients) return same(`too many clients (at most ${maxClients})`);
    if (levelOf(this.options, peer) === 'admin') return null;
    if (this.clients.size >= maxClients - adminReservedSlots)
      return same(`too many clients (at most ${maxClients}, of which ${adminReservedSlots} are kept for admins)`);
    const until = peer === null ? undefined : this.penalties.get(peer.uid);
    if (until !== undefined && peer !== null) {
      const left = Math.ceil(until - performance.now());
      // The log line stays the same whatever the time left, so the log's rate limit folds a reconnect loop into one count.
      if (left > 0)
        return {
          message: `uid ${peer.uid} was dropped for refused requests; it may connect again in ${left} ms`,
          log: `uid ${peer.uid} is kept out after refused requests`,
        };
      this.penalties.delete(peer.uid);
    }
    // Peers without credentials share one uid's share.
    let mine = 0;
    for (const client of this.clients) if (!client.isAdmin && (client.credentials?.uid ?? null) === (peer?.uid ?? null)) mine++;
    if (mine >= maxClientsPerUid)
      return same(`too many clients for ${peer === null ? 'unidentified peers' : `uid ${peer.uid}`} (at most ${maxClientsPerUid} per user)`);
    return null;
  }

  private budgetsOf(peer: PeerCredentials | null): PeerBudgets {
    const key = peer === null ? 'unidentified' : String(peer.uid);
    let budgets = this.budgetsByUid.get(key);
    if (budgets === undefined) {
      const o = this.options;
      budgets = { mutating: new TokenBucket(o.mutatingBurst, o.mutatingRefillMs), expensive: new TokenBucket(o.expensiveBurst, o.expensiveRefillMs) };
      // Bounded by the users of the machine; the oldest goes first should there ever be more.
      if (this.budgetsByUid.size >= 1024) this.budgetsByUid.delete(this.budgetsByUid.keys().next().value as string);
      this.budgetsByUid.set(key, budgets);
    }
    return budgets;
  }

  /** One error line, then the socket is closed; its input is never read. */
  private refuse(socket: Socket, message: string, log: string): void {
    socket.on('error', () => {});
    this.options.logger.warn(`refused a control client: ${log}`);
    socket.end(encodeError(null, { code: 'ERR_TOO_MANY_CLIENTS', message }), () => socket.destroy());
    setTimeout(() => socket.destroy(), DROP_GRACE_MS).unref();
  }

  private publish(event: ServiceEvent): void {
    if (this.subscribers.size === 0) return;
    let line: string;
    try {
      line = encodeEvent(event.event, event.data ?? {});
    } catch (error) {
      this.options.logger.warn(`an event '${String(event.event)}' could not be serialised: ${(error as Error).message}`);
      return;
    }
    for (const client of this.subscribers) client.deliver(event.event, line);
  }
}
