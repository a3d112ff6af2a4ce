/**
 * Server events of the OpenAI Realtime protocol (GA, beta and xAI names) translated into the port's
 * signals. Every message is hostile input: shapes are checked field by field and anything that does
 * not fit is a 'malformed' signal (counted by the port), never an exception.
 */
import type { BackendSignal } from '../backend.js';
import { base64ToPcm } from '../pcm.js';
import { obj, str as field, type Json } from './message-fields.js';

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
  'ping',
]);

/** Longest text kept from a vendor field (messages, codes, params). */
const TEXT_LIMIT = 1000;

/** What the decoder needs from the backend. */
export interface DecodeContext {
  /** Whether this client event id was a session.update. */
  isSessionUpdate(eventId: string): boolean;
  /** Whether the session has been configured once on this connection. */
  isConfigured(): boolean;
  /** session.created (or xAI conversation.created): settles the dialect and answers the signal. */
  sessionCreated(session: unknown): BackendSignal;
  /** session.updated: compares with what was asked. */
  sessionUpdated(session: unknown): BackendSignal;
  /** Whether the first event of a session is conversation.created (xAI). */
  createdByConversation(): boolean;
}

function str(v: unknown, limit = TEXT_LIMIT): string | undefined {
  return field(v, limit);
}

function audio(type: string, m: Json): BackendSignal {
  const itemId = str(m.item_id, 200);
  if (itemId === undefined || typeof m.delta !== 'string') return { kind: 'malformed', reason: `${type} without item_id or delta` };
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(m.delta)) return { kind: 'malformed', reason: `${type} with a delta that is not base64` };
  return { kind: 'audio', itemId, responseId: str(m.response_id, 200), pcm: base64ToPcm(m.delta) };
}

function text(v: unknown): string | null {
  return typeof v === 'string' ? v : v === undefined ? '' : null;
}

function transcript(type: string, m: Json, role: 'user' | 'assistant', field: string, final: boolean): BackendSignal {
  const t = text(m[field]);
  if (t === null) return { kind: 'malformed', reason: `${type}.${field} is not a string` };
  const itemId = str(m.item_id, 200);
  return { kind: 'transcript', role, text: t, final, ...(itemId ? { itemId } : {}) };
}

function responseDone(m: Json): BackendSignal {
  const response = obj(m.response);
  if (!response) return { kind: 'malformed', reason: 'response.done without response' };
  const details = obj(response.status_details);
  const error = obj(details?.error);
  const reason = str(details?.reason, 200);
  return {
    kind: 'response_done',
    responseId: str(response.id, 200) ?? '',
    status: str(response.status, 50) ?? 'unknown',
    ...(reason ? { reason } : {}),
    ...(error ? { error: { code: str(error.code, 200) ?? str(error.type, 200) ?? 'unknown', message: str(error.message) ?? '' } } : {}),
  };
}

function transcriptionFailed(m: Json): BackendSignal {
  const e = obj(m.error) ?? {};
  const itemId = str(m.item_id, 200);
  return {
    kind: 'transcription_failed',
    ...(itemId ? { itemId } : {}),
    code: str(e.code, 200) ?? str(e.type, 200) ?? 'unknown',
    message: str(e.message) ?? 'the transcription of the user turn failed',
  };
}

function error(m: Json, ctx: DecodeContext): BackendSignal {
  const e = obj(m.error);
  if (!e) return { kind: 'malformed', reason: 'error without an error object' };
  const code = str(e.code, 200) ?? str(e.type, 200) ?? 'unknown';
  const message = str(e.message) ?? 'error from the service';
  const param = str(e.param, 200);
  const eventId = str(e.event_id, 200);
  // error.event_id is often null even when the client set one (protocols.md 1.9): an error naming a
  // session parameter before the session was ever configured is the setup's too.
  const ofSetup = eventId !== undefined ? ctx.isSessionUpdate(eventId) : !ctx.isConfigured() && param?.startsWith('session') === true;
  if (ofSetup && code !== 'session_expired' && !FATAL_CODES.has(code)) {
    return { kind: 'config_rejected', code, message, ...(param ? { param } : {}) };
  }
  return { kind: 'error', code, message, ...(param ? { param } : {}), fatal: FATAL_CODES.has(code), sessionExpired: code === 'session_expired' };
}

/** Translates one parsed server event. */
export function translate(type: string, m: Json, ctx: DecodeContext): BackendSignal {
  switch (type) {
    case 'response.output_audio.delta':
    case 'response.audio.delta':
      return audio(type, m);
    case 'response.output_audio.done':
    case 'response.audio.done': {
      const itemId = str(m.item_id, 200);
      return itemId === undefined ? { kind: 'malformed', reason: `${type} without item_id` } : { kind: 'audio_done', itemId };
    }
    case 'response.output_audio_transcript.delta':
    case 'response.audio_transcript.delta':
    case 'response.output_text.delta':
    case 'response.text.delta':
      return transcript(type, m, 'assistant', 'delta', false);
    case 'response.output_audio_transcript.done':
    case 'response.audio_transcript.done':
      return transcript(type, m, 'assistant', 'transcript', true);
    case 'response.output_text.done':
    case 'response.text.done':
      return transcript(type, m, 'assistant', 'text', true);
    case 'conversation.item.input_audio_transcription.delta':
      return transcript(type, m, 'user', 'delta', false);
    case 'conversation.item.input_audio_transcription.completed':
      return transcript(type, m, 'user', 'transcript', true);
    case 'conversation.item.input_audio_transcription.failed':
      return transcriptionFailed(m);
    case 'input_audio_buffer.speech_started':
    case 'input_audio_buffer.speech_stopped': {
      const itemId = str(m.item_id, 200);
      return { kind: type.endsWith('started') ? 'speech_started' : 'speech_stopped', ...(itemId ? { itemId } : {}) };
    }
    case 'response.created':
      return { kind: 'response_created', responseId: str(obj(m.response)?.id, 200) ?? '' };
    case 'response.done':
      return responseDone(m);
    case 'response.function_call_arguments.done': {
      const callId = str(m.call_id, 200);
      const name = str(m.name, 200);
      if (!callId || !name) return { kind: 'malformed', reason: 'function call without call_id or name' };
      return { kind: 'tool_call', callId, name, arguments: typeof m.arguments === 'string' ? m.arguments.slice(0, 100000) : '' };
    }
    case 'session.created':
      return ctx.sessionCreated(m.session);
    case 'conversation.created':
      return ctx.createdByConversation() ? ctx.sessionCreated(undefined) : { kind: 'ignored' };
    case 'session.updated':
      return ctx.sessionUpdated(m.session);
    case 'error':
      return error(m, ctx);
    default:
      return IGNORED.has(type) ? { kind: 'ignored' } : { kind: 'unknown', type: type.slice(0, 100) };
  }
}
