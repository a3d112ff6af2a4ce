/**
 * Event names and object shapes that differ between the GA and beta dialects (protocols.md 1.5):
 * conversation items, response objects, usage, and the "item added" / "item done" events. The xAI
 * dialect uses the GA names and shapes (protocols.md section 6).
 */
import { newId } from './ids.js';
import type { Json, JsonObject } from './json.js';
import { outputFormat, outputVoice, textOnly, type Dialect } from './session.js';

/** Server event names for the assistant's output in one dialect. */
export interface OutputEventNames {
  audioDelta: string;
  audioDone: string;
  transcriptDelta: string;
  transcriptDone: string;
  textDelta: string;
  textDone: string;
}

const GA_NAMES: OutputEventNames = {
  audioDelta: 'response.output_audio.delta',
  audioDone: 'response.output_audio.done',
  transcriptDelta: 'response.output_audio_transcript.delta',
  transcriptDone: 'response.output_audio_transcript.done',
  textDelta: 'response.output_text.delta',
  textDone: 'response.output_text.done',
};

const BETA_NAMES: OutputEventNames = {
  audioDelta: 'response.audio.delta',
  audioDone: 'response.audio.done',
  transcriptDelta: 'response.audio_transcript.delta',
  transcriptDone: 'response.audio_transcript.done',
  textDelta: 'response.text.delta',
  textDone: 'response.text.done',
};

/** The output event names of `dialect` (xAI: the GA names). */
export function outputNames(dialect: Dialect): OutputEventNames {
  return dialect !== 'beta' ? GA_NAMES : BETA_NAMES;
}

/** What an assistant message carries. */
export type OutputMode = 'audio' | 'text';

/** An assistant message item; `content` is empty while in progress (as in `output_item.added`). */
export function assistantItem(dialect: Dialect, id: string, status: string, mode: OutputMode, text: string | null): JsonObject {
  const content: Json[] = [];
  if (text !== null) {
    const ga = dialect !== 'beta';
    const type = mode === 'audio' ? (ga ? 'output_audio' : 'audio') : ga ? 'output_text' : 'text';
    content.push(mode === 'audio' ? { type, transcript: text } : { type, text });
  }
  return { id, object: 'realtime.item', type: 'message', status, role: 'assistant', content };
}

/** A user audio message item, as created by a commit (transcript filled in later, if ever). */
export function userAudioItem(id: string, transcript: string | null = null): JsonObject {
  return { id, object: 'realtime.item', type: 'message', status: 'completed', role: 'user', content: [{ type: 'input_audio', transcript }] };
}

/** A function-call item. */
export function functionCallItem(id: string, callId: string, name: string, args: string, status: string): JsonObject {
  return { id, object: 'realtime.item', type: 'function_call', status, name, call_id: callId, arguments: args };
}

/** The content part of `content_part.added` / `.done` (type `audio` or `text` in both dialects). */
export function contentPart(mode: OutputMode, text: string): JsonObject {
  return mode === 'audio' ? { type: 'audio', transcript: text } : { type: 'text', text };
}

/** Token usage roughly proportional to the audio and text produced. */
export function usage(audioMs: number, text: string): JsonObject {
  const audioTokens = Math.ceil(audioMs / 50);
  const textTokens = Math.ceil(text.length / 4);
  const inputTokens = 120;
  return {
    total_tokens: inputTokens + audioTokens + textTokens,
    input_tokens: inputTokens,
    output_tokens: audioTokens + textTokens,
    input_token_details: {
      text_tokens: 100,
      audio_tokens: 20,
      image_tokens: 0,
      cached_tokens: 0,
      cached_tokens_details: { text_tokens: 0, audio_tokens: 0, image_tokens: 0 },
    },
    output_token_details: { text_tokens: textTokens, audio_tokens: audioTokens },
  };
}

/** Fields of a response object that `response.created` and `response.done` share. */
export interface ResponseState {
  id: string;
  conversationId: string;
  status: string;
  statusDetails: Json;
  output: Json[];
  usage: Json;
}

/** A response object in the dialect's shape. */
export function responseObject(dialect: Dialect, session: JsonObject, r: ResponseState): JsonObject {
  const head: JsonObject = {
    object: 'realtime.response',
    id: r.id,
    status: r.status,
    status_details: r.statusDetails,
    output: r.output,
    conversation_id: r.conversationId,
  };
  const text = textOnly(dialect, session);
  if (dialect !== 'beta') {
    return {
      ...head,
      output_modalities: text ? ['text'] : ['audio'],
      max_output_tokens: 'inf',
      audio: { output: { format: outputFormat(dialect, session), voice: outputVoice(dialect, session) } },
      usage: r.usage,
      metadata: null,
    };
  }
  return {
    ...head,
    modalities: text ? ['text'] : ['text', 'audio'],
    voice: outputVoice(dialect, session),
    output_audio_format: outputFormat(dialect, session),
    temperature: session['temperature'] ?? 0.8,
    max_output_tokens: 'inf',
    usage: r.usage,
    metadata: null,
  };
}

/** `[type, fields]` of a server event, before the connection adds `event_id`. */
export type ServerEvent = [type: string, fields: JsonObject];

/** Events announcing a new conversation item: GA (and xAI) `conversation.item.added`, beta `conversation.item.created`. */
export function itemAddedEvents(dialect: Dialect, item: JsonObject, previousItemId: string | null): ServerEvent[] {
  const type = dialect !== 'beta' ? 'conversation.item.added' : 'conversation.item.created';
  return [[type, { previous_item_id: previousItemId, item }]];
}

/** Events finalising a conversation item: GA (and xAI) `conversation.item.done`, none in beta. */
export function itemDoneEvents(dialect: Dialect, item: JsonObject, previousItemId: string | null): ServerEvent[] {
  return dialect !== 'beta' ? [['conversation.item.done', { previous_item_id: previousItemId, item }]] : [];
}

/** Both, for items that are complete when added (user turns, client-created items). */
export function itemCreatedEvents(dialect: Dialect, item: JsonObject, previousItemId: string | null): ServerEvent[] {
  return [...itemAddedEvents(dialect, item, previousItemId), ...itemDoneEvents(dialect, item, previousItemId)];
}

/** The `rate_limits.updated` fields sent at the start of every response. */
export function rateLimits(): JsonObject {
  return {
    rate_limits: [
      { name: 'requests', limit: 5000, remaining: 4999, reset_seconds: 0.012 },
      { name: 'tokens', limit: 40000, remaining: 35000, reset_seconds: 7.5 },
    ],
  };
}

/**
 * One silent audio-delta event serialised to exactly `bytes` (valid JSON, padded with whitespace);
 * `samples` is the PCM16 sample count it carries. Throws a RangeError when `bytes` is below the overhead.
 */
export function oversizeDelta(dialect: Dialect, responseId: string, itemId: string, bytes: number): { text: string; samples: number } {
  const event: JsonObject = {
    type: outputNames(dialect).audioDelta,
    event_id: newId('event_'),
    response_id: responseId,
    item_id: itemId,
    output_index: 0,
    content_index: 0,
    delta: '',
  };
  const overhead = Buffer.byteLength(JSON.stringify(event));
  if (!(bytes >= overhead)) throw new RangeError(`sendOversize: bytes must be >= ${overhead}, got ${bytes}`);
  const b64 = Math.floor((bytes - overhead) / 8) * 8;
  event['delta'] = Buffer.alloc((b64 / 4) * 3).toString('base64');
  const text = JSON.stringify(event);
  return { text: `${text.slice(0, -1)}${' '.repeat(bytes - text.length)}}`, samples: (b64 / 8) * 3 };
}
