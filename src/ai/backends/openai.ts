import type { AiBackend, BackendSignal, ConnectContext, ConnectionPlan, ContextEntry, Frame } from '../backend.js';
import { pcmToBase64 } from '../pcm.js';
import type { AiPortParam } from '../types.js';
import { handshakeHeaders, type AuthScheme } from './handshake.js';
import { translate, type DecodeContext } from './openai-decode.js';
import { parseFrame } from './message-fields.js';
import { EventIds, type GaClientEvent, type GaItem } from './openai-events.js';
import { DEFAULT_OPENAI_MODEL, modelWarning } from './openai-models.js';
import { betaSession, gaSession, sessionDialect, sessionMismatches, xaiSession, type Json } from './openai-session.js';

/** A dialect of the OpenAI Realtime protocol. */
export type OpenAiDialect = 'ga' | 'beta' | 'xai';

/** What differs between services that speak the OpenAI protocol (openai, azure, xai, compatible servers). */
export interface OpenAiFlavour {
  /** Backend name reported in events. */
  name: string;
  /** Model when the parameters name none. */
  defaultModel: string;
  /** Credential scheme when the parameters name none. */
  authScheme: AuthScheme;
  /** Rewrites the endpoint (model/deployment query); default: add `model=` when absent. */
  url?: (target: URL, model: string, dialect: OpenAiDialect | null) => void;
  /** The dialect an endpoint speaks when the parameters name none (Azure: the path decides). */
  dialectFor?: (target: URL) => OpenAiDialect;
  /** The endpoint's path picks the dialect even when the parameters name 'ga' or 'beta' (only 'auto' overrides it). */
  pathPicksDialect?: boolean;
  /** Whether to warn about OpenAI model deprecations (not for Azure deployments or other vendors). */
  checkModels: boolean;
}

/** The microphone message around its base64 audio (the same in every dialect). */
const APPEND_TEMPLATE = { prefix: '{"type":"input_audio_buffer.append","audio":"', suffix: '"}' } as const;

const OPENAI: OpenAiFlavour = { name: 'openai', defaultModel: DEFAULT_OPENAI_MODEL, authScheme: 'bearer', checkModels: true };

/** Client event ids of session.update messages remembered, to recognise errors about them. */
const SETUP_IDS_KEPT = 16;

/**
 * OpenAI Realtime (and services that speak it): PCM16 at 24 kHz both ways, JSON text frames. Speaks
 * the GA protocol by default, the beta dialect for compatible servers (speaches, the old Azure
 * endpoint), the xAI dialect (flat session fields, GA audio, no truncate); with dialect 'auto' the
 * shape of session.created decides. Every client event but the audio appends carries an `event_id`, so an `error` naming
 * a session.update's id is recognised as a refused configuration.
 */
export class OpenAiBackend implements AiBackend {
  readonly name: string;
  readonly inputRate = 24000;
  readonly outputRate = 24000;
  readonly serverCancelsOnSpeech: boolean;
  readonly serverTurnDetection: boolean;
  private resolved: OpenAiDialect | null;
  private requested: object | null = null;
  private ids = new EventIds();
  private readonly setupIds: string[] = [];
  private configured = false;
  private created = false;

  constructor(
    private param: AiPortParam,
    private readonly flavour: OpenAiFlavour = OPENAI,
  ) {
    this.name = flavour.name;
    const dialect = param.dialect ?? 'ga';
    this.resolved = dialect === 'auto' ? null : dialect;
    const td = param.turnDetection;
    this.serverTurnDetection = td !== null;
    this.serverCancelsOnSpeech = td !== null && (td?.interruptResponse ?? true);
  }

  get dialect(): string {
    return this.resolved ?? 'auto';
  }

  /** The model in use (the parameters', else the flavour's default). */
  get model(): string {
    return this.param.model || this.flavour.defaultModel;
  }

  prepareConnection(ctx: ConnectContext): ConnectionPlan {
    const token = ctx.token;
    const target = new URL(ctx.url);
    const pathDecides = this.param.dialect === undefined || (this.flavour.pathPicksDialect === true && this.param.dialect !== 'auto');
    if (pathDecides && this.flavour.dialectFor) this.resolved = this.flavour.dialectFor(target);
    if (this.flavour.url) this.flavour.url(target, this.model, this.resolved);
    else if (!target.searchParams.has('model') && !target.searchParams.has('call_id')) target.searchParams.set('model', this.model);
    const headers = handshakeHeaders(token, this.param.authScheme ?? this.flavour.authScheme, this.param.headers);
    if (this.resolved === 'beta') headers['OpenAI-Beta'] = 'realtime=v1';
    // A new connection: event ids and the configured flag start afresh.
    this.ids = new EventIds();
    this.setupIds.length = 0;
    this.configured = false;
    this.created = false;
    return { url: target.toString(), headers, protocols: [] };
  }

