/**
 * Server messages of ElevenLabs Agents (protocols.md 4.4, `@elevenlabs/client` 1.25.0) translated into
 * the port's signals. Every message is hostile input: each field is checked and bounded, and anything
 * that does not fit is a 'malformed' signal (counted by the port), never an exception.
 *
 * The service has no reply items and no end-of-audio event. A reply is the run of `audio` (and its
 * `agent_response` text) between boundaries: an `interruption`, a final user transcript, the text of
 * a new agent turn (another `event_id`), or no audio for {@link REPLY_GAP_MS} (checked on the next
 * message, pings included). Each reply gets an item id and a response_created/response_done pair, so
 * the port's playout and response serialisation work as with any vendor. Audio whose `event_id` is at
 * or below the last interruption's belongs to the cut-off reply and is dropped (the Python SDK's rule;
 * the JS SDK's "play ≥ id" drops the same audio from the real service).
 */
import type { BackendSignal, Frame } from '../backend.js';
import { decodeChunk, parseFormat, type ElevenLabsFormat } from './elevenlabs-audio.js';
import { obj, parseFrame, str, type Json } from './message-fields.js';

/** A reply whose audio stopped arriving this long ago has ended, in ms. */
export const REPLY_GAP_MS = 500;
/** A reply with text but no audio yet (text-only agents, slow TTS) ends after this long, in ms. */
export const TEXT_ONLY_GAP_MS = 5000;
/** Longest text kept from a transcript or response. */
export const TEXT_LIMIT = 20000;
/** Longest JSON of tool parameters accepted. */
export const ARGUMENTS_LIMIT = 100000;
/** Longest text kept from an id, code or error message. */
const SHORT = 200;
const MESSAGE = 1000;
/** Event ids of replies remembered for corrections. */
const ITEMS_KEPT = 32;

/** Server messages that need nothing from the port. */
const IGNORED = new Set([
  'vad_score',
  'internal_tentative_agent_response',
  'agent_tool_request',
  'agent_tool_response',
  'agent_tool_response_full_payload',
  'mcp_tool_call',
  'mcp_connection_status',
  'context_usage',
  'asr_initiation_metadata',
  'guardrail_triggered',
  'agent_typing',
  'rich_content',
  'internal_turn_probability',
  'external_agent_connected',
  'external_agent_disconnected',
]);

/** An `event_id`: a non-negative integer (the Python SDK also takes its decimal string). */
function eventId(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^\d{1,15}$/.test(v)) return Number(v);
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** One reply of the agent, as the port sees it. */
interface Reply {
  itemId: string;
  /** `event_id` of its text (agent_response, parts), once seen. */
  textId?: number;
  /** `event_id` of its first audio, once seen. */
  audioId?: number;
  /** When its last audio (or, before any, its text) arrived. */
  lastAt: number;
}

/** What one connection's decoder learnt: the formats, once the metadata came. */
export interface SessionFormats {
  input: ElevenLabsFormat;
  output: ElevenLabsFormat;
}

/**
 * The decoder of one connection (make a new one per connection). `now` is injectable for tests.
 */
export class ElevenLabsDecoder {
  /** The formats announced by the metadata; null until then. */
  formats: SessionFormats | null = null;
  private lastInterrupt = -1;
  private reply: Reply | null = null;
  private replySeq = 0;
  private readonly byEventId = new Map<number, string>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Translates one frame. */
  decode(frame: Frame): BackendSignal[] {
    const out: BackendSignal[] = [];
    this.expire(out);
    const parsed = parseFrame(frame);
    if ('malformed' in parsed) return [...out, { kind: 'malformed', reason: parsed.malformed }];
    out.push(...this.translate(parsed.type, parsed.m, out));
    return out;
  }

  /** Ends the current reply when its audio (or text) stopped arriving. */
  private expire(out: BackendSignal[]): void {
    const r = this.reply;
    if (!r) return;
    const gap = r.audioId !== undefined ? REPLY_GAP_MS : TEXT_ONLY_GAP_MS;
    if (this.now() - r.lastAt >= gap) this.endReply(out, 'completed');
  }

  private endReply(out: BackendSignal[], status: 'completed' | 'cancelled'): void {
    const r = this.reply;
    if (!r) return;
    this.reply = null;
    if (status === 'completed' && r.audioId !== undefined) out.push({ kind: 'audio_done', itemId: r.itemId });
    out.push({ kind: 'response_done', responseId: r.itemId, status });
  }

