/**
 * Model responses of one fake connection (protocols.md 1.6–1.8): the canonical audio/text reply
 * sequence streamed faster than real time, cancellation (client or VAD barge-in), and tool calls.
 * At most one response is active at a time.
 */
import { pcmToBase64, WIRE_RATE } from './audio.js';
import type { ConnContext } from './context.js';
import type { Conversation } from './conversation.js';
import { newId } from './ids.js';
import { clone, type Json, type JsonObject } from './json.js';
import {
  assistantItem,
  contentPart,
  functionCallItem,
  itemAddedEvents,
  itemDoneEvents,
  outputNames,
  rateLimits,
  responseObject,
  usage,
  type OutputMode,
} from './shapes.js';

/** Options of {@link Responder.sendResponse}. */
export interface SendResponseOptions {
  /** Reply audio, PCM16 24 kHz; omitted with `text` set = a text-only reply, else no audio deltas. */
  audio?: Int16Array;
  /** Audio per `delta` event in ms (default 40). */
  chunkMs?: number;
  /** Transcript of the audio, sent as word deltas interleaved with the audio (default ''). */
  transcript?: string;
  /** Text of a text-only reply (`response.output_text.*`); used as the transcript when `audio` is also set. */
  text?: string;
  /** Pause between chunks in ms (default 0: as fast as possible, yielding to the event loop). */
  interval?: number;
  /** Id of the assistant item (default: a new `item_…`). */
  itemId?: string;
  /** Stop after the last delta and send the done events only on `finishResponse()` (default false). */
  holdDone?: boolean;
}

/** How `sendResponse` ended: all done events sent, cancelled, waiting for `finishResponse()`, or socket closed. */
export type ResponseOutcome = 'completed' | 'cancelled' | 'held' | 'closed';

/** Ids of a response and how it ended. */
export interface ResponseResult {
  responseId: string;
  itemId: string;
  status: ResponseOutcome;
}

/** Options of {@link Responder.toolCall}. */
export interface ToolCallOptions {
  name: string;
  /** JSON arguments, as a string or an object to stringify. */
  arguments: string | JsonObject;
  /** Default: a new `call_…`. */
  callId?: string;
}

/** Ids of a tool-call response. */
export interface ToolCallResult {
  responseId: string;
  itemId: string;
  callId: string;
}

/** The active response, as tests see it. */
export interface ActiveResponseInfo {
  responseId: string;
  itemId: string;
  /** Audio sent for the item so far, in ms. */
  generatedMs: number;
  /** True when waiting for `finishResponse()`. */
  held: boolean;
}

interface Active {
  id: string;
  itemId: string;
  mode: OutputMode;
  sent: string;
  samples: number;
  state: 'streaming' | 'held' | 'ended' | 'closed';
  previous: string | null;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
const words = (s: string): string[] => s.match(/\S+\s*/g) ?? [];

/** Produces responses on one connection. */
export class Responder {
  private active: Active | null = null;

  constructor(
    private readonly ctx: ConnContext,
    private readonly conv: Conversation,
  ) {}

  /** The active response, or null. */
  get current(): ActiveResponseInfo | null {
    const a = this.active;
    if (!a) return null;
    const generatedMs = (a.samples * 1000) / WIRE_RATE;
    return { responseId: a.id, itemId: a.itemId, generatedMs, held: a.state === 'held' };
  }

  /** Streams one reply; throws when a response is already active (the single-active-response rule). */
  async sendResponse(opts: SendResponseOptions = {}): Promise<ResponseResult> {
    if (this.active) throw new Error(`fake realtime server: response ${this.active.id} is still active`);
    const mode: OutputMode = opts.text !== undefined && opts.audio === undefined ? 'text' : 'audio';
    const a = this.begin(mode, opts.itemId ?? newId('item_'));
    if (mode === 'audio') await this.streamAudio(a, opts.audio ?? new Int16Array(0), opts);
    else await this.streamText(a, opts.text ?? '', opts.interval ?? 0);
    const ids = { responseId: a.id, itemId: a.itemId };
    if (a.state === 'ended') return { ...ids, status: 'cancelled' };
    if (a.state === 'closed' || !this.ctx.isOpen()) return this.abandon(a, ids);
    if (opts.holdDone) {
      a.state = 'held';
      return { ...ids, status: 'held' };
    }
    this.complete(a, 'completed', null);
    return { ...ids, status: 'completed' };
  }

  /** Sends the done events of a held response; false when none is held. */
  finish(): boolean {
    const a = this.active;
    if (!a || a.state !== 'held') return false;
    this.complete(a, 'completed', null);
    return true;
  }

  /** Cancels the active response like the service; returns its id, or null when none was active. */
  cancel(reason: 'turn_detected' | 'client_cancelled'): string | null {
    const a = this.active;
    if (!a) return null;
    this.complete(a, 'cancelled', { type: 'cancelled', reason });
    return a.id;
  }

  /** Forgets the active response when the socket closes. */
  onClose(): void {
    if (this.active) this.active.state = 'closed';
    this.active = null;
  }

