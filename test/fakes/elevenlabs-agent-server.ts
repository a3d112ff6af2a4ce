/**
 * A protocol-faithful fake of the ElevenLabs Agents Platform WebSocket (shared/docs/protocols.md
 * section 4, checked against `@elevenlabs/client` 1.25.0 / `@elevenlabs/types` 0.23.0) on a real `ws`
 * server bound to 127.0.0.1.
 *
 * Enforced: the path `/v1/convai/conversation`, a known `agent_id`, for private agents a valid
 * unexpired `conversation_signature` (from {@link FakeElevenLabsAgentServer.signedUrl}) or a
 * `bearer.<token>` subprotocol, `conversation_initiation_client_data` as the first message (else close
 * 1008; none within `initiationTimeoutMs` closes too), overrides only where the agent allows them
 * (`error{override_error}` and close 1008), every `ping` answered with a `pong` of the same `event_id`
 * within `pongTimeoutMs` (else close), base64 `user_audio_chunk` in the announced input format.
 *
 * Scripting methods on the server act on the most recent connection; `conn(i)` reaches an older one.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  ElevenLabsConnection,
  type AgentResponseOptions,
  type AgentResponseResult,
  type AudioFormat,
  type ElevenLabsConnOptions,
  type ElevenLabsHost,
  type ToolResultRecord,
  type UserMessageHook,
} from './elevenlabs/connection.js';
import { BaseFakeServer, type JsonObject, type UpgradeDecision } from './vendor/kit.js';

export {
  ElevenLabsConnection,
  CLIENT_TYPES,
  formatRate,
  type AgentResponseOptions,
  type AgentResponseResult,
  type AudioFormat,
  type ToolResultRecord,
  type UserMessageHook,
} from './elevenlabs/connection.js';
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

/** Options of {@link FakeElevenLabsAgentServer.start}. */
export interface FakeElevenLabsAgentServerOptions {
  /** The agent id the fake serves (default `agent_test`); others close 1008. */
  agentId?: string;
  /** A private agent: requires a signed URL's `conversation_signature` or a bearer token (default false). */
  private?: boolean;
  /** Tokens accepted as subprotocol `bearer.<token>` for a private agent. */
  authorizationTokens?: string[];
  /** `user_input_audio_format` announced in the metadata (default `pcm_16000`). */
  inputFormat?: AudioFormat;
  /** `agent_output_audio_format` announced in the metadata (default `pcm_16000`). */
  outputFormat?: AudioFormat;
  /** Override paths the agent's security settings allow, e.g. `agent.prompt.prompt`, `tts` (default none). */
  allowedOverrides?: string[];
  /** The agent's `conversation.client_events`: only these event types are sent (default all). */
  clientEvents?: string[];
  /** Ping period, ms (default 3000; 0 = no pings). */
  pingIntervalMs?: number;
  /** A ping unanswered this long closes the socket, ms (default 10000; 0 = never). */
  pongTimeoutMs?: number;
  /** Close sent for a missed pong (default 1008 "Ping not answered with pong"). */
  pongClose?: { code: number; reason: string };
  /** No `conversation_initiation_client_data` this long after open closes 1008, ms (default 10000; 0 = never). */
  initiationTimeoutMs?: number;
  /** Largest client message in bytes (default 16 MiB); larger closes with 1009. */
  maxPayload?: number;
  /** TCP port, default an ephemeral one. */
  port?: number;
  /** Called on a client `user_message`; may call `conn.agentResponse(...)`. */
  onUserMessage?: UserMessageHook;
}

interface Signature {
  agentId: string;
  expiresAt: number;
  singleUse: boolean;
  used: boolean;
}

/** The fake server. Start with {@link FakeElevenLabsAgentServer.start}; always `close()` it. */
export class FakeElevenLabsAgentServer extends BaseFakeServer<ElevenLabsConnection> implements ElevenLabsHost {
  /** `ws://127.0.0.1:<port>/v1/convai/conversation` (no query). */
  readonly url: string;
  /** The agent id served. */
  readonly agentId: string;
  /** See {@link FakeElevenLabsAgentServerOptions.onUserMessage}; may be replaced at any time. */
  onUserMessage: UserMessageHook | undefined;
  private readonly signatures = new Map<string, Signature>();
  private pending: { failure: { code: number; reason: string } | null } | null = null;
  private convSeq = 0;

  private constructor(
    base: { server: Server; port: number },
    private readonly opts: FakeElevenLabsAgentServerOptions,
  ) {
    super('fake elevenlabs agent server', base.server, base.port, opts.maxPayload ?? 16 * 1024 * 1024);
    this.url = `ws://127.0.0.1:${base.port}/v1/convai/conversation`;
    this.agentId = opts.agentId ?? 'agent_test';
    this.onUserMessage = opts.onUserMessage;
  }

  /** Starts a server on 127.0.0.1. */
  static async start(options: FakeElevenLabsAgentServerOptions = {}): Promise<FakeElevenLabsAgentServer> {
    return new FakeElevenLabsAgentServer(await BaseFakeServer.listen(options.port), options);
  }

  /** The public-agent URL as the SDK builds it: `?agent_id=…` (add `&source=…&version=…` freely). */
  agentUrl(agentId = this.agentId): string {
    return `${this.url}?agent_id=${encodeURIComponent(agentId)}`;
  }

