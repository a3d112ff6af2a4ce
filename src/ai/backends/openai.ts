import type { AiBackend, BackendSignal, ConnectionPlan } from '../backend.js';
import { base64ToPcm, pcmToBase64 } from '../pcm.js';
import type { AiPortParam } from '../types.js';
import { betaSession, gaSession, sessionDialect, sessionMismatches, type Json } from './openai-session.js';

/** Error codes after which retrying soon cannot help (a key, account or protocol problem). */
const FATAL_CODES = new Set(['invalid_api_key', 'insufficient_quota', 'account_deactivated', 'model_not_found', 'beta_api_shape_disabled']);

/** Server events that need nothing from the port. */
const IGNORED = new Set([
  'conversation.created',
  'conversation.item.added',
  'conversation.item.created',
  'conversation.item.done',
  'conversation.item.retrieved',
  'conversation.item.truncated',
  'conversation.item.deleted',
  'conversation.item.input_audio_transcription.segment',
  'conversation.item.input_audio_transcription.failed',
  'input_audio_buffer.committed',
  'input_audio_buffer.cleared',
  'input_audio_buffer.timeout_triggered',
  'rate_limits.updated',
  'response.output_item.added',
  'response.output_item.done',
  'response.content_part.added',
  'response.content_part.done',
  'response.function_call_arguments.delta',
  'transcription_session.updated',
]);

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * OpenAI Realtime (and compatible servers): PCM16 at 24 kHz both ways, JSON text frames. Speaks the
 * GA protocol by default and the beta dialect for compatible servers (speaches, old Azure
 * endpoints); with dialect 'auto' the shape of session.created decides.
 */
export class OpenAiBackend implements AiBackend {
  readonly name = 'openai';
  readonly inputRate = 24000;
  readonly outputRate = 24000;
  readonly serverCancelsOnSpeech: boolean;
  readonly serverTurnDetection: boolean;
  private resolved: 'ga' | 'beta' | null;
  private requested: Json | null = null;

  constructor(private param: AiPortParam) {
    const dialect = param.dialect ?? 'ga';
    this.resolved = dialect === 'auto' ? null : dialect;
    const td = param.turnDetection;
    this.serverTurnDetection = td !== null;
    this.serverCancelsOnSpeech = td !== null && (td?.interruptResponse ?? true);
  }

  get dialect(): string {
    return this.resolved ?? 'auto';
  }

  prepareConnection(url: string, token: string | null): ConnectionPlan {
    const target = new URL(url);
    if (!target.searchParams.has('model') && !target.searchParams.has('call_id')) {
      target.searchParams.set('model', this.param.model ?? 'gpt-realtime');
    }
    const headers: Record<string, string> = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (this.resolved === 'beta') headers['OpenAI-Beta'] = 'realtime=v1';
    return { url: target.toString(), headers, protocols: [] };
  }

  onOpen(): string[] {
    return [];
  }

  sessionSetup(): string[] {
    const dialect = this.resolved ?? 'ga';
    this.requested = dialect === 'ga' ? gaSession(this.param) : betaSession(this.param);
    return [JSON.stringify({ type: 'session.update', session: this.requested })];
  }

