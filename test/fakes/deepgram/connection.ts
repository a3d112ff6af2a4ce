/**
 * One accepted WebSocket of the fake Deepgram Voice Agent server (protocols.md 5, checked against
 * `@deepgram/sdk` 5.13.0 `agent/v1` types): `Welcome` on open, `Settings` first and once, validation
 * with fatal `Error` codes as the service documents them, binary audio both ways at the negotiated
 * formats, the idle timer fed by audio or `KeepAlive`, and the scripting controls (replies as binary
 * PCM, `UserStartedSpeaking` barge-in, function calls, warnings and errors).
 */
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  BaseConnection,
  bytesToPcm,
  isObject,
  objectAt,
  parseJson,
  pause,
  pcmToBytes,
  stringAt,
  toBuffer,
  type ConnHost,
  type Json,
  type JsonObject,
  type Recorder,
} from '../vendor/kit.js';

/** `audio.input.encoding` values of the SDK types. */
export const INPUT_ENCODINGS = ['linear16', 'linear32', 'flac', 'alaw', 'mulaw', 'amr-nb', 'amr-wb', 'opus', 'ogg-opus', 'speex', 'g729'];
/** `audio.output.encoding` values of the SDK types. */
export const OUTPUT_ENCODINGS = ['linear16', 'mulaw', 'alaw', 'mp3', 'opus', 'flac', 'aac'];
/** `audio.output.container` values. */
export const CONTAINERS = ['none', 'wav', 'ogg'];

/** Descriptions the service sends with its error codes. */
export const DESCRIPTIONS: Record<string, string> = {
  CLIENT_MESSAGE_TIMEOUT: "We waited too long for a websocket message. Please ensure that you're sending binary " + 'messages containing user speech.',
  UNPARSABLE_CLIENT_MESSAGE: 'Text message received from client did not match any of the formats we expect.',
  NON_SETTINGS_MESSAGE_BEFORE_SETTINGS: 'Received a message before Settings. Settings must be the first message.',
  SETTINGS_ALREADY_APPLIED: 'Settings have already been applied. Only one Settings message is allowed.',
  INVALID_SETTINGS: 'The Settings message contained invalid values.',
  INTERNAL_SERVER_ERROR: 'An internal server error occurred.',
};

/** Client message types the service knows. */
export const CLIENT_TYPES = [
  'Settings',
  'KeepAlive',
  'UpdatePrompt',
  'UpdateSpeak',
  'UpdateThink',
  'UpdateListen',
  'InjectUserMessage',
  'InjectAgentMessage',
  'FunctionCallResponse',
  'ForceEndTurn',
];

/** Negotiated audio format of one direction. */
export interface AudioSpec {
  encoding: string;
  sampleRate: number;
  container?: string;
}

/** Called on a client `InjectUserMessage`; may call `conn.sendReply(...)`. */
export type InjectUserMessageHook = (conn: DeepgramConnection, message: JsonObject) => void | Promise<unknown>;

/** What a connection needs from its server. */
export interface DeepgramHost extends ConnHost {
  readonly recorder: Recorder;
  readonly onInjectUserMessage: InjectUserMessageHook | undefined;
  readonly options: {
    clientMessageTimeoutMs: number;
    maxSessionMs: number;
    sessionCapError: { code: string; description: string };
    /** Close code after a fatal `Error`; undefined = a close frame without status (client sees 1005). */
    errorCloseCode: number | undefined;
  };
}

/** Options of {@link DeepgramConnection.sendReply}. */
export interface SendReplyOptions {
  /** Reply audio PCM16 at the output sample rate, sent as binary frames. */
  audio?: Int16Array;
  /** Raw output bytes instead (other encodings). */
  raw?: Buffer;
  /** Bytes per binary frame as ms of audio (default 40). */
  chunkMs?: number;
  /** Pause between frames, ms (default 0). */
  interval?: number;
  /** Assistant text (`ConversationText role=assistant`). */
  text?: string;
  /** `AgentThinking.content` sent first (omit for none). */
  thinking?: string;
  /** Stop before `AgentAudioDone`; send it with `finishReply()` (default false). */
  holdDone?: boolean;
}

/** How a reply ended. */
export type ReplyOutcome = 'completed' | 'interrupted' | 'held' | 'closed';

/** One function of a scripted `FunctionCallRequest`. */
export interface FunctionSpec {
  name: string;
  /** JSON arguments, as an object or a string (sent as a string). */
  arguments?: JsonObject | string;
  /** Default true. */
  clientSide?: boolean;
  /** Default a new UUID. */
  id?: string;
}

