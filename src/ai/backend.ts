import type { AiPortParam } from './types.js';

/**
 * One WebSocket frame: a string goes out (and came in) as a text frame, bytes as a binary frame.
 * Deepgram takes and sends raw PCM in binary frames; Gemini may send its JSON in binary frames.
 */
export type Frame = string | Uint8Array;

/** The handshake a backend asks for. */
export interface ConnectionPlan {
  url: string;
  headers: Record<string, string>;
  protocols: string[];
}

/** What the port hands to a backend's connection step. */
export interface ConnectContext {
  /** The configured endpoint (`ai.url` or the backend's default). */
  url: string;
  /** The API key, or null for servers without one. Never logged, never put in an event. */
  token: string | null;
  /** Aborted when the attempt is abandoned (disconnect, a newer attempt): stop any request then. */
  signal: AbortSignal;
}

/** What the port hands to sessionSetup(). */
export interface SetupContext {
  /** A resumption handle the service gave the previous connection (Gemini), if the port resumes. */
  resumeHandle?: string;
  /**
   * The conversation so far, for a service that takes it only in its setup message (Deepgram
   * `agent.context`); absent on a first session. restoreContext() follows as well: such a backend
   * returns nothing there.
   */
  context?: readonly ContextEntry[];
}

/** One entry of the conversation restored into a new session: what the user heard, and tool calls with their results. */
export type ContextEntry =
  { kind: 'message'; role: 'user' | 'assistant'; text: string } | { kind: 'tool'; callId: string; name: string; arguments: string; output: string };

/** Vendor error details as a backend extracted them (all optional; never includes a key). */
export interface VendorError {
  code: string;
  message: string;
  /** The session parameter the service blamed (OpenAI `error.param`). */
  param?: string;
  /** Retrying soon cannot help (bad key, no quota, a protocol the service refuses). */
  fatal: boolean;
  /** The service ends the session now (OpenAI `session_expired`): renew at once. */
  sessionExpired: boolean;
}

/**
 * What a backend makes of one server message, in the port's terms. The port owns all policy
 * (barge-in, playback, response serialisation, renewal, keepalive timing); a backend only translates.
 */
export type BackendSignal =
  /** The service is ready for the session setup (OpenAI session.created, Deepgram Welcome). */
  | { kind: 'session_created'; sessionId?: string; dialect?: string }
  /** The session is configured (session.updated, setupComplete, SettingsApplied, metadata). */
  | { kind: 'session_ready'; mismatches: string[]; sessionId?: string }
  /** The service refused the session configuration: the port reports it once and does not retry it. */
  | { kind: 'config_rejected'; param?: string; code: string; message: string }
  /** Rates the service announced after connect (ElevenLabs metadata); the port adapts to them. */
  | { kind: 'rates'; inputRate: number; outputRate: number }
  /** Reply audio. `itemId` names the reply it belongs to; a backend without items uses one id per reply. */
  | { kind: 'audio'; itemId: string; responseId?: string; pcm: Int16Array }
  | { kind: 'audio_done'; itemId: string }
  /** The user started talking (barge-in trigger); with an itemId the port also truncates what was unheard. */
  | { kind: 'speech_started'; itemId?: string }
  | { kind: 'speech_stopped'; itemId?: string }
  /**
   * The service interrupted its reply and keeps track of what was heard itself (Gemini `interrupted`,
   * ElevenLabs `interruption`, Deepgram `UserStartedSpeaking`): flush playback, send no truncate.
   */
  | { kind: 'interrupted' }
  | { kind: 'transcript'; role: 'user' | 'assistant'; text: string; final: boolean; itemId?: string }
  /** The assistant's text of an item was corrected to what was actually spoken (ElevenLabs). */
  | { kind: 'transcript_correction'; text: string; itemId?: string }
  | { kind: 'transcription_failed'; itemId?: string; code: string; message: string }
  | { kind: 'response_created'; responseId: string }
  | { kind: 'response_done'; responseId: string; status: string; reason?: string; error?: { code: string; message: string } }
  | { kind: 'tool_call'; callId: string; name: string; arguments: string }
  /** The service withdrew tool calls (Gemini toolCallCancellation): their results must not be sent. */
  | { kind: 'tool_call_cancelled'; callIds: string[] }
  /** The connection ends soon (Gemini goAway); the port renews before, resuming when it has a handle. */
  | { kind: 'session_ending'; timeLeftMs: number }
  /** A handle to resume this session on a new connection (Gemini sessionResumptionUpdate); null: not resumable now. */
  | { kind: 'resumption'; handle: string | null }
  /** Frames to send back at once (ElevenLabs ping → pong). */
  | { kind: 'reply'; frames: Frame[] }
  | ({ kind: 'error' } & VendorError)
  | { kind: 'ignored' }
  | { kind: 'unknown'; type: string }
  | { kind: 'malformed'; reason: string };

