/** The shape of the speakerd configuration; docs and defaults are in `schema.ts`. */

/** Sound device type: the real-time null clock or ALSA PCMs. */
export type AudioDeviceType = 'null' | 'alsa';
/** AI backends the daemon can run. */
export type AiBackendName = 'parrot' | 'openai' | 'azure' | 'xai' | 'gemini' | 'deepgram' | 'elevenlabs';
/** Built-in tools the daemon can offer the model. */
export type BuiltinTool = 'time' | 'volume' | 'mute';
/** Log levels, most verbose first. */
export type LogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error';

/** `audio.*` */
export interface AudioConfig {
  device: AudioDeviceType;
  capture: string;
  playback: string;
  rate: number;
  bridgeRate: number;
  matchBridgeRate: boolean;
  alsaConfig: string;
  captureChannels: number;
  playbackChannels: number;
  bufferPeriods: number;
  prefillPeriods: number;
  periodMs: number;
  maxOutputDbfs: number;
  volume: number;
}

/** `aec.*` */
export interface AecConfig {
  enabled: boolean;
  engine: 'auto' | 'speex' | 'webrtc';
  suppression: 'low' | 'moderate' | 'high';
  userMaxCutDb: number;
  tailMs: number;
  delayMs: number;
  maxDelayMs: number;
  marginMs: number;
  denoise: boolean;
  suppressDb: number;
  agc: boolean;
  agcTargetDbfs: number;
  duckDb: number;
}

/** `ai.tls.*` */
export interface AiTlsConfig {
  caFile: string;
  certFile: string;
  keyFile: string;
  verify: boolean;
}

/** `ai.deepgram.*`: the Deepgram Voice Agent's providers. */
export interface AiDeepgramConfig {
  listenModel: string;
  thinkProvider: 'open_ai' | 'anthropic' | 'google' | 'groq';
  thinkModel: string;
  speakModel: string;
}

/** `ai.gemini.*` (Gemini Live) */
export interface AiGeminiConfig {
  ephemeralTokens: boolean;
  resumption: boolean;
  contextCompression: boolean;
  compressionTriggerTokens: number;
  inputTranscription: boolean;
  outputTranscription: boolean;
}

/** `ai.elevenlabs.*`: the ElevenLabs agent and the overrides sent with each conversation. */
export interface AiElevenLabsConfig {
  agentId: string;
  signedUrl: boolean;
  firstMessage: string;
  language: string;
}

/** `ai.*` */
export interface AiConfig {
  backend: AiBackendName;
  url: string;
  model: string;
  dialect: 'ga' | 'beta' | 'auto';
  apiKeyFile: string;
  credential: string;
  voice: string;
  speed: number;
  maxOutputTokens: number;
  toolChoice: 'auto' | 'none' | 'required';
  truncation: 'auto' | 'disabled';
  authScheme: '' | 'bearer' | 'api-key' | 'token';
  headers: string[];
  instructions: string;
  turnDetection: 'server_vad' | 'semantic_vad' | 'none';
  vadThreshold: number;
  silenceDurationMs: number;
  transcriptionModel: string;
  transcriptionLanguage: string;
  transcriptionPrompt: string;
  noiseReduction: 'far_field' | 'near_field' | 'none';
  builtinTools: BuiltinTool[];
  batchMs: number;
  nativeSocket: boolean;
  prebufferMs: number;
  sessionLifetimeMs: number;
  gemini: AiGeminiConfig;
  deepgram: AiDeepgramConfig;
  elevenlabs: AiElevenLabsConfig;
  tls: AiTlsConfig;
}

/** `control.*` */
export interface ControlConfig {
  socket: string;
  group: string;
  mode: string;
  maxClients: number;
  maxLineBytes: number;
  allowUids: number[];
  adminUids: number[];
  idleTimeoutMs: number;
}

/** `earcons.*` */
export interface EarconsConfig {
  enabled: boolean;
  volume: number;
  ready: string;
  connectionLost: string;
  error: string;
  mute: string;
  unmute: string;
}

/** `leds.looks.*`: one look string per layer ("<colour> <pattern> [<period ms>]"). */
export interface LedLooksConfig {
  starting: string;
  listening: string;
  userSpeaking: string;
  thinking: string;
  speaking: string;
  offline: string;
  error: string;
  volume: string;
  muted: string;
}

/** `leds.*` */
export interface LedsConfig {
  driver: 'auto' | 'none' | 'console';
  board: string;
  brightness: number;
  fps: number;
  night: { mode: 'off' | 'on' | 'schedule'; start: string; end: string; brightness: number };
  looks: LedLooksConfig;
}

/** `buttons.*` */
export interface ButtonsConfig {
  driver: 'auto' | 'none';
  pushToTalk: boolean;
  longPressMs: number;
  repeatMs: number;
  debounceMs: number;
  volumeStep: number;
}

/** The whole configuration, as `loadConfig()` returns it (every key present). */
export interface SpeakerdConfig {
  audio: AudioConfig;
  aec: AecConfig;
  ai: AiConfig;
  control: ControlConfig;
  earcons: EarconsConfig;
  leds: LedsConfig;
  buttons: ButtonsConfig;
  log: { level: LogLevel };
  state: { file: string };
  watchdog: { maxLoopLagMs: number };
}
