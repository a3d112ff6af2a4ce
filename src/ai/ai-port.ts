import { EventEmitter } from 'node:events';
import { AudioMedia } from '../media/audio-media.js';
import type { AudioEngine } from '../media/engine.js';
import { MediaError } from '../media/errors.js';
import { AudioMediaRing } from '../media/ring.js';
import type { AiBackend, BackendSignal, Frame } from './backend.js';
import { BACKENDS } from './backends/index.js';
import { Backoff } from './backoff.js';
import type { CloseInfo } from './connection.js';
import { Dialer, type DialFailure, type Link } from './dialer.js';
import { AiConnection } from './connection.js';
import { FramedUplink } from './framed-uplink.js';
import { NativeUplink } from './native-uplink.js';
import { LOCAL_PEERS } from './local/index.js';
import { ConversationMemory } from './context.js';
import { resolveParam, redact, type PortLimits } from './param.js';
import { Playout } from './playout.js';
import { SendQueue } from './send-queue.js';
import { BUILTIN_TOOLS, findBuiltin, PendingCalls, type DeviceControls } from './tools.js';
import type { AiEvent, AiLogger, AiPortParam, AiState } from './types.js';
import { AiError } from './errors.js';
import { connectionFailure } from './failures.js';
import { LatencyWindow, monotonicUs, type LatencySummary } from './latency.js';
import { LinkTimers } from './link-timers.js';
import { MicAgePolicy } from './mic-age.js';
import { PushToTalk } from './push-to-talk.js';
import { KeepAlive } from './keepalive.js';
import { RateAdapter } from './rate-adapter.js';
import { ResponseSerializer } from './responses.js';

/** Timers of one connection: they end with it and never act on the next one. */
type LinkTimerName = 'session' | 'lifetime' | 'renewal' | 'expiry' | 'ending';

/** Options that are not part of the (serialisable) parameters. */
export interface AiPortOptions {
  logger?: AiLogger;
  /** What the built-in volume and mute tools act on; default: the engine's playback level and this port's mute. */
  controls?: DeviceControls;
}

/** Counters of an AI port. */
export interface AiPortStats {
  state: AiState;
  sentMs: number;
  receivedMs: number;
  /** Reply audio actually played into the bridge. */
  playedMs: number;
  /** Microphone audio not sent: dropped under back-pressure or stale (staleSendMs included). */
  droppedSendMs: number;
  /** Microphone audio dropped because it was older than maxMicAgeMs when it could have left. */
  staleSendMs: number;
  droppedPlayoutMs: number;
  lateAudioMs: number;
  /** From the capture of a batch's last sample to the batch written to the socket. */
  micToWireMs: LatencySummary;
  /** From the service's speech_started arriving to playback stopping on the audio thread. */
  bargeInMs: LatencySummary;
  malformedMessages: number;
  unknownMessages: number;
  reconnects: number;
}

const defaultLogger: AiLogger = { warn: (m) => process.stderr.write(`speakerd ai: ${m}\n`), info: () => {} };

/**
 * A bridge port that holds the conversation with a real-time speech-to-speech service.
 * Connect the microphone to it and it to the speaker: `captureMedia.startTransmit(ai)`,
 * `ai.startTransmit(playbackMedia)`. The port owns the socket, the send queue, reconnection, session
 * renewal and barge-in; the backend only translates. Events arrive through onEvent() (override it)
 * and `on('event', …)`.
 */
export class AudioMediaAiPort extends AudioMedia {
  private readonly emitter = new EventEmitter();
  private readonly logger: AiLogger;
  private readonly controlsOverride: DeviceControls | undefined;
  private param: AiPortParam | null = null;
  private limits!: PortLimits;
  private backend!: AiBackend;
  private ring: AudioMediaRing | null = null;
  /** The uplink's fast path, for a backend that declares its audio template (null: encodeAudio() per batch). */
  private framed: FramedUplink | null = null;
  /** The microphone sent by the addon's thread, for a backend with a template (null: none). */
  private nativeUplink: NativeUplink | null = null;
  private playout!: Playout;
  private queue!: SendQueue;
  private backoff!: Backoff;
  private memory!: ConversationMemory;
  private connection: Link | null = null;
  private dialer!: Dialer;
  private state: AiState = 'idle';
  private url = '';
  private token: string | null = null;
  private userClosed = true;
  private sessionReady = false;
  private everReady = false;
  private renewing = false;
  private renewalDue = false;
  private fatalSeen: string | null = null;
  private lastFatalReported: string | null = null;
  private readonly responses = new ResponseSerializer();
  private muted = false;
  /** Timers of the current connection (replaced with each connection). */
  private link = new LinkTimers<LinkTimerName>();
  private retryTimer: NodeJS.Timeout | null = null;
  /** Counts open() calls and disconnects: an asynchronous step of an older attempt sees it changed. */
  private attempt = 0;
  /** The connect failure last reported, so that a cause is logged once per change, not per retry. */
  private lastConnectCause: string | null = null;
  private readonly calls = new PendingCalls();
  private counters = { sentSamples: 0, receivedSamples: 0, malformed: 0, unknown: 0, reconnects: 0 };
  private readonly micToWire = new LatencyWindow();
  private readonly bargeIn = new LatencyWindow();
  private speechHeardUs: number | null = null;
  private audioPlaying = false;
  private turn!: PushToTalk;
  private keepAlive: KeepAlive | null = null;
  /** Rate conversions when the service announced rates other than the ring's (null: none needed). */
  private micRate: RateAdapter | null = null;
  private replyRate: RateAdapter | null = null;
  /** The service refused the session configuration: no reconnect until it changes (or connect()). */
  private configRefused = false;
  /** A handle to resume the session on the next connection (Gemini), if the service gave one. */
  private resumeHandle: string | null = null;
  private resuming = false;
  private sessionId: string | undefined;
  private aborter: AbortController | null = null;