  onOpen(): Frame[] {
    return [];
  }

  sessionSetup(): Frame[] {
    const dialect = this.resolved ?? 'ga';
    const session = dialect === 'ga' ? gaSession(this.param) : dialect === 'xai' ? xaiSession(this.param) : betaSession(this.param);
    this.requested = session;
    const eventId = this.ids.id();
    this.setupIds.push(eventId);
    if (this.setupIds.length > SETUP_IDS_KEPT) this.setupIds.shift();
    return [JSON.stringify({ type: 'session.update', event_id: eventId, session })];
  }

  decode(frame: Frame): BackendSignal[] {
    const parsed = parseFrame(frame);
    if ('malformed' in parsed) return [{ kind: 'malformed', reason: parsed.malformed }];
    return [translate(parsed.type, parsed.m, this.decodeContext)];
  }

  private readonly decodeContext: DecodeContext = {
    isSessionUpdate: (eventId) => this.setupIds.includes(eventId),
    isConfigured: () => this.configured,
    sessionCreated: (session) => {
      if (this.created) return { kind: 'ignored' };
      this.created = true;
      if (this.resolved === null) this.resolved = sessionDialect(session);
      const id = typeof (session as Json | undefined)?.id === 'string' ? ((session as Json).id as string).slice(0, 200) : undefined;
      return { kind: 'session_created', ...(id ? { sessionId: id } : {}), dialect: this.resolved };
    },
    sessionUpdated: (session) => {
      this.configured = true;
      const id = typeof (session as Json | undefined)?.id === 'string' ? ((session as Json).id as string).slice(0, 200) : undefined;
      const mismatches = this.requested ? sessionMismatches(this.requested, session, this.resolved ?? 'ga') : [];
      return { kind: 'session_ready', mismatches, ...(id ? { sessionId: id } : {}) };
    },
    createdByConversation: () => this.resolved === 'xai' && !this.created,
  };

  reconfigure(param: AiPortParam): void {
    this.param = param;
  }

  startupWarnings(): string[] {
    if (!this.flavour.checkModels) return [];
    const out = [
      modelWarning(this.model, 'the model'),
      this.param.inputTranscription ? modelWarning(this.param.inputTranscription.model, 'the transcription model') : null,
    ];
    return out.filter((w): w is string => w !== null);
  }

  private event(e: GaClientEvent): string {
    return JSON.stringify({ ...e, event_id: this.ids.id() });
  }

  /** Appends carry no event_id (nothing is ever correlated with them), so every batch has the same frame around its audio. */
  readonly audioTemplate = APPEND_TEMPLATE;

  encodeAudio(pcm: Int16Array): Frame {
    return `${APPEND_TEMPLATE.prefix}${pcmToBase64(pcm)}${APPEND_TEMPLATE.suffix}`;
  }

  keepAlive(): Frame[] {
    return [];
  }

  truncate(itemId: string, audioEndMs: number): Frame[] {
    if (this.resolved === 'xai') return [];
    return [this.event({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: Math.max(0, Math.floor(audioEndMs)) })];
  }

  cancelResponse(): Frame[] {
    return [this.event({ type: 'response.cancel' })];
  }

  createResponse(): Frame[] {
    return [this.event({ type: 'response.create' })];
  }

  startTurn(): Frame[] {
    return [];
  }

  commitTurn(): { frames: Frame[]; requestResponse: boolean } {
    return { frames: [this.event({ type: 'input_audio_buffer.commit' })], requestResponse: true };
  }

  clearTurn(): Frame[] {
    return [this.event({ type: 'input_audio_buffer.clear' })];
  }

  userText(text: string): Frame[] {
    return [this.item({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] })];
  }

  toolResult(callId: string, _name: string, output: string): Frame[] {
    return [this.item({ type: 'function_call_output', call_id: callId, output })];
  }

  restoreContext(entries: readonly ContextEntry[]): Frame[] {
    return entries.flatMap((e): Frame[] => {
      if (e.kind === 'tool') {
        return [
          this.item({ type: 'function_call', call_id: e.callId, name: e.name, arguments: e.arguments }),
          this.item({ type: 'function_call_output', call_id: e.callId, output: e.output }),
        ];
      }
      if (e.role === 'user') return this.userText(e.text);
      if (this.resolved === 'beta')
        return [
          JSON.stringify({
            type: 'conversation.item.create',
            event_id: this.ids.id(),
            item: { type: 'message', role: 'assistant', content: [{ type: 'text', text: e.text }] },
          }),
        ];
      return [this.item({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: e.text }] })];
    });
  }

  private item(item: GaItem): string {
    return this.event({ type: 'conversation.item.create', item });
  }
}

/** Makes the OpenAI backend. */
export function createOpenAiBackend(param: AiPortParam): AiBackend {
  return new OpenAiBackend(param);
}
