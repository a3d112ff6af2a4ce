/**
 * Shared plumbing of the Gemini, ElevenLabs and Deepgram fakes: JSON helpers, PCM16 helpers, the recorder of what clients sent, HTTP upgrade rejection, and the base classes of a
 * fake connection (stall, drop, raw sends, timers) and of a fake server (127.0.0.1, connections).
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket } from 'node:net';
import { endianness } from 'node:os';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';

// ---- JSON ----------------------------------------------------------------------------------------

/** Any JSON value. */
export type Json = string | number | boolean | null | Json[] | JsonObject;
/** A JSON object. */
export interface JsonObject {
  [key: string]: Json;
}

/** True when `v` is a plain JSON object. */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
/** `v[key]` when it is an object. */
export function objectAt(v: unknown, key: string): JsonObject | undefined {
  if (!isObject(v)) return undefined;
  const f = v[key];
  return isObject(f) ? f : undefined;
}
/** `v[key]` when it is a string. */
export function stringAt(v: unknown, key: string): string | undefined {
  if (!isObject(v)) return undefined;
  const f = v[key];
  return typeof f === 'string' ? f : undefined;
}
/** Parses UTF-8 JSON; undefined when it is not JSON. */
export function parseJson(b: Buffer): Json | undefined {
  try {
    return JSON.parse(b.toString('utf8')) as Json;
  } catch {
    return undefined;
  }
}
/** A `ws` message as one Buffer. */
export function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}

// ---- PCM16 ---------------------------------------------------------------------------------------

