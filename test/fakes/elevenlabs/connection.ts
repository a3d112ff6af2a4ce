/**
 * One accepted WebSocket of the fake ElevenLabs Agents server (protocols.md 4, checked against
 * `@elevenlabs/client` 1.25.0 and `@elevenlabs/types` 0.23.0): `conversation_initiation_client_data`
 * first (or a timeout), overrides checked against the agent's allowed list, the metadata event that
 * announces the audio formats, base64 `user_audio_chunk` decoding, ping/pong enforcement, and the
 * scripting controls (agent turns with `event_id`s, interruption, corrections, client tool calls).
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  BaseConnection,
  bytesToPcm,
  isBase64,
  isObject,
  parseJson,
  pause,
  pcmToBase64,
  stringAt,
  toBuffer,
  words,
  type ConnHost,
  type Json,
  type JsonObject,
  type Recorder,
} from '../vendor/kit.js';

/** Audio formats of the service (`pcm_<rate>` or `ulaw_8000`). */
export type AudioFormat = 'pcm_8000' | 'pcm_16000' | 'pcm_22050' | 'pcm_24000' | 'pcm_44100' | 'pcm_48000' | 'ulaw_8000';

/** Client message types the service knows. */
export const CLIENT_TYPES = [
  'conversation_initiation_client_data',
  'pong',
  'client_tool_result',
  'contextual_update',
  'user_message',
  'user_activity',
  'feedback',
  'mcp_tool_approval_result',
  'multimodal_message',
];

/** Settings of one connection, from the server's options. */
export interface ElevenLabsConnOptions {
  inputFormat: AudioFormat;
  outputFormat: AudioFormat;
  /** Override paths the agent allows, e.g. `agent.prompt.prompt`, `tts.voice_id` (leaf or parent path). */
  allowedOverrides: string[];
  /** Event types the agent's `client_events` let through; null = all. */
  clientEvents: string[] | null;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  initiationTimeoutMs: number;
  /** Close sent when a ping is not answered in time. */
  pongClose: { code: number; reason: string };
}

/** What a connection needs from its server. */
export interface ElevenLabsHost extends ConnHost {
  readonly recorder: Recorder;
  readonly onUserMessage: UserMessageHook | undefined;
}

/** Called on a client `user_message`; may call `conn.agentResponse(...)`. */
export type UserMessageHook = (conn: ElevenLabsConnection, message: JsonObject) => void | Promise<unknown>;

/** Options of {@link ElevenLabsConnection.agentResponse}. */
export interface AgentResponseOptions {
  /** Reply audio in the output format's rate (PCM16; for `ulaw_8000` pass bytes through `raw`). */
  audio?: Int16Array;
  /** Raw output bytes instead of PCM (e.g. µ-law). */
  raw?: Buffer;
  /** Audio per `audio` event in ms (default 100). */
  chunkMs?: number;
  /** Pause between audio events in ms (default 0). */
  interval?: number;
  /** Full text, sent as `agent_response` before the audio (omit for none). */
  text?: string;
  /** Also stream `agent_chat_response_part` start/delta/stop (default false). */
  parts?: boolean;
}

/** How a scripted agent response ended. */
export interface AgentResponseResult {
  eventId: number;
  status: 'completed' | 'interrupted' | 'closed';
  /** Audio events sent. */
  chunks: number;
}

/** A `client_tool_result` the client sent. */
export interface ToolResultRecord {
  conn: number;
  toolCallId: string;
  result: string;
  isError: boolean;
  /** False when the id was not an outstanding `client_tool_call`. */
  matched: boolean;
}

interface Turn {
  eventId: number;
  text: string;
  spokenFraction: number;
  state: 'streaming' | 'interrupted' | 'done';
}

const RATE: Record<AudioFormat, number> = {
  pcm_8000: 8000,
  pcm_16000: 16000,
  pcm_22050: 22050,
  pcm_24000: 24000,
  pcm_44100: 44100,
  pcm_48000: 48000,
  ulaw_8000: 8000,
};

/** Sample rate of a format. */
export function formatRate(f: AudioFormat): number {
  return RATE[f];
}

let toolSeq = 0;

/** Leaf paths of the overrides that carry a value (the SDK sends empty objects for unset groups). */
function overridePaths(v: Json, prefix: string, out: string[]): string[] {
  if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) overridePaths(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (v !== null) {
    out.push(prefix);
  }
  return out;
}

