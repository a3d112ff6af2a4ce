/**
 * One accepted WebSocket of the fake OpenAI Realtime server: the session, automatic handling of
 * client events as the service does (protocols.md 1.4), and the test's scripting controls.
 */
import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocket, type RawData } from 'ws';
import type { ConnContext } from './context.js';
import { Conversation } from './conversation.js';
import { errors, SESSION_EXPIRED_MESSAGE, type ErrorSpec } from './errors.js';
import { newId } from './ids.js';
import { CLIENT_EVENTS, parseClientFrame } from './frames.js';
import { clone, stringAt, type JsonObject } from './json.js';
import type { Recorder } from './recorder.js';
import { Responder, type ActiveResponseInfo, type ResponseResult, type SendResponseOptions, type ToolCallOptions, type ToolCallResult } from './responses.js';
import { applySessionUpdate, defaultSession, turnDetection, type Dialect } from './session.js';
import { oversizeDelta, type ServerEvent } from './shapes.js';
import { XAI_CLIENT_EVENTS } from './xai.js';

/** Called on a `response.create` when no response is active; it may call `conn.sendResponse(...)`. */
export type ResponseCreateHook = (conn: FakeConnection, event: JsonObject) => void | Promise<unknown>;

/** Rewrites the effective session before `session.updated` (to make the server ignore or alter fields). */
export type OverrideEffective = (session: JsonObject, conn: FakeConnection) => JsonObject;

/** Result of a scripted `speech_started`: the user item id and the response it cancelled, if any. */
export interface SpeechStartedResult {
  itemId: string;
  cancelledResponseId: string | null;
}

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly recorder: Recorder;
  readonly onResponseCreate: ResponseCreateHook;
  readonly overrideEffective: OverrideEffective | undefined;
}