  private startReply(out: BackendSignal[], id: number): Reply {
    const r: Reply = { itemId: `el_${id}_${++this.replySeq}`, lastAt: this.now() };
    this.reply = r;
    this.byEventId.set(id, r.itemId);
    if (this.byEventId.size > ITEMS_KEPT) this.byEventId.delete(this.byEventId.keys().next().value as number);
    out.push({ kind: 'response_created', responseId: r.itemId });
    return r;
  }

  /** The reply a text event of `id` belongs to (a new agent turn ends the previous reply). */
  private replyForText(out: BackendSignal[], id: number): Reply {
    const r = this.reply;
    if (r && (r.textId === id || (r.textId === undefined && (r.audioId === undefined || r.audioId === id)))) {
      r.textId = id;
      if (r.audioId === undefined) r.lastAt = this.now();
      this.byEventId.set(id, r.itemId);
      return r;
    }
    this.endReply(out, 'completed');
    const fresh = this.startReply(out, id);
    fresh.textId = id;
    return fresh;
  }

  private translate(type: string, m: Json, out: BackendSignal[]): BackendSignal[] {
    switch (type) {
      case 'conversation_initiation_metadata':
        return this.metadata(obj(m.conversation_initiation_metadata_event));
      case 'audio':
        return this.audio(obj(m.audio_event), out);
      case 'interruption': {
        const id = eventId(obj(m.interruption_event)?.event_id);
        if (id === undefined) return [{ kind: 'malformed', reason: 'interruption without an event_id' }];
        this.lastInterrupt = Math.max(this.lastInterrupt, id);
        const signals: BackendSignal[] = [{ kind: 'interrupted' }];
        this.endReply(signals, 'cancelled');
        return signals;
      }
      case 'agent_response': {
        const e = obj(m.agent_response_event);
        const id = eventId(e?.event_id);
        const text = str(e?.agent_response, TEXT_LIMIT);
        if (id === undefined || text === undefined) return [{ kind: 'malformed', reason: 'agent_response without text or event_id' }];
        if (id <= this.lastInterrupt) return [{ kind: 'ignored' }];
        const r = this.replyForText(out, id);
        return [{ kind: 'transcript', role: 'assistant', text, final: true, itemId: r.itemId }];
      }
      case 'agent_chat_response_part': {
        const e = obj(m.text_response_part);
        const id = eventId(e?.event_id);
        const text = str(e?.text, TEXT_LIMIT);
        if (id === undefined || text === undefined) return [{ kind: 'malformed', reason: 'agent_chat_response_part without text or event_id' }];
        if (e?.type !== 'delta' || id <= this.lastInterrupt) return [{ kind: 'ignored' }];
        const r = this.replyForText(out, id);
        return [{ kind: 'transcript', role: 'assistant', text, final: false, itemId: r.itemId }];
      }
      case 'agent_response_correction': {
        const e = obj(m.agent_response_correction_event);
        const text = str(e?.corrected_agent_response, TEXT_LIMIT);
        if (text === undefined) return [{ kind: 'malformed', reason: 'agent_response_correction without corrected_agent_response' }];
        const id = eventId(e?.event_id);
        const itemId = id === undefined ? undefined : this.byEventId.get(id);
        return [{ kind: 'transcript_correction', text, ...(itemId ? { itemId } : {}) }];
      }
      case 'user_transcript':
      case 'tentative_user_transcript': {
        const final = type === 'user_transcript';
        const e = obj(final ? m.user_transcription_event : m.tentative_user_transcription_event);
        const text = str(e?.user_transcript, TEXT_LIMIT);
        if (text === undefined) return [{ kind: 'malformed', reason: `${type} without user_transcript` }];
        const signals: BackendSignal[] = [];
        if (final) this.endReply(signals, 'completed');
        signals.push({ kind: 'transcript', role: 'user', text, final });
        return signals;
      }
      case 'client_tool_call':
        return [this.toolCall(obj(m.client_tool_call))];
      case 'ping': {
        const id = eventId(obj(m.ping_event)?.event_id);
        if (id === undefined) return [{ kind: 'malformed', reason: 'ping without an event_id' }];
        return [{ kind: 'reply', frames: [JSON.stringify({ type: 'pong', event_id: id })] }];
      }
      case 'error':
        return [this.error(obj(m.error_event))];
      default:
        return IGNORED.has(type) ? [{ kind: 'ignored' }] : [{ kind: 'unknown', type: type.slice(0, 100) }];
    }
  }