/** A sine tone as PCM16 mono: `ms` long at `rate` Hz, `freq` Hz, peak `amplitude`. */
export function tone(ms: number, rate: number, freq = 440, amplitude = 8000): Int16Array {
  if (!(ms >= 0)) throw new RangeError(`tone: ms must be >= 0, got ${ms}`);
  const n = Math.round((ms * rate) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** PCM16 samples as little-endian bytes (a copy). */
export function pcmToBytes(pcm: Int16Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  const b = Buffer.alloc(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) b.writeInt16LE(pcm[i] ?? 0, i * 2);
  return b;
}
/** PCM16 samples as base64 of their little-endian bytes. */
export function pcmToBase64(pcm: Int16Array): string {
  return pcmToBytes(pcm).toString('base64');
}
/** Little-endian PCM16 bytes as samples (a copy); a trailing odd byte is dropped. */
export function bytesToPcm(b: Buffer): Int16Array {
  const n = b.length >> 1;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = b.readInt16LE(i * 2);
  return out;
}
/** The chunks joined into one array. */
export function concatPcm(chunks: readonly Int16Array[]): Int16Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Int16Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** True when `s` is padded base64. */
export function isBase64(s: string): boolean {
  return s.length % 4 === 0 && BASE64.test(s);
}

/** Waits `ms` (0: one turn of the event loop). */
export const pause = (ms: number): Promise<void> => new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
/** Splits text into words with their trailing spaces. */
export const words = (s: string): string[] => s.match(/\S+\s*/g) ?? [];

// ---- Recorder ------------------------------------------------------------------------------------

/** One WebSocket upgrade request, accepted or not. */
export interface HandshakeRecord {
  /** Request path and query. */
  url: string;
  /** Request headers (lower-case names). */
  headers: IncomingHttpHeaders;
  /** Subprotocols offered, in order. */
  protocols: string[];
  /** 101 when accepted, else the HTTP status sent. */
  status: number;
  /** Connection index when accepted, else null. */
  conn: number | null;
}

/** One client message, decoded. */
export interface ReceivedMessage {
  /** Connection index (0-based). */
  conn: number;
  /** The message kind: the JSON `type` (ElevenLabs, Deepgram), the top-level key (Gemini), or 'binary'. */
  type: string;
  /** The parsed JSON (empty object for binary frames). */
  message: JsonObject;
  /** True when it came in a binary frame. */
  binary: boolean;
  /** `Date.now()` on arrival. */
  at: number;
}

/** Options of {@link Recorder.waitFor}. */
export interface WaitForOptions {
  /** Give up after this many ms (default 5000). */
  timeoutMs?: number;
  /** Only messages of this connection. */
  conn?: number;
  /** Only messages for which this returns true. */
  match?: (m: ReceivedMessage) => boolean;
  /** Search from this index of `received`; default: after the last one of this type that waitFor returned. */
  since?: number;
}

/** What one fake server saw; shared by its connections. */
export class Recorder {
  readonly handshakes: HandshakeRecord[] = [];
  readonly received: ReceivedMessage[] = [];
  connections = 0;
  private readonly audio: Int16Array[][] = [];
  private readonly cursors = new Map<string, number>();
  private readonly waiters = new Set<() => void>();

  constructor(readonly name: string) {}

  /** Decoded input PCM per connection, concatenated. */
  get audioReceived(): Int16Array[] {
    return this.audio.map((c) => concatPcm(c));
  }
  /** Counts a new connection and returns its index. */
  addConnection(): number {
    this.audio.push([]);
    return this.connections++;
  }
  /** Stores a client message. */
  addReceived(m: ReceivedMessage): void {
    this.received.push(m);
    this.notify();
  }
  /** Stores decoded input audio of connection `conn`. */
  addAudio(conn: number, pcm: Int16Array): void {
    this.audio[conn]?.push(pcm);
    this.notify();
  }
  /** Wakes the waiters. */
  notify(): void {
    for (const w of [...this.waiters]) w();
  }
  /** The next client message of `type`. */
  waitFor(type: string, opts: WaitForOptions = {}): Promise<ReceivedMessage> {
    const probe = (): ReceivedMessage | undefined => {
      for (let i = opts.since ?? this.cursors.get(type) ?? 0; i < this.received.length; i++) {
        const m = this.received[i];
        if (!m || m.type !== type || (opts.conn !== undefined && m.conn !== opts.conn)) continue;
        if (opts.match && !opts.match(m)) continue;
        this.cursors.set(type, i + 1);
        return m;
      }
      return undefined;
    };
    return this.until(probe, opts.timeoutMs ?? 5000, `client message '${type}'`);
  }
  /** Resolves with the first defined value of `probe`, re-checked on every recorded change. */
  until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const now = probe();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const v = probe();
        if (v === undefined) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }
}

// ---- HTTP upgrade ----------------------------------------------------------------------------------

/** Subprotocols offered by the client, in order. */
export function offeredProtocols(req: IncomingMessage): string[] {
  const h = req.headers['sec-websocket-protocol'];
  if (!h) return [];
  return h
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/** Answers the upgrade with an HTTP error and closes the socket. */
export function rejectUpgrade(socket: Duplex, status: number, body: string, contentType = 'application/json'): void {
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    `Content-Type: ${contentType}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
  ];
  socket.once('finish', () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

// ---- Connection base ------------------------------------------------------------------------------

/** What a connection needs from its server. */
export interface ConnHost {
  readonly recorder: Recorder;
}

/** One accepted WebSocket: raw sending with stall/hold, TCP drop, close, timers cleared on close. */
export class BaseConnection {
  /** Close code and reason once closed, else null. */
  closed: { code: number; reason: string } | null = null;
  /** Every frame sent to the client, in order (text as string, binary as Buffer). */
  readonly sent: Array<string | Buffer> = [];
  protected stalled = false;
  private readonly held: Array<string | Buffer> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private pongDelay = 0;

  constructor(
    protected readonly ws: WebSocket,
    private readonly socket: Duplex,
    readonly index: number,
    protected readonly host: ConnHost,
  ) {
    ws.on('ping', (data) => {
      if (this.stalled) return;
      if (this.pongDelay > 0) this.after(this.pongDelay, () => this.ws.pong(data));
      else ws.pong(data);
    });
    ws.on('error', () => undefined);
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const t of this.timers) clearTimeout(t);
      this.timers.clear();
      this.onClosed();
      host.recorder.notify();
    });
  }

  /** True while the WebSocket is open. */
  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Delays the answer to WebSocket pings by `ms` (0: at once), like a slow server. */
  setPongDelay(ms: number): void {
    this.pongDelay = ms;
  }

  /** Stops (`true`) or resumes reading and writing, pings included; held frames are sent on resume. */
  stall(on: boolean): void {
    if (on === this.stalled) return;
    this.stalled = on;
    if (on) return this.ws.pause();
    this.ws.resume();
    for (const data of this.held.splice(0)) this.write(data);
  }

  /** Destroys the TCP socket without a close frame; `reset` sends a TCP RST. */
  dropTcp(opts: { reset?: boolean } = {}): void {
    if (opts.reset && this.socket instanceof Socket) this.socket.resetAndDestroy();
    else this.socket.destroy();
  }

  /** Sends `data` as is: a string as a text frame, a Buffer as a binary frame. */
  sendRaw(data: string | Buffer): void {
    this.write(data);
  }

  /**
   * Closes with a close frame; no `code` sends a close frame without status (the client sees 1005).
   * The reason is cut to the 123 bytes a close frame can carry, as servers do.
   */
  close(code?: number, reason = ''): void {
    if (code === undefined) return this.ws.close();
    let r = Buffer.from(reason, 'utf8');
    if (r.length > 123) r = r.subarray(0, 123);
    this.ws.close(code, r.toString('utf8').replace(/\uFFFD$/, ''));
  }

  /** Runs `fn` after `ms` unless the connection closed first; returns a cancel function. */
  after(ms: number, fn: () => void): () => void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.closed === null) fn();
    }, ms);
    this.timers.add(t);
    return () => {
      clearTimeout(t);
      this.timers.delete(t);
    };
  }

  /** Called once when the socket closed. */
  protected onClosed(): void {}

  /** Sends one frame (held while stalled; dropped when not open). */
  protected write(data: string | Buffer): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.stalled) {
      this.held.push(data);
      return;
    }
    this.sent.push(data);
    this.ws.send(data);
  }

  /** Sends a JSON value as a text frame, or as a binary frame when `binary`. */
  protected writeJson(v: Json, binary = false): void {
    const text = JSON.stringify(v);
    this.write(binary ? Buffer.from(text, 'utf8') : text);
  }
}

// ---- Server base ------------------------------------------------------------------------------------

/** How the subclass answers an upgrade request. */
export type UpgradeDecision = { accept: true; protocol?: string } | { accept: false; status: number; body: string; contentType?: string };

/** A `ws` server on 127.0.0.1 that records handshakes and keeps its connections. */
export abstract class BaseFakeServer<C extends BaseConnection> {
  readonly recorder: Recorder;
  protected readonly conns: C[] = [];
  private readonly wss: WebSocketServer;
  private closing: Promise<void> | undefined;
  private chosenProtocol: string | undefined;

  protected constructor(
    name: string,
    protected readonly server: Server,
    readonly port: number,
    maxPayload: number | undefined,
  ) {
    this.recorder = new Recorder(name);
    this.wss = new WebSocketServer({
      noServer: true,
      autoPong: false,
      ...(maxPayload !== undefined ? { maxPayload } : {}),
      handleProtocols: () => this.chosenProtocol ?? false,
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    server.on('request', (_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found'));
  }

  /** Listens on 127.0.0.1 (`port` or an ephemeral one). */
  protected static async listen(port: number | undefined): Promise<{ server: Server; port: number }> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port ?? 0, '127.0.0.1', () => resolve());
    });
    return { server, port: (server.address() as AddressInfo).port };
  }

  /** Accepted connections so far. */
  get connections(): number {
    return this.recorder.connections;
  }
  /** Every upgrade request. */
  get handshakes(): HandshakeRecord[] {
    return this.recorder.handshakes;
  }
  /** Every decoded client message. */
  get received(): ReceivedMessage[] {
    return this.recorder.received;
  }
  /** Decoded input PCM per connection. */
  get audioReceived(): Int16Array[] {
    return this.recorder.audioReceived;
  }

  /** Connection `index` (default the most recent); throws when there is none. */
  conn(index = this.conns.length - 1): C {
    const c = this.conns[index];
    if (!c) throw new Error(`${this.recorder.name}: no connection ${index} (have ${this.conns.length})`);
    return c;
  }
  /** The next client message of `type`. */
  waitFor(type: string, opts?: WaitForOptions): Promise<ReceivedMessage> {
    return this.recorder.waitFor(type, opts);
  }
  /** Waits until `n` connections were accepted; returns the n-th (1-based). */
  waitForConnection(n = 1, timeoutMs = 5000): Promise<C> {
    return this.recorder.until(() => this.conns[n - 1], timeoutMs, `connection #${n}`);
  }
  /** Stalls or resumes the most recent connection. */
  stall(on: boolean): void {
    this.conn().stall(on);
  }
  /** Drops the most recent connection's TCP socket. */
  dropTcp(opts?: { reset?: boolean }): void {
    this.conn().dropTcp(opts);
  }
  /** Sends a raw frame on the most recent connection. */
  sendRaw(data: string | Buffer): void {
    this.conn().sendRaw(data);
  }
  /** Waits until connection `index` (default most recent) closed; returns code and reason. */
  waitForClose(index?: number, timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const c = this.conn(index);
    return this.recorder.until(() => c.closed ?? undefined, timeoutMs, `close of connection ${c.index}`);
  }

  /** Drops every connection and stops listening. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const c of this.conns) c.dropTcp();
      this.wss.close();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  /** Decides whether to accept the upgrade. */
  protected abstract decide(req: IncomingMessage, url: URL, protocols: string[]): UpgradeDecision;
  /** Builds the connection for an accepted upgrade. */
  protected abstract makeConnection(ws: WebSocket, socket: Duplex, index: number, req: IncomingMessage, url: URL): C;

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const protocols = offeredProtocols(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record = (status: number, conn: number | null): void => {
      this.recorder.handshakes.push({ url: req.url ?? '/', headers: req.headers, protocols, status, conn });
      this.recorder.notify();
    };
    const d = this.decide(req, url, protocols);
    if (!d.accept) {
      record(d.status, null);
      rejectUpgrade(socket, d.status, d.body, d.contentType);
      return;
    }
    this.chosenProtocol = d.protocol;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const index = this.recorder.addConnection();
      this.conns.push(this.makeConnection(ws, socket, index, req, url));
      record(101, index);
    });
  }
}