  /** A port not yet in the bridge: call createPort() next. */
  constructor(engine: AudioEngine, options: AiPortOptions = {}) {
    super(engine, -1);
    this.logger = options.logger ?? defaultLogger;
    this.controlsOverride = options.controls;
  }

  /** The bridge port id; throws ERR_PORT_NOT_CREATED before createPort(). */
  override get portId(): number {
    if (!this.ring) throw new MediaError('ERR_PORT_NOT_CREATED', 'call createPort() before using the AI port');
    return this.ring.portId;
  }

  /** Creates the media half with a backend chosen by `param.backend` (default 'openai'). */
  createPort(param: AiPortParam = {}): void {
    if (this.ring) throw new AiError('ERR_AI_STATE', 'createPort() was already called');
    this.limits = resolveParam(param);
    const factory = BACKENDS[param.backend ?? 'openai'];
    if (!factory) throw new RangeError(`param.backend must be one of ${Object.keys(BACKENDS).join(', ')}, got '${param.backend}'`);
    this.param = structuredClone(param);
    const builtins = (param.builtinTools ?? []).map((b) => BUILTIN_TOOLS[b].definition);
    this.backend = factory({ ...this.param, tools: [...(param.tools ?? []), ...builtins] });
    this.ring = AudioMediaRing.create(this.engine, {
      rate: this.backend.outputRate,
      txRate: this.backend.inputRate,
      batchMs: this.limits.batchMs,
      prebufferMs: this.limits.prebufferMs,
    });
    this.playout = new Playout(this.ring, this.backend.outputRate);
    const batchesQueued = Math.max(1, Math.round(this.limits.maxQueuedAudioMs / this.limits.batchMs));
    this.queue = new SendQueue({
      maxAudioMessages: batchesQueued,
      highWaterBytes: this.limits.sendHighWaterBytes,
      micAge: new MicAgePolicy(this.limits.maxMicAgeMs),
    });
    this.backoff = new Backoff(this.limits.reconnect);
    this.dialer = new Dialer({ limits: this.limits, logger: this.logger, binding: this.engine.binding });
    this.memory = new ConversationMemory(this.limits.contextTurns);
    this.turn = new PushToTalk(() => this.micRate?.toRate ?? this.backend.inputRate);
    for (const warning of this.backend.startupWarnings()) this.logger.warn(warning);
    const template = this.backend.audioTemplate;
    this.framed = template ? new FramedUplink(this.ring, template) : null;
    this.nativeUplink = template && this.limits.nativeSocket ? new NativeUplink(this.engine, this.ring, template, this.limits, this.micToWire) : null;
    this.ring.setTxReader((timeUs, waiting) => this.microphoneReady(timeUs, waiting));
    this.ring.on('tx', (batch, capturedUs) => this.sendMicrophone(batch, capturedUs));
    this.ring.on('flushed', (_played, timeUs) => {
      if (this.speechHeardUs !== null) this.bargeIn.add((timeUs - this.speechHeardUs) / 1000);
      this.speechHeardUs = null;
      this.audioFinished(true);
    });
    this.ring.on('drained', () => {
      // A drain mark of an earlier item can be reached while a later item still waits in the ring.
      if (!this.playout.busy) this.audioFinished(false);
      // Between replies the playout ring's pages go back to the system (a no-op while audio waits).
      this.ring?.trim();
      this.maybeRenew();
    });
  }