  /**
   * What `GET /v1/convai/conversation/get-signed-url` returns: a URL with a `conversation_signature`
   * valid for `ttlMs` (default 15 min) to start a conversation; `singleUse` (the
   * `include_conversation_id=true` behaviour) lets it start only one.
   */
  signedUrl(opts: { agentId?: string; ttlMs?: number; singleUse?: boolean } = {}): string {
    const agentId = opts.agentId ?? this.agentId;
    const sig = `cvtkn_${randomBytes(12).toString('hex')}`;
    this.signatures.set(sig, { agentId, expiresAt: Date.now() + (opts.ttlMs ?? 15 * 60_000), singleUse: opts.singleUse ?? false, used: false });
    return `${this.agentUrl(agentId)}&conversation_signature=${sig}`;
  }

  /** Every `client_tool_result`, all connections. */
  get toolResults(): ToolResultRecord[] {
    return this.conns.flatMap((c) => c.toolResults);
  }

  /** {@link ElevenLabsConnection.agentResponse} on the most recent connection. */
  agentResponse(o?: AgentResponseOptions): Promise<AgentResponseResult> {
    return this.conn().agentResponse(o);
  }
  /** {@link ElevenLabsConnection.interrupt} on the most recent connection. */
  interrupt(o?: { correction?: boolean | string }): { eventId: number; interruptedEventId: number | null } {
    return this.conn().interrupt(o);
  }
  /** {@link ElevenLabsConnection.userTranscript} on the most recent connection. */
  userTranscript(text: string, o?: { tentative?: boolean }): number {
    return this.conn().userTranscript(text, o);
  }
  /** {@link ElevenLabsConnection.clientToolCall} on the most recent connection. */
  clientToolCall(o: { name: string; parameters?: JsonObject; id?: string }): string {
    return this.conn().clientToolCall(o);
  }
  /** {@link ElevenLabsConnection.ping} on the most recent connection. */
  ping(): number {
    return this.conn().ping();
  }
  /** {@link ElevenLabsConnection.error} on the most recent connection. */
  error(o: { code: 1000 | 1002 | 1008 | 1011; errorType?: string; message?: string; close?: boolean }): void {
    this.conn().error(o);
  }
  /** {@link ElevenLabsConnection.maxDurationExceeded} on the most recent connection. */
  maxDurationExceeded(): void {
    this.conn().maxDurationExceeded();
  }
  /** {@link ElevenLabsConnection.endCall} on the most recent connection. */
  endCall(reason?: string): void {
    this.conn().endCall(reason);
  }
  /** {@link ElevenLabsConnection.sendOversize} on the most recent connection. */
  sendOversize(bytes: number): void {
    this.conn().sendOversize(bytes);
  }
  /** Closes the most recent connection with a code. */
  closeWith(code: number, reason = ''): void {
    this.conn().close(code, reason);
  }

  protected decide(_req: IncomingMessage, url: URL, protocols: string[]): UpgradeDecision {
    if (url.pathname !== '/v1/convai/conversation') {
      return { accept: false, status: 404, body: JSON.stringify({ detail: 'Not Found' }) };
    }
    const agentId = url.searchParams.get('agent_id');
    let failure: { code: number; reason: string } | null = null;
    if (agentId !== this.agentId) {
      failure = { code: 1008, reason: `Agent ${agentId ?? '(none)'} not found` };
    } else if (this.opts.private) {
      const sigName = url.searchParams.get('conversation_signature');
      const sig = sigName ? this.signatures.get(sigName) : undefined;
      const bearer = protocols.find((p) => p.startsWith('bearer.'))?.slice('bearer.'.length);
      const tokenOk = bearer !== undefined && (this.opts.authorizationTokens ?? []).includes(bearer);
      if (sig && sig.agentId === agentId && Date.now() <= sig.expiresAt && !(sig.singleUse && sig.used)) {
        sig.used = true;
      } else if (!tokenOk) {
        failure = { code: 1008, reason: sig ? 'Signed URL expired or already used' : 'Authentication required' };
      }
    }
    this.pending = { failure };
    return { accept: true, ...(protocols.includes('convai') ? { protocol: 'convai' } : {}) };
  }

  protected makeConnection(ws: WebSocket, socket: Duplex, index: number): ElevenLabsConnection {
    const failure = this.pending?.failure ?? null;
    this.pending = null;
    const o = this.opts;
    const connOpts: ElevenLabsConnOptions = {
      inputFormat: o.inputFormat ?? 'pcm_16000',
      outputFormat: o.outputFormat ?? 'pcm_16000',
      allowedOverrides: o.allowedOverrides ?? [],
      clientEvents: o.clientEvents ?? null,
      pingIntervalMs: o.pingIntervalMs ?? 3000,
      pongTimeoutMs: o.pongTimeoutMs ?? 10_000,
      initiationTimeoutMs: o.initiationTimeoutMs ?? 10_000,
      pongClose: o.pongClose ?? { code: 1008, reason: 'Ping not answered with pong' },
    };
    const convId = `conv_${(++this.convSeq).toString().padStart(4, '0')}${randomBytes(8).toString('hex')}`;
    return new ElevenLabsConnection(ws, socket, index, this.agentId, convId, connOpts, this, failure);
  }
}