/** A client `FunctionCallResponse`. */
export interface FunctionResponseRecord {
  conn: number;
  id: string | null;
  name: string;
  content: string;
  /** False when no outstanding client-side call had this id. */
  matched: boolean;
}

interface Reply {
  state: 'streaming' | 'held' | 'interrupted' | 'done';
}

/** One client connection of the fake Deepgram Voice Agent server. */
export class DeepgramConnection extends BaseConnection {
  /** `request_id` sent in `Welcome`. */
  readonly requestId = randomUUID();
  /** The accepted `Settings`, else null. */
  settings: JsonObject | null = null;
  /** Negotiated input format (default linear16 24000). */
  input: AudioSpec = { encoding: 'linear16', sampleRate: 24000 };
  /** Negotiated output format (default linear16 24000, container none). */
  output: AudioSpec = { encoding: 'linear16', sampleRate: 24000, container: 'none' };
  /** Binary frames received after `SettingsApplied` and their total bytes. */
  audioFrames = 0;
  audioBytes = 0;
  /** `KeepAlive` messages received. */
  keepAlives = 0;
  /** Every `Error` and `Warning` sent. */
  readonly diagnostics: Array<{ type: 'Error' | 'Warning'; code: string; description: string }> = [];
  /** Client function responses. */
  readonly functionResponses: FunctionResponseRecord[] = [];
  /** Client-side function calls not yet answered: id → name. */
  readonly pendingCalls = new Map<string, string>();
  /** The user is speaking (from `userStartedSpeaking()` until the next reply). */
  userSpeaking = false;
  private reply: Reply | null = null;
  private cancelIdle: (() => void) | null = null;
  private failed = false;

  constructor(
    ws: WebSocket,
    socket: Duplex,
    index: number,
    private readonly dh: DeepgramHost,
  ) {
    super(ws, socket, index, dh);
    ws.on('message', (data, isBinary) => this.onMessage(toBuffer(data), isBinary));
    this.json({ type: 'Welcome', request_id: this.requestId });
    this.armIdle();
    const o = dh.options;
    if (o.maxSessionMs > 0) this.after(o.maxSessionMs, () => this.error(o.sessionCapError.code, o.sessionCapError.description));
  }

  /** True once `SettingsApplied` was sent. */
  get ready(): boolean {
    return this.settings !== null;
  }
  /** True while a reply streams or is held. */
  get speaking(): boolean {
    return this.reply !== null && (this.reply.state === 'streaming' || this.reply.state === 'held');
  }
  /** `flags.history` of the settings. */
  get history(): boolean {
    return objectAt(this.settings, 'flags')?.['history'] === true;
  }

  /** Sends one JSON message (text frame). */
  json(m: JsonObject): void {
    this.writeJson(m);
  }

  /** Sends a fatal `Error`, then closes (see the server's `errorCloseCode`) unless `close` is false. */
  error(code: string, description = DESCRIPTIONS[code] ?? code, opts: { close?: boolean } = {}): void {
    if (this.failed) return;
    this.diagnostics.push({ type: 'Error', code, description });
    this.json({ type: 'Error', description, code });
    if (opts.close === false) return;
    this.failed = true;
    this.close(this.dh.options.errorCloseCode);
  }

  /** Sends a non-fatal `Warning`. */
  warning(code: string, description: string): void {
    this.diagnostics.push({ type: 'Warning', code, description });
    this.json({ type: 'Warning', description, code });
  }