/** One client connection of the fake. */
export class FakeConnection {
  /** Session fields the client sent that this dialect ignores (GA ignores unknown fields). */
  readonly ignoredSessionFields: string[] = [];
  /** Close code and reason once the socket closed, else null. */
  closed: { code: number; reason: string } | null = null;
  private sessionObj: JsonObject;
  private stalled = false;
  private readonly held: Array<string | Buffer> = [];
  private readonly ctx: ConnContext;
  private readonly conversation: Conversation;
  private readonly responder: Responder;

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
    readonly index: number,
    readonly dialect: Dialect,
    sessionId: string,
    model: string,
    private readonly host: ConnectionHost,
  ) {
    this.sessionObj = defaultSession(dialect, sessionId, model);
    this.ctx = {
      index,
      dialect,
      recorder: host.recorder,
      session: () => this.sessionObj,
      send: (type, fields = {}) => this.write(JSON.stringify({ type, event_id: newId('event_'), ...fields })),
      sendAll: (events: readonly ServerEvent[]) => events.forEach(([t, f]) => this.ctx.send(t, f)),
      error: (spec, clientEventId = null) => this.sendErrorSpec(spec, clientEventId),
      isOpen: () => this.ws.readyState === WebSocket.OPEN,
    };
    this.conversation = new Conversation(this.ctx);
    this.responder = new Responder(this.ctx, this.conversation);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('ping', (data) => {
      if (!this.stalled) ws.pong(data);
    });
    ws.on('error', () => undefined);
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.responder.onClose();
      host.recorder.notify();
    });
    if (dialect === 'xai') {
      // xAI: conversation.created is the first event, and there is no session.created.
      this.ctx.send('conversation.created', { conversation: { id: this.conversation.id, object: 'realtime.conversation' } });
      return;
    }
    this.ctx.send('session.created', { session: clone(this.sessionObj) });
    if (dialect === 'beta') {
      const conversation = { id: this.conversation.id, object: 'realtime.conversation' };
      this.ctx.send('conversation.created', { conversation });
    }
  }

  /** The effective session (a copy). */
  get session(): JsonObject {
    return clone(this.sessionObj);
  }

  /** The active response, or null. */
  get activeResponse(): ActiveResponseInfo | null {
    return this.responder.current;
  }

  /** True while the WebSocket is open. */
  get isOpen(): boolean {
    return this.ctx.isOpen();
  }

  /** Streams a reply (see {@link SendResponseOptions}); rejects when a response is already active. */
  sendResponse(opts: SendResponseOptions = {}): Promise<ResponseResult> {
    return this.responder.sendResponse(opts);
  }

  /** Sends the done events of a `holdDone` response; false when none is held. */
  finishResponse(): boolean {
    return this.responder.finish();
  }

  /**
   * Sends `input_audio_buffer.speech_started`; with a response active and turn detection on with
   * `interrupt_response` not false, cancels it with reason `turn_detected`. Returns the user item id
   * and the cancelled response id (or null).
   */
  speechStarted(opts: { itemId?: string; audioStartMs?: number } = {}): SpeechStartedResult {
    const itemId = this.conversation.speechStarted({ itemId: opts.itemId, ms: opts.audioStartMs });
    const td = turnDetection(this.dialect, this.sessionObj);
    let cancelledResponseId: string | null = null;
    if (this.responder.current && td && td['interrupt_response'] !== false) {
      cancelledResponseId = this.responder.cancel('turn_detected');
      this.host.recorder.cancels.push({ conn: this.index, source: 'turn_detected', requestedId: null, cancelledId: cancelledResponseId });
    }
    return { itemId, cancelledResponseId };
  }

  /** Sends `input_audio_buffer.speech_stopped`; returns the user item id. */
  speechStopped(opts: { itemId?: string; audioEndMs?: number } = {}): string {
    return this.conversation.speechStopped({ itemId: opts.itemId, ms: opts.audioEndMs });
  }

  /** Sends `input_audio_buffer.committed` and the user item's events (no 100 ms check); returns the item id. */
  commitUserTurn(opts: { itemId?: string } = {}): string {
    return this.conversation.commitUserTurn(opts.itemId);
  }

  /** Sends the input transcription of a user item: word deltas when `delta`, then `completed`. */
  userTranscript(itemId: string, text: string, opts: { delta?: boolean } = {}): void {
    this.conversation.userTranscript(itemId, text, opts.delta ?? false);
  }

  /** Sends a whole function-call response; throws when a response is active. */
  toolCall(opts: ToolCallOptions): ToolCallResult {
    return this.responder.toolCall(opts);
  }

  /** Sends an `error` event (default type `invalid_request_error`). */
  sendError(code: string | null, message: string, type = 'invalid_request_error', param: string | null = null): void {
    this.sendErrorSpec({ code, message, type, param }, null);
  }

  /** The 60-minute cap: `error` `session_expired`, then close 1001 with the same reason. */
  expireSession(): void {
    this.stall(false);
    this.sendErrorSpec(errors.sessionExpired(), null);
    this.ws.close(1001, SESSION_EXPIRED_MESSAGE);
  }

  /** Destroys the TCP socket without a close frame; `reset` sends a TCP RST (plain ws:// only). */
  dropTcp(opts: { reset?: boolean } = {}): void {
    const plain = this.socket instanceof Socket && !(this.socket instanceof TLSSocket);
    if (opts.reset && plain) (this.socket as Socket).resetAndDestroy();
    else this.socket.destroy();
  }

  /** Stops (`true`) or resumes reading and writing, WebSocket pings included; held events are sent on resume. */
  stall(on: boolean): void {
    if (on === this.stalled) return;
    this.stalled = on;
    if (on) return this.ws.pause();
    this.ws.resume();
    for (const data of this.held.splice(0)) this.write(data);
  }

  /** Sends `data` as is: a string as a text frame (e.g. malformed JSON), a Buffer as a binary frame. */
  sendRaw(data: string | Buffer): void {
    this.write(data);
  }

  /** Sends one valid JSON audio-delta event exactly `bytes` long (for the active response, if any). */
  sendOversize(bytes: number): void {
    const active = this.responder.current;
    const { text, samples } = oversizeDelta(this.dialect, active?.responseId ?? newId('resp_'), active?.itemId ?? newId('item_'), bytes);
    if (active) this.conversation.addGenerated(active.itemId, samples);
    this.write(text);
  }

  /** Sends xAI's application-level `ping {timestamp}` server event (clients need not answer it). */
  ping(timestamp = Date.now()): void {
    this.ctx.send('ping', { timestamp });
  }

  /** Closes the WebSocket with a close frame. */
  close(code = 1000, reason = ''): void {
    this.ws.close(code, reason);
  }

  private write(data: string | Buffer): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.stalled) this.held.push(data);
    else this.ws.send(data);
  }

  private sendErrorSpec(spec: ErrorSpec, clientEventId: string | null): void {
    this.ctx.send('error', {
      error: { type: spec.type ?? 'invalid_request_error', code: spec.code, message: spec.message, param: spec.param ?? null, event_id: clientEventId },
    });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const f = parseClientFrame(data, isBinary);
    if (!f.ok) return this.ctx.error(f.error, f.eventId);
    this.host.recorder.addReceived({ conn: this.index, type: f.type, event: f.event, at: Date.now() });
    this.dispatch(f.type, f.event, f.eventId);
  }

  private dispatch(type: string, event: JsonObject, eventId: string | null): void {
    const conv = this.conversation;
    if (this.dialect === 'xai' && !XAI_CLIENT_EVENTS.includes(type)) return this.onXaiUnknown(type, event, eventId);
    switch (type) {
      case 'session.update':
        return this.onSessionUpdate(event, eventId);
      case 'input_audio_buffer.append':
        return conv.append(event, eventId);
      case 'input_audio_buffer.commit':
        return conv.commit(eventId);
      case 'input_audio_buffer.clear':
        return conv.clear();
      case 'conversation.item.create':
        return conv.createItem(event, eventId);
      case 'conversation.item.truncate':
        return conv.truncate(event, eventId);
      case 'conversation.item.delete':
        return conv.deleteItem(event, eventId);
      case 'conversation.item.retrieve':
        return conv.retrieveItem(event, eventId);
      case 'response.create':
        return this.onResponseCreate(event, eventId);
      case 'response.cancel':
        return this.onResponseCancel(event, eventId);
      case 'output_audio_buffer.clear':
        return this.ctx.error(errors.invalidValue('type', 'This event is for WebRTC and SIP only.'), eventId);
      default:
        return this.ctx.error(errors.unknownEvent(type, CLIENT_EVENTS), eventId);
    }
  }

  /**
   * xAI has no `conversation.item.truncate` (nor the WebRTC-only `output_audio_buffer.clear`): an
   * unknown event type is an error. A truncate is still recorded (not accepted), so a test sees it.
   */
  private onXaiUnknown(type: string, event: JsonObject, eventId: string | null): void {
    if (type === 'conversation.item.truncate') {
      const itemId = stringAt(event, 'item_id') ?? '';
      const end = event['audio_end_ms'];
      this.host.recorder.truncates.push({
        conn: this.index,
        itemId,
        contentIndex: typeof event['content_index'] === 'number' ? event['content_index'] : 0,
        audioEndMs: typeof end === 'number' ? end : NaN,
        generatedMs: this.conversation.generatedMs(itemId),
        accepted: false,
      });
    }
    this.ctx.error(errors.unknownEvent(type, XAI_CLIENT_EVENTS), eventId);
  }

  private onSessionUpdate(event: JsonObject, eventId: string | null): void {
    const r = applySessionUpdate(this.dialect, this.sessionObj, event['session'], this.conversation.audioOutputStarted);
    if (!r.ok) return this.ctx.error(r.error, eventId);
    this.ignoredSessionFields.push(...r.ignored);
    this.sessionObj = this.host.overrideEffective ? this.host.overrideEffective(r.session, this) : r.session;
    this.ctx.send('session.updated', { session: clone(this.sessionObj) });
  }

  private onResponseCreate(event: JsonObject, eventId: string | null): void {
    const active = this.responder.current;
    if (active) return this.ctx.error(errors.activeResponse(active.responseId), eventId);
    const failed = (e: unknown): void => this.ctx.error({ type: 'server_error', code: null, message: `onResponseCreate hook failed: ${String(e)}` }, eventId);
    try {
      const p = this.host.onResponseCreate(this, event);
      if (p) p.catch(failed);
    } catch (e) {
      failed(e);
    }
  }

  private onResponseCancel(event: JsonObject, eventId: string | null): void {
    const requestedId = stringAt(event, 'response_id') ?? null;
    const active = this.responder.current;
    const cancelledId = active && (requestedId === null || requestedId === active.responseId) ? this.responder.cancel('client_cancelled') : null;
    this.host.recorder.cancels.push({ conn: this.index, source: 'client', requestedId, cancelledId });
    if (cancelledId === null) this.ctx.error(errors.cancelNotActive(), eventId);
  }
}
