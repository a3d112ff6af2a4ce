/**
 * Server messages of the Deepgram Voice Agent API V1 (JSON text frames, binary PCM) translated into
 * the port's signals. Every frame is hostile input: shapes are checked field by field, text is cut to
 * a bound, and anything that does not fit is a 'malformed' signal (counted by the port), never an
 * exception. The service has no item ids: each reply (from `AgentStartedSpeaking`, or its first audio)
 * gets one, and audio after a `UserStartedSpeaking` belongs to the reply that was cut off until the
 * next one starts, so the port drops it.
 */
import type { BackendSignal, Frame } from '../backend.js';
import { bytesToPcm } from '../pcm.js';
import { obj, str as field, type Json } from './message-fields.js';

/** Longest text kept from a vendor field (descriptions, transcripts are longer: TRANSCRIPT_LIMIT). */
const TEXT_LIMIT = 1000;
const TRANSCRIPT_LIMIT = 20000;
const ID_LIMIT = 200;
/** Largest binary audio frame taken (10 s at 24 kHz); larger is malformed. */
const MAX_AUDIO_BYTES = 480000;
/** Largest text frame parsed. */
const MAX_TEXT_BYTES = 1024 * 1024;
/** Function calls taken from one request. */
const MAX_CALLS = 32;

/** Error codes after which retrying soon cannot help: a client or protocol problem the same client repeats. */
const FATAL_CODES = new Set(['UNPARSABLE_CLIENT_MESSAGE', 'NON_SETTINGS_MESSAGE_BEFORE_SETTINGS', 'SETTINGS_ALREADY_APPLIED', 'USER_AUDIO_FORMAT']);
/** Error codes that refuse the configuration in `Settings`. */
const CONFIG_CODES = new Set(['INVALID_SETTINGS']);
/**
 * The session reached the 2-hour cap (Deepgram changelog 2026-07-31). The exact code is not in the
 * SDK; any code naming the session's duration or length counts.
 */
const SESSION_CAP = /SESSION.*(DURATION|LENGTH|LIMIT|EXPIRED|TIME)|MAX.*SESSION/;

/** Server messages that need nothing from the port. */
const IGNORED = new Set([
  'AgentThinking',
  'History',
  'LatencyReport',
  'PromptUpdated',
  'SpeakUpdated',
  'ThinkUpdated',
  'ListenUpdated',
  'InjectionRefused',
  'FunctionCallResponse',
]);

function str(v: unknown, limit = TEXT_LIMIT): string | undefined {
  return field(v, limit);
}

/**
 * The replies of one connection: which item the audio and the assistant's text belong to. The port's
 * policy (playback, barge-in, response serialisation) acts on the signals this produces.
 */
export class DeepgramReplies {
  private seq = 0;
  /** The reply whose audio is arriving; `cut` once the user talked over it. */
  private current: { id: string; cut: boolean } | null = null;
  /** The reply whose audio was all sent (it may still be playing). */
  private last: string | null = null;
  /** An id handed to assistant text that came before its reply started. */
  private upcoming: string | null = null;
  /** Half a sample left over from the previous binary frame. */
  private carry: number | null = null;

  constructor(private readonly prefix: string) {}

  private nextId(): string {
    return `${this.prefix}_${++this.seq}`;
  }

  /** A reply starts (`AgentStartedSpeaking`, or audio with no reply open). */
  start(): BackendSignal[] {
    if (this.current && !this.current.cut) return [];
    const id = this.upcoming ?? this.nextId();
    this.upcoming = null;
    this.current = { id, cut: false };
    this.carry = null;
    return [{ kind: 'response_created', responseId: id }];
  }

  /** Reply audio (raw little-endian PCM16). */
  audio(bytes: Uint8Array): BackendSignal[] {
    if (bytes.byteLength > MAX_AUDIO_BYTES) return [{ kind: 'malformed', reason: `binary frame of ${bytes.byteLength} bytes` }];
    const out = this.current ? [] : this.start();
    const item = this.current as { id: string };
    let data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (this.carry !== null) {
      data = Buffer.concat([Buffer.from([this.carry]), data]);
      this.carry = null;
    }
    if (data.length % 2 === 1) {
      this.carry = data[data.length - 1] ?? 0;
      data = data.subarray(0, data.length - 1);
    }
    if (data.length === 0) return out;
    // A copy: the port keeps the samples while the socket's buffer is reused.
    const pcm = bytesToPcm(Buffer.from(data));
    out.push({ kind: 'audio', itemId: item.id, responseId: item.id, pcm });
    return out;
  }

  /** `AgentAudioDone`: the reply's audio is all sent. */
  done(): BackendSignal[] {
    const item = this.current;
    this.current = null;
    this.carry = null;
    if (!item || item.cut) return [];
    this.last = item.id;
    return [
      { kind: 'audio_done', itemId: item.id },
      { kind: 'response_done', responseId: item.id, status: 'completed' },
    ];
  }

  /**
   * `UserStartedSpeaking`: flush playback. The reply in progress, or the last one (its audio may all
   * have arrived and still be playing), is cut: audio before the next reply starts is its late audio.
   */
  userStarted(): BackendSignal[] {
    const out: BackendSignal[] = [{ kind: 'interrupted' }];
    const item = this.current;
    if (item && !item.cut) out.push({ kind: 'response_done', responseId: item.id, status: 'cancelled', reason: 'turn_detected' });
    const cutId = item?.id ?? this.last;
    if (cutId !== null) this.current = { id: cutId, cut: true };
    this.last = null;
    out.push({ kind: 'speech_started' });
    return out;
  }