/**
 * A vendor backend: one file in src/ai/backends/ implements it (docs/backends.md). Every method that
 * returns frames returns what to send, in order; an empty array when the vendor has no such notion.
 */
export interface AiBackend {
  readonly name: string;
  /** Rate of the microphone audio the service takes (until a 'rates' signal says otherwise). */
  readonly inputRate: number;
  /** Rate of the audio the service sends (until a 'rates' signal says otherwise). */
  readonly outputRate: number;
  /** The dialect in use ('ga', 'beta', …), settled by the first session message when 'auto'. */
  readonly dialect: string;
  /** Whether the service cancels its reply by itself when it hears the user (else the port cancels it). */
  readonly serverCancelsOnSpeech: boolean;
  /** Whether the service's own voice detection is on (false: push-to-talk; the port commits turns). */
  readonly serverTurnDetection: boolean;
  /**
   * Send keepAlive() when nothing has been sent for this long, in ms (Deepgram: 8000 while the
   * microphone is closed); absent: no keepalive of the backend's own.
   */
  readonly keepAliveMs?: number;
  /**
   * URL, headers and subprotocols for the handshake. May be asynchronous (an ElevenLabs signed URL,
   * a Gemini ephemeral token); a rejection is reported as ERR_AI_CONNECT and retried on the backoff.
   */
  prepareConnection(ctx: ConnectContext): ConnectionPlan | Promise<ConnectionPlan>;
  /**
   * Frames to send as soon as the socket is open (before any server message). A service whose
   * setup goes first (Gemini) builds it here, with the port's resumption handle in `ctx`.
   */
  onOpen(ctx?: SetupContext): Frame[];
  /** Frames that configure the session, sent on 'session_created' (or from onOpen() by the backend itself). */
  sessionSetup(ctx?: SetupContext): Frame[];
  /** Decodes one frame from the service (hostile input: validate, bound, never throw). */
  decode(frame: Frame): BackendSignal[];
  /**
   * What a close frame from the service means, for a vendor whose errors are close frames (Gemini
   * 1007/1008/1011 with a reason); null or absent: a plain close. Reported as ERR_AI_SERVICE.
   */
  closeError?(code: number, reason: string): VendorError | null;
  /** One batch of microphone audio at the service's input rate. */
  encodeAudio(pcm: Int16Array): Frame;
  /**
   * Declared when encodeAudio() returns exactly `prefix + base64(little-endian PCM16) + suffix` as a
   * text frame, the same for every batch (OpenAI: `{"type":"input_audio_buffer.append","audio":"`
   * and `"}`): the port then frames microphone batches itself, straight from the audio ring into a
   * reused buffer (src/ai/framed-uplink.ts). Absent: encodeAudio() is called for every batch.
   */
  readonly audioTemplate?: AudioTemplate;
  /** Frames that keep an idle connection alive (see keepAliveMs). */
  keepAlive(): Frame[];
  /** Tells the service how much of an assistant item was heard. Empty when it has no such notion. */
  truncate(itemId: string, audioEndMs: number): Frame[];
  /** Cancels the active response. */
  cancelResponse(): Frame[];
  /** Asks for a response (the port serialises these behind the previous response's end). */
  createResponse(): Frame[];
  /** Push-to-talk: the user starts a turn (e.g. Gemini activityStart); often empty. */
  startTurn(): Frame[];
  /** Push-to-talk: the turn ended with audio; commit it. Returns whether the port must also ask for a response. */
  commitTurn(): { frames: Frame[]; requestResponse: boolean };
  /** Push-to-talk: the turn ended with no usable audio; drop what the service buffered. */
  clearTurn(): Frame[];
  /** A user turn given as text. */
  userText(text: string): Frame[];
  /** The result of a tool call. */
  toolResult(callId: string, name: string, output: string): Frame[];
  /** Restores the conversation into a new session (not used when the session is resumed). */
  restoreContext(entries: readonly ContextEntry[]): Frame[];
  /** Takes new parameters (voice, instructions, …); sessionSetup() then describes them. */
  reconfigure(param: AiPortParam): void;
  /** Warnings to log once when the port is created (a deprecated model, an ignored option). */
  startupWarnings(): string[];
}

/** The JSON text around the base64 audio of a backend's microphone message (see AiBackend.audioTemplate). */
export interface AudioTemplate {
  readonly prefix: string;
  readonly suffix: string;
}

/** Makes a backend from the port's parameters. */
export type BackendFactory = (param: AiPortParam) => AiBackend;