/** One client connection of the fake ElevenLabs server. */
export class ElevenLabsConnection extends BaseConnection {
  /** The `conversation_initiation_client_data` message once accepted, else null. */
  initiation: JsonObject | null = null;
  /** Every `client_tool_result` received. */
  readonly toolResults: ToolResultRecord[] = [];
  /** `client_tool_call` ids not yet answered. */
  readonly pendingToolCalls = new Map<string, string>();
  /** Pings sent and whether each was answered (by `event_id`). */
  readonly pings: Array<{ eventId: number; sentAt: number; answeredAt: number | null }> = [];
  /** `user_audio_chunk` messages whose base64 was invalid. */
  invalidAudioChunks = 0;
  /** The last `event_id` used (they only grow). */
  lastEventId = 0;
  private turn: Turn | null = null;
  private pingTimer: (() => void) | null = null;

  constructor(
    ws: WebSocket,
    socket: Duplex,
    index: number,
    readonly agentId: string,
    readonly conversationId: string,
    readonly opts: ElevenLabsConnOptions,
    private readonly eh: ElevenLabsHost,
    authFailure: { code: number; reason: string } | null,
  ) {
    super(ws, socket, index, eh);
    ws.on('message', (data, isBinary) => this.onMessage(toBuffer(data), isBinary));
    if (authFailure) {
      this.close(authFailure.code, authFailure.reason);
      return;
    }
    if (opts.initiationTimeoutMs > 0) {
      this.after(opts.initiationTimeoutMs, () => {
        if (!this.initiation) this.close(1008, 'Timed out waiting for conversation_initiation_client_data');
      });
    }
  }

  /** True while an agent response is streaming. */
  get speaking(): boolean {
    return this.turn?.state === 'streaming';
  }

  /** Sends `{type, <payloadKey>: payload}` unless the agent's `client_events` filter it out. */
  event(type: string, payloadKey: string | null, payload?: JsonObject): boolean {
    if (this.opts.clientEvents && !this.opts.clientEvents.includes(type)) return false;
    this.writeJson(payloadKey ? { type, [payloadKey]: payload ?? {} } : { type });
    return true;
  }

  /** A new, larger `event_id`. */
  nextEventId(): number {
    return ++this.lastEventId;
  }

  /**
   * One agent turn: a new `event_id` shared by its `agent_response` (and parts) and every `audio`
   * event. Stops early on {@link interrupt}. Throws when a response is streaming.
   */
  async agentResponse(o: AgentResponseOptions = {}): Promise<AgentResponseResult> {
    if (this.speaking) throw new Error('fake elevenlabs server: the agent is already speaking');
    const eventId = this.nextEventId();
    const turn: Turn = { eventId, text: o.text ?? '', spokenFraction: 0, state: 'streaming' };
    this.turn = turn;
    if (o.parts && o.text !== undefined) {
      this.event('agent_chat_response_part', 'text_response_part', { text: '', type: 'start', event_id: eventId });
      for (const w of words(o.text)) {
        this.event('agent_chat_response_part', 'text_response_part', { text: w, type: 'delta', event_id: eventId });
      }
      this.event('agent_chat_response_part', 'text_response_part', { text: '', type: 'stop', event_id: eventId });
    }
    if (o.text !== undefined) this.event('agent_response', 'agent_response_event', { agent_response: o.text, event_id: eventId });
    const bytes = o.raw ?? (o.audio ? Buffer.from(pcmToBase64(o.audio), 'base64') : Buffer.alloc(0));
    const rate = formatRate(this.opts.outputFormat);
    const bytesPerSample = this.opts.outputFormat === 'ulaw_8000' ? 1 : 2;
    const per = Math.max(bytesPerSample, Math.round(((o.chunkMs ?? 100) * rate) / 1000) * bytesPerSample);
    const n = Math.ceil(bytes.length / per);
    let chunks = 0;
    for (let i = 0; i < n; i++) {
      if (turn.state !== 'streaming' || !this.isOpen) break;
      const chunk = bytes.subarray(i * per, (i + 1) * per);
      this.event('audio', 'audio_event', { audio_base_64: chunk.toString('base64'), event_id: eventId });
      chunks++;
      turn.spokenFraction = (i + 1) / n;
      if (i < n - 1) await pause(o.interval ?? 0);
    }
    if (turn.state === 'interrupted') return { eventId, status: 'interrupted', chunks };
    turn.state = 'done';
    return { eventId, status: this.isOpen ? 'completed' : 'closed', chunks };
  }

