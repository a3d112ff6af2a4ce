/**
 * Conversation state of one fake connection: the input audio buffer, the ordered items, the audio
 * generated per assistant item (for truncate validation), and the function calls made so far.
 */
import { bytesToPcm, isBase64, WIRE_RATE } from './audio.js';
import type { ConnContext } from './context.js';
import { errors } from './errors.js';
import { newId } from './ids.js';
import { clone, isObject, stringAt, type Json, type JsonObject } from './json.js';
import { inputBytesPerMs } from './session.js';
import { itemCreatedEvents, userAudioItem } from './shapes.js';

const SAMPLES_PER_MS = WIRE_RATE / 1000;
const MAX_APPEND_BYTES = 15 * 1024 * 1024;
const ITEM_TYPES = ['message', 'function_call', 'function_call_output'];

interface ItemRecord {
  item: JsonObject;
  /** Assistant audio generated for this item, in samples (24 kHz). */
  samples: number;
}

/** Options of the scripted VAD events. */
export interface VadOptions {
  /** The user item the speech belongs to; default: the pending one, or a new id. */
  itemId?: string;
  /** `audio_start_ms` / `audio_end_ms`; default: ms of input audio received so far. */
  ms?: number;
}

/** Items and input buffer of one connection. */
export class Conversation {
  /** Conversation id, as in response objects. */
  readonly id = newId('conv_');
  /** True once assistant audio was sent (the voice can no longer change). */
  audioOutputStarted = false;
  private readonly order: string[] = [];
  private readonly items = new Map<string, ItemRecord>();
  private readonly callIds = new Set<string>();
  private pendingBytes = 0;
  private totalMs = 0;
  private pendingUserItem: string | null = null;

  constructor(private readonly ctx: ConnContext) {}

  /** Input audio received on this connection so far, in ms. */
  get inputMs(): number {
    return this.totalMs;
  }

  /** Adds `item` after `previousItemId` (`'root'` = first; default last) and returns the id it follows. */
  insert(item: JsonObject, previousItemId?: string): string | null {
    const id = String(item['id']);
    let at = this.order.length;
    if (previousItemId === 'root') at = 0;
    else if (previousItemId !== undefined) at = this.order.indexOf(previousItemId) + 1;
    this.order.splice(at, 0, id);
    this.items.set(id, { item, samples: 0 });
    if (item['type'] === 'function_call' && typeof item['call_id'] === 'string') this.callIds.add(item['call_id']);
    return at > 0 ? (this.order[at - 1] ?? null) : null;
  }

  /** Replaces a stored item's body (e.g. when a response item completes). */
  update(item: JsonObject): void {
    const r = this.items.get(String(item['id']));
    if (r) r.item = item;
  }

  /** Counts `samples` of assistant audio generated for `itemId`. */
  addGenerated(itemId: string, samples: number): void {
    const r = this.items.get(itemId);
    if (r) r.samples += samples;
  }

  /** Assistant audio generated for `itemId`, in ms; null when the item is unknown. */
  generatedMs(itemId: string): number | null {
    const r = this.items.get(itemId);
    return r ? r.samples / SAMPLES_PER_MS : null;
  }

  /** `input_audio_buffer.append`: decode and record; no acknowledgement. */
  append(event: JsonObject, eventId: string | null): void {
    const audio = event['audio'];
    if (typeof audio !== 'string') return this.ctx.error(errors.missingParam('audio'), eventId);
    if (!isBase64(audio)) {
      return this.ctx.error(errors.invalidValue('audio', "Invalid 'audio'. Expected base64-encoded audio."), eventId);
    }
    const bytes = Buffer.from(audio, 'base64');
    if (bytes.length > MAX_APPEND_BYTES) {
      return this.ctx.error(errors.invalidValue('audio', 'Audio exceeds the maximum of 15 MiB per event.'), eventId);
    }
    this.ctx.recorder.addAudio(this.ctx.index, bytesToPcm(bytes));
    this.pendingBytes += bytes.length;
    this.totalMs += bytes.length / inputBytesPerMs(this.ctx.dialect, this.ctx.session());
  }

  /** `input_audio_buffer.commit`: needs ≥ 100 ms buffered. */
  commit(eventId: string | null): void {
    const ms = this.pendingBytes / inputBytesPerMs(this.ctx.dialect, this.ctx.session());
    if (ms < 100) return this.ctx.error(errors.commitEmpty(ms), eventId);
    this.commitUserTurn();
  }

  /** `input_audio_buffer.clear`. */
  clear(): void {
    this.pendingBytes = 0;
    this.ctx.send('input_audio_buffer.cleared');
  }

  /** Ends the user turn as server VAD would: `committed` and the user item's events; returns the item id. */
  commitUserTurn(itemId?: string): string {
    const id = itemId ?? this.pendingUserItem ?? newId('item_');
    this.pendingBytes = 0;
    this.pendingUserItem = null;
    const item = userAudioItem(id);
    const previous = this.insert(item);
    this.ctx.send('input_audio_buffer.committed', { previous_item_id: previous, item_id: id });
    this.ctx.sendAll(itemCreatedEvents(this.ctx.dialect, clone(item), previous));
    return id;
  }

  /** Sends `input_audio_buffer.speech_started`; returns the user item id. */
  speechStarted(opts: VadOptions = {}): string {
    const id = opts.itemId ?? this.pendingUserItem ?? newId('item_');
    this.pendingUserItem = id;
    const ms = Math.floor(opts.ms ?? this.totalMs);
    this.ctx.send('input_audio_buffer.speech_started', { audio_start_ms: ms, item_id: id });
    return id;
  }