  /** A whole function-call response, sent at once; throws when a response is active. */
  toolCall(opts: ToolCallOptions): ToolCallResult {
    if (this.active) throw new Error(`fake realtime server: response ${this.active.id} is still active`);
    const args = typeof opts.arguments === 'string' ? opts.arguments : JSON.stringify(opts.arguments);
    const [id, itemId, callId] = [newId('resp_'), newId('item_'), opts.callId ?? newId('call_')];
    this.sendCreated(id);
    const first = functionCallItem(itemId, callId, opts.name, '', 'in_progress');
    const previous = this.conv.insert(clone(first));
    this.ctx.send('response.output_item.added', { response_id: id, output_index: 0, item: first });
    this.ctx.sendAll(itemAddedEvents(this.ctx.dialect, first, previous));
    const base = { response_id: id, item_id: itemId, output_index: 0, call_id: callId };
    for (let i = 0; i < args.length; i += 8) {
      this.ctx.send('response.function_call_arguments.delta', { ...base, delta: args.slice(i, i + 8) });
    }
    this.ctx.send('response.function_call_arguments.done', { ...base, name: opts.name, arguments: args });
    const item = functionCallItem(itemId, callId, opts.name, args, 'completed');
    this.conv.update(clone(item));
    this.ctx.send('response.output_item.done', { response_id: id, output_index: 0, item });
    this.ctx.sendAll(itemDoneEvents(this.ctx.dialect, item, previous));
    this.sendDone(id, 'completed', null, [item], usage(0, args));
    return { responseId: id, itemId, callId };
  }

  private sendCreated(id: string): void {
    const response = responseObject(this.ctx.dialect, this.ctx.session(), {
      id,
      conversationId: this.conv.id,
      status: 'in_progress',
      statusDetails: null,
      output: [],
      usage: null,
    });
    this.ctx.send('response.created', { response });
    this.ctx.send('rate_limits.updated', rateLimits());
  }

  private sendDone(id: string, status: string, details: Json, output: Json[], use: Json): void {
    const response = responseObject(this.ctx.dialect, this.ctx.session(), {
      id,
      conversationId: this.conv.id,
      status,
      statusDetails: details,
      output,
      usage: use,
    });
    // xAI's response.done may carry the usage at the top level too (protocols.md section 6).
    this.ctx.send('response.done', this.ctx.dialect === 'xai' ? { response, usage: use } : { response });
  }

  private begin(mode: OutputMode, itemId: string): Active {
    const id = newId('resp_');
    const item = assistantItem(this.ctx.dialect, itemId, 'in_progress', mode, null);
    const previous = this.conv.insert(clone(item));
    const a: Active = { id, itemId, mode, sent: '', samples: 0, state: 'streaming', previous };
    this.active = a;
    this.sendCreated(id);
    this.ctx.send('response.output_item.added', { response_id: id, output_index: 0, item });
    this.ctx.sendAll(itemAddedEvents(this.ctx.dialect, item, previous));
    this.ctx.send('response.content_part.added', { ...this.base(a), part: contentPart(mode, '') });
    return a;
  }

  private base(a: Active): JsonObject {
    return { response_id: a.id, item_id: a.itemId, output_index: 0, content_index: 0 };
  }

  private async streamAudio(a: Active, audio: Int16Array, opts: SendResponseOptions): Promise<void> {
    const names = outputNames(this.ctx.dialect);
    const perChunk = Math.max(1, Math.round(((opts.chunkMs ?? 40) * WIRE_RATE) / 1000));
    const chunks = Math.ceil(audio.length / perChunk);
    const text = words(opts.transcript ?? opts.text ?? '');
    let w = 0;
    for (let i = 0; i < chunks; i++) {
      if (a.state !== 'streaming' || !this.ctx.isOpen()) return;
      for (const upto = Math.ceil(((i + 1) * text.length) / chunks); w < upto; w++) this.sendWord(a, text[w] ?? '');
      const chunk = audio.subarray(i * perChunk, (i + 1) * perChunk);
      this.ctx.send(names.audioDelta, { ...this.base(a), delta: pcmToBase64(chunk) });
      this.conv.audioOutputStarted = true;
      this.conv.addGenerated(a.itemId, chunk.length);
      a.samples += chunk.length;
      if (i < chunks - 1) await pause(opts.interval ?? 0);
    }
    for (; w < text.length && a.state === 'streaming'; w++) this.sendWord(a, text[w] ?? '');
  }

  private async streamText(a: Active, text: string, interval: number): Promise<void> {
    const parts = words(text);
    for (let i = 0; i < parts.length; i++) {
      if (a.state !== 'streaming' || !this.ctx.isOpen()) return;
      this.sendWord(a, parts[i] ?? '');
      if (i < parts.length - 1) await pause(interval);
    }
  }

  private sendWord(a: Active, word: string): void {
    const names = outputNames(this.ctx.dialect);
    a.sent += word;
    this.ctx.send(a.mode === 'audio' ? names.transcriptDelta : names.textDelta, { ...this.base(a), delta: word });
  }

  private abandon(a: Active, ids: { responseId: string; itemId: string }): ResponseResult {
    a.state = 'closed';
    if (this.active === a) this.active = null;
    return { ...ids, status: 'closed' };
  }

  /** Sends the remaining done events and `response.done`; items are `incomplete` unless completed. */
  private complete(a: Active, status: 'completed' | 'cancelled', details: JsonObject | null): void {
    a.state = 'ended';
    this.active = null;
    const names = outputNames(this.ctx.dialect);
    const base = this.base(a);
    if (a.mode === 'audio') {
      this.ctx.send(names.audioDone, base);
      this.ctx.send(names.transcriptDone, { ...base, transcript: a.sent });
    } else {
      this.ctx.send(names.textDone, { ...base, text: a.sent });
    }
    this.ctx.send('response.content_part.done', { ...base, part: contentPart(a.mode, a.sent) });
    const item = assistantItem(this.ctx.dialect, a.itemId, status === 'completed' ? 'completed' : 'incomplete', a.mode, a.sent);
    this.conv.update(clone(item));
    this.ctx.send('response.output_item.done', { response_id: a.id, output_index: 0, item });
    this.ctx.sendAll(itemDoneEvents(this.ctx.dialect, item, a.previous));
    this.sendDone(a.id, status, details, [item], usage((a.samples * 1000) / WIRE_RATE, a.sent));
  }
}