  /**
   * The user barges in: sends `interruption{event_id}` with a new id larger than every audio id sent
   * so far (so both SDK rules, Python's "drop audio ≤ id" and JS's "play audio ≥ id", drop the old
   * turn), stops the streaming turn, and with `correction` sends `agent_response_correction`.
   */
  interrupt(opts: { correction?: boolean | string } = {}): { eventId: number; interruptedEventId: number | null } {
    const t = this.turn;
    const interruptedEventId = t && t.state === 'streaming' ? t.eventId : null;
    if (t && t.state === 'streaming') t.state = 'interrupted';
    const eventId = this.nextEventId();
    this.event('interruption', 'interruption_event', { event_id: eventId });
    if (opts.correction && t && interruptedEventId !== null) {
      const all = words(t.text);
      const corrected =
        typeof opts.correction === 'string'
          ? opts.correction
          : all
              .slice(0, Math.floor(all.length * t.spokenFraction))
              .join('')
              .trimEnd();
      this.event('agent_response_correction', 'agent_response_correction_event', {
        original_agent_response: t.text,
        corrected_agent_response: corrected,
        event_id: t.eventId,
      });
    }
    return { eventId, interruptedEventId };
  }

  /** Sends `user_transcript` (or `tentative_user_transcript`) with a new `event_id`; returns it. */
  userTranscript(text: string, opts: { tentative?: boolean } = {}): number {
    const eventId = this.nextEventId();
    if (opts.tentative) {
      this.event('tentative_user_transcript', 'tentative_user_transcription_event', { user_transcript: text, event_id: eventId });
    } else {
      this.event('user_transcript', 'user_transcription_event', { user_transcript: text, event_id: eventId });
    }
    return eventId;
  }

  /** Sends `client_tool_call`; returns its `tool_call_id` (outstanding until a `client_tool_result`). */
  clientToolCall(o: { name: string; parameters?: JsonObject; id?: string }): string {
    const id = o.id ?? `toolu_${++toolSeq}`;
    this.pendingToolCalls.set(id, o.name);
    this.event('client_tool_call', 'client_tool_call', { tool_name: o.name, tool_call_id: id, parameters: o.parameters ?? {}, event_id: this.nextEventId() });
    return id;
  }

  /** Waits for the `client_tool_result` of `toolCallId`. */
  waitForToolResult(toolCallId: string, timeoutMs = 5000): Promise<ToolResultRecord> {
    return this.host.recorder.until(() => this.toolResults.find((r) => r.toolCallId === toolCallId), timeoutMs, `client_tool_result for ${toolCallId}`);
  }

  /** Sends one `ping` now; returns its `event_id`. */
  ping(): number {
    const eventId = this.nextEventId();
    const last = this.pings.filter((p) => p.answeredAt !== null).pop();
    const pingMs = last && last.answeredAt !== null ? last.answeredAt - last.sentAt : null;
    this.pings.push({ eventId, sentAt: Date.now(), answeredAt: null });
    this.event('ping', 'ping_event', { event_id: eventId, ping_ms: pingMs });
    if (this.opts.pongTimeoutMs > 0) {
      this.after(this.opts.pongTimeoutMs, () => {
        const p = this.pings.find((x) => x.eventId === eventId);
        if (p && p.answeredAt === null) this.close(this.opts.pongClose.code, this.opts.pongClose.reason);
      });
    }
    return eventId;
  }

  /** Sends `vad_score`. */
  vadScore(score: number): void {
    this.event('vad_score', 'vad_score_event', { vad_score: score });
  }

  /** Sends an `error` event and, unless `close` is false, closes with the same code. */
  error(o: { code: 1000 | 1002 | 1008 | 1011; errorType?: string; message?: string; close?: boolean }): void {
    this.event('error', 'error_event', { code: o.code, ...(o.errorType ? { error_type: o.errorType } : {}), ...(o.message ? { message: o.message } : {}) });
    if (o.close !== false) this.close(o.code, o.message ?? '');
  }

  /** The agent's `max_duration_seconds` reached: `error{max_duration_exceeded}` then close 1000. */
  maxDurationExceeded(): void {
    this.error({ code: 1000, errorType: 'max_duration_exceeded', message: 'Maximum conversation duration exceeded' });
  }

  /** The agent ends the call: close 1000. */
  endCall(reason = ''): void {
    this.close(1000, reason);
  }

  /** Sends one valid `audio` event exactly `bytes` long. */
  sendOversize(bytes: number): void {
    const head = '{"type":"audio","audio_event":{"audio_base_64":"';
    const tail = `","event_id":${this.nextEventId()}}}`;
    const room = bytes - head.length - tail.length;
    if (room < 4) throw new RangeError(`sendOversize: ${bytes} bytes is too small`);
    const b64 = Math.floor(room / 4) * 4;
    this.write(`${head}${Buffer.alloc((b64 / 4) * 3).toString('base64')}${tail}${' '.repeat(room - b64)}`);
  }

