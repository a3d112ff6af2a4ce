/**
 * A protocol-faithful fake of the Gemini Live API (`BidiGenerateContent`, shared/docs/protocols.md
 * section 3, checked against `@google/genai` 3.6.1) on a real `ws` server bound to 127.0.0.1.
 *
 * Enforced as the service does: the endpoint path, the API key in `?key=` (or an ephemeral token in
 * `?access_token=` on the `BidiGenerateContentConstrained` endpoint), `setup` exactly once and first,
 * one top-level key per client message, known setup fields, one response modality, known models,
 * audio as `audio/pcm[;rate=N]` base64, `activityStart/End` only with automatic VAD disabled, function
 * responses with `id` and `name`, resumption handles; errors are close frames 1007/1008/1011 with a
 * reason. The connection cap sends `goAway{timeLeft}` and then closes.
 *
 * Scripting methods on the server act on the most recent connection; `conn(i)` reaches an older one.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  GeminiConnection,
  REASONS,
  type ClientTurnHook,
  type FunctionCallSpec,
  type GeminiHost,
  type SendTurnOptions,
  type ToolResponseRecord,
  type TurnOutcome,
} from './gemini/connection.js';
import { BaseFakeServer, type JsonObject, type UpgradeDecision } from './vendor/kit.js';

export {
  GeminiConnection,
  INPUT_RATE,
  OUTPUT_RATE,
  REASONS,
  type ClientTurnHook,
  type FunctionCallSpec,
  type SendTurnOptions,
  type ToolResponseRecord,
  type TurnOutcome,
} from './gemini/connection.js';
export {
  tone,
  pcmToBase64,
  bytesToPcm,
  concatPcm,
  type Json,
  type JsonObject,
  type HandshakeRecord,
  type ReceivedMessage,
  type WaitForOptions,
} from './vendor/kit.js';

/** An ephemeral token (`auth_tokens/…`) the fake accepts on the Constrained endpoint. */
export interface EphemeralToken {
  /** The token name, e.g. `auth_tokens/abc123`. */
  name: string;
  /** Sessions it may start (default 1; 0 = unlimited). Resuming a session does not count. */
  uses?: number;
  /** `Date.now()` after which it is refused altogether (default never). */
  expireAt?: number;
  /** `Date.now()` after which it starts no new session (resumption still allowed; default never). */
  newSessionExpireAt?: number;
  /** `liveConnectConstraints.model`: the setup must name this model (with or without `models/`). */
  model?: string;
}

/** Options of {@link FakeGeminiLiveServer.start}. */
export interface FakeGeminiLiveServerOptions {
  /** When set, `?key=` (or header `x-goog-api-key`) must equal it, else close 1007 "API key not valid…". */
  apiKey?: string;
  /** Tokens accepted as `?access_token=` on the Constrained endpoint; others close 1008. */
  ephemeralTokens?: EphemeralToken[];
  /** Accepted model names without `models/` (default: any); others close 1008 "… is not found …". */
  models?: string[];
  /** Send `setupComplete` in a binary frame, as the service has been seen to (default true). */
  setupCompleteBinary?: boolean;
  /** Send every server message in binary frames (default false: text frames). */
  binaryFrames?: boolean;
  /** Include `sessionId` in `setupComplete` (default false). */
  sessionId?: boolean;
  /** Connection lifetime from `setupComplete`, ms (default 600000 = 10 min; 0 = no cap). */
  maxConnectionMs?: number;
  /** `goAway` this long before the cap, ms (default 60000). */
  goAwayBeforeMs?: number;
  /** Close sent at the cap (default 1011 "Deadline expired before operation could complete."). */
  capClose?: { code: number; reason: string };
  /** Answer WebSocket pings after this many ms (default 0; the service can take 8–30 s). */
  pongDelayMs?: number;
  /** Largest client message in bytes (default ws's 100 MiB); larger closes with 1009. */
  maxPayload?: number;
  /** TCP port, default an ephemeral one. */
  port?: number;
  /** API version in the URL path (default `v1beta`; `v1alpha` for tokens, as the SDK does). */
  apiVersion?: string;
  /** Called on `clientContent{turnComplete:true}` and `realtimeInput.text`; may call `conn.sendTurn`. */
  onClientTurn?: ClientTurnHook;
}

const PATH = /^\/ws\/google\.ai\.generativelanguage\.(v1alpha|v1beta|v1)\.GenerativeService\.(BidiGenerateContent|BidiGenerateContentConstrained)$/;

interface HandleInfo {
  conn: number;
  session: number;
}

