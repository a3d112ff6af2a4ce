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
import { ClientConnection, DROP_GRACE_MS, type ConnectionHost } from './connection.js';
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
  private activated = false;
  private closed = false;

  private constructor(private readonly options: ResolvedOptions) {
    this.server = createServer({ allowHalfOpen: true });
    this.server.on('error', (error) => this.options.logger.warn(`control socket: ${error.message}`));
    this.server.on('connection', (socket) => this.accept(socket));
    this.host = {
      options,
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
      this.refuse(socket, full);
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
  private slotRefusal(peer: PeerCredentials | null): string | null {
    const { maxClients, adminReservedSlots, maxClientsPerUid } = this.options;
    if (this.clients.size >= maxClients) return `too many clients (at most ${maxClients})`;
    if (levelOf(this.options, peer) === 'admin') return null;
    if (this.clients.size >= maxClients - adminReservedSlots) return `too many clients (at most ${maxClients}, of which ${adminReservedSlots} are kept for admins)`;
    if (peer === null) return null;
    let mine = 0;
    for (const client of this.clients) if (!client.isAdmin && client.credentials?.uid === peer.uid) mine++;
    if (mine >= maxClientsPerUid) return `too many clients for uid ${peer.uid} (at most ${maxClientsPerUid} per user)`;
    return null;
  }

  /** One error line, then the socket is closed; its input is never read. */
  private refuse(socket: Socket, message: string): void {
    socket.on('error', () => {});
    this.options.logger.warn(`refused a control client: ${message}`);
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