  protected override onClosed(): void {
    this.pingTimer?.();
    if (this.turn?.state === 'streaming') this.turn.state = 'done';
  }

  private startPings(): void {
    if (this.opts.pingIntervalMs <= 0) return;
    const loop = (): void => {
      this.ping();
      this.pingTimer = this.after(this.opts.pingIntervalMs, loop);
    };
    this.pingTimer = this.after(this.opts.pingIntervalMs, loop);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const rec = this.host.recorder;
    const m = parseJson(data);
    if (!isObject(m)) {
      rec.addReceived({ conn: this.index, type: '(invalid)', message: { raw: data.toString('utf8') }, binary: isBinary, at: Date.now() });
      return this.error({ code: 1002, errorType: 'invalid_message', message: 'Invalid message received' });
    }
    const audio = stringAt(m, 'user_audio_chunk');
    const type = audio !== undefined ? 'user_audio_chunk' : (stringAt(m, 'type') ?? '(untyped)');
    rec.addReceived({ conn: this.index, type, message: m, binary: isBinary, at: Date.now() });
    if (!this.initiation) {
      if (type !== 'conversation_initiation_client_data') {
        return this.close(1008, 'The first message must be conversation_initiation_client_data');
      }
      return this.onInitiation(m);
    }
    switch (type) {
      case 'user_audio_chunk':
        return this.onAudio(audio ?? '');
      case 'pong':
        return this.onPong(m);
      case 'client_tool_result':
        return this.onToolResult(m);
      case 'user_message':
        return this.onUserMessage(m);
      case 'conversation_initiation_client_data':
        return this.error({ code: 1008, errorType: 'invalid_message', message: 'Conversation already initiated' });
      default:
        if (!CLIENT_TYPES.includes(type)) {
          this.event('error', 'error_event', { code: 1002, error_type: 'invalid_message', message: `Unknown message type: ${type}` });
        }
    }
  }

  private onInitiation(m: JsonObject): void {
    const overrides = m['conversation_config_override'];
    if (overrides !== undefined && overrides !== null) {
      const paths = overridePaths(overrides, '', []);
      const allowed = this.opts.allowedOverrides;
      const denied = paths.find((p) => !allowed.some((a) => p === a || p.startsWith(`${a}.`)));
      if (denied) {
        const message = `Override for field '${denied}' is not allowed by config.`;
        return this.error({ code: 1008, errorType: 'override_error', message });
      }
    }
    this.initiation = m;
    this.event('conversation_initiation_metadata', 'conversation_initiation_metadata_event', {
      conversation_id: this.conversationId,
      agent_output_audio_format: this.opts.outputFormat,
      user_input_audio_format: this.opts.inputFormat,
    });
    this.startPings();
  }

  private onAudio(b64: string): void {
    if (!isBase64(b64)) {
      this.invalidAudioChunks++;
      return;
    }
    const bytes = Buffer.from(b64, 'base64');
    if (this.opts.inputFormat === 'ulaw_8000') {
      this.host.recorder.addAudio(this.index, Int16Array.from(bytes));
    } else {
      this.host.recorder.addAudio(this.index, bytesToPcm(bytes));
    }
  }

  private onPong(m: JsonObject): void {
    const id = m['event_id'];
    const p = this.pings.find((x) => x.eventId === id && x.answeredAt === null);
    if (p) p.answeredAt = Date.now();
    this.host.recorder.notify();
  }

  private onToolResult(m: JsonObject): void {
    const toolCallId = stringAt(m, 'tool_call_id') ?? '';
    const matched = this.pendingToolCalls.has(toolCallId);
    this.pendingToolCalls.delete(toolCallId);
    const result = m['result'];
    this.toolResults.push({
      conn: this.index,
      toolCallId,
      result: typeof result === 'string' ? result : JSON.stringify(result),
      isError: m['is_error'] === true,
      matched,
    });
    this.host.recorder.notify();
  }

  private onUserMessage(m: JsonObject): void {
    const hook = this.eh.onUserMessage;
    if (!hook) return;
    try {
      const p = hook(this, m);
      if (p) p.catch(() => this.error({ code: 1011, errorType: 'unknown', message: 'Internal error' }));
    } catch {
      this.error({ code: 1011, errorType: 'unknown', message: 'Internal error' });
    }
  }
}
