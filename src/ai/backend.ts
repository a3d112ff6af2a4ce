import type { AiPortParam } from './types.js';

/** The handshake a backend asks for. */
export interface ConnectionPlan {
  url: string;
  headers: Record<string, string>;
  protocols: string[];
}

/**
 * What a backend makes of one server message, in the port's terms. The port owns all policy
 * (barge-in, playback, response serialisation, renewal); a backend only translates.
 */
export type BackendSignal =
  | { kind: 'session_created'; sessionId?: string; dialect?: string }
  | { kind: 'session_ready'; mismatches: string[] }
  | { kind: 'audio'; itemId: string; responseId?: string; pcm: Int16Array }
  | { kind: 'audio_done'; itemId: string }
  | { kind: 'speech_started'; itemId?: string }
  | { kind: 'speech_stopped'; itemId?: string }
  | { kind: 'transcript'; role: 'user' | 'assistant'; text: string; final: boolean; itemId?: string }
  | { kind: 'response_created'; responseId: string }
  | { kind: 'response_done'; responseId: string; status: string; reason?: string }
  | { kind: 'tool_call'; callId: string; name: string; arguments: string }
  | { kind: 'error'; code: string; message: string; fatal: boolean; sessionExpired: boolean }
  | { kind: 'ignored' }
  | { kind: 'unknown'; type: string }
  | { kind: 'malformed'; reason: string };

/** A vendor backend: one file in src/ai/backends/ implements it. */
export interface AiBackend {
  readonly name: string;
  /** Rate of the microphone audio the service takes. */
  readonly inputRate: number;
  /** Rate of the audio the service sends. */
  readonly outputRate: number;
  /** The dialect in use ('ga', 'beta', …), settled by the first session message when 'auto'. */
  readonly dialect: string;
  /** Whether the service cancels its reply by itself when it hears the user (else the port cancels it). */
  readonly serverCancelsOnSpeech: boolean;
  /** Whether the service's own voice detection is on (false: push-to-talk; the port commits turns). */
  readonly serverTurnDetection: boolean;
  /** URL, headers and subprotocols for the handshake. */
  prepareConnection(url: string, token: string | null): ConnectionPlan;
  /** Messages to send as soon as the socket is open (before any server message). */
  onOpen(): string[];
  /** Messages that configure the session, sent after the server's first message. */
  sessionSetup(): string[];
  /** Decodes one text message. */
  decode(text: string): BackendSignal[];
  /** One batch of microphone audio. */
  encodeAudio(pcm: Int16Array): string;
  /** Tells the service how much of an assistant item was heard. Empty when it has no such notion. */
  truncate(itemId: string, audioEndMs: number): string[];
  /** Cancels the active response. */
  cancelResponse(): string[];
  /** Asks for a response (the port serialises these behind the previous response's end). */
  createResponse(): string[];
  /** A user turn given as text. */
  userText(text: string): string[];
  /** The result of a tool call. */
  toolResult(callId: string, output: string): string[];
  /** A past turn, restored as text into a new session. */
  contextTurn(role: 'user' | 'assistant', text: string): string[];
  /** Takes new parameters (voice, instructions, …); sessionSetup() then describes them. */
  reconfigure(param: AiPortParam): void;
}

/** Makes a backend from the port's parameters. */
export type BackendFactory = (param: AiPortParam) => AiBackend;
