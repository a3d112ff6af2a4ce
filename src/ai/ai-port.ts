import { EventEmitter } from 'node:events';
import { AudioMedia } from '../media/audio-media.js';
import type { AudioEngine } from '../media/engine.js';
import { MediaError } from '../media/errors.js';
import { AudioMediaRing } from '../media/ring.js';
import type { AiBackend, BackendSignal } from './backend.js';
import { BACKENDS } from './backends/index.js';
import { Backoff } from './backoff.js';
import { AiConnection, type CloseInfo } from './connection.js';
import { LocalConnection } from './local/connection.js';
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
import { readTlsFiles, type TlsMaterial } from './tls-files.js';
import type { ConnectionPlan } from './backend.js';

/** Timers of one connection: they end with it and never act on the next one. */
type LinkTimerName = 'session' | 'lifetime' | 'renewal' | 'expiry';

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
  private playout!: Playout;
  private queue!: SendQueue;
  private backoff!: Backoff;
  private memory!: ConversationMemory;
  private connection: AiConnection | LocalConnection | null = null;
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
  private activeResponse: string | null = null;
  private awaitingResponse = false;
  private pendingResponses = 0;
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
    this.memory = new ConversationMemory(this.limits.contextTurns);
    this.ring.on('tx', (batch, capturedUs) => this.sendMicrophone(batch, capturedUs));
    this.ring.on('flushed', (_played, timeUs) => {
      if (this.speechHeardUs !== null) this.bargeIn.add((timeUs - this.speechHeardUs) / 1000);
      this.speechHeardUs = null;
      this.audioFinished(true);
    });
    this.ring.on('drained', () => {
      // A drain mark of an earlier item can be reached while a later item still waits in the ring.
      if (!this.playout.busy) this.audioFinished(false);
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
    this.backoff.reset();
    this.open();
  }

  /** Closes the connection (code 1000) and stops reconnecting. */
  disconnect(): void {
    this.userClosed = true;
    this.attempt++;
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
   * Answers a tool call forwarded as a 'tool_call' event, then asks for the spoken reply. Throws
   * AiError ERR_UNKNOWN_CALL for a call id this session did not issue or that was already answered
   * (calls are forgotten when the session ends).
   */
  sendToolResult(callId: string, output: unknown): void {
    if (typeof callId !== 'string' || callId === '') throw new TypeError('callId must be a non-empty string');
    this.requireCreated();
    if (!this.calls.take(callId)) {
      throw new AiError('ERR_UNKNOWN_CALL', `no open tool call '${callId.slice(0, 100)}' in this session (never issued, already answered, or from an ended session)`);
    }
    this.requireSession();
    this.sendControl(this.backend.toolResult(callId, typeof output === 'string' ? output : JSON.stringify(output)));
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
    return {
      state: this.state,
      sentMs: inMs(this.counters.sentSamples, inRate),
      receivedMs: inMs(this.counters.receivedSamples, outRate),
      playedMs: inMs(this.ring && !this.ring.isDestroyed && !this.engine.isClosed ? this.ring.status().played : 0, outRate),
      droppedSendMs: inMs(this.queue?.droppedSamples ?? 0, inRate),
      staleSendMs: inMs(this.queue?.staleSamples ?? 0, inRate),
      droppedPlayoutMs: inMs(this.playout?.overflowSamples ?? 0, outRate),
      lateAudioMs: inMs(this.playout?.lateSamples ?? 0, outRate),
      micToWireMs: this.micToWire.summary(),
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
    let plan: ConnectionPlan;
    try {
      plan = this.backend.prepareConnection(this.url, this.token);
    } catch (error) {
      this.emitEvent({ type: 'error', code: 'ERR_AI_CONNECT', message: redact((error as Error).message, this.token), fatal: true });
      this.setState('failed');
      return;
    }
    const tls = this.param?.tls;
    if (!plan.url.startsWith('wss:') || !(tls?.caFile || tls?.certFile || tls?.keyFile)) {
      this.start(plan, undefined);
      return;
    }
    // The TLS files are read anew for each connection (certificates get renewed), off the event loop.
    readTlsFiles(tls).then(
      (material) => attempt === this.attempt && !this.userClosed && this.start(plan, material),
      (error: Error & { code?: string }) => attempt === this.attempt && !this.userClosed && this.tlsFilesFailed(error),
    );
  }

  private start(plan: ConnectionPlan, tlsMaterial: TlsMaterial | undefined): void {
    const local = plan.url.startsWith('local://') ? LOCAL_PEERS[new URL(plan.url).hostname] : undefined;
    const connection = local
      ? new LocalConnection(local())
      : new AiConnection(plan, { ...this.limits, tls: this.param?.tls, ...(tlsMaterial ? { tlsMaterial } : {}), logger: this.logger });
    this.connection = connection;
    this.link.clear();
    this.link = new LinkTimers<LinkTimerName>();
    connection.on('open', () => this.connection === connection && this.opened(connection));
    connection.on('message', (text: string) => this.connection === connection && this.received(text));
    connection.on('uplink', () => this.connection === connection && this.queue.pump());
    connection.on('close', (info: CloseInfo) => this.connection === connection && this.closed(info));
  }

  /** A TLS file cannot be used: a configuration error, reported once and retried slowly. */
  private tlsFilesFailed(error: Error & { code?: string }): void {
    const code = error.code === 'ERR_CONFIG_FILE' ? 'ERR_CONFIG_FILE' : 'ERR_AI_CONNECT';
    this.reportConnectFailure(`tls-file:${error.message}`, { code, message: error.message, fatal: true });
    this.setState('failed');
    this.retryTimer = setTimeout(() => this.open(), this.limits.reconnect.fatalRetryMs);
  }

  private opened(connection: AiConnection | LocalConnection): void {
    this.lastConnectCause = null;
    this.queue.attach(connection);
    this.sendControl(this.backend.onOpen());
    this.link.set('session', this.limits.sessionTimeoutMs, () => {
      this.emitEvent({ type: 'error', code: 'ERR_AI_TIMEOUT', message: `the session was not set up within ${this.limits.sessionTimeoutMs} ms`, fatal: false });
      connection.terminate();
    });
  }

  private closed(info: CloseInfo): void {
    this.connection = null;
    this.queue.attach(null);
    this.link.clear();
    this.calls.clear();
    this.sessionReady = false;
    this.activeResponse = null;
    this.awaitingResponse = false;
    this.pendingResponses = 0;
    this.playout.endOfSession();
    const renewal = this.renewing;
    if (this.userClosed) {
      this.renewing = false;
      this.setState('idle');
      this.emitEvent({ type: 'disconnected', code: info.code, reason: info.reason, renewal: false });
      return;
    }
    const failure = connectionFailure(info, this.fatalSeen, this.limits);
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

  private received(text: string): void {
    for (const signal of this.backend.decode(text)) this.handle(signal);
  }

  private handle(s: BackendSignal): void {
    switch (s.kind) {
      case 'session_created':
        this.sendControl(this.backend.sessionSetup());
        return;
      case 'session_ready':
        for (const m of s.mismatches) this.emitEvent({ type: 'error', code: 'ERR_AI_CONFIG_MISMATCH', message: m, fatal: false });
        if (!this.sessionReady) this.ready();
        return;
      case 'audio':
        this.counters.receivedSamples += s.pcm.length;
        if (!this.audioPlaying && this.playout.currentItemId !== s.itemId && !this.playout.isInterrupted(s.itemId)) {
          this.audioPlaying = true;
          this.emitEvent({ type: 'audio_start', itemId: s.itemId });
        }
        if (!this.playout.write(s.itemId, s.pcm)) {
          this.emitEvent({ type: 'error', code: 'ERR_AI_PLAYOUT_FULL', message: 'the playout buffer is full: reply audio was dropped', fatal: false });
        }
        return;
      case 'audio_done':
        this.playout.done(s.itemId);
        return;
      case 'speech_started':
        // Barge-in: the user talks over the reply. A service that does not cancel by itself is asked to.
        this.speechHeardUs = monotonicUs();
        this.stopPlayback(!this.backend.serverCancelsOnSpeech);
        this.emitEvent({ type: 'speech_started', ...(s.itemId ? { itemId: s.itemId } : {}) });
        return;
      case 'speech_stopped':
        this.emitEvent({ type: 'speech_stopped', ...(s.itemId ? { itemId: s.itemId } : {}) });
        return;
      case 'transcript':
        if (s.final) this.memory.add(s.role, s.text);
        this.emitEvent({ type: 'transcript', role: s.role, text: s.text, final: s.final, ...(s.itemId ? { itemId: s.itemId } : {}) });
        return;
      case 'response_created':
        this.activeResponse = s.responseId;
        this.awaitingResponse = false;
        this.emitEvent({ type: 'response_start', responseId: s.responseId });
        return;
      case 'response_done':
        this.responseDone(s.responseId, s.status, s.reason);
        return;
      case 'tool_call':
        this.toolCall(s.callId, s.name, s.arguments);
        return;
      case 'error':
        this.serviceError(s);
        return;
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

  private ready(): void {
    this.link.cancel('session');
    this.sessionReady = true;
    this.backoff.reset();
    this.lastFatalReported = null;
    const renewal = this.renewing;
    if (this.everReady) for (const turn of this.memory.recent()) this.sendControl(this.backend.contextTurn(turn.role, turn.text));
    this.everReady = true;
    this.renewing = false;
    this.renewalDue = false;
    this.setState('connected');
    this.link.set('lifetime', this.limits.sessionLifetimeMs, () => {
      this.renewalDue = true;
      this.maybeRenew();
    });
    this.emitEvent({ type: 'connected', renewal, dialect: this.backend.dialect });
  }

  private responseDone(responseId: string, status: string, reason: string | undefined): void {
    this.activeResponse = null;
    this.emitEvent({ type: 'response_done', responseId, status, ...(reason ? { reason } : {}) });
    if (this.pendingResponses > 0) {
      this.pendingResponses--;
      this.requestResponse();
    }
    this.maybeRenew();
  }

  private toolCall(callId: string, name: string, args: string): void {
    this.calls.issued(callId);
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
    if (s.code === 'conversation_already_has_active_response' && this.awaitingResponse) {
      this.awaitingResponse = false;
      this.pendingResponses++;
    }
    if (s.sessionExpired) {
      this.renewing = true;
      const connection = this.connection;
      this.link.set('expiry', 2000, () => connection?.close(1000, 'session expired'));
    }
    if (s.fatal) this.fatalSeen = s.code;
    this.reportError({ code: 'ERR_AI_SERVICE', vendorCode: s.code, message: s.message, fatal: s.fatal });
  }

  // ---- audio and actions ----

  private sendMicrophone(batch: Int16Array, capturedUs: number): void {
    if (!this.sessionReady) return;
    this.queue.pushAudio(this.backend.encodeAudio(batch), batch.length, {
      capturedMs: capturedUs / 1000,
      onSent: () => this.micToWire.add((monotonicUs() - capturedUs) / 1000),
    });
    this.counters.sentSamples += batch.length;
  }

  private stopPlayback(cancel: boolean): void {
    const heard = this.playout.stop();
    if (heard && this.sessionReady) this.sendControl(this.backend.truncate(heard.itemId, heard.playedMs));
    if (cancel && this.sessionReady && (this.activeResponse || this.awaitingResponse)) this.sendControl(this.backend.cancelResponse());
    if (heard) this.emitEvent({ type: 'interrupted', itemId: heard.itemId, playedMs: heard.playedMs });
  }

  private audioFinished(interrupted: boolean): void {
    if (!this.audioPlaying) return;
    this.audioPlaying = false;
    this.emitEvent({ type: 'audio_done', interrupted });
  }

  private requestResponse(): void {
    if (this.activeResponse !== null || this.awaitingResponse) {
      this.pendingResponses++;
      return;
    }
    this.awaitingResponse = true;
    this.sendControl(this.backend.createResponse());
  }

  private maybeRenew(): void {
    if (!this.renewalDue || !this.sessionReady || this.renewing) return;
    if (this.activeResponse !== null || this.awaitingResponse || this.playout.busy) {
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

  private sendControl(messages: string[]): void {
    for (const m of messages) this.queue.pushControl(m);
  }

  /** Reports a connection that could not be made: logged and emitted once per change of cause. */
  private reportConnectFailure(causeKey: string, e: { code: string; message: string; fatal: boolean }): void {
    if (causeKey === this.lastConnectCause) return;
    this.lastConnectCause = causeKey;
    const message = redact(e.message, this.token);
    this.logger.warn(`${e.code}: ${message}`);
    this.emitEvent({ type: 'error', code: e.code, message, fatal: e.fatal });
  }

  private reportError(e: { code: string; message: string; fatal: boolean; vendorCode?: string; httpStatus?: number }): void {
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
