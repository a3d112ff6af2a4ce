import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { ConnectionPlan, Frame } from './backend.js';
import type { NativeBinding, NativeUplinkOptions, NativeUplinkStats } from '../media/binding.js';
import { classifyConnectError, targetOf, type ConnectFailure } from './connect-failure.js';
import { NativeSocket } from './native-socket.js';
import type { TlsMaterial } from './tls-files.js';
import type { AiLogger, TlsSettings } from './types.js';
import { UplinkProbe } from './uplink-probe.js';

/** Limits and timers of one connection. */
export interface ConnectionOptions {
  connectTimeoutMs: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  maxPayload: number;
  /** How old microphone audio may be (the uplink is probed four times within it, at most every 250 ms). */
  maxMicAgeMs?: number;
  tls?: TlsSettings;
  /** The contents of the TLS files, read beforehand (see readTlsFiles). */
  tlsMaterial?: TlsMaterial;
  /** The addon, when its NetLink is to carry the socket (native-socket.ts); absent: Node's net/tls. */
  binding?: NativeBinding;
  logger: AiLogger;
}

/** How a connection ended. */
export interface CloseInfo {
  code: number;
  reason: string;
  /** HTTP status of a refused handshake. */
  httpStatus?: number;
  /** The body of a refused handshake (vendor error text), at most 2 KiB. */
  body?: string;
  /** The network error behind a close, if any (e.g. ECONNREFUSED). */
  error?: string;
  /** Set when the client ended it (timeouts, oversize message, a deliberate close). */
  cause?: 'pong_timeout' | 'message_too_large' | 'handshake_timeout' | 'client' | 'network';
  /** Why the connection could not be opened at all (refused, DNS, TLS, not a WebSocket), if so. */
  connectFailure?: ConnectFailure;
}

const BODY_LIMIT = 2048;

/** What ws passes to createConnection that a NativeSocket uses. */
interface NativeConnectArgs {
  host?: string;
  port?: string | number;
  servername?: string;
}

function tlsOptions(tls: TlsSettings | undefined, material: TlsMaterial | undefined, logger: AiLogger): WebSocket.ClientOptions {
  const options: WebSocket.ClientOptions = { minVersion: tls?.minVersion ?? 'TLSv1.2' };
  if (material?.ca) options.ca = material.ca;
  if (material?.cert) options.cert = material.cert;
  if (material?.key) options.key = material.key;
  if (tls?.verify === false) {
    options.rejectUnauthorized = false;
    logger.warn('TLS certificate verification is OFF for the AI service: anyone on the network path can impersonate it');
  }
  return options;
}

