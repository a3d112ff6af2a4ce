/** Types shared by the AI port and its backends. */

/** Connection state of an AI port. */
export type AiState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'failed';

/** Server voice activity detection settings (OpenAI names, camelCase). */
export type TurnDetection =
  | {
      type: 'server_vad';
      threshold?: number;
      prefixPaddingMs?: number;
      silenceDurationMs?: number;
      createResponse?: boolean;
      interruptResponse?: boolean;
      idleTimeoutMs?: number | null;
    }
  | { type: 'semantic_vad'; eagerness?: 'low' | 'medium' | 'high' | 'auto'; createResponse?: boolean; interruptResponse?: boolean };

/** A function the model may call. */
export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

/**
 * Deepgram Voice Agent options (backend 'deepgram' only): the providers the agent listens, thinks and
 * speaks with. Every field has a default (the SDK's current ones).
 */
export interface DeepgramAgentParam {
  /** Speech-to-text model, default 'nova-3' (a 'flux-*' model uses the V2 listen API). */
  listenModel?: string;
  /** LLM provider run with Deepgram's keys: 'open_ai' (default), 'anthropic', 'google' or 'groq'. */
  thinkProvider?: 'open_ai' | 'anthropic' | 'google' | 'groq';
  /** LLM model of that provider, default 'gpt-4o-mini'. */
  thinkModel?: string;
  /** Text-to-speech voice model, default 'flux-kit-en' (the service's); `voice`, when set, takes its place. */
  speakModel?: string;
  /** Send KeepAlive when nothing has been sent for this long, in ms, 100 to 60000, default 8000. */
  keepAliveMs?: number;
}

/** TLS settings for wss:// (certificates are verified against the system store by default). */
export interface TlsSettings {
  /** Extra CA certificate(s) to trust, PEM file. */
  caFile?: string;
  /** Client certificate and key, PEM files. */
  certFile?: string;
  keyFile?: string;
  /** Lowest TLS version, default 'TLSv1.2'. */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** Verify the server certificate, default true; false logs a warning at every connect. */
  verify?: boolean;
}

/**
 * Everything that configures an AI port; JSON-serialisable and free of secrets (the token is given
 * to connect() only). Every field has a default.
 */
export interface AiPortParam {
  /** Backend name, default 'openai'. */
  backend?: string;
  /**
   * Model (Azure: the deployment), added to the URL as `model=` when the URL has none. Default: the
   * backend's (openai: 'gpt-realtime-1.5'); a model the SDK marks deprecated is warned about at start.
   */
  model?: string;
  /**
   * Protocol dialect of OpenAI-shaped services: 'ga' (default), 'beta' (speaches, old Azure preview),
   * 'auto' (from session.created) or 'xai' (flat session fields with GA audio, no truncate).
   */
  dialect?: 'ga' | 'beta' | 'auto' | 'xai';
  /** Deepgram Voice Agent options (backend 'deepgram' only; see {@link DeepgramAgentParam}). */
  deepgram?: DeepgramAgentParam;
  /** ElevenLabs Agents options (backend 'elevenlabs' only, required there: the agent's id and the overrides it allows). */
  elevenlabs?: import('./backends/elevenlabs.js').ElevenLabsParam;
  /** A built-in voice name, or a custom voice id ('voice_…', sent as `{id}`). Default: the service's. */
  voice?: string;
  /** Speaking speed, 0.25 to 1.5, default the service's (1.0). */
  speed?: number;
  /** Most output tokens per reply, 1 to 4096, or 'inf' (default: the service's). */
  maxOutputTokens?: number | 'inf';
  /** How the model picks tools: 'auto' (the service's default), 'none', 'required', or one function by name. */
  toolChoice?: 'auto' | 'none' | 'required' | { name: string };
  /** Context-window strategy: 'auto' (the service's default), 'disabled', or keep a ratio of the tokens. */
  truncation?: 'auto' | 'disabled' | { retentionRatio: number };
  /**
   * How the key travels in the handshake: 'bearer' (`Authorization: Bearer`, default for openai/xai),
   * 'api-key' (`api-key` header, default for azure) or 'token' (`Authorization: Token`, Deepgram).
   * The key only ever goes to the configured URL's host (redirects are not followed).
   */
  authScheme?: 'bearer' | 'api-key' | 'token';
  /**
   * Extra handshake headers (e.g. `OpenAI-Project`, `OpenAI-Organization`). Names that carry
   * credentials or steer the connection (Authorization, api-key, Cookie, Host, Proxy-*, Sec-WebSocket-*,
   * Connection, Upgrade, Origin) are refused.
   */
  headers?: Record<string, string>;
  instructions?: string;
  /** ['audio'] (default) or ['text']. */
  outputModalities?: ('audio' | 'text')[];
  /** Default server_vad with the service's defaults; null for push-to-talk (manual commit). */
  turnDetection?: TurnDetection | null;
  /** Transcription of the user's speech, e.g. { model: 'gpt-4o-mini-transcribe' }; default off. */
  inputTranscription?: { model: string; language?: string; prompt?: string } | null;
  /** Default 'far_field' (a smart speaker); null turns it off. */
  noiseReduction?: 'near_field' | 'far_field' | null;
  tools?: ToolDefinition[];
  /** Device tools answered by the port itself. */
  builtinTools?: ('time' | 'volume' | 'mute')[];
  /** Microphone batch sent per message, default 40 ms. */
  batchMs?: number;
  /** Reply audio buffered before playback starts, default 100 ms. */
  prebufferMs?: number;
  /** Reconnect backoff, default 1000 ms doubling to 30000 ms with ±20 % jitter. */
  reconnect?: { minMs?: number; maxMs?: number; jitter?: number; fatalRetryMs?: number };
  /** WebSocket ping cadence and how long a pong may take, default 15000 / 10000 ms. */
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  /** TCP + TLS + HTTP upgrade, default 10000 ms, counted from the start (not an idle timeout). */
  connectTimeoutMs?: number;
  /** From open until the session is configured, default 10000 ms. */
  sessionTimeoutMs?: number;
  /** Renew the session after this long (between replies), default 55 min. */
  sessionLifetimeMs?: number;
  /**
   * Largest incoming message, default 2 MiB (a 10 s audio delta is 640 KB of base64); larger closes
   * with 1009 and an ERR_AI_MESSAGE_TOO_LARGE error event.
   */
  maxPayload?: number;
  /**
   * Oldest microphone audio sent, in ms from capture, default 500: older batches are dropped
   * (`stats().staleSendMs`), and no audio is handed to the socket while the service lags further
   * behind in reading it (a stalled uplink).
   */
  maxMicAgeMs?: number;
  /** Audio kept queued under back-pressure, default 2000 ms. */
  maxQueuedAudioMs?: number;
  /** Unsent bytes the socket may hold before the port stops handing it more, default 256 KiB. */
  sendHighWaterBytes?: number;
  /**
   * The socket is carried by the addon's thread (NetLink), which also sends the microphone itself
   * for a backend with an audio template, so that the JS thread does not wake per batch; default
   * true where the addon has it. false: Node's net/tls and every batch through JS.
   */
  nativeSocket?: boolean;
  /** Conversation turns restored as text after a renewal or reconnect, default 20. */
  contextTurns?: number;
  tls?: TlsSettings;
  /** Gemini Live options (backend 'gemini' only; see {@link GeminiOptions}). */
  gemini?: GeminiOptions;
}