  /**
   * One agent turn: [`AgentThinking`], `AgentStartedSpeaking`, `ConversationText` (assistant; plus
   * `History` with `flags.history`), the audio as binary frames, `AgentAudioDone`. Cut short by
   * {@link userStartedSpeaking}. Throws when a reply is active.
   */
  async sendReply(o: SendReplyOptions = {}): Promise<ReplyOutcome> {
    if (this.speaking) throw new Error('fake deepgram server: a reply is already active');
    const reply: Reply = { state: 'streaming' };
    this.reply = reply;
    this.userSpeaking = false;
    if (o.thinking !== undefined) this.json({ type: 'AgentThinking', content: o.thinking });
    this.json({ type: 'AgentStartedSpeaking', total_latency: 0.42, tts_latency: 0.12, ttt_latency: 0.3 });
    if (o.text !== undefined) this.conversationText('assistant', o.text);
    const bytes = o.raw ?? (o.audio ? pcmToBytes(o.audio) : Buffer.alloc(0));
    const bps = this.output.encoding === 'linear16' ? 2 : 1;
    const per = Math.max(bps, Math.round(((o.chunkMs ?? 40) * this.output.sampleRate) / 1000) * bps);
    const n = Math.ceil(bytes.length / per);
    for (let i = 0; i < n; i++) {
      if (reply.state !== 'streaming' || !this.isOpen) break;
      this.write(bytes.subarray(i * per, (i + 1) * per));
      if (i < n - 1) await pause(o.interval ?? 0);
    }
    if (reply.state === 'interrupted') return 'interrupted';
    if (!this.isOpen) {
      reply.state = 'done';
      return 'closed';
    }
    if (o.holdDone) {
      reply.state = 'held';
      return 'held';
    }
    reply.state = 'done';
    this.json({ type: 'AgentAudioDone' });
    return 'completed';
  }

  /** Sends `AgentAudioDone` of a held reply; false when none is held. */
  finishReply(): boolean {
    if (this.reply?.state !== 'held') return false;
    this.reply.state = 'done';
    this.json({ type: 'AgentAudioDone' });
    return true;
  }

  /** Sends `UserStartedSpeaking`; a streaming or held reply stops (no more audio, no `AgentAudioDone`). */
  userStartedSpeaking(): { cutReply: boolean } {
    this.userSpeaking = true;
    this.json({ type: 'UserStartedSpeaking' });
    const r = this.reply;
    if (r && (r.state === 'streaming' || r.state === 'held')) {
      r.state = 'interrupted';
      return { cutReply: true };
    }
    return { cutReply: false };
  }

  /** Sends `ConversationText` (and `History` with `flags.history`). */
  conversationText(role: 'user' | 'assistant', content: string): void {
    this.json({ type: 'ConversationText', role, content });
    if (this.history) this.json({ type: 'History', role, content });
  }

  /** Sends `FunctionCallRequest`; returns the ids (client-side ones outstanding until answered). */
  functionCallRequest(fns: FunctionSpec[]): string[] {
    const functions = fns.map((f) => ({
      id: f.id ?? randomUUID(),
      name: f.name,
      arguments: typeof f.arguments === 'string' ? f.arguments : JSON.stringify(f.arguments ?? {}),
      client_side: f.clientSide ?? true,
    }));
    for (const f of functions) if (f.client_side) this.pendingCalls.set(f.id, f.name);
    this.json({ type: 'FunctionCallRequest', functions });
    return functions.map((f) => f.id);
  }

  /** Sends `FunctionCallCancelled` for `ids`; they are no longer outstanding. */
  functionCallCancelled(ids: string[]): void {
    const functions = ids.map((id) => ({ id, name: this.pendingCalls.get(id) ?? '' }));
    for (const id of ids) this.pendingCalls.delete(id);
    this.json({ type: 'FunctionCallCancelled', functions });
  }

  /** Waits for the client's `FunctionCallResponse` to `id`. */
  waitForFunctionResponse(id: string, timeoutMs = 5000): Promise<FunctionResponseRecord> {
    return this.host.recorder.until(() => this.functionResponses.find((r) => r.id === id), timeoutMs, `FunctionCallResponse for ${id}`);
  }

  /** Sends one binary frame of `bytes` zero bytes (oversize audio). */
  sendOversize(bytes: number): void {
    this.write(Buffer.alloc(bytes));
  }

  protected override onClosed(): void {
    this.cancelIdle?.();
    if (this.reply && this.reply.state !== 'interrupted') this.reply.state = 'done';
  }

