/**
 * A protocol-faithful fake of the OpenAI Realtime WebSocket service (GA and beta dialects,
 * shared/docs/protocols.md section 1; and xAI's Grok Voice Agent dialect, section 6, see
 * openai/xai.ts) on a real `ws` server bound to 127.0.0.1, for integration tests
 * of an AI port. The test drives time: replies, VAD events, transcripts, tool calls and failures are
 * sent when the test calls the scripting methods; client events are answered as the service does.
 *
 * Scripting methods on the server act on the most recent connection; `conn(i)` reaches an older one.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { tone } from './openai/audio.js';
import { FakeConnection, type ConnectionHost, type OverrideEffective, type ResponseCreateHook, type SpeechStartedResult } from './openai/connection.js';
import { authErrorBody, defaultRejectBody, detectDialect, offeredProtocols, presentedKey, rejectUpgrade } from './openai/handshake.js';
import { newId } from './openai/ids.js';
import type { JsonObject } from './openai/json.js';
import { Recorder, type CancelRecord, type HandshakeRecord, type ReceivedMessage, type TruncateRecord, type WaitForOptions } from './openai/recorder.js';
import type { ActiveResponseInfo, ResponseResult, SendResponseOptions, ToolCallOptions, ToolCallResult } from './openai/responses.js';
import type { Dialect } from './openai/session.js';
import { XAI_DEFAULT_MODEL } from './openai/xai.js';

/** Helpers and types for tests: `tone`, PCM/base64 codecs, the self-signed certificate, record and option types. */
export { tone, pcmToBase64, bytesToPcm, concatPcm } from './openai/audio.js';
export { makeSelfSignedCert } from './openai/cert.js';
export { FakeConnection, type OverrideEffective, type ResponseCreateHook, type SpeechStartedResult } from './openai/connection.js';
export type { Json, JsonObject } from './openai/json.js';
export type { CancelRecord, HandshakeRecord, ReceivedMessage, TruncateRecord, WaitForOptions } from './openai/recorder.js';
export type { ActiveResponseInfo, ResponseOutcome, ResponseResult, SendResponseOptions, ToolCallOptions, ToolCallResult } from './openai/responses.js';
export type { Dialect } from './openai/session.js';

/** Options of {@link FakeRealtimeServer.start}. */
export interface FakeRealtimeServerOptions {
  /**
   * 'ga', 'beta', 'xai' (only when forced: xAI Grok voice, see openai/xai.ts), or 'auto' (default):
   * beta on `OpenAI-Beta: realtime=v1` or subprotocol `openai-beta.realtime-v1`, else GA.
   */
  dialect?: Dialect | 'auto';
  /** When set, require `Authorization: Bearer <key>` or subprotocol `openai-insecure-api-key.<key>`, else HTTP 401. */
  apiKey?: string;
  /** Reject every upgrade with this HTTP status (e.g. 403, 429, 500) and an OpenAI-like JSON body. */
  rejectStatus?: number;
  /** Body for `rejectStatus` (default: OpenAI-like for that status). */
  rejectBody?: JsonObject;
  /** Extra response headers for `rejectStatus`, e.g. `{ 'retry-after': '2' }`. */
  rejectHeaders?: Record<string, string>;
  /** Serve wss:// over https with this key and certificate (see `makeSelfSignedCert`). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Largest client message the server accepts, in bytes (default: ws's 100 MiB); larger closes with 1009. */
  maxPayload?: number;
  /** Prefix of session ids (default `sess_`). */
  sessionIdPrefix?: string;
  /** TCP port, default an ephemeral one (a restarted service can come back on the same port). */
  port?: number;
  /** Request path (default `/v1/realtime`); other paths get HTTP 404. */
  path?: string;
  /** Rewrites the effective session before `session.updated`, to make the server ignore or alter fields. */
  overrideEffective?: OverrideEffective;
  /** Answers `response.create` (default: 300 ms of 440 Hz and transcript "ok"). Also settable later. */
  onResponseCreate?: ResponseCreateHook;
}