  /** Connects to `url` (ws:// or wss://) with `token` (null for local servers), and keeps connected. */
  connect(url: string, token: string | null): void {
    this.requireCreated();
    if (typeof url !== 'string' || !/^(wss?|local):\/\//.test(url)) throw new TypeError('url must be a ws://, wss:// or local:// URL');
    if (url.startsWith('local://') && !LOCAL_PEERS[new URL(url).hostname]) {
      throw new RangeError(`no local service '${new URL(url).hostname}' (known: ${Object.keys(LOCAL_PEERS).join(', ')})`);
    }
    if (token !== null && (typeof token !== 'string' || token === '')) throw new TypeError('token must be a non-empty string or null');
    new URL(url);
    if (!this.userClosed) this.disconnect();
    this.url = url;
    this.token = token;
    this.userClosed = false;
    this.lastConnectCause = null;
    this.lastFatalReported = null;
    this.configRefused = false;
    this.resumeHandle = null;
    this.backoff.reset();
    this.open();
  }

  /** Closes the connection (code 1000) and stops reconnecting. */
  disconnect(): void {
    this.userClosed = true;
    this.attempt++;
    this.aborter?.abort();
    this.clearTimers();
    if (this.connection) {
      this.setState('closing');
      this.connection.close(1000, 'client disconnect');
    } else {
      this.setState('idle');
    }
  }

  /** Disconnects and removes the port from the bridge. */
  destroy(): void {
    this.disconnect();
    this.ring?.destroy();
  }

  /**
   * Whether reply audio remains in the playout ring, not yet played (also after the link dropped:
   * what arrived plays out, and `audio_done` follows once the ring has drained). False again at the
   * tick that applies a flush (barge-in, interrupt()).
   */
  isPlayingOut(): boolean {
    return this.ring !== null && this.playout.busy;
  }

  /** Whether a configured session is up. */
  isConnected(): boolean {
    return this.sessionReady;
  }

  /** idle, connecting, connected, reconnecting, closing or failed. */
  getState(): AiState {
    return this.state;
  }

  /** Override to receive every event (called before the 'event' listeners). */
  onEvent(event: AiEvent): void {
    void event;
  }

  /** Listens for events. */
  on(name: 'event', listener: (event: AiEvent) => void): this {
    this.emitter.on(name, listener);
    return this;
  }

  /** Stops listening. */
  off(name: 'event', listener: (event: AiEvent) => void): this {
    this.emitter.off(name, listener);
    return this;
  }

  /** Injects a user turn as text and asks for a reply. */
  say(text: string): void {
    if (typeof text !== 'string' || text.trim() === '') throw new TypeError('text must be a non-empty string');
    this.requireSession();
    this.sendControl(this.backend.userText(text));
    this.memory.add('user', text);
    this.requestResponse();
  }

  /** Stops the reply now: playback stops on the next tick and the service is told what was heard. */
  interrupt(): void {
    this.requireCreated();
    this.stopPlayback(true);
  }

  /**
   * Push-to-talk (turnDetection null): opens a user turn. The microphone goes to the service only
   * while a turn is open; a reply still playing is cut off (the user talks over it). Throws
   * ERR_AI_STATE when the service's own voice detection is on, ERR_AI_NOT_CONNECTED without a session.
   */
  startTurn(): void {
    this.requireManualTurns();
    this.requireSession();
    if (!this.turn.start()) return;
    if (this.playout.busy || this.responses.isActive) this.stopPlayback(true);
    this.sendControl(this.backend.startTurn());
    this.emitEvent({ type: 'turn', open: true });
  }

  /**
   * Push-to-talk: closes the user turn. With at least 100 ms of audio it is committed and a reply
   * requested; a shorter turn is cleared. Nothing happens when no turn is open.
   */
  endTurn(): void {
    this.requireManualTurns();
    const end = this.turn.end();
    if (end === null || !this.sessionReady) return;
    if (end === 'clear') {
      this.sendControl(this.backend.clearTurn());
    } else {
      const commit = this.backend.commitTurn();
      this.sendControl(commit.frames);
      if (commit.requestResponse) this.requestResponse();
    }
    this.emitEvent({ type: 'turn', open: false, committed: end === 'commit' });
  }

  /** Whether a push-to-talk turn is open. */
  isTurnOpen(): boolean {
    return this.turn?.isOpen ?? false;
  }

  /**
   * Answers a tool call forwarded as a 'tool_call' event, then asks for the spoken reply. Throws
   * AiError ERR_UNKNOWN_CALL for a call id this session did not issue or that was already answered
   * (calls are forgotten when the session ends).
   */
  sendToolResult(callId: string, output: unknown): void {
    if (typeof callId !== 'string' || callId === '') throw new TypeError('callId must be a non-empty string');
    this.requireCreated();
    if (!this.calls.take(callId)) {
      throw new AiError(
        'ERR_UNKNOWN_CALL',
        `no open tool call '${callId.slice(0, 100)}' in this session (never issued, already answered, or from an ended session)`,
      );
    }
    this.requireSession();
    const text = typeof output === 'string' ? output : JSON.stringify(output);
    this.sendControl(this.backend.toolResult(callId, this.calls.nameOf(callId), text));
    this.memory.toolResult(callId, text);
    this.requestResponse();
  }

  /**
   * Applies new parameters to the running session (voice, instructions, transcription, tools …):
   * a session.update at once, or a session renewal between replies when the voice changes (a
   * service cannot change the voice of a session that has spoken). Media and limit fields
   * (batchMs, prebufferMs, backend, dialect) need a new port and are refused here.
   */
  reconfigure(param: AiPortParam): void {
    this.requireCreated();
    resolveParam(param);
    const fixed = ['backend', 'dialect', 'batchMs', 'prebufferMs', 'model'] as const;
    for (const key of fixed) {
      if (JSON.stringify(param[key]) !== JSON.stringify(this.param?.[key])) throw new AiError('ERR_AI_STATE', `param.${key} cannot change on a live port`);
    }
    const voiceChanged = param.voice !== this.param?.voice;
    this.param = structuredClone(param);
    const builtins = (param.builtinTools ?? []).map((b) => BUILTIN_TOOLS[b].definition);
    this.backend.reconfigure({ ...this.param, tools: [...(param.tools ?? []), ...builtins] });
    if (this.configRefused) {
      // A new configuration: try it (the refused one is not retried).
      this.configRefused = false;
      if (!this.userClosed && this.connection === null) this.open();
      return;
    }
    if (!this.sessionReady) return;
    if (voiceChanged) {
      this.renewalDue = true;
      this.maybeRenew();
    } else {
      this.sendControl(this.backend.sessionSetup());
    }
  }

  /** Mutes the microphone towards the service: digital silence is sent, so its VAD still ends turns. */
  setMuted(muted: boolean): void {
    if (typeof muted !== 'boolean') throw new TypeError('muted must be a boolean');
    this.requireCreated();
    this.muted = muted;
    this.ring?.adjustTxLevel(muted ? 0 : 1);
  }

  /** Whether the microphone is muted. */
  isMuted(): boolean {
    return this.muted;
  }

  /** The parameters, without secrets (the token and URL are not part of them). */
  toJSON(): AiPortParam {
    return structuredClone(this.param ?? {});
  }

  /** Parses and checks parameters written by toJSON(). */
  static paramFromJSON(text: string): AiPortParam {
    const param = JSON.parse(text) as AiPortParam;
    resolveParam(param);
    return param;
  }

  /** Counters in ms of audio and messages. */
  stats(): AiPortStats {
    const inMs = (samples: number, rate: number): number => Math.round((samples * 1000) / rate);
    const inRate = this.backend?.inputRate ?? 1;
    const outRate = this.backend?.outputRate ?? 1;
    const native = this.nativeUplink?.totals();
    return {
      state: this.state,
      sentMs: inMs(this.counters.sentSamples + (native?.sentSamples ?? 0), inRate),
      receivedMs: inMs(this.counters.receivedSamples, outRate),
      playedMs: inMs(this.ring && !this.ring.isDestroyed && !this.engine.isClosed ? this.ring.status().played : 0, outRate),
      droppedSendMs: inMs((this.queue?.droppedSamples ?? 0) + (native?.staleSamples ?? 0), inRate),
      staleSendMs: inMs((this.queue?.staleSamples ?? 0) + (native?.staleSamples ?? 0), inRate),
      droppedPlayoutMs: inMs(this.playout?.overflowSamples ?? 0, outRate),
      lateAudioMs: inMs(this.playout?.lateSamples ?? 0, outRate),
      micToWireMs: this.micToWire.summary(native?.latencies),
      bargeInMs: this.bargeIn.summary(),
      malformedMessages: this.counters.malformed,
      unknownMessages: this.counters.unknown,
      reconnects: this.counters.reconnects,
    };
  }

  // ---- connection ----

  private open(): void {
    this.clearRetry();
    const attempt = ++this.attempt;
    this.setState(this.everReady || this.renewing ? 'reconnecting' : 'connecting');
    this.aborter?.abort();
    const aborter = new AbortController();
    this.aborter = aborter;
    this.dialer.dial(
      this.backend,
      { url: this.url, token: this.token, tls: this.param?.tls, signal: aborter.signal },
      () => attempt === this.attempt && !this.userClosed,
      (link) => this.adopt(link),
      (failure) => this.dialFailed(failure),
    );
  }

  /** No connection could be started: reported once per cause and retried as the step calls for. */
  private dialFailed(failure: DialFailure): void {
    const message = redact(failure.error.message, this.token);
    switch (failure.step) {
      case 'plan':
        this.emitEvent({ type: 'error', code: 'ERR_AI_CONNECT', message, fatal: true });
        this.setState('failed');
        return;
      case 'prepare':
        this.reportConnectFailure(`prepare:${message}`, { code: 'ERR_AI_CONNECT', message: `preparing the connection failed: ${message}`, fatal: false });
        this.setState('reconnecting');
        this.retryTimer = setTimeout(() => this.open(), this.backoff.next());
        return;
      case 'tls': {
        const code = failure.error.code === 'ERR_CONFIG_FILE' ? 'ERR_CONFIG_FILE' : 'ERR_AI_CONNECT';
        this.reportConnectFailure(`tls-file:${message}`, { code, message, fatal: true });
        this.setState('failed');
        this.retryTimer = setTimeout(() => this.open(), this.limits.reconnect.fatalRetryMs);
        return;
      }
    }
  }

  /** A connection was started: its events are heard only while it is the current one. */
  private adopt(connection: Link): void {
    this.connection = connection;
    this.link.clear();
    this.link = new LinkTimers<LinkTimerName>();
    connection.on('open', () => this.connection === connection && this.opened(connection));
    connection.on('message', (frame: Frame) => this.connection === connection && this.received(frame));
    connection.on('uplink', () => this.connection === connection && this.queue.pump());
    connection.on('close', (info: CloseInfo) => this.connection === connection && this.closed(info));
  }

  private opened(connection: Link): void {
    this.lastConnectCause = null;
    this.queue.attach(connection);
    const keepAliveMs = this.backend.keepAliveMs;
    if (keepAliveMs !== undefined) this.keepAlive = new KeepAlive(keepAliveMs, () => this.sendControl(this.backend.keepAlive()));
    // A service whose setup goes first (Gemini) resumes the session with the handle it gave.
    this.sendControl(this.backend.onOpen(this.resumeHandle ? { resumeHandle: this.resumeHandle } : {}));
    if (this.resumeHandle !== null) this.resuming = true;
    this.link.set('session', this.limits.sessionTimeoutMs, () => {
      this.emitEvent({ type: 'error', code: 'ERR_AI_TIMEOUT', message: `the session was not set up within ${this.limits.sessionTimeoutMs} ms`, fatal: false });
      connection.terminate();
    });
  }

  private closed(info: CloseInfo): void {
    this.nativeUplink?.detach();
    this.connection = null;
    this.queue.attach(null);
    this.link.clear();
    this.calls.clear();
    this.keepAlive?.stop();
    this.keepAlive = null;
    this.turn.reset();
    this.sessionReady = false;
    this.responses.reset();
    this.playout.endOfSession();
    // A resumption that never got its session: the handle is no good, the next session starts afresh.
    if (this.resuming) this.resumeHandle = null;
    this.resuming = false;
    const renewal = this.renewing;
    if (this.userClosed) {
      this.renewing = false;
      this.setState('idle');
      this.emitEvent({ type: 'disconnected', code: info.code, reason: redact(info.reason || '', this.token), renewal: false });
      return;
    }
    if (this.configRefused) {
      // The service refused this configuration: reported once, not retried until it changes.
      this.renewing = false;
      this.setState('failed');
      this.emitEvent({ type: 'disconnected', code: info.code, reason: redact(info.reason || '', this.token), renewal: false });
      return;
    }
    const failure = connectionFailure(info, this.fatalSeen, this.limits);
    // A vendor whose errors are close frames (Gemini 1007/1008/1011): reported with their reason.
    const closeError = info.httpStatus || info.connectFailure ? null : (this.backend.closeError?.(info.code, info.reason || '') ?? null);
    if (closeError) {
      this.reportError({ code: 'ERR_AI_SERVICE', vendorCode: closeError.code, message: closeError.message, fatal: closeError.fatal });
      failure.fatal ||= closeError.fatal;
    }
    this.fatalSeen = null;
    if (failure.error && failure.causeKey) this.reportConnectFailure(failure.causeKey, failure.error);
    else if (failure.error) this.reportError(failure.error);
    const delay = renewal ? 0 : failure.fatal ? this.limits.reconnect.fatalRetryMs : this.backoff.next();
    this.setState(failure.fatal ? 'failed' : 'reconnecting');
    this.emitEvent({
      type: 'disconnected',
      code: info.code,
      reason: redact(info.reason || info.error || '', this.token),
      renewal,
      retryInMs: delay,
      ...(info.httpStatus ? { httpStatus: info.httpStatus } : {}),
    });
    this.counters.reconnects++;
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  // ---- messages ----

  private received(frame: Frame): void {
    for (const signal of this.backend.decode(frame)) this.handle(signal);
  }

  private handle(s: BackendSignal): void {
    switch (s.kind) {
      case 'session_created':
        if (s.sessionId) this.sessionId = s.sessionId;
        // A new session (not resumed) after an earlier one also carries the conversation, for services that take it only there (Deepgram).
        this.sendControl(
          this.backend.sessionSetup(this.resumeHandle ? { resumeHandle: this.resumeHandle } : this.everReady ? { context: this.memory.recent() } : {}),
        );
        this.resuming = this.resumeHandle !== null;
        return;
      case 'session_ready':
        if (s.sessionId) this.sessionId = s.sessionId;
        for (const m of s.mismatches) this.emitEvent({ type: 'error', code: 'ERR_AI_CONFIG_MISMATCH', message: m, fatal: false });
        if (!this.sessionReady) this.ready();
        return;
      case 'config_rejected':
        return this.configRejected(s);
      case 'rates':
        return this.announcedRates(s.inputRate, s.outputRate);
      case 'audio':
        return this.replyAudio(s.itemId, this.replyRate ? this.replyRate.convert(s.pcm) : s.pcm);
      case 'audio_done':
        return this.playout.done(s.itemId);
      case 'speech_started':
        // Barge-in: the user talks over the reply. A service that does not cancel by itself is asked to.
        this.speechHeardUs = monotonicUs();
        this.stopPlayback(!this.backend.serverCancelsOnSpeech);
        return this.emitEvent({ type: 'speech_started', ...(s.itemId ? { itemId: s.itemId } : {}) });
      case 'interrupted':
        // The service cut its reply and knows what was heard: flush locally, tell it nothing.
        this.speechHeardUs = monotonicUs();
        return this.stopPlayback(false, false);
      case 'speech_stopped':
        return this.emitEvent({ type: 'speech_stopped', ...(s.itemId ? { itemId: s.itemId } : {}) });
      case 'transcript':
        if (s.final) this.memory.add(s.role, s.text, s.itemId);
        return this.emitEvent({ type: 'transcript', role: s.role, text: s.text, final: s.final, ...(s.itemId ? { itemId: s.itemId } : {}) });
      case 'transcript_correction':
        this.memory.correct(s.text, s.itemId);
        return this.emitEvent({ type: 'transcript', role: 'assistant', text: s.text, final: true, ...(s.itemId ? { itemId: s.itemId } : {}) });
      case 'transcription_failed':
        return this.emitEvent({
          type: 'error',
          code: 'ERR_AI_TRANSCRIPTION_FAILED',
          message: redact(s.message, this.token),
          fatal: false,
          vendorCode: s.code,
          ...(s.itemId ? { itemId: s.itemId } : {}),
        });
      case 'response_created':
        this.responses.created(s.responseId);
        return this.emitEvent({ type: 'response_start', responseId: s.responseId });
      case 'response_done':
        return this.responseDone(s);
      case 'tool_call':
        return this.toolCall(s.callId, s.name, s.arguments);
      case 'tool_call_cancelled':
        for (const id of s.callIds) this.calls.take(id);
        return this.emitEvent({ type: 'tool_call_cancelled', callIds: s.callIds });
      case 'session_ending':
        return this.sessionEnding(s.timeLeftMs);
      case 'resumption':
        this.resumeHandle = s.handle;
        return;
      case 'reply':
        return this.sendControl(s.frames);
      case 'error':
        return this.serviceError(s);
      case 'unknown':
        this.counters.unknown++;
        return;
      case 'malformed':
        this.counters.malformed++;
        return;
      case 'ignored':
        return;
    }
  }

  private replyAudio(itemId: string, pcm: Int16Array): void {
    this.counters.receivedSamples += pcm.length;
    if (!this.audioPlaying && this.playout.currentItemId !== itemId && !this.playout.isInterrupted(itemId)) {
      this.audioPlaying = true;
      this.emitEvent({ type: 'audio_start', itemId });
    }
    if (!this.playout.write(itemId, pcm)) {
      this.emitEvent({ type: 'error', code: 'ERR_AI_PLAYOUT_FULL', message: 'the playout buffer is full: reply audio was dropped', fatal: false });
    }
  }

  /** The service refused the session setup: reported once; a first setup is not retried. */
  private configRejected(s: Extract<BackendSignal, { kind: 'config_rejected' }>): void {
    const where = s.param ? ` (${s.param})` : '';
    const fatal = !this.sessionReady;
    this.emitEvent({
      type: 'error',
      code: 'ERR_AI_CONFIG_REJECTED',
      message: redact(
        `the service refused the session configuration${where}: ${s.message}${fatal ? '; not retried until the configuration changes' : '; the previous one stays'}`,
        this.token,
      ),
      fatal,
      vendorCode: s.code,
      ...(s.param ? { param: s.param } : {}),
    });
    if (!fatal) return;
    this.logger.warn(`ERR_AI_CONFIG_REJECTED${where}: ${redact(s.message, this.token)}`);
    this.configRefused = true;
    this.link.cancel('session');
    this.connection?.close(1000, 'configuration refused');
  }

  /** The service announced its rates (ElevenLabs): convert between them and the ring's. */
  private announcedRates(inputRate: number, outputRate: number): void {
    const ok = (r: number): boolean => Number.isInteger(r) && r >= 8000 && r <= 48000;
    if (!ok(inputRate) || !ok(outputRate) || !this.ring) {
      this.counters.malformed++;
      return;
    }
    this.micRate = inputRate === this.ring.txRate ? null : new RateAdapter(this.ring.txRate, inputRate);
    this.replyRate = outputRate === this.ring.rate ? null : new RateAdapter(outputRate, this.ring.rate);
    this.syncNativeUplink();
  }

  /** The connection ends soon: renew between replies, and at the latest a second before the end. */
  private sessionEnding(timeLeftMs: number): void {
    const left = Math.max(0, Math.min(timeLeftMs, 3600000));
    this.emitEvent({ type: 'session_ending', timeLeftMs: left });
    this.renewalDue = true;
    this.maybeRenew();
    const connection = this.connection;
    this.link.set('ending', Math.max(0, left - 1000), () => {
      if (this.renewing || this.connection !== connection) return;
      this.renewing = true;
      connection?.close(1000, 'session renewal');
    });
  }

  private ready(): void {
    this.link.cancel('session');
    this.sessionReady = true;
    this.backoff.reset();
    this.lastFatalReported = null;
    const renewal = this.renewing;
    const resumed = this.resuming;
    // A resumed session (Gemini) kept the conversation; a new one gets what the user heard, and tool results.
    if (this.everReady && !resumed) this.sendControl(this.backend.restoreContext(this.memory.recent()));
    this.everReady = true;
    this.syncNativeUplink();
    this.resuming = false;
    this.renewing = false;
    this.renewalDue = false;
    this.setState('connected');
    this.link.set('lifetime', this.limits.sessionLifetimeMs, () => {
      this.renewalDue = true;
      this.maybeRenew();
    });
    this.emitEvent({
      type: 'connected',
      renewal,
      dialect: this.backend.dialect,
      ...(this.sessionId ? { sessionId: this.sessionId } : {}),
      ...(resumed ? { resumed } : {}),
    });
  }

  private responseDone(s: Extract<BackendSignal, { kind: 'response_done' }>): void {
    const another = this.responses.done();
    const error = s.error ? { code: s.error.code, message: redact(s.error.message, this.token) } : undefined;
    this.emitEvent({
      type: 'response_done',
      responseId: s.responseId,
      status: s.status,
      ...(s.reason ? { reason: s.reason } : {}),
      ...(error ? { error } : {}),
    });
    if (another) this.requestResponse();
    this.maybeRenew();
  }

  private toolCall(callId: string, name: string, args: string): void {
    if (!this.calls.issued(callId, name)) this.counters.malformed++;
    this.memory.toolCall(callId, name, args);
    const builtin = findBuiltin(this.param?.builtinTools ?? [], name);
    if (!builtin) {
      this.emitEvent({ type: 'tool_call', callId, name, arguments: args });
      return;
    }
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(args || '{}') as Record<string, unknown>;
    } catch {
      parsed = {};
    }
    this.sendToolResult(callId, builtin.run(parsed, this.controlsOverride ?? this.defaultControls()));
  }

  private serviceError(s: Extract<BackendSignal, { kind: 'error' }>): void {
    if (s.code === 'conversation_already_has_active_response') this.responses.alreadyActive();
    if (s.sessionExpired) {
      this.renewing = true;
      const connection = this.connection;
      this.link.set('expiry', 2000, () => connection?.close(1000, 'session expired'));
    }
    if (s.fatal) this.fatalSeen = s.code;
    this.reportError({ code: 'ERR_AI_SERVICE', vendorCode: s.code, message: s.message, fatal: s.fatal, ...(s.param ? { param: s.param } : {}) });
  }

  // ---- audio and actions ----

  /** The addon's thread sends the microphone while every batch goes out as it is, over a link it carries. */
  private syncNativeUplink(): void {
    const connection = this.connection instanceof AiConnection ? this.connection : null;
    this.nativeUplink?.sync(connection, this.sessionReady && this.backend.serverTurnDetection && !this.micRate);
  }

  /** Batches wait in the ring: framed natively when they go out as they are, else read as 'tx' (sendMicrophone). */
  private microphoneReady(timeUs: number, waiting: number): void {
    // The addon's thread reads the ring while it sends the microphone (an event queued before it took over).
    if (this.nativeUplink?.active) return;
    const ring = this.ring as AudioMediaRing;
    const sending = this.sessionReady && (this.backend.serverTurnDetection || this.turn.isOpen);
    if (this.framed && sending && !this.micRate) {
      this.framed.pull(timeUs, waiting, (frame, samples, capturedUs, release) => this.queueMicrophone(frame, samples, capturedUs, release));
    } else {
      ring.pullBatches(timeUs, waiting);
    }
  }

  private sendMicrophone(captured: Int16Array, capturedUs: number): void {
    if (!this.sessionReady) return;
    // Push-to-talk: the microphone goes out only while a turn is open.
    if (!this.backend.serverTurnDetection && !this.turn.isOpen) return;
    const batch = this.micRate ? this.micRate.convert(captured) : captured;
    this.queueMicrophone(this.backend.encodeAudio(batch), batch.length, capturedUs);
  }

  /** Queues one batch; `release` (a natively framed batch, text bytes) runs once it is written. */
  private queueMicrophone(data: Frame, samples: number, capturedUs: number, release?: () => void): void {
    this.turn.sent(samples);
    this.queue.pushAudio(data, samples, {
      capturedMs: capturedUs / 1000,
      asText: release !== undefined,
      onSent: () => {
        this.micToWire.add((monotonicUs() - capturedUs) / 1000);
        release?.();
      },
    });
    this.counters.sentSamples += samples;
    this.keepAlive?.touch();
  }

  private stopPlayback(cancel: boolean, truncate = true): void {
    const heard = this.playout.stop();
    if (heard) this.memory.interrupted(heard.itemId, heard.receivedMs > 0 ? heard.playedMs / heard.receivedMs : 0);
    if (heard && truncate && this.sessionReady) this.sendControl(this.backend.truncate(heard.itemId, heard.playedMs));
    if (cancel && this.sessionReady && this.responses.busy) this.sendControl(this.backend.cancelResponse());
    if (heard) this.emitEvent({ type: 'interrupted', itemId: heard.itemId, playedMs: heard.playedMs });
  }

  private audioFinished(interrupted: boolean): void {
    if (!this.audioPlaying) return;
    this.audioPlaying = false;
    this.emitEvent({ type: 'audio_done', interrupted });
  }

  private requestResponse(): void {
    if (this.responses.request()) this.sendControl(this.backend.createResponse());
  }

  private maybeRenew(): void {
    if (!this.renewalDue || !this.sessionReady || this.renewing) return;
    if (this.responses.busy || this.playout.busy) {
      if (!this.link.has('renewal')) this.link.set('renewal', 500, () => this.maybeRenew());
      return;
    }
    this.renewing = true;
    this.connection?.close(1000, 'session renewal');
  }

  private defaultControls(): DeviceControls {
    const playback = this.engine.playbackMedia;
    return {
      getVolume: () => Math.round(playback.getTxLevelAdjust() * 100),
      setVolume: (v) => playback.adjustTxLevel(v / 100),
      isMuted: () => this.muted,
      setMuted: (m) => this.setMuted(m),
    };
  }

  // ---- plumbing ----

  private sendControl(frames: Frame[]): void {
    for (const f of frames) this.queue.pushControl(f);
    if (frames.length > 0) this.keepAlive?.touch();
  }

  /** Reports a connection that could not be made: logged and emitted once per change of cause. */
  private reportConnectFailure(causeKey: string, e: { code: string; message: string; fatal: boolean }): void {
    if (causeKey === this.lastConnectCause) return;
    this.lastConnectCause = causeKey;
    const message = redact(e.message, this.token);
    this.logger.warn(`${e.code}: ${message}`);
    this.emitEvent({ type: 'error', code: e.code, message, fatal: e.fatal });
  }

  private reportError(e: { code: string; message: string; fatal: boolean; vendorCode?: string; httpStatus?: number; param?: string }): void {
    const key = `${e.code}:${e.vendorCode ?? ''}:${e.httpStatus ?? ''}`;
    if (e.fatal && this.lastFatalReported === key) return;
    if (e.fatal) this.lastFatalReported = key;
    this.emitEvent({ type: 'error', ...e, message: redact(e.message, this.token) });
  }

  private emitEvent(event: AiEvent): void {
    try {
      this.onEvent(event);
      this.emitter.emit('event', event);
    } catch (error) {
      this.logger.warn(`an AI event listener threw: ${(error as Error).message}`);
    }
  }

  private setState(state: AiState): void {
    this.state = state;
  }

  private requireCreated(): void {
    if (!this.ring) throw new MediaError('ERR_PORT_NOT_CREATED', 'call createPort() before using the AI port');
  }

  private requireManualTurns(): void {
    this.requireCreated();
    if (this.backend.serverTurnDetection)
      throw new AiError('ERR_AI_STATE', 'startTurn()/endTurn() need turnDetection null (push-to-talk); the service detects turns itself');
  }

  private requireSession(): void {
    this.requireCreated();
    if (!this.sessionReady) throw new AiError('ERR_AI_NOT_CONNECTED', 'the AI service is not connected');
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private clearTimers(): void {
    this.clearRetry();
    this.link.clear();
  }
}
