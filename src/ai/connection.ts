import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { ConnectionPlan } from './backend.js';
import type { AiLogger, TlsSettings } from './types.js';

/** Limits and timers of one connection. */
export interface ConnectionOptions {
  connectTimeoutMs: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  maxPayload: number;
  tls?: TlsSettings;
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
}

const BODY_LIMIT = 2048;

function tlsOptions(tls: TlsSettings | undefined, logger: AiLogger): WebSocket.ClientOptions {
  const options: WebSocket.ClientOptions = { minVersion: tls?.minVersion ?? 'TLSv1.2' };
  if (tls?.caFile) options.ca = readFileSync(tls.caFile);
  if (tls?.certFile) options.cert = readFileSync(tls.certFile);
  if (tls?.keyFile) options.key = readFileSync(tls.keyFile);
  if (tls?.verify === false) {
    options.rejectUnauthorized = false;
    logger.warn('TLS certificate verification is OFF for the AI service: anyone on the network path can impersonate it');
  }
  return options;
}

/**
 * One WebSocket to the service, used once: open, liveness (ping with a pong deadline), and a single
 * 'close' with everything known about why. After 'close' the socket is gone and no further event
 * comes from it, so a new connection never hears an old one. Events: 'open', 'message' (text),
 * 'close' (CloseInfo).
 */
export class AiConnection extends EventEmitter {
  private readonly socket: WebSocket;
  private pingTimer: NodeJS.Timeout | null = null;
  private pongTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private cause: CloseInfo['cause'];
  private lastError: string | undefined;

  /** Throws (synchronously) when the TLS files cannot be read. */
  constructor(plan: ConnectionPlan, private readonly options: ConnectionOptions) {
    super();
    const secure = plan.url.startsWith('wss:');
    this.socket = new WebSocket(plan.url, plan.protocols, {
      headers: plan.headers,
      handshakeTimeout: options.connectTimeoutMs,
      maxPayload: options.maxPayload,
      perMessageDeflate: false,
      followRedirects: false,
      ...(secure ? tlsOptions(options.tls, options.logger) : {}),
    });
    this.socket.on('open', () => this.onOpen());
    this.socket.on('message', (data, isBinary) => {
      if (this.closed) return;
      // Some services (Gemini) send their JSON in binary frames.
      this.emit('message', isBinary || typeof data !== 'string' ? data.toString() : data);
    });
    this.socket.on('pong', () => this.clearPong());
    this.socket.on('error', (error: Error & { code?: string }) => {
      this.lastError = error.message;
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.cause = 'message_too_large';
      else if (/handshake has timed out/i.test(error.message)) this.cause = 'handshake_timeout';
      else this.cause ??= 'network';
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

  /** Sends one text message; the callback runs once it is written (or failed). */
  send(data: string, callback: (error?: Error) => void): void {
    if (!this.isOpen) {
      callback(new Error('socket not open'));
      return;
    }
    this.socket.send(data, callback);
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

  private onOpen(): void {
    if (this.closed) return;
    this.pingTimer = setInterval(() => this.ping(), this.options.pingIntervalMs);
    this.pingTimer.unref();
    this.emit('open');
  }

  private ping(): void {
    if (this.pongTimer !== null || !this.isOpen) return;
    this.socket.ping();
    this.pongTimer = setTimeout(() => {
      this.cause = 'pong_timeout';
      this.terminate();
    }, this.options.pongTimeoutMs);
    this.pongTimer.unref();
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
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.clearPong();
    this.socket.removeAllListeners('message');
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.terminate();
    this.emit('close', { ...info, ...(this.cause ? { cause: this.cause } : {}), ...(this.lastError ? { error: this.lastError } : {}) });
  }
}