/** The default `response.create` answer: 300 ms of a 440 Hz tone with transcript "ok". */
export const defaultResponseHook: ResponseCreateHook = (conn) => conn.sendResponse({ audio: tone(300), transcript: 'ok' });

/** The fake server. Start with {@link FakeRealtimeServer.start}; always `close()` it. */
export class FakeRealtimeServer implements ConnectionHost {
  /** ws:// or wss:// URL of the endpoint, e.g. `ws://127.0.0.1:40123/v1/realtime`. Add `?model=…` as clients do. */
  readonly url: string;
  /** Everything recorded; the getters below are shortcuts. */
  readonly recorder = new Recorder();
  /** Called on `response.create` when no response is active; may be replaced at any time. */
  onResponseCreate: ResponseCreateHook;
  /** See {@link FakeRealtimeServerOptions.overrideEffective}. */
  overrideEffective: OverrideEffective | undefined;
  private readonly conns: FakeConnection[] = [];
  private readonly wss: WebSocketServer;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly options: FakeRealtimeServerOptions,
    url: string,
  ) {
    this.url = url;
    this.onResponseCreate = options.onResponseCreate ?? defaultResponseHook;
    this.overrideEffective = options.overrideEffective;
    this.wss = new WebSocketServer({
      noServer: true,
      autoPong: false,
      ...(options.maxPayload !== undefined ? { maxPayload: options.maxPayload } : {}),
      handleProtocols: (protocols) => (protocols.has('realtime') ? 'realtime' : false),
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    server.on('request', (_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(defaultRejectBody(404)));
    });
  }

  /** Starts a server on 127.0.0.1, on `options.port` or an ephemeral port. */
  static async start(options: FakeRealtimeServerOptions = {}): Promise<FakeRealtimeServer> {
    const { tls } = options;
    const server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }) : createHttpServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const url = `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}${options.path ?? '/v1/realtime'}`;
    return new FakeRealtimeServer(server, options, url);
  }

  /** Accepted connections so far. */
  get connections(): number {
    return this.recorder.connections;
  }
  /** Every upgrade request, accepted or rejected. */
  get handshakes(): HandshakeRecord[] {
    return this.recorder.handshakes;
  }
  /** Every parsed client message, with its connection index. */
  get received(): ReceivedMessage[] {
    return this.recorder.received;
  }
  /** Appended input PCM per connection (index = connection), decoded little-endian. */
  get audioReceived(): Int16Array[] {
    return this.recorder.audioReceived;
  }
  /** Every `conversation.item.truncate` request. */
  get truncates(): TruncateRecord[] {
    return this.recorder.truncates;
  }
  /** Every cancellation (client `response.cancel` or VAD barge-in). */
  get cancels(): CancelRecord[] {
    return this.recorder.cancels;
  }

  /** Connection `index` (0-based); default the most recent. Throws when there is none. */
  conn(index = this.conns.length - 1): FakeConnection {
    const c = this.conns[index];
    if (!c) throw new Error(`fake realtime server: no connection ${index} (have ${this.conns.length})`);
    return c;
  }

  /** Effective session of the most recent connection. */
  get session(): JsonObject {
    return this.conn().session;
  }
  /** Active response of the most recent connection, or null. */
  get activeResponse(): ActiveResponseInfo | null {
    return this.conn().activeResponse;
  }

  /** The next client message of `type`; each call returns a later one unless `since` is given. */
  waitFor(type: string, opts?: WaitForOptions): Promise<ReceivedMessage> {
    return this.recorder.waitFor(type, opts);
  }

  /** Waits until `n` connections were accepted and returns the n-th (1-based). */
  waitForConnection(n = 1, timeoutMs = 5000): Promise<FakeConnection> {
    return this.recorder.until(() => this.conns[n - 1], timeoutMs, `connection #${n}`);
  }

  /** Waits until connection `index` (default most recent) is closed; returns the close code and reason. */
  waitForClose(index?: number, timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const c = this.conn(index);
    return this.recorder.until(() => c.closed ?? undefined, timeoutMs, `close of connection ${c.index}`);
  }

  /** {@link FakeConnection.sendResponse} on the most recent connection. */
  sendResponse(opts?: SendResponseOptions): Promise<ResponseResult> {
    return this.conn().sendResponse(opts);
  }
  /** {@link FakeConnection.finishResponse} on the most recent connection. */
  finishResponse(): boolean {
    return this.conn().finishResponse();
  }
  /** {@link FakeConnection.speechStarted} on the most recent connection. */
  speechStarted(opts?: { itemId?: string; audioStartMs?: number }): SpeechStartedResult {
    return this.conn().speechStarted(opts);
  }
  /** {@link FakeConnection.speechStopped} on the most recent connection. */
  speechStopped(opts?: { itemId?: string; audioEndMs?: number }): string {
    return this.conn().speechStopped(opts);
  }
  /** {@link FakeConnection.commitUserTurn} on the most recent connection. */
  commitUserTurn(opts?: { itemId?: string }): string {
    return this.conn().commitUserTurn(opts);
  }
  /** {@link FakeConnection.userTranscript} on the most recent connection. */
  userTranscript(itemId: string, text: string, opts?: { delta?: boolean }): void {
    this.conn().userTranscript(itemId, text, opts);
  }
  /** {@link FakeConnection.toolCall} on the most recent connection. */
  toolCall(opts: ToolCallOptions): ToolCallResult {
    return this.conn().toolCall(opts);
  }
  /** {@link FakeConnection.sendError} on the most recent connection. */
  sendError(code: string | null, message: string, type?: string, param?: string | null): void {
    this.conn().sendError(code, message, type, param);
  }
  /** {@link FakeConnection.expireSession} on the most recent connection. */
  expireSession(): void {
    this.conn().expireSession();
  }
  /** {@link FakeConnection.dropTcp} on the most recent connection. */
  dropTcp(opts?: { reset?: boolean }): void {
    this.conn().dropTcp(opts);
  }
  /** {@link FakeConnection.stall} on the most recent connection. */
  stall(on: boolean): void {
    this.conn().stall(on);
  }
  /** {@link FakeConnection.ping} (xAI's `ping` event) on the most recent connection. */
  ping(timestamp?: number): void {
    this.conn().ping(timestamp);
  }
  /** {@link FakeConnection.sendRaw} on the most recent connection. */
  sendRaw(data: string | Buffer): void {
    this.conn().sendRaw(data);
  }
  /** {@link FakeConnection.sendOversize} on the most recent connection. */
  sendOversize(bytes: number): void {
    this.conn().sendOversize(bytes);
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

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const protocols = offeredProtocols(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record = (status: number, dialect: Dialect | null, conn: number | null): void => {
      this.recorder.handshakes.push({ url: req.url ?? '/', headers: req.headers, protocols, dialect, status, conn });
      this.recorder.notify();
    };
    const reject = (status: number, body: JsonObject, headers?: Record<string, string>): void => {
      record(status, null, null);
      rejectUpgrade(socket, status, body, headers);
    };
    if (url.pathname !== (this.options.path ?? '/v1/realtime')) return reject(404, defaultRejectBody(404));
    const { rejectStatus, apiKey } = this.options;
    if (rejectStatus !== undefined) {
      const body = this.options.rejectBody ?? defaultRejectBody(rejectStatus);
      return reject(rejectStatus, body, this.options.rejectHeaders);
    }
    const key = presentedKey(req, protocols);
    if (apiKey !== undefined && key !== apiKey) return reject(401, authErrorBody(key));
    const dialect = detectDialect(req, protocols, this.options.dialect ?? 'auto');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const index = this.recorder.addConnection();
      const model = url.searchParams.get('model') ?? (dialect === 'ga' ? 'gpt-realtime' : dialect === 'xai' ? XAI_DEFAULT_MODEL : 'gpt-4o-realtime-preview');
      const sessionId = newId(this.options.sessionIdPrefix ?? 'sess_');
      this.conns.push(new FakeConnection(ws, socket, index, dialect, sessionId, model, this));
      record(101, dialect, index);
    });
  }
}