/** The bytes of a binary frame as one Buffer. */
function toBytes(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** Payload of the liveness ping (probes of the uplink carry 'u<n>'). */
const LIVENESS = 'k';

/**
 * One WebSocket to the service, used once: open within an absolute deadline, liveness (ping with a
 * pong deadline), uplink lag (see UplinkProbe), and a single 'close' with everything known about why.
 * After 'close' the socket is gone and no further event comes from it, so a new connection never
 * hears an old one. Events: 'open', 'message' (a string per text frame, a Buffer per binary frame), 'uplink' (a probe was answered), 'close'
 * (CloseInfo).
 */
export class AiConnection extends EventEmitter {
  private readonly socket: WebSocket;
  private readonly target: string;
  private readonly probe: UplinkProbe;
  /** The socket under ws when the addon carries it (null: Node's own). */
  private native: NativeSocket | null = null;
  private connectTimer: NodeJS.Timeout | null;
  private pingTimer: NodeJS.Timeout | null = null;
  private pongTimer: NodeJS.Timeout | null = null;
  private opened = false;
  private closed = false;
  private cause: CloseInfo['cause'];
  private lastError: string | undefined;
  private connectFailure: ConnectFailure | undefined;

  /** Starts connecting; the TLS files must have been read already (options.tlsMaterial). */
  constructor(
    plan: ConnectionPlan,
    private readonly options: ConnectionOptions,
  ) {
    super();
    const secure = plan.url.startsWith('wss:');
    this.target = targetOf(plan.url);
    const probeMs = Math.min(250, Math.max(10, (options.maxMicAgeMs ?? 400) / 4));
    this.probe = new UplinkProbe(
      (payload) => this.socket.readyState === WebSocket.OPEN && this.socket.ping(payload),
      () => performance.now(),
      probeMs,
    );
    const binding = options.binding?.NetLink ? options.binding : undefined;
    this.socket = new WebSocket(plan.url, plan.protocols, {
      headers: plan.headers,
      maxPayload: options.maxPayload,
      perMessageDeflate: false,
      followRedirects: false,
      ...(secure ? tlsOptions(options.tls, options.tlsMaterial, options.logger) : {}),
      // ws hands createConnection the host, port and servername; the Duplex it gets back is the socket.
      ...(binding
        ? {
            createConnection: ((opts: NativeConnectArgs) => this.nativeSocket(binding, opts, secure)) as unknown as WebSocket.ClientOptions['createConnection'],
          }
        : {}),
    });
    // ws's handshakeTimeout restarts with every byte received: a peer that trickles its headers would
    // hold the connection for ever. This deadline runs from the start, whatever arrives.
    this.connectTimer = setTimeout(() => {
      this.cause = 'handshake_timeout';
      this.terminate();
    }, options.connectTimeoutMs);
    this.connectTimer.unref();
    this.socket.on('open', () => this.onOpen());
    this.socket.on('message', (data, isBinary) => {
      if (this.closed) return;
      // A text frame is a string, a binary frame bytes (Deepgram audio; Gemini sends JSON in them).
      this.emit('message', isBinary ? toBytes(data) : data.toString());
    });
    this.socket.on('pong', (data) => this.onPong(data.toString()));
    this.socket.on('error', (error: Error & { code?: string }) => {
      if (this.closed) return;
      this.lastError = error.message;
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.cause = 'message_too_large';
      else this.cause ??= 'network';
      if (!this.opened) this.connectFailure ??= classifyConnectError(error, this.target);
    });
    this.socket.on('close', (code, reason) => this.finish({ code, reason: reason.toString() }));
    this.socket.on('unexpected-response', (request, response) => this.refused(request, response));
  }

  /** Bytes handed to the socket and not yet written. */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  /** Whether the socket is open. */
  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === WebSocket.OPEN;
  }

  /** Age in ms of the oldest message the peer has not been proven to have read (0: all read). */
  get uplinkLagMs(): number {
    return this.probe.lagMs();
  }

  /**
   * Sends one frame (a string as text, bytes as binary, or as text with `asText`); the callback runs
   * once it is written (or failed); bytes must not change before then. ws masks bytes into its own
   * frame buffer as it frames them (one copy fused with the masking, one write per message).
   */
  send(data: Frame, callback: (error?: Error) => void, asText = false): void {
    if (!this.isOpen) {
      callback(new Error('socket not open'));
      return;
    }
    this.socket.send(data, { binary: typeof data !== 'string' && !asText }, callback);
    this.probe.wrote();
  }

  /**
   * Sends the microphone of ring `port` of `engine` (the native engine object) from the addon's
   * thread, with no JS per batch; false when this connection is not carried by the addon or not open.
   */
  attachUplink(engine: unknown, port: number, options: NativeUplinkOptions): boolean {
    return this.isOpen && this.native !== null && this.native.attachUplink(engine, port, options);
  }

  /** Stops the native uplink; the ring is JS's again when this returns. */
  detachUplink(): void {
    this.native?.detachUplink();
  }

  /** What the native uplink did on this connection (null when the addon does not carry it). */
  uplinkStats(): NativeUplinkStats | null {
    return this.native?.uplinkStats() ?? null;
  }

  /** Closes with a close frame; a peer that does not answer within 1 s is cut off. */
  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.cause = 'client';
    if (this.socket.readyState === WebSocket.OPEN) {
      this.socket.close(code, reason);
      setTimeout(() => this.terminate(), 1000).unref();
    } else {
      this.terminate();
    }
  }

  /** Drops the connection at once (no CPU or memory is spent on it afterwards). */
  terminate(): void {
    if (this.closed) return;
    this.socket.terminate();
    this.finish({ code: 1006, reason: 'terminated' });
  }

  private nativeSocket(binding: NativeBinding, opts: NativeConnectArgs, secure: boolean): NativeSocket {
    const tls = this.options.tls;
    const material = this.options.tlsMaterial;
    this.native = new NativeSocket(binding, {
      host: opts.host ?? '',
      port: Number(opts.port),
      connectTimeoutMs: this.options.connectTimeoutMs,
      ...(opts.servername !== undefined ? { servername: opts.servername } : {}),
      ...(secure
        ? {
            tls: {
              ...(material?.ca ? { ca: material.ca } : {}),
              ...(material?.extraCa ? { extraCa: material.extraCa } : {}),
              ...(material?.cert ? { cert: material.cert } : {}),
              ...(material?.key ? { key: material.key } : {}),
              verify: tls?.verify !== false,
              minVersion: tls?.minVersion ?? 'TLSv1.2',
            },
          }
        : {}),
    });
    return this.native;
  }

  private onOpen(): void {
    if (this.closed) return;
    this.opened = true;
    this.native?.markFrames();
    this.clearConnectTimer();
    this.pingTimer = setInterval(() => this.ping(), this.options.pingIntervalMs);
    this.pingTimer.unref();
    this.emit('open');
  }

  private ping(): void {
    if (this.pongTimer !== null || !this.isOpen) return;
    this.socket.ping(LIVENESS);
    this.pongTimer = setTimeout(() => {
      this.cause = 'pong_timeout';
      this.terminate();
    }, this.options.pongTimeoutMs);
    this.pongTimer.unref();
  }

  private onPong(payload: string): void {
    if (this.closed) return;
    if (payload === LIVENESS) this.clearPong();
    else if (this.probe.pong(payload)) this.emit('uplink');
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  private clearPong(): void {
    if (this.pongTimer !== null) clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  private refused(request: { destroy(): void }, response: IncomingMessage): void {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      if (body.length < BODY_LIMIT) body += chunk.slice(0, BODY_LIMIT - body.length);
    });
    const done = (): void => {
      request.destroy();
      this.finish({ code: 1006, reason: `HTTP ${response.statusCode ?? 0}`, httpStatus: response.statusCode ?? 0, body });
    };
    response.on('end', done);
    response.on('error', done);
    setTimeout(done, 1000).unref();
  }

  private finish(info: CloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    this.native?.detachUplink();
    this.clearConnectTimer();
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.clearPong();
    this.socket.removeAllListeners('message');
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.terminate();
    this.emit('close', {
      ...info,
      ...(this.cause ? { cause: this.cause } : {}),
      ...(this.lastError ? { error: this.lastError } : {}),
      ...(this.connectFailure && !info.httpStatus && this.cause !== 'handshake_timeout' ? { connectFailure: this.connectFailure } : {}),
    });
  }
}
