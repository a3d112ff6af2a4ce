/**
 * A protocol-faithful fake of the Deepgram Voice Agent API V1 (`/v1/agent/converse`,
 * shared/docs/protocols.md section 5, checked against `@deepgram/sdk` 5.13.0) on a real `ws` server
 * bound to 127.0.0.1.
 *
 * Enforced: the path, the key (`Authorization: Token <key>` / `Bearer <jwt>`, or the subprotocol pair
 * `token, <key>` / `bearer, <jwt>` that browsers send; else HTTP 401), `Welcome` then `Settings` as
 * the first and only Settings (`NON_SETTINGS_MESSAGE_BEFORE_SETTINGS`, `SETTINGS_ALREADY_APPLIED`,
 * `INVALID_SETTINGS`, `UNPARSABLE_CLIENT_MESSAGE`), audio only after `SettingsApplied`, the idle timer
 * (`CLIENT_MESSAGE_TIMEOUT` without audio or a message such as `KeepAlive`), the 2-hour session cap.
 * Every `Error` is fatal: the socket closes right after it; `Warning` is not.
 *
 * Scripting methods on the server act on the most recent connection; `conn(i)` reaches an older one.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  DeepgramConnection,
  type DeepgramHost,
  type FunctionResponseRecord,
  type FunctionSpec,
  type InjectUserMessageHook,
  type ReplyOutcome,
  type SendReplyOptions,
} from './deepgram/connection.js';
import { BaseFakeServer, type UpgradeDecision } from './vendor/kit.js';

export {
  DeepgramConnection,
  CLIENT_TYPES,
  CONTAINERS,
  DESCRIPTIONS,
  INPUT_ENCODINGS,
  OUTPUT_ENCODINGS,
  type AudioSpec,
  type FunctionResponseRecord,
  type FunctionSpec,
  type InjectUserMessageHook,
  type ReplyOutcome,
  type SendReplyOptions,
} from './deepgram/connection.js';
export {
  tone,
  pcmToBytes,
  bytesToPcm,
  concatPcm,
  type Json,
  type JsonObject,
  type HandshakeRecord,
  type ReceivedMessage,
  type WaitForOptions,
} from './vendor/kit.js';

/** Options of {@link FakeDeepgramAgentServer.start}. */
export interface FakeDeepgramAgentServerOptions {
  /** When set, require this API key (`Authorization: Token …` or subprotocols `token`, key); else HTTP 401. */
  apiKey?: string;
  /** Short-lived tokens accepted as `Authorization: Bearer …` or subprotocols `bearer`, token. */
  accessTokens?: string[];
  /** No binary audio and no text message for this long → `Error CLIENT_MESSAGE_TIMEOUT` + close (default 10000; 0 = never). */
  clientMessageTimeoutMs?: number;
  /** Session cap, ms (default 7200000 = 2 h; 0 = none). */
  maxSessionMs?: number;
  /** `Error` sent at the cap (default code `SESSION_DURATION_EXCEEDED`: a placeholder, the real code is unverified). */
  sessionCapError?: { code: string; description: string };
  /** Close code after a fatal `Error` (default none: a close frame without status, which clients report as 1005). */
  errorCloseCode?: number;
  /** Largest client message in bytes (default ws's 100 MiB); larger closes with 1009. */
  maxPayload?: number;
  /** TCP port, default an ephemeral one. */
  port?: number;
  /** Called on `InjectUserMessage`; may call `conn.sendReply(...)`. */
  onInjectUserMessage?: InjectUserMessageHook;
}

/** The fake server. Start with {@link FakeDeepgramAgentServer.start}; always `close()` it. */
export class FakeDeepgramAgentServer extends BaseFakeServer<DeepgramConnection> implements DeepgramHost {
  /** `ws://127.0.0.1:<port>/v1/agent/converse`. */
  readonly url: string;
  /** See {@link FakeDeepgramAgentServerOptions.onInjectUserMessage}; may be replaced at any time. */
  onInjectUserMessage: InjectUserMessageHook | undefined;
  readonly options: DeepgramHost['options'];