/** Options of the Gemini Live backend; every field has a default. */
export interface GeminiOptions {
  /**
   * Mint a single-use ephemeral token with the API key before each new session and open the socket
   * with it (the `BidiGenerateContentConstrained` endpoint), so the long-lived key travels only in a
   * header of one HTTPS request to the configured host. Default false: the key goes in the
   * `x-goog-api-key` header of the WebSocket handshake.
   */
  ephemeralTokens?: boolean;
  /** Ask for session resumption handles, so a reconnect resumes the session (default true). */
  resumption?: boolean;
  /** Context window compression (sliding window) so sessions are not capped at ~15 min of audio (default true). */
  contextCompression?: boolean;
  /** Tokens that trigger the compression; 0 or absent: the service's default. */
  compressionTriggerTokens?: number;
  /** Transcription of the user's speech (default true). */
  inputTranscription?: boolean;
  /** Transcription of the assistant's speech: transcripts, and the memory restored after a new session (default true). */
  outputTranscription?: boolean;
}

/** Events of an AI port. */
export type AiEvent =
  | {
      type: 'connected';
      renewal: boolean;
      dialect: string;
      sessionId?: string;
      /** The session was resumed with a handle (Gemini): the service kept the conversation. */
      resumed?: boolean;
    }
  | {
      type: 'disconnected';
      code: number;
      reason: string;
      httpStatus?: number;
      renewal: boolean;
      /** When the next attempt is made (absent when none is planned). */
      retryInMs?: number;
    }
  | { type: 'transcript'; role: 'user' | 'assistant'; text: string; final: boolean; itemId?: string }
  | { type: 'response_start'; responseId: string }
  | {
      type: 'response_done';
      responseId: string;
      status: string;
      reason?: string;
      /** Why a failed response failed (OpenAI `status_details.error`). */
      error?: { code: string; message: string };
    }
  | { type: 'speech_started'; itemId?: string }
  | { type: 'speech_stopped'; itemId?: string }
  | { type: 'interrupted'; itemId: string; playedMs: number }
  /** Reply audio of an item started arriving (the device is about to speak). */
  | { type: 'audio_start'; itemId: string }
  /** The reply audio finished playing, or was cut off by a barge-in. */
  | { type: 'audio_done'; interrupted: boolean }
  | { type: 'tool_call'; callId: string; name: string; arguments: string }
  /** The service withdrew tool calls (their results are no longer accepted). */
  | { type: 'tool_call_cancelled'; callIds: string[] }
  /** The service will end the connection in about `timeLeftMs`; the port renews (or resumes) before. */
  | { type: 'session_ending'; timeLeftMs: number }
  /** Push-to-talk: a turn opened (microphone sent) or closed (committed, or cleared when empty). */
  | { type: 'turn'; open: boolean; committed?: boolean }
  | {
      type: 'error';
      code: string;
      message: string;
      fatal: boolean;
      vendorCode?: string;
      httpStatus?: number;
      /** The session parameter the service blamed (ERR_AI_CONFIG_REJECTED, ERR_AI_SERVICE). */
      param?: string;
      /** The user item concerned (ERR_AI_TRANSCRIPTION_FAILED). */
      itemId?: string;
    };

/** Where the port reports what a person operating the device should know. */
export interface AiLogger {
  warn(message: string): void;
  info(message: string): void;
}