  private armIdle(): void {
    this.cancelIdle?.();
    const ms = this.dh.options.clientMessageTimeoutMs;
    if (ms > 0) this.cancelIdle = this.after(ms, () => this.error('CLIENT_MESSAGE_TIMEOUT'));
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.failed) return;
    this.armIdle();
    const rec = this.host.recorder;
    if (isBinary) {
      rec.addReceived({ conn: this.index, type: 'binary', message: { bytes: data.length }, binary: true, at: Date.now() });
      if (!this.ready) return this.error('NON_SETTINGS_MESSAGE_BEFORE_SETTINGS');
      this.audioFrames++;
      this.audioBytes += data.length;
      if (this.input.encoding === 'linear16') rec.addAudio(this.index, bytesToPcm(data));
      else rec.addAudio(this.index, Int16Array.from(data));
      return;
    }
    const m = parseJson(data);
    const type = stringAt(m, 'type');
    rec.addReceived({ conn: this.index, type: type ?? '(invalid)', message: isObject(m) ? m : { raw: data.toString('utf8') }, binary: false, at: Date.now() });
    if (!isObject(m) || type === undefined || !CLIENT_TYPES.includes(type)) return this.error('UNPARSABLE_CLIENT_MESSAGE');
    if (!this.ready && type !== 'Settings') return this.error('NON_SETTINGS_MESSAGE_BEFORE_SETTINGS');
    switch (type) {
      case 'Settings':
        return this.onSettings(m);
      case 'KeepAlive':
        this.keepAlives++;
        return;
      case 'UpdatePrompt':
        return this.ack(m, 'prompt', 'PromptUpdated');
      case 'UpdateSpeak':
        return this.ack(m, 'speak', 'SpeakUpdated');
      case 'UpdateThink':
        return this.ack(m, 'think', 'ThinkUpdated');
      case 'UpdateListen':
        return this.ack(m, 'listen', 'ListenUpdated');
      case 'InjectUserMessage':
        return this.onInjectUser(m);
      case 'InjectAgentMessage':
        return this.onInjectAgent(m);
      case 'FunctionCallResponse':
        return this.onFunctionResponse(m);
      default:
        return;
    }
  }

  private ack(m: JsonObject, field: string, reply: string): void {
    if (m[field] === undefined) return this.error('UNPARSABLE_CLIENT_MESSAGE');
    this.json({ type: reply });
  }

  private onSettings(m: JsonObject): void {
    if (this.ready) return this.error('SETTINGS_ALREADY_APPLIED');
    const audio = m['audio'];
    const agent = m['agent'];
    if (!isObject(audio) || !(isObject(agent) || typeof agent === 'string')) return this.error('UNPARSABLE_CLIENT_MESSAGE');
    const input = objectAt(audio, 'input');
    const output = objectAt(audio, 'output');
    const rateOk = (r: Json | undefined): boolean => typeof r === 'number' && Number.isInteger(r) && r > 0;
    if (input) {
      const enc = input['encoding'];
      if (typeof enc !== 'string' || !INPUT_ENCODINGS.includes(enc) || !rateOk(input['sample_rate'])) {
        return this.error('INVALID_SETTINGS');
      }
      this.input = { encoding: enc, sampleRate: input['sample_rate'] as number };
    }
    if (output) {
      const enc = output['encoding'] ?? 'linear16';
      const container = output['container'] ?? 'none';
      const rate = output['sample_rate'] ?? 24000;
      if (typeof enc !== 'string' || !OUTPUT_ENCODINGS.includes(enc) || typeof container !== 'string' || !CONTAINERS.includes(container) || !rateOk(rate)) {
        return this.error('INVALID_SETTINGS');
      }
      this.output = { encoding: enc, sampleRate: rate as number, container };
    }
    this.settings = m;
    this.json({ type: 'SettingsApplied' });
  }

  private onInjectUser(m: JsonObject): void {
    if (typeof m['content'] !== 'string') return this.error('UNPARSABLE_CLIENT_MESSAGE');
    const hook = this.dh.onInjectUserMessage;
    if (!hook) return;
    try {
      const p = hook(this, m);
      if (p) p.catch(() => this.error('INTERNAL_SERVER_ERROR'));
    } catch {
      this.error('INTERNAL_SERVER_ERROR');
    }
  }

  private onInjectAgent(m: JsonObject): void {
    const message = m['message'];
    if (typeof message !== 'string') return this.error('UNPARSABLE_CLIENT_MESSAGE');
    const behavior = stringAt(m, 'behavior') ?? 'default';
    if ((this.speaking || this.userSpeaking) && behavior === 'default') {
      this.json({ type: 'InjectionRefused', message });
    }
  }

  private onFunctionResponse(m: JsonObject): void {
    const name = stringAt(m, 'name');
    const content = stringAt(m, 'content');
    if (name === undefined || content === undefined) return this.error('UNPARSABLE_CLIENT_MESSAGE');
    const id = stringAt(m, 'id') ?? null;
    const matched = id !== null && this.pendingCalls.has(id);
    if (id !== null) this.pendingCalls.delete(id);
    this.functionResponses.push({ conn: this.index, id, name, content, matched });
    this.host.recorder.notify();
  }
}