  decode(text: string): BackendSignal[] {
    let message: Json;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return [{ kind: 'malformed', reason: 'not a JSON object' }];
      message = parsed as Json;
    } catch {
      return [{ kind: 'malformed', reason: 'invalid JSON' }];
    }
    const type = str(message.type);
    if (type === undefined) return [{ kind: 'malformed', reason: 'no type' }];
    return [this.translate(type, message)];
  }

  private translate(type: string, m: Json): BackendSignal {
    const itemId = str(m.item_id);
    switch (type) {
      case 'response.output_audio.delta':
      case 'response.audio.delta':
        if (itemId === undefined || typeof m.delta !== 'string') return { kind: 'malformed', reason: `${type} without item_id or delta` };
        return { kind: 'audio', itemId, responseId: str(m.response_id), pcm: base64ToPcm(m.delta) };
      case 'response.output_audio.done':
      case 'response.audio.done':
        return itemId === undefined ? { kind: 'malformed', reason: `${type} without item_id` } : { kind: 'audio_done', itemId };
      case 'response.output_audio_transcript.delta':
      case 'response.audio_transcript.delta':
      case 'response.output_text.delta':
      case 'response.text.delta':
        return { kind: 'transcript', role: 'assistant', text: str(m.delta) ?? '', final: false, itemId };
      case 'response.output_audio_transcript.done':
      case 'response.audio_transcript.done':
        return { kind: 'transcript', role: 'assistant', text: str(m.transcript) ?? '', final: true, itemId };
      case 'response.output_text.done':
      case 'response.text.done':
        return { kind: 'transcript', role: 'assistant', text: str(m.text) ?? '', final: true, itemId };
      case 'conversation.item.input_audio_transcription.delta':
        return { kind: 'transcript', role: 'user', text: str(m.delta) ?? '', final: false, itemId };
      case 'conversation.item.input_audio_transcription.completed':
        return { kind: 'transcript', role: 'user', text: str(m.transcript) ?? '', final: true, itemId };
      case 'input_audio_buffer.speech_started':
        return { kind: 'speech_started', itemId };
      case 'input_audio_buffer.speech_stopped':
        return { kind: 'speech_stopped', itemId };
      case 'response.created':
        return { kind: 'response_created', responseId: str((m.response as Json | undefined)?.id) ?? '' };
      case 'response.done': {
        const response = (m.response ?? {}) as Json;
        const details = (response.status_details ?? {}) as Json;
        return { kind: 'response_done', responseId: str(response.id) ?? '', status: str(response.status) ?? 'unknown', reason: str(details.reason) };
      }
      case 'response.function_call_arguments.done':
        return { kind: 'tool_call', callId: str(m.call_id) ?? '', name: str(m.name) ?? '', arguments: str(m.arguments) ?? '' };
      case 'session.created':
        return this.sessionCreated(m);
      case 'session.updated':
        return { kind: 'session_ready', mismatches: this.requested ? sessionMismatches(this.requested, m.session, this.resolved ?? 'ga') : [] };
      case 'error':
        return this.error(m);
      default:
        return IGNORED.has(type) ? { kind: 'ignored' } : { kind: 'unknown', type };
    }
  }

  private sessionCreated(m: Json): BackendSignal {
    const session = m.session as Json | undefined;
    if (this.resolved === null) this.resolved = sessionDialect(session);
    return { kind: 'session_created', sessionId: str(session?.id), dialect: this.resolved };
  }

  private error(m: Json): BackendSignal {
    const e = (m.error ?? {}) as Json;
    const code = str(e.code) ?? str(e.type) ?? 'unknown';
    return {
      kind: 'error',
      code,
      message: str(e.message) ?? 'error from the service',
      fatal: FATAL_CODES.has(code),
      sessionExpired: code === 'session_expired',
    };
  }

  reconfigure(param: AiPortParam): void {
    this.param = param;
  }

  encodeAudio(pcm: Int16Array): string {
    return `{"type":"input_audio_buffer.append","audio":"${pcmToBase64(pcm)}"}`;
  }

  truncate(itemId: string, audioEndMs: number): string[] {
    return [JSON.stringify({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: Math.max(0, Math.floor(audioEndMs)) })];
  }

  cancelResponse(): string[] {
    return ['{"type":"response.cancel"}'];
  }

  createResponse(): string[] {
    return ['{"type":"response.create"}'];
  }

  userText(text: string): string[] {
    return [JSON.stringify({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } })];
  }

  toolResult(callId: string, output: string): string[] {
    return [JSON.stringify({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output } })];
  }

  contextTurn(role: 'user' | 'assistant', text: string): string[] {
    const part = role === 'user' ? { type: 'input_text', text } : { type: this.resolved === 'beta' ? 'text' : 'output_text', text };
    return [JSON.stringify({ type: 'conversation.item.create', item: { type: 'message', role, content: [part] } })];
  }
}

/** Makes the OpenAI backend. */
export function createOpenAiBackend(param: AiPortParam): AiBackend {
  return new OpenAiBackend(param);
}