  /** Sends `input_audio_buffer.speech_stopped`; returns the user item id. */
  speechStopped(opts: VadOptions = {}): string {
    const id = opts.itemId ?? this.pendingUserItem ?? newId('item_');
    this.pendingUserItem = id;
    const ms = Math.floor(opts.ms ?? this.totalMs);
    this.ctx.send('input_audio_buffer.speech_stopped', { audio_end_ms: ms, item_id: id });
    return id;
  }

  /** Sends the user's input transcription: word deltas when `delta`, then `completed`. */
  userTranscript(itemId: string, text: string, delta: boolean): void {
    const base = { item_id: itemId, content_index: 0 };
    if (delta) {
      for (const w of text.match(/\S+\s*/g) ?? []) {
        this.ctx.send('conversation.item.input_audio_transcription.delta', { ...base, delta: w });
      }
    }
    const usage: JsonObject = {
      type: 'tokens',
      total_tokens: 20,
      input_tokens: 15,
      output_tokens: 5,
      input_token_details: { text_tokens: 0, audio_tokens: 15 },
    };
    this.ctx.send('conversation.item.input_audio_transcription.completed', { ...base, transcript: text, usage });
    const r = this.items.get(itemId);
    if (r && r.item['role'] === 'user') r.item = userAudioItem(itemId, text);
  }

  /** `conversation.item.create`; checks `function_call_output.call_id` against the calls made. */
  createItem(event: JsonObject, eventId: string | null): void {
    const given = event['item'];
    if (!isObject(given)) return this.ctx.error(errors.missingParam('item'), eventId);
    const type = given['type'];
    if (typeof type !== 'string' || !ITEM_TYPES.includes(type)) {
      return this.ctx.error(errors.invalidValue('item.type'), eventId);
    }
    const callId = stringAt(given, 'call_id');
    if (type === 'function_call_output' && (callId === undefined || !this.callIds.has(callId))) {
      return this.ctx.error(errors.callIdNotFound(callId ?? ''), eventId);
    }
    if (type === 'message' && given['role'] === 'assistant' && hasAudio(given['content'])) {
      return this.ctx.error(errors.invalidValue('item.content', 'Assistant messages cannot contain audio.'), eventId);
    }
    const prev = stringAt(event, 'previous_item_id');
    if (prev !== undefined && prev !== 'root' && !this.items.has(prev)) {
      return this.ctx.error(errors.itemNotFound('previous_item_id', prev), eventId);
    }
    const givenId = stringAt(given, 'id');
    if (givenId !== undefined && this.items.has(givenId)) {
      return this.ctx.error(errors.invalidValue('item.id', `Item with id '${givenId}' already exists.`), eventId);
    }
    const id = givenId ?? newId('item_');
    const item: JsonObject = { ...clone(given), id, object: 'realtime.item', status: 'completed' };
    const previous = this.insert(item, prev);
    this.ctx.sendAll(itemCreatedEvents(this.ctx.dialect, clone(item), previous));
  }

  /** `conversation.item.truncate`; rejects `audio_end_ms` beyond the audio generated for the item. */
  truncate(event: JsonObject, eventId: string | null): void {
    const itemId = stringAt(event, 'item_id') ?? '';
    const contentIndex = typeof event['content_index'] === 'number' ? event['content_index'] : 0;
    const end = event['audio_end_ms'];
    const generatedMs = this.generatedMs(itemId);
    const accepted = this.tryTruncate(itemId, contentIndex, end, eventId);
    this.ctx.recorder.truncates.push({ conn: this.ctx.index, itemId, contentIndex, audioEndMs: typeof end === 'number' ? end : NaN, generatedMs, accepted });
  }

  private tryTruncate(itemId: string, contentIndex: number, end: Json | undefined, eventId: string | null): boolean {
    if (typeof end !== 'number' || !Number.isInteger(end) || end < 0) {
      this.ctx.error(errors.invalidType('audio_end_ms', 'a non-negative integer'), eventId);
      return false;
    }
    const r = this.items.get(itemId);
    if (!r || r.item['role'] !== 'assistant') {
      this.ctx.error(errors.itemNotFound('item_id', itemId), eventId);
      return false;
    }
    const haveMs = r.samples / SAMPLES_PER_MS;
    if (end > haveMs) {
      this.ctx.error(errors.truncateTooLong(haveMs, end), eventId);
      return false;
    }
    r.samples = end * SAMPLES_PER_MS;
    this.ctx.send('conversation.item.truncated', { item_id: itemId, content_index: contentIndex, audio_end_ms: end });
    return true;
  }

  /** `conversation.item.delete`. */
  deleteItem(event: JsonObject, eventId: string | null): void {
    const id = stringAt(event, 'item_id') ?? '';
    if (!this.items.delete(id)) return this.ctx.error(errors.itemNotFound('item_id', id), eventId);
    this.order.splice(this.order.indexOf(id), 1);
    this.ctx.send('conversation.item.deleted', { item_id: id });
  }

  /** `conversation.item.retrieve`. */
  retrieveItem(event: JsonObject, eventId: string | null): void {
    const id = stringAt(event, 'item_id') ?? '';
    const r = this.items.get(id);
    if (!r) return this.ctx.error(errors.itemNotFound('item_id', id), eventId);
    this.ctx.send('conversation.item.retrieved', { item: clone(r.item) });
  }
}

function hasAudio(content: Json | undefined): boolean {
  const audio = (c: Json): boolean => isObject(c) && (c['type'] === 'output_audio' || c['type'] === 'audio');
  return Array.isArray(content) && content.some(audio);
}