  /** The item an assistant text belongs to: the open reply, else the one about to start. */
  textItem(): string {
    if (this.current && !this.current.cut) return this.current.id;
    this.upcoming ??= this.nextId();
    return this.upcoming;
  }
}

/** What the decoder needs from the backend. */
export interface DeepgramDecodeContext {
  /** The replies of the current connection. */
  replies(): DeepgramReplies;
  /** Whether `SettingsApplied` arrived on this connection. */
  isConfigured(): boolean;
  /** `Welcome`: the service is ready for `Settings`. */
  welcome(requestId: string | undefined): BackendSignal;
  /** `SettingsApplied`. */
  applied(): BackendSignal;
}

function conversationText(m: Json, ctx: DeepgramDecodeContext): BackendSignal {
  const role = m.role;
  const content = m.content;
  if ((role !== 'user' && role !== 'assistant') || typeof content !== 'string') {
    return { kind: 'malformed', reason: 'ConversationText without a user/assistant role or string content' };
  }
  const text = content.slice(0, TRANSCRIPT_LIMIT);
  if (role === 'user') return { kind: 'transcript', role, text, final: true };
  return { kind: 'transcript', role, text, final: true, itemId: ctx.replies().textItem() };
}

function functionCalls(m: Json): BackendSignal[] {
  if (!Array.isArray(m.functions)) return [{ kind: 'malformed', reason: 'FunctionCallRequest without functions' }];
  const out: BackendSignal[] = [];
  for (const f of m.functions.slice(0, MAX_CALLS)) {
    const fn = obj(f);
    const id = str(fn?.id, ID_LIMIT);
    const name = str(fn?.name, ID_LIMIT);
    if (!fn || !id || !name || typeof fn.arguments !== 'string') {
      out.push({ kind: 'malformed', reason: 'function call without id, name or string arguments' });
      continue;
    }
    // Functions with an endpoint run at Deepgram (client_side false): nothing to do here.
    if (fn.client_side === false) continue;
    out.push({ kind: 'tool_call', callId: id, name, arguments: fn.arguments.slice(0, 100000) });
  }
  return out.length > 0 ? out : [{ kind: 'ignored' }];
}

function cancelled(m: Json): BackendSignal {
  if (!Array.isArray(m.functions)) return { kind: 'malformed', reason: 'FunctionCallCancelled without functions' };
  const callIds = m.functions
    .slice(0, MAX_CALLS)
    .map((f) => str(obj(f)?.id, ID_LIMIT))
    .filter((id): id is string => id !== undefined && id !== '');
  return callIds.length > 0 ? { kind: 'tool_call_cancelled', callIds } : { kind: 'malformed', reason: 'FunctionCallCancelled without ids' };
}

function diagnostic(type: 'Error' | 'Warning', m: Json, ctx: DeepgramDecodeContext): BackendSignal {
  const code = str(m.code, ID_LIMIT) ?? 'unknown';
  const description = str(m.description) ?? str(m.message) ?? '';
  if (type === 'Warning') {
    return { kind: 'error', code, message: `warning from the service: ${description || code}`, fatal: false, sessionExpired: false };
  }
  if (CONFIG_CODES.has(code) && !ctx.isConfigured()) return { kind: 'config_rejected', code, message: description || code };
  const sessionExpired = SESSION_CAP.test(code);
  return {
    kind: 'error',
    code,
    message: `the service ended the session: ${description || code}`,
    fatal: FATAL_CODES.has(code) || CONFIG_CODES.has(code),
    sessionExpired,
  };
}

/** Translates one frame from the service. */
export function decodeDeepgram(frame: Frame, ctx: DeepgramDecodeContext): BackendSignal[] {
  if (typeof frame !== 'string') return ctx.isConfigured() ? ctx.replies().audio(frame) : [{ kind: 'malformed', reason: 'audio before SettingsApplied' }];
  if (frame.length > MAX_TEXT_BYTES) return [{ kind: 'malformed', reason: `text frame of ${frame.length} characters` }];
  let parsed: unknown;
  try {
    parsed = JSON.parse(frame);
  } catch {
    return [{ kind: 'malformed', reason: 'invalid JSON' }];
  }
  const m = obj(parsed);
  if (!m) return [{ kind: 'malformed', reason: 'not a JSON object' }];
  const type = str(m.type, ID_LIMIT);
  if (type === undefined) return [{ kind: 'malformed', reason: 'no type' }];
  switch (type) {
    case 'Welcome':
      return [ctx.welcome(str(m.request_id, ID_LIMIT))];
    case 'SettingsApplied':
      return [ctx.applied()];
    case 'UserStartedSpeaking':
      return ctx.replies().userStarted();
    case 'AgentStartedSpeaking':
      return ctx.replies().start();
    case 'AgentAudioDone':
      return ctx.replies().done();
    case 'ConversationText':
      return [conversationText(m, ctx)];
    case 'FunctionCallRequest':
      return functionCalls(m);
    case 'FunctionCallCancelled':
      return [cancelled(m)];
    case 'Error':
    case 'Warning':
      return [diagnostic(type, m, ctx)];
    default:
      return [IGNORED.has(type) ? { kind: 'ignored' } : { kind: 'unknown', type: type.slice(0, 100) }];
  }
}