/** The fake server. Start with {@link FakeGeminiLiveServer.start}; always `close()` it. */
export class FakeGeminiLiveServer extends BaseFakeServer<GeminiConnection> implements GeminiHost {
  /** URL of the API-key endpoint without the key: add `?key=…` as the SDK does. */
  readonly url: string;
  /** URL of the ephemeral-token endpoint: add `?access_token=auth_tokens/…`. */
  readonly tokenUrl: string;
  /** See {@link FakeGeminiLiveServerOptions.onClientTurn}; may be replaced at any time. */
  onClientTurn: ClientTurnHook | undefined;
  readonly options: GeminiHost['options'];
  private readonly handles = new Map<string, HandleInfo>();
  private readonly tokenUses = new Map<string, number>();
  private readonly sessionOf = new Map<number, number>();
  private handleSeq = 0;

  private constructor(
    base: { server: import('node:http').Server; port: number },
    private readonly opts: FakeGeminiLiveServerOptions,
  ) {
    super('fake gemini live server', base.server, base.port, opts.maxPayload);
    const v = opts.apiVersion ?? 'v1beta';
    const root = `ws://127.0.0.1:${base.port}/ws/google.ai.generativelanguage`;
    this.url = `${root}.${v}.GenerativeService.BidiGenerateContent`;
    this.tokenUrl = `${root}.${opts.apiVersion ?? 'v1alpha'}.GenerativeService.BidiGenerateContentConstrained`;
    this.onClientTurn = opts.onClientTurn;
    this.options = {
      setupCompleteBinary: opts.setupCompleteBinary ?? true,
      binaryFrames: opts.binaryFrames ?? false,
      sessionId: opts.sessionId ?? false,
      maxConnectionMs: opts.maxConnectionMs ?? 600_000,
      goAwayBeforeMs: opts.goAwayBeforeMs ?? 60_000,
      capClose: opts.capClose ?? { code: 1011, reason: REASONS.deadline },
    };
  }

  /** Starts a server on 127.0.0.1. */
  static async start(options: FakeGeminiLiveServerOptions = {}): Promise<FakeGeminiLiveServer> {
    return new FakeGeminiLiveServer(await BaseFakeServer.listen(options.port), options);
  }

  /** `url` with `?key=`. */
  urlWithKey(key: string): string {
    return `${this.url}?key=${encodeURIComponent(key)}`;
  }
  /** `tokenUrl` with `?access_token=`. */
  urlWithToken(token: string): string {
    return `${this.tokenUrl}?access_token=${encodeURIComponent(token)}`;
  }

  /** Every function response received, all connections. */
  get toolResponses(): ToolResponseRecord[] {
    return this.conns.flatMap((c) => c.toolResponses);
  }

  /** {@link GeminiConnection.sendTurn} on the most recent connection. */
  sendTurn(opts?: SendTurnOptions): Promise<TurnOutcome> {
    return this.conn().sendTurn(opts);
  }
  /** {@link GeminiConnection.finishTurn} on the most recent connection. */
  finishTurn(): boolean {
    return this.conn().finishTurn();
  }
  /** {@link GeminiConnection.userSpeech} on the most recent connection. */
  userSpeech(opts?: { inputTranscript?: string; voiceActivity?: boolean }): { interrupted: boolean; cancelledCalls: string[] } {
    return this.conn().userSpeech(opts);
  }
  /** {@link GeminiConnection.inputTranscription} on the most recent connection. */
  inputTranscription(text: string, finished?: boolean): boolean {
    return this.conn().inputTranscription(text, finished);
  }
  /** {@link GeminiConnection.toolCall} on the most recent connection. */
  toolCall(calls: FunctionCallSpec[]): string[] {
    return this.conn().toolCall(calls);
  }
  /** {@link GeminiConnection.toolCallCancellation} on the most recent connection. */
  toolCallCancellation(ids: string[]): void {
    this.conn().toolCallCancellation(ids);
  }
  /** {@link GeminiConnection.goAway} on the most recent connection. */
  goAway(timeLeftMs: number): void {
    this.conn().goAway(timeLeftMs);
  }
  /** {@link GeminiConnection.endConnection} on the most recent connection. */
  endConnection(timeLeftMs: number, close?: { code: number; reason: string }): void {
    this.conn().endConnection(timeLeftMs, close);
  }
  /** {@link GeminiConnection.resumptionUpdate} on the most recent connection. */
  resumptionUpdate(resumable?: boolean): string | null {
    return this.conn().resumptionUpdate(resumable);
  }
  /** {@link GeminiConnection.fail} on the most recent connection. */
  fail(code: number, reason: string): void {
    this.conn().fail(code, reason);
  }
  /** {@link GeminiConnection.send} on the most recent connection. */
  send(message: JsonObject, binary?: boolean): void {
    this.conn().send(message, binary);
  }
  /** {@link GeminiConnection.sendOversize} on the most recent connection. */
  sendOversize(bytes: number): void {
    this.conn().sendOversize(bytes);
  }