  private constructor(
    base: { server: Server; port: number },
    private readonly opts: FakeDeepgramAgentServerOptions,
  ) {
    super('fake deepgram agent server', base.server, base.port, opts.maxPayload);
    this.url = `ws://127.0.0.1:${base.port}/v1/agent/converse`;
    this.onInjectUserMessage = opts.onInjectUserMessage;
    this.options = {
      clientMessageTimeoutMs: opts.clientMessageTimeoutMs ?? 10_000,
      maxSessionMs: opts.maxSessionMs ?? 7_200_000,
      sessionCapError: opts.sessionCapError ?? { code: 'SESSION_DURATION_EXCEEDED', description: 'The session reached its maximum duration.' },
      errorCloseCode: opts.errorCloseCode,
    };
  }

  /** Starts a server on 127.0.0.1. */
  static async start(options: FakeDeepgramAgentServerOptions = {}): Promise<FakeDeepgramAgentServer> {
    return new FakeDeepgramAgentServer(await BaseFakeServer.listen(options.port), options);
  }

  /** Every client `FunctionCallResponse`, all connections. */
  get functionResponses(): FunctionResponseRecord[] {
    return this.conns.flatMap((c) => c.functionResponses);
  }

  /** {@link DeepgramConnection.sendReply} on the most recent connection. */
  sendReply(o?: SendReplyOptions): Promise<ReplyOutcome> {
    return this.conn().sendReply(o);
  }
  /** {@link DeepgramConnection.finishReply} on the most recent connection. */
  finishReply(): boolean {
    return this.conn().finishReply();
  }
  /** {@link DeepgramConnection.userStartedSpeaking} on the most recent connection. */
  userStartedSpeaking(): { cutReply: boolean } {
    return this.conn().userStartedSpeaking();
  }
  /** {@link DeepgramConnection.conversationText} on the most recent connection. */
  conversationText(role: 'user' | 'assistant', content: string): void {
    this.conn().conversationText(role, content);
  }
  /** {@link DeepgramConnection.functionCallRequest} on the most recent connection. */
  functionCallRequest(fns: FunctionSpec[]): string[] {
    return this.conn().functionCallRequest(fns);
  }
  /** {@link DeepgramConnection.functionCallCancelled} on the most recent connection. */
  functionCallCancelled(ids: string[]): void {
    this.conn().functionCallCancelled(ids);
  }
  /** {@link DeepgramConnection.error} on the most recent connection. */
  error(code: string, description?: string, opts?: { close?: boolean }): void {
    this.conn().error(code, description, opts);
  }
  /** {@link DeepgramConnection.warning} on the most recent connection. */
  warning(code: string, description: string): void {
    this.conn().warning(code, description);
  }
  /** {@link DeepgramConnection.sendOversize} on the most recent connection. */
  sendOversize(bytes: number): void {
    this.conn().sendOversize(bytes);
  }
  /** Closes the most recent connection (no code: a close frame without status). */
  closeWith(code?: number, reason?: string): void {
    this.conn().close(code, reason);
  }

  protected decide(req: IncomingMessage, url: URL, protocols: string[]): UpgradeDecision {
    if (url.pathname !== '/v1/agent/converse') {
      return { accept: false, status: 404, body: JSON.stringify({ err_code: 'NOT_FOUND', err_msg: 'Not Found', request_id: randomUUID() }) };
    }
    const auth = req.headers.authorization ?? '';
    const header = /^(Token|Bearer)\s+(.+)$/i.exec(auth.trim());
    const scheme =
      header?.[1]?.toLowerCase() ??
      (protocols[0]?.toLowerCase() === 'token' || protocols[0]?.toLowerCase() === 'bearer' ? protocols[0].toLowerCase() : undefined);
    const secret = header?.[2] ?? (scheme && !header ? protocols[1] : undefined);
    const protocol = !header && scheme ? protocols[0] : undefined;
    if (this.opts.apiKey !== undefined || this.opts.accessTokens !== undefined) {
      const ok =
        (scheme === 'token' && secret === this.opts.apiKey && secret !== undefined) ||
        (scheme === 'bearer' && secret !== undefined && (this.opts.accessTokens ?? []).includes(secret));
      if (!ok) {
        return { accept: false, status: 401, body: JSON.stringify({ err_code: 'INVALID_AUTH', err_msg: 'Invalid credentials.', request_id: randomUUID() }) };
      }
    }
    return { accept: true, ...(protocol ? { protocol } : {}) };
  }

  protected makeConnection(ws: WebSocket, socket: Duplex, index: number): DeepgramConnection {
    return new DeepgramConnection(ws, socket, index, this);
  }
}