  private metadata(e: Json | undefined): BackendSignal[] {
    if (!e) return [{ kind: 'malformed', reason: 'conversation_initiation_metadata without its event' }];
    if (this.formats) return [{ kind: 'ignored' }];
    const outName = str(e.agent_output_audio_format, SHORT);
    // The SDK takes pcm_16000 when the input format is absent (the service's documented default).
    const inName = e.user_input_audio_format === undefined ? 'pcm_16000' : str(e.user_input_audio_format, SHORT);
    if (outName === undefined || inName === undefined) return [{ kind: 'malformed', reason: 'conversation_initiation_metadata without audio formats' }];
    const output = parseFormat(outName);
    const input = parseFormat(inName);
    if (!output || !input) {
      const [param, name] = !output ? ['agent_output_audio_format', outName] : ['user_input_audio_format', inName];
      return [
        {
          kind: 'config_rejected',
          param,
          code: 'unsupported_audio_format',
          message: `the agent uses audio format '${name}', which speakerd cannot ${param.startsWith('agent') ? 'play' : 'send'}: set the agent's ${param.startsWith('agent') ? 'TTS output' : 'ASR input'} format to pcm_8000…pcm_48000 or ulaw_8000`,
        },
      ];
    }
    this.formats = { input, output };
    const conversationId = str(e.conversation_id, SHORT);
    return [
      { kind: 'rates', inputRate: input.rate, outputRate: output.rate },
      { kind: 'session_ready', mismatches: [], ...(conversationId ? { sessionId: conversationId } : {}) },
    ];
  }

  private audio(e: Json | undefined, out: BackendSignal[]): BackendSignal[] {
    const id = eventId(e?.event_id);
    const b64 = e?.audio_base_64;
    if (id === undefined || typeof b64 !== 'string') return [{ kind: 'malformed', reason: 'audio without audio_base_64 or event_id' }];
    if (!BASE64.test(b64)) return [{ kind: 'malformed', reason: 'audio that is not base64' }];
    if (!this.formats) return [{ kind: 'malformed', reason: 'audio before the metadata announced its format' }];
    // Audio of a reply the user cut off: never played.
    if (id <= this.lastInterrupt) return [{ kind: 'ignored' }];
    const r = this.reply ?? this.startReply(out, id);
    r.audioId ??= id;
    r.lastAt = this.now();
    return [{ kind: 'audio', itemId: r.itemId, responseId: r.itemId, pcm: decodeChunk(b64, this.formats.output) }];
  }

  private toolCall(e: Json | undefined): BackendSignal {
    const name = str(e?.tool_name, SHORT + 1);
    const callId = str(e?.tool_call_id, SHORT + 1);
    if (!name || !callId || name.length > SHORT || callId.length > SHORT)
      return { kind: 'malformed', reason: 'client_tool_call without a usable tool_name or tool_call_id' };
    const params = e?.parameters === undefined || e.parameters === null ? {} : obj(e.parameters);
    if (!params) return { kind: 'malformed', reason: 'client_tool_call parameters are not an object' };
    const args = JSON.stringify(params);
    if (args.length > ARGUMENTS_LIMIT) return { kind: 'malformed', reason: 'client_tool_call parameters are too large' };
    return { kind: 'tool_call', callId, name, arguments: args };
  }

  private error(e: Json | undefined): BackendSignal {
    if (!e) return { kind: 'malformed', reason: 'error without error_event' };
    const type = str(e.error_type, SHORT);
    const numeric = typeof e.code === 'number' && Number.isInteger(e.code) ? e.code : undefined;
    const code = type ?? (numeric !== undefined ? String(numeric) : 'unknown');
    const message = str(e.message, MESSAGE) ?? str(e.reason, MESSAGE) ?? `error from the service (${code})`;
    if (type === 'override_error' || type === 'missing_dynamic_variable') {
      return { kind: 'config_rejected', code, message, param: type === 'override_error' ? 'conversation_config_override' : 'dynamic_variables' };
    }
    // The agent's max_duration_seconds: the conversation ends; a new one starts at once.
    if (type === 'max_duration_exceeded') return { kind: 'error', code, message, fatal: false, sessionExpired: true };
    // Errors are followed by a close; the port reconnects on its backoff (none is known to be permanent).
    return { kind: 'error', code, message, fatal: false, sessionExpired: false };
  }
}