  /** @internal Registers a handle for `conn`'s session. */
  newHandle(conn: GeminiConnection): string {
    const handle = `resume-${++this.handleSeq}-${Math.random().toString(36).slice(2, 10)}`;
    this.handles.set(handle, { conn: conn.index, session: this.sessionOf.get(conn.index) ?? conn.index });
    return handle;
  }

  /** @internal Model, token constraints and resumption handle of a setup. */
  checkSetup(conn: GeminiConnection, setup: JsonObject): { code: number; reason: string } | null {
    const model = typeof setup['model'] === 'string' ? setup['model'] : '';
    if (!model) return { code: 1007, reason: REASONS.invalidArgument };
    const name = model.replace(/^models\//, '');
    const version = conn.endpoint === 'token' ? 'v1alpha' : (this.opts.apiVersion ?? 'v1beta');
    if (!model.startsWith('models/') || (this.opts.models && !this.opts.models.includes(name))) {
      return {
        code: 1008,
        reason:
          `${model} is not found for API version ${version}, or is not supported for ` +
          'bidiGenerateContent. Call ListModels to see the list of available models and their supported methods.',
      };
    }
    const token = this.tokenOf.get(conn.index);
    if (token?.model && token.model.replace(/^models\//, '') !== name) {
      return { code: 1007, reason: REASONS.invalidArgument };
    }
    const resumption = setup['sessionResumption'];
    const handle = resumption && typeof resumption === 'object' && !Array.isArray(resumption) ? resumption['handle'] : undefined;
    if (typeof handle === 'string' && handle.length > 0) {
      const info = this.handles.get(handle);
      if (!info) return { code: 1007, reason: REASONS.invalidArgument };
      const old = this.conns[info.conn];
      if (old && old !== conn && old.isOpen) return { code: 1011, reason: REASONS.internal };
      conn.resumedFrom = handle;
      this.sessionOf.set(conn.index, info.session);
    } else {
      if (token) {
        const now = Date.now();
        if (token.newSessionExpireAt !== undefined && now > token.newSessionExpireAt) {
          return { code: 1008, reason: REASONS.badToken };
        }
        const used = this.tokenUses.get(token.name) ?? 0;
        const uses = token.uses ?? 1;
        if (uses !== 0 && used >= uses) return { code: 1008, reason: REASONS.badToken };
        this.tokenUses.set(token.name, used + 1);
      }
      this.sessionOf.set(conn.index, conn.index);
    }
    return null;
  }

  /** Session number of connection `index`: its own index, or that of the session it resumed. */
  sessionOfConn(index: number): number | undefined {
    return this.sessionOf.get(index);
  }

  private readonly tokenOf = new Map<number, EphemeralToken>();
  private pending: { endpoint: 'key' | 'token'; failure: { code: number; reason: string } | null; token: EphemeralToken | undefined } | null = null;

  protected decide(req: IncomingMessage, url: URL): UpgradeDecision {
    const m = PATH.exec(url.pathname);
    if (!m) {
      return {
        accept: false,
        status: 404,
        contentType: 'text/html; charset=UTF-8',
        body: '<!DOCTYPE html><title>Error 404 (Not Found)!!1</title><p>The requested URL was not found on this server.',
      };
    }
    const constrained = m[2] === 'BidiGenerateContentConstrained';
    let failure: { code: number; reason: string } | null = null;
    let token: EphemeralToken | undefined;
    if (constrained) {
      const t = url.searchParams.get('access_token') ?? '';
      token = this.opts.ephemeralTokens?.find((x) => x.name === t);
      if (!token || (token.expireAt !== undefined && Date.now() > token.expireAt)) {
        failure = { code: 1008, reason: REASONS.badToken };
        token = undefined;
      }
    } else if (this.opts.apiKey !== undefined) {
      const header = req.headers['x-goog-api-key'];
      const key = url.searchParams.get('key') ?? (typeof header === 'string' ? header : undefined);
      if (key !== this.opts.apiKey) failure = { code: 1007, reason: REASONS.badKey };
    }
    this.pending = { endpoint: constrained ? 'token' : 'key', failure, token };
    return { accept: true };
  }

  protected makeConnection(ws: WebSocket, socket: Duplex, index: number): GeminiConnection {
    const p = this.pending ?? { endpoint: 'key' as const, failure: null, token: undefined };
    this.pending = null;
    if (p.token) this.tokenOf.set(index, p.token);
    const c = new GeminiConnection(ws, socket, index, p.endpoint, p.failure, this);
    if (this.opts.pongDelayMs) c.setPongDelay(this.opts.pongDelayMs);
    return c;
  }
}
