import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { AudioMediaAiPort } from '../ai/ai-port.js';
import type { AiEvent } from '../ai/types.js';
import type { SpeakerdConfig } from '../config/types.js';
import type { ControlTarget, DeviceEntry, ServiceEvent, ServiceState, ServiceStatus } from '../control/target.js';
import { AudioEngine } from '../media/engine.js';
import { toServiceEvent } from './ai-events.js';
import { StatePersister } from './persistence.js';
import { Earcons, type EarconSettings } from './earcons.js';
import { aiParam, aiUrl, boardAudio, engineOptions } from './media-options.js';
import { driveTurn } from './talk.js';
import { nextState, type StateInput } from './state-machine.js';
import { volumeToGain } from './volume.js';

/** What the service logs through (one component's logger). */
export interface ServiceLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warning(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What the service keeps across restarts. */
export interface PersistentState {
  volume: number;
  muted: boolean;
}

/** What the service is made of, given by the composition root (src/cli/speakerd.ts). */
export interface ServiceDeps {
  config: SpeakerdConfig;
  apiKey: string | null;
  /** Default service URLs per backend. */
  defaultUrls: Readonly<Record<string, string>>;
  state: PersistentState;
  saveState(state: PersistentState): Promise<void>;
  /** Re-reads the configuration (files, env, flags); rejects with every problem when it is invalid. */
  loadConfig(): Promise<{ config: SpeakerdConfig; apiKey: string | null }>;
  /** Keys whose value differs, with what applying them takes. */
  diffConfig(a: SpeakerdConfig, b: SpeakerdConfig): { path: string; effect: 'live' | 'reconnect' | 'reopen' | 'restart' }[];
  /** Applies one `config_set` key persistently (validated); resolves to the new configuration. */
  setConfigKey(key: string, value: unknown): Promise<{ config: SpeakerdConfig; apiKey: string | null }>;
  /** The non-secret value of a key (or the whole configuration). */
  configValue(config: SpeakerdConfig, key?: string): unknown;
  log: ServiceLog;
  version: string;
  /** The echo engines the addon was built with (shown by `version`). */
  echoEngines?: readonly string[];
  /** Told each new API key (the logger redacts it). */
  onApiKey?(apiKey: string): void;
  /** Told a new log level (log.level is applied live). */
  onLogLevel?(level: SpeakerdConfig['log']['level']): void;
  /** Time before a failed state write is tried again, in ms. Default 30000. */
  stateRetryMs?: number;
}

/** What the LEDs add to status and to the snapshot of a new subscriber. */
export interface StatusExtension {
  leds(): ServiceStatus['leds'];
  snapshot(): ServiceEvent[];
}

/** How long a device list is reused: enumerating ALSA devices blocks the event loop for a while. */
const DEVICE_LIST_TTL_MS = 2000;

/**
 * The daemon's composition root at run time: the audio engine, the AI port, earcons and the
 * lifecycle state machine, exposed to the control socket as a ControlTarget. Everything else on
 * the board (LEDs, buttons, scripts) follows its 'event' stream.
 */
export class Service implements ControlTarget {
  readonly events = new EventEmitter();
  private config: SpeakerdConfig;
  private apiKey: string | null;
  private engine: AudioEngine | null = null;
  private ai: AudioMediaAiPort | null = null;
  private earcons: Earcons | null = null;
  private state: ServiceState = 'starting';
  private volume: number;
  private muted: boolean;
  private lastError: ServiceStatus['lastError'] = null;
  private readonly startedAt = Date.now();
  private wasConnected = false;
  /** Config changes and reloads, one at a time in the order asked. */
  private changes: Promise<unknown> = Promise.resolve();
  private deviceList: { at: number; devices: DeviceEntry[] } | null = null;
  private readonly persister: StatePersister;
  private lastLogged: string | null = null;
  /** The hardware mute switch: true muted, false open, null without one. It wins over software. */
  private muteSwitch: boolean | null = null;
  /** Push-to-talk: false while the talk button is up (the microphone sends silence), null when not used. */
  private talkGate: boolean | null = null;
  private extension: StatusExtension | null = null;
  /** The link dropped while a reply was still playing: the connection-lost earcon waits for its end. */
  private lostWhilePlaying = false;

  constructor(private readonly deps: ServiceDeps) {
    this.config = deps.config;
    this.apiKey = deps.apiKey;
    this.volume = deps.state.volume;
    this.muted = deps.state.muted;
    this.persister = new StatePersister(
      (s) => deps.saveState(s),
      () => ({ volume: this.volume, muted: this.muted }),
      deps.log,
      deps.stateRetryMs,
    );
  }

  /** Opens audio and starts the conversation. */
  async start(): Promise<void> {
    await this.openMedia();
    this.transition({ kind: 'audio_ready' });
    this.connectAi();
  }

  /** Stops everything: the WebSocket closes with 1000, state is saved, audio stops. */
  async stop(): Promise<void> {
    this.transition({ kind: 'stopping' });
    this.closeMedia();
    await this.persister.final();
  }

  /** The running audio engine (the watchdog watches its clock), or null. */
  get currentEngine(): AudioEngine | null {
    return this.engine && !this.engine.isClosed ? this.engine : null;
  }

  /** The engine's frame counter (the watchdog's proof that the audio clock runs). */
  audioFrames(): number {
    return this.engine && !this.engine.isClosed ? this.engine.stats().frames : 0;
  }

  /** The current state, e.g. for sd_notify STATUS=. */
  get currentState(): ServiceState {
    return this.state;
  }

  /** Stops the audio clock (watchdog tests). */
  stallAudioForTest(ms: number): void {
    this.engine?.stallForTest(ms);
  }

  // ---- ControlTarget ----

  status(): ServiceStatus {
    const stats = this.engine && !this.engine.isClosed ? this.engine.stats() : null;
    const ai = this.ai?.stats();
    return {
      state: this.state,
      muted: this.muted,
      volume: this.volume,
      backend: this.config.ai.backend,
      connection: { state: this.ai?.getState() ?? 'idle', connected: this.ai?.isConnected() ?? false, reconnects: ai?.reconnects ?? 0 },
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      audio: {
        frames: stats?.frames ?? 0,
        xruns: stats?.xruns ?? 0,
        underruns: stats?.underruns ?? 0,
        dropped: (stats?.dropped ?? 0) + Math.round((((ai?.droppedSendMs ?? 0) + (ai?.droppedPlayoutMs ?? 0)) * this.config.audio.bridgeRate) / 1000),
        deviceState: stats?.deviceState ?? 'closed',
        deviceRate: stats?.deviceRate ?? 0,
        devicePeriodMs: stats && stats.deviceRate > 0 ? Math.round((stats.devicePeriodFrames * 10000) / stats.deviceRate) / 10 : 0,
        tickAvgUs: stats?.tickAvgUs ?? 0,
        tickMaxUs: stats?.tickMaxUs ?? 0,
        aec: stats?.aec ? { ...stats.aec, delayMs: stats.aecDelayMs, delaySource: stats.aecDelaySource } : null,
        aecPost: stats?.aecPost ?? null,
      },
      lastError: this.lastError,
      muteSwitch: this.muteSwitch,
      leds: this.extension?.leds() ?? null,
    };
  }

  snapshot(): ServiceEvent[] {
    return [
      { event: 'state', data: { state: this.state, muted: this.muted } },
      { event: 'volume', data: { volume: this.volume } },
      { event: 'mute', data: { muted: this.muted } },
      ...(this.muteSwitch === null ? [] : [{ event: 'mute_switch' as const, data: { muted: this.muteSwitch } }]),
      ...(this.extension?.snapshot() ?? []),
    ];
  }

  setMuted(muted: boolean): void {
    if (!muted && this.muteSwitch === true) {
      throw Object.assign(new Error('the hardware mute switch is on: slide it to unmute'), { code: 'ERR_HARDWARE_MUTE' });
    }
    if (muted === this.muted) return;
    this.muted = muted;
    this.ai?.setMuted(this.micSilent());
    this.earcons?.play(muted ? 'mute' : 'unmute');
    this.publish({ event: 'mute', data: { muted } });
    this.publish({ event: 'state', data: { state: this.state, muted } });
    this.persist();
  }

  isMuted(): boolean {
    return this.muted;
  }

  /** The hardware mute switch moved (or was read at start; null: no switch). Its position wins over software. */
  setMuteSwitch(muted: boolean | null): void {
    if (muted === this.muteSwitch) return;
    this.muteSwitch = muted;
    this.publish({ event: 'mute_switch', data: { muted } });
    if (muted !== null) this.setMuted(muted);
  }

  /** Push-to-talk: open (true) while the talk button is held, closed (false) otherwise, null when not used. */
  setTalkGate(open: boolean | null): void {
    this.talkGate = open;
    this.ai?.setMuted(this.micSilent());
    if (open !== null && this.config.ai.turnDetection === 'none' && this.ai?.isConnected()) driveTurn(this.ai, true, open);
  }

  /** talk_start / talk_end (src/service/talk.ts): the talk gate when one is used, else the port's turn. */
  talk(open: boolean): boolean {
    if (this.talkGate !== null) {
      this.setTalkGate(open);
      return open;
    }
    return driveTurn(this.ai, this.config.ai.turnDetection === 'none', open);
  }

  /** Adds the LEDs' fields to status and to a new subscriber's snapshot (src/service/leds-buttons.ts). */
  extend(extension: StatusExtension): void {
    this.extension = extension;
  }

  /** The configuration in force (after run-time changes and reloads). */
  get currentConfig(): SpeakerdConfig {
    return this.config;
  }

  setVolume(volume: number): void {
    const v = Math.max(0, Math.min(100, Math.round(volume)));
    if (v === this.volume) return;
    this.volume = v;
    this.engine?.playbackMedia.adjustTxLevel(volumeToGain(v));
    this.publish({ event: 'volume', data: { volume: v } });
    this.persist();
  }

  getVolume(): number {
    return this.volume;
  }

  connect(): void {
    this.connectAi();
  }

  disconnect(): void {
    this.ai?.disconnect();
  }

  interrupt(): void {
    this.ai?.interrupt();
  }

  say(text: string): void {
    this.requireAi().say(text);
  }

  toolResult(callId: string, output: unknown): void {
    this.requireAi().sendToolResult(callId, output);
  }

  configGet(key?: string): unknown {
    return this.deps.configValue(this.config, key);
  }

  configSet(key: string, value: unknown): Promise<void> {
    return this.serial(async () => {
      const next = await this.deps.setConfigKey(key, value);
      await this.apply(next.config, next.apiKey);
    });
  }

  reload(): Promise<void> {
    return this.serial(async () => {
      const next = await this.deps.loadConfig();
      await this.apply(next.config, next.apiKey);
    });
  }

  devices(): DeviceEntry[] {
    const now = performance.now();
    if (this.deviceList === null || now - this.deviceList.at > DEVICE_LIST_TTL_MS) this.deviceList = { at: now, devices: AudioEngine.listDevices() };
    return this.deviceList.devices;
  }

  version(): { version: string; node: string; addon: string; echoEngines: string[] } {
    const echoEngines = this.deps.echoEngines ?? [];
    return {
      version: this.deps.version,
      node: process.version,
      addon: `speakerd.node (napi 8; echo engines: ${echoEngines.join(', ') || 'unknown'})`,
      echoEngines: [...echoEngines],
    };
  }

  levels(): { mic: number; speaker: number } {
    if (!this.engine || this.engine.isClosed) return { mic: 0, speaker: 0 };
    return { mic: this.engine.captureMedia.getRxLevel(), speaker: this.engine.playbackMedia.getTxLevel() };
  }

  // ---- inside ----

  private async openMedia(): Promise<void> {
    const engine = await AudioEngine.create(engineOptions(this.config, await boardAudio(this.config.leds.board)));
    this.engine = engine;
    engine.on('device', (d: { state: string; code?: string; message?: string }) => {
      if (d.state === 'open') this.deps.log.info('sound device open');
      else this.recordError(d.code ?? 'ERR_DEVICE', d.message ?? 'sound device error');
    });
    // A device that failed during create() reported it before the listener above existed.
    const opening = engine.stats().lastError;
    if (opening) this.recordError(opening.code, opening.message);
    engine.playbackMedia.adjustTxLevel(volumeToGain(this.volume));
    // Nothing is mixed over reply audio while any remains in the playout ring, whatever the link does.
    this.earcons = new Earcons(engine, this.earconSettings(), () => this.state === 'speaking' || (this.ai?.isPlayingOut() ?? false));
    for (const problem of await this.earcons.load()) this.deps.log.warning(problem);
    this.ai = this.createAi(engine);
  }

  /** An AI port wired microphone-in, speaker-out, with the current mute and configuration. */
  private createAi(engine: AudioEngine): AudioMediaAiPort {
    const logger = { warn: (m: string) => this.deps.log.warning(m), info: (m: string) => this.deps.log.info(m) };
    const ai = new AudioMediaAiPort(engine, { logger, controls: this.controls() });
    ai.createPort(aiParam(this.config));
    engine.captureMedia.startTransmit(ai);
    ai.startTransmit(engine.playbackMedia);
    ai.setMuted(this.micSilent());
    ai.on('event', (e) => this.onAiEvent(e));
    return ai;
  }

  private closeMedia(): void {
    this.earcons?.stop();
    this.ai?.destroy();
    this.engine?.close();
    this.ai = null;
    this.engine = null;
    this.earcons = null;
  }

  private connectAi(): void {
    if (!this.ai) return;
    this.transition({ kind: 'connecting' });
    this.ai.connect(aiUrl(this.config, this.deps.defaultUrls), this.apiKey);
  }

  private serial(task: () => Promise<void>): Promise<void> {
    const run = this.changes.then(task, task);
    this.changes = run.catch(() => undefined);
    return run;
  }

  private async apply(config: SpeakerdConfig, apiKey: string | null): Promise<void> {
    const changes = this.deps.diffConfig(this.config, config);
    const keyChanged = apiKey !== this.apiKey;
    this.config = config;
    this.apiKey = apiKey;
    if (keyChanged && apiKey) this.deps.onApiKey?.(apiKey);
    // A new key must be used by the next connection: the port keeps the token it connected with.
    if (keyChanged) changes.push({ path: 'ai.apiKey', effect: 'reconnect' });
    const effects = new Set(changes.map((c) => c.effect));
    if (effects.has('restart')) {
      this.deps.log.warning('some changes take effect after a restart', {
        keys: changes
          .filter((c) => c.effect === 'restart')
          .map((c) => c.path)
          .join(','),
      });
    }
    if (effects.has('reopen')) {
      this.closeMedia();
      await this.openMedia();
      this.transition({ kind: 'audio_ready' });
      this.connectAi();
    } else if (effects.has('reconnect')) {
      this.ai?.destroy();
      this.ai = this.engine ? this.createAi(this.engine) : null;
      this.connectAi();
    } else if (changes.some((c) => c.path.startsWith('ai.'))) {
      this.ai?.reconfigure(aiParam(config));
    }
    const earconFiles = changes.some((c) => c.path.startsWith('earcons.') && c.path !== 'earcons.enabled' && c.path !== 'earcons.volume');
    if (earconFiles) {
      for (const problem of (await this.earcons?.load(this.earconSettings())) ?? []) this.deps.log.warning(problem);
    } else if (changes.some((c) => c.path.startsWith('earcons.'))) this.earcons?.configure(this.earconSettings());
    if (changes.some((c) => c.path === 'log.level')) this.deps.onLogLevel?.(config.log.level);
    this.publish({ event: 'config_reloaded', data: { changed: changes.map((c) => c.path) } });
  }

  private onAiEvent(e: AiEvent): void {
    switch (e.type) {
      case 'connected':
        this.lastLogged = null;
        this.lostWhilePlaying = false;
        if (!e.renewal) this.earcons?.play('ready');
        this.wasConnected = true;
        break;
      case 'disconnected':
        if (!e.renewal && this.wasConnected && this.state !== 'stopping') {
          // Said after the reply's last sample if one is still playing.
          if (this.ai?.isPlayingOut()) this.lostWhilePlaying = true;
          else this.earcons?.play('connectionLost');
        }
        if (!e.renewal) this.wasConnected = false;
        if (e.httpStatus) this.recordError('ERR_AI_HANDSHAKE', e.reason, e.httpStatus);
        break;
      case 'audio_start':
        this.earcons?.stop();
        break;
      case 'audio_done':
        break;
      case 'error':
        this.recordError(e.code, e.message, e.httpStatus);
        if (e.fatal) this.earcons?.play('error');
        break;
      default:
        break;
    }
    this.transition({ kind: 'ai', event: e, link: { playingOut: this.ai?.isPlayingOut() ?? false, connected: this.ai?.isConnected() ?? false } });
    if (e.type === 'audio_done' && this.lostWhilePlaying) {
      this.lostWhilePlaying = false;
      if (!(this.ai?.isConnected() ?? false)) this.earcons?.play('connectionLost');
    }
    const published = toServiceEvent(e);
    if (published) this.publish(published);
  }

  private transition(input: StateInput): void {
    const next = nextState(this.state, input);
    if (next === this.state) return;
    this.state = next;
    this.publish({ event: 'state', data: { state: next, muted: this.muted } });
  }

  /** Keeps the error for status; logs it once per change (a retry loop repeating it logs nothing more). */
  private recordError(code: string, message: string, httpStatus?: number): void {
    this.lastError = { code, message: this.publicText(message), ...(httpStatus ? { httpStatus } : {}), at: new Date().toISOString() };
    const signature = `${code}\n${httpStatus ?? ''}\n${message}`;
    if (signature === this.lastLogged) return;
    this.lastLogged = signature;
    this.deps.log.error(message, { code, ...(httpStatus ? { httpStatus } : {}) });
  }

  /**
   * Text for status and events, which every socket user may read: the paths of key files and the
   * credential name (hidden from config_get) are replaced by <hidden>. The log keeps them.
   */
  private publicText(text: string): string {
    const { ai } = this.config;
    let out = text;
    for (const secret of [ai.apiKeyFile, ai.tls.keyFile, ai.credential]) if (secret.length > 2) out = out.split(secret).join('<hidden>');
    return out;
  }

  private publish(event: ServiceEvent): void {
    if (event.event === 'error' && typeof event.data.message === 'string')
      event = { ...event, data: { ...event.data, message: this.publicText(event.data.message) } };
    this.events.emit('event', event);
  }

  private persist(): void {
    this.persister.persist();
  }

  /** The microphone sends silence when muted or, in push-to-talk, while the talk button is up. */
  private micSilent(): boolean {
    return this.muted || this.talkGate === false;
  }

  private requireAi(): AudioMediaAiPort {
    if (!this.ai) throw Object.assign(new Error('the AI service is not running'), { code: 'ERR_AI_NOT_CONNECTED' });
    return this.ai;
  }

  private controls(): { getVolume(): number; setVolume(v: number): void; isMuted(): boolean; setMuted(m: boolean): void } {
    return {
      getVolume: () => this.volume,
      setVolume: (v) => this.setVolume(v),
      isMuted: () => this.muted,
      // The hardware switch wins: the tool's answer then reports the microphone still muted.
      setMuted: (m) => (m || this.muteSwitch !== true ? this.setMuted(m) : undefined),
    };
  }

  private earconSettings(): EarconSettings {
    const e = this.config.earcons;
    return {
      enabled: e.enabled,
      volume: e.volume,
      files: { ready: e.ready, connectionLost: e.connectionLost, error: e.error, mute: e.mute, unmute: e.unmute },
    };
  }
}

/** The package version, read once. */
export function packageVersion(packageJson: string): string {
  try {
    return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
