/**
 * One accepted WebSocket of the fake Gemini Live server (protocols.md 3): the `setup`-first rule,
 * validation that closes with 1007/1008/1011 and a reason as the service does, decoding of
 * `realtimeInput` audio, tool responses, and the scripting controls (model turns, barge-in, tool
 * calls, goAway, session resumption handles).
 */
import type { WebSocket } from 'ws';
import type { Duplex } from 'node:stream';
import {
  BaseConnection,
  bytesToPcm,
  isBase64,
  isObject,
  objectAt,
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

/** Output rate of Gemini Live audio (`audio/pcm;rate=24000`). */
export const OUTPUT_RATE = 24000;
/** Native input rate (`audio/pcm;rate=16000`). */
export const INPUT_RATE = 16000;

/** Close reasons the service uses. */
export const REASONS = {
  invalidArgument: 'Request contains an invalid argument.',
  badKey: 'API key not valid. Please pass a valid API key.',
  badToken: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or ' + 'other valid authentication credential.',
  internal: 'Internal error encountered.',
  deadline: 'Deadline expired before operation could complete.',
  activityControl: 'Explicit activity control is not supported when automatic activity detection is enabled.',
} as const;

const CLIENT_KEYS: Record<string, string> = {
  setup: 'setup',
  clientContent: 'clientContent',
  client_content: 'clientContent',
  realtimeInput: 'realtimeInput',
  realtime_input: 'realtimeInput',
  toolResponse: 'toolResponse',
  tool_response: 'toolResponse',
  contextUpdate: 'contextUpdate',
  context_update: 'contextUpdate',
};
const SETUP_KEYS = new Set([
  'model',
  'generationConfig',
  'systemInstruction',
  'tools',
  'realtimeInputConfig',
  'sessionResumption',
  'contextWindowCompression',
  'inputAudioTranscription',
  'outputAudioTranscription',
  'proactivity',
  'historyConfig',
  'explicitVadSignal',
  'avatarConfig',
  'safetySettings',
  'labels',
]);
const camel = (k: string): string => k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/** Called on a client turn: `clientContent` with `turnComplete`, or `realtimeInput.text`. */
export type ClientTurnHook = (conn: GeminiConnection, message: JsonObject) => void | Promise<unknown>;

/** What a connection needs from its server. */
export interface GeminiHost extends ConnHost {
  readonly recorder: Recorder;
  readonly onClientTurn: ClientTurnHook | undefined;
  /** Checks a setup (model, resumption handle); returns a close to perform, or null to accept. */
  checkSetup(conn: GeminiConnection, setup: JsonObject): { code: number; reason: string } | null;
  /** Registers a new resumption handle for `conn`. */
  newHandle(conn: GeminiConnection): string;
  readonly options: {
    setupCompleteBinary: boolean;
    binaryFrames: boolean;
    sessionId: boolean;
    maxConnectionMs: number;
    goAwayBeforeMs: number;
    capClose: { code: number; reason: string };
  };
}

/** Options of {@link GeminiConnection.sendTurn}. */
export interface SendTurnOptions {
  /** Reply audio, PCM16 24 kHz. */
  audio?: Int16Array;
  /** Audio per message in ms (default 40). */
  chunkMs?: number;
  /** Pause between messages in ms (default 0). */
  interval?: number;
  /** Output transcription (sent as word fragments only when `outputAudioTranscription` was set up). */
  transcript?: string;
  /** Text parts (TEXT modality), sent as word fragments. */
  text?: string;
  /** Input transcription sent first (only when `inputAudioTranscription` was set up). */
  inputTranscript?: string;
  /** Stop before `generationComplete`/`turnComplete`; send them with `finishTurn()` (default false). */
  holdComplete?: boolean;
}

/** How a turn ended. */
export type TurnOutcome = 'completed' | 'interrupted' | 'held' | 'closed';

/** One function call of a scripted `toolCall`. */
export interface FunctionCallSpec {
  name: string;
  args?: JsonObject;
  /** Default: a new `function-call-…` id. */
  id?: string;
}

/** A `toolResponse.functionResponses[]` entry the client sent. */
export interface ToolResponseRecord {
  conn: number;
  id: string;
  name: string;
  response: Json;
  /** False when the id was not an outstanding call (unknown, answered twice, or cancelled). */
  matched: boolean;
}

interface Turn {
  state: 'streaming' | 'held' | 'interrupted' | 'done';
  samples: number;
}

let callSeq = 0;
const durationString = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(3)}s`);

/** One client connection of the fake Gemini Live server. */
export class GeminiConnection extends BaseConnection {
  /** The `setup` payload once accepted (camelCase keys), else null. */
  setup: JsonObject | null = null;
  /** The handle this connection resumed from, or null for a new session. */
  resumedFrom: string | null = null;
  /** Handles sent to this connection, oldest first. */
  readonly handles: string[] = [];
  /** Sample rate declared by each `realtimeInput.audio` chunk, in order. */
  readonly inputRates: number[] = [];
  /** Every function response received. */
  readonly toolResponses: ToolResponseRecord[] = [];
  /** Ids of tool calls sent and not yet answered or cancelled. */
  readonly pendingCalls = new Map<string, string>();
  /** Number of client messages (the service's "client message index"). */
  clientMessages = 0;
  private turn: Turn | null = null;
  private activityOpen = false;
  private ready = false;

  constructor(
    ws: WebSocket,
    socket: Duplex,
    index: number,
    readonly endpoint: 'key' | 'token',
    authFailure: { code: number; reason: string } | null,
    private readonly gh: GeminiHost,
  ) {
    super(ws, socket, index, gh);
    ws.on('message', (data, isBinary) => this.onMessage(toBuffer(data), isBinary));
    if (authFailure) this.close(authFailure.code, authFailure.reason);
  }

  /** True once `setupComplete` was sent. */
  get isReady(): boolean {
    return this.ready;
  }
  /** True while a turn is streaming or held. */
  get turnActive(): boolean {
    return this.turn !== null && (this.turn.state === 'streaming' || this.turn.state === 'held');
  }
  /** `realtimeInputConfig.automaticActivityDetection.disabled` of the setup. */
  get vadDisabled(): boolean {
    const aad = objectAt(objectAt(this.setup, 'realtimeInputConfig'), 'automaticActivityDetection');
    return aad?.['disabled'] === true;
  }

  /** Sends one server message (JSON; binary frame when the server's `binaryFrames` is on). */
  send(message: JsonObject, binary = this.gh.options.binaryFrames): void {
    this.writeJson(message, binary);
  }

  /** Closes with a service error: 1007 (invalid argument), 1008 (policy), 1011 (internal), and a reason. */
  fail(code: 1007 | 1008 | 1011 | number, reason: string): void {
    this.close(code, reason);
  }

  /** Streams one model turn; resolves with how it ended. Throws when a turn is active. */
  async sendTurn(opts: SendTurnOptions = {}): Promise<TurnOutcome> {
    if (this.turnActive) throw new Error('fake gemini server: a turn is already active');
    const turn: Turn = { state: 'streaming', samples: 0 };
    this.turn = turn;
    if (opts.inputTranscript !== undefined) this.inputTranscription(opts.inputTranscript, true);
    const audio = opts.audio ?? new Int16Array(0);
    const per = Math.max(1, Math.round(((opts.chunkMs ?? 40) * OUTPUT_RATE) / 1000));
    const chunks = Math.ceil(audio.length / per);
    const transcript = this.setupHas('outputAudioTranscription') ? words(opts.transcript ?? '') : [];
    const text = words(opts.text ?? '');
    const steps = Math.max(chunks, text.length);
    let w = 0;
    for (let i = 0; i < steps; i++) {
      if (turn.state !== 'streaming' || !this.isOpen) break;
      const parts: Json[] = [];
      if (i < chunks) {
        const chunk = audio.subarray(i * per, (i + 1) * per);
        parts.push({ inlineData: { mimeType: `audio/pcm;rate=${OUTPUT_RATE}`, data: pcmToBase64(chunk) } });
        turn.samples += chunk.length;
      }
      if (i < text.length) parts.push({ text: text[i] ?? '' });
      this.send({ serverContent: { modelTurn: { parts } } });
      for (const upto = Math.ceil(((i + 1) * transcript.length) / steps); w < upto; w++) {
        this.send({ serverContent: { outputTranscription: { text: transcript[w] ?? '' } } });
      }
      if (i < steps - 1) await pause(opts.interval ?? 0);
    }
    for (; turn.state === 'streaming' && w < transcript.length; w++) {
      this.send({ serverContent: { outputTranscription: { text: transcript[w] ?? '' } } });
    }
    if (turn.state === 'interrupted') return 'interrupted';
    if (!this.isOpen) {
      turn.state = 'done';
      return 'closed';
    }
    if (opts.holdComplete) {
      turn.state = 'held';
      return 'held';
    }
    this.complete(turn);
    return 'completed';
  }

  /** Sends `generationComplete` and `turnComplete` of a held turn; false when none is held. */
  finishTurn(): boolean {
    if (this.turn?.state !== 'held') return false;
    this.complete(this.turn);
    return true;
  }

  /**
   * The user starts speaking (server VAD): with `activityHandling` not `NO_INTERRUPTION` and a turn
   * active, sends `serverContent.interrupted:true` then `turnComplete:true` (no `generationComplete`),
   * and cancels outstanding tool calls with `toolCallCancellation`. Optional input transcription.
   */
  userSpeech(opts: { inputTranscript?: string; voiceActivity?: boolean } = {}): { interrupted: boolean; cancelledCalls: string[] } {
    if (opts.voiceActivity) this.send({ voiceActivity: { voiceActivityType: 'ACTIVITY_START' } });
    const handling = stringAt(objectAt(this.setup, 'realtimeInputConfig'), 'activityHandling');
    let interrupted = false;
    let cancelledCalls: string[] = [];
    if (handling !== 'NO_INTERRUPTION') {
      if (this.turnActive && this.turn) {
        this.turn.state = 'interrupted';
        this.send({ serverContent: { interrupted: true } });
        this.send({ serverContent: { turnComplete: true } });
        interrupted = true;
      }
      cancelledCalls = [...this.pendingCalls.keys()];
      if (cancelledCalls.length > 0) this.toolCallCancellation(cancelledCalls);
    }
    if (opts.inputTranscript !== undefined) this.inputTranscription(opts.inputTranscript);
    return { interrupted, cancelledCalls };
  }

  /** Sends `serverContent.inputTranscription` (only when `inputAudioTranscription` was set up; returns false otherwise). */
  inputTranscription(text: string, finished?: boolean): boolean {
    if (!this.setupHas('inputAudioTranscription')) return false;
    this.send({ serverContent: { inputTranscription: { text, ...(finished !== undefined ? { finished } : {}) } } });
    return true;
  }

  /** Sends `toolCall.functionCalls`; returns their ids (outstanding until answered or cancelled). */
  toolCall(calls: FunctionCallSpec[]): string[] {
    const functionCalls = calls.map((c) => ({ id: c.id ?? `function-call-${++callSeq}`, name: c.name, args: c.args ?? {} }));
    for (const c of functionCalls) this.pendingCalls.set(c.id, c.name);
    this.send({ toolCall: { functionCalls } });
    return functionCalls.map((c) => c.id);
  }

  /** Sends `toolCallCancellation{ids}`; the ids are no longer outstanding. */
  toolCallCancellation(ids: string[]): void {
    for (const id of ids) this.pendingCalls.delete(id);
    this.send({ toolCallCancellation: { ids } });
  }

  /** Waits for the client's function response to call `id`. */
  waitForToolResponse(id: string, timeoutMs = 5000): Promise<ToolResponseRecord> {
    return this.host.recorder.until(() => this.toolResponses.find((r) => r.id === id), timeoutMs, `toolResponse for ${id}`);
  }

  /** Sends `goAway{timeLeft}` (a duration string such as "50s"). */
  goAway(timeLeftMs: number): void {
    this.send({ goAway: { timeLeft: durationString(timeLeftMs) } });
  }

  /** The connection cap by hand: `goAway`, then after `timeLeftMs` a close (default the server's cap close). */
  endConnection(timeLeftMs: number, close = this.gh.options.capClose): void {
    this.goAway(timeLeftMs);
    this.after(timeLeftMs, () => this.close(close.code, close.reason));
  }

  /** Sends `sessionResumptionUpdate`; when resumable, a new handle (returned) that a later `setup` may resume. */
  resumptionUpdate(resumable = true): string | null {
    if (!resumable) {
      this.send({ sessionResumptionUpdate: { resumable: false } });
      return null;
    }
    const newHandle = this.gh.newHandle(this);
    this.handles.push(newHandle);
    this.send({ sessionResumptionUpdate: { newHandle, resumable: true, lastConsumedClientMessageIndex: String(Math.max(0, this.clientMessages - 1)) } });
    return newHandle;
  }

  /** Sends `voiceActivity{voiceActivityType}`. */
  voiceActivity(type: 'ACTIVITY_START' | 'ACTIVITY_END'): void {
    this.send({ voiceActivity: { voiceActivityType: type } });
  }

  /** Sends one valid `serverContent` audio message exactly `bytes` long. */
  sendOversize(bytes: number): void {
    const head = `{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=24000","data":"`;
    const tail = '"}}]}}}';
    const room = bytes - head.length - tail.length;
    if (room < 4) throw new RangeError(`sendOversize: ${bytes} bytes is too small`);
    const b64 = Math.floor(room / 4) * 4;
    const data = Buffer.alloc((b64 / 4) * 3).toString('base64');
    this.write(`${head}${data}${tail}${' '.repeat(room - b64)}`);
  }

  protected override onClosed(): void {
    if (this.turn && this.turn.state !== 'interrupted') this.turn.state = 'done';
  }

  private setupHas(key: string): boolean {
    return this.setup !== null && this.setup[key] !== undefined && this.setup[key] !== null;
  }

  private complete(turn: Turn): void {
    turn.state = 'done';
    this.send({ serverContent: { generationComplete: true } });
    const responseTokens = Math.ceil((turn.samples / OUTPUT_RATE) * 25);
    this.send({
      serverContent: { turnComplete: true },
      usageMetadata: {
        promptTokenCount: 10,
        responseTokenCount: responseTokens,
        totalTokenCount: 10 + responseTokens,
        responseTokensDetails: [{ modality: 'AUDIO', tokenCount: responseTokens }],
      },
    });
    if (this.setupHas('sessionResumption')) this.resumptionUpdate(true);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const rec = this.host.recorder;
    const parsed = parseJson(data);
    if (!isObject(parsed)) {
      rec.addReceived({ conn: this.index, type: '(invalid)', message: { raw: data.toString('utf8') }, binary: isBinary, at: Date.now() });
      return this.fail(1007, 'Invalid JSON payload received. Unexpected token.');
    }
    const keys = Object.keys(parsed);
    const key = keys.length === 1 ? CLIENT_KEYS[keys[0] ?? ''] : undefined;
    rec.addReceived({ conn: this.index, type: key ?? `(${keys.join(',')})`, message: parsed, binary: isBinary, at: Date.now() });
    this.clientMessages++;
    if (keys.length !== 1) return this.fail(1007, REASONS.invalidArgument);
    if (!key) return this.fail(1007, `Invalid JSON payload received. Unknown name "${keys[0]}": Cannot find field.`);
    const body = parsed[keys[0] ?? ''];
    if (!isObject(body)) return this.fail(1007, REASONS.invalidArgument);
    if (!this.ready) {
      if (key !== 'setup') return this.fail(1007, REASONS.invalidArgument);
      return this.onSetup(body);
    }
    switch (key) {
      case 'setup':
        return this.fail(1007, REASONS.invalidArgument);
      case 'realtimeInput':
        return this.onRealtimeInput(body);
      case 'clientContent':
        if (body['turnComplete'] === true || body['turn_complete'] === true) this.clientTurn(parsed);
        return;
      case 'toolResponse':
        return this.onToolResponse(body);
      default:
        return;
    }
  }

  private onSetup(raw: JsonObject): void {
    const setup: JsonObject = {};
    for (const [k, v] of Object.entries(raw)) setup[camel(k)] = v;
    const unknown = Object.keys(setup).find((k) => !SETUP_KEYS.has(k));
    if (unknown) {
      return this.fail(1007, `Invalid JSON payload received. Unknown name "${unknown}" at 'setup': Cannot find field.`);
    }
    const gc = objectAt(setup, 'generationConfig');
    const modalities = gc?.['responseModalities'] ?? gc?.['response_modalities'];
    if (Array.isArray(modalities) && modalities.length > 1) return this.fail(1007, REASONS.invalidArgument);
    const verdict = this.gh.checkSetup(this, setup);
    if (verdict) return this.fail(verdict.code, verdict.reason);
    this.setup = setup;
    this.ready = true;
    const o = this.gh.options;
    this.send({ setupComplete: o.sessionId ? { sessionId: `session-${this.index}-${Date.now()}` } : {} }, o.setupCompleteBinary || o.binaryFrames);
    if (this.setupHas('sessionResumption')) this.resumptionUpdate(true);
    if (o.maxConnectionMs > 0) {
      const before = Math.min(o.goAwayBeforeMs, o.maxConnectionMs);
      this.after(o.maxConnectionMs - before, () => this.goAway(before));
      this.after(o.maxConnectionMs, () => this.close(o.capClose.code, o.capClose.reason));
    }
  }

  private onRealtimeInput(body: JsonObject): void {
    const blobs: Json[] = [];
    if (body['audio'] !== undefined) blobs.push(body['audio']);
    if (Array.isArray(body['mediaChunks'])) blobs.push(...body['mediaChunks']);
    for (const blob of blobs) {
      const mime = stringAt(blob, 'mimeType') ?? stringAt(blob, 'mime_type');
      const data = stringAt(blob, 'data');
      if (mime?.startsWith('image/') || mime?.startsWith('video/')) continue;
      const m = mime ? /^audio\/pcm(?:\s*;\s*rate=(\d+))?$/.exec(mime) : null;
      if (!m || data === undefined) return this.fail(1007, REASONS.invalidArgument);
      if (!isBase64(data)) {
        return this.fail(1007, "Invalid value at 'realtime_input.audio.data' (TYPE_BYTES), Base64 decoding failed");
      }
      this.inputRates.push(m[1] ? Number(m[1]) : INPUT_RATE);
      this.host.recorder.addAudio(this.index, bytesToPcm(Buffer.from(data, 'base64')));
    }
    const start = body['activityStart'] !== undefined;
    const end = body['activityEnd'] !== undefined;
    if ((start || end) && !this.vadDisabled) return this.fail(1007, REASONS.activityControl);
    if (start) this.activityOpen = true;
    if (end) this.activityOpen = false;
    if (typeof body['text'] === 'string') this.clientTurn({ realtimeInput: body });
  }

  private onToolResponse(body: JsonObject): void {
    const list = body['functionResponses'] ?? body['function_responses'];
    if (!Array.isArray(list) || list.length === 0) return this.fail(1007, REASONS.invalidArgument);
    for (const r of list) {
      const id = stringAt(r, 'id');
      const name = stringAt(r, 'name');
      if (!id || !name) return this.fail(1007, REASONS.invalidArgument);
      const matched = this.pendingCalls.get(id) === name;
      if (matched) this.pendingCalls.delete(id);
      this.toolResponses.push({ conn: this.index, id, name, response: isObject(r) ? (r['response'] ?? null) : null, matched });
    }
    this.host.recorder.notify();
  }

  private clientTurn(message: JsonObject): void {
    const hook = this.gh.onClientTurn;
    if (!hook) return;
    try {
      const p = hook(this, message);
      if (p) p.catch(() => this.fail(1011, REASONS.internal));
    } catch {
      this.fail(1011, REASONS.internal);
    }
  }

  /** True between a client `activityStart` and `activityEnd`. */
  get activityInProgress(): boolean {
    return this.activityOpen;
  }
}
