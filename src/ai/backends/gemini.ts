/**
 * Gemini Live (`BidiGenerateContent`, protocols.md section 3): `setup` first on open and nothing
 * else before `setupComplete`; PCM16 at 16 kHz in, 24 kHz out, base64 in JSON (the service may send
 * its JSON in binary frames); `interrupted` flushes playback with no truncate; transcriptions; tool
 * calls and cancellations; `goAway` and session resumption, so the port renews on a new connection
 * that resumes the session (the user notices nothing); context window compression. Errors are close
 * frames (1007 invalid argument, 1008 policy, 1011 internal) whose reason the port reports.
 *
 * The API key goes in the `x-goog-api-key` header to the configured host only; with
 * `gemini.ephemeralTokens` a single-use token is minted on that host first and the socket opens
 * with the token instead (`?access_token=`).
 */
import type { AiBackend, BackendSignal, ConnectContext, ConnectionPlan, ContextEntry, Frame, SetupContext, VendorError } from '../backend.js';
import { pcmToBase64 } from '../pcm.js';
import type { AiPortParam } from '../types.js';
import { handshakeHeaders } from './handshake.js';
import { GeminiDecoder } from './gemini-decode.js';
import {
  activityMessage,
  audioMessage,
  DEFAULT_GEMINI_MODEL,
  geminiSettings,
  historyMessage,
  mintToken,
  setupMessage,
  socketUrl,
  toolResponseMessage,
  userTextMessage,
  type GeminiSettings,
} from './gemini-setup.js';

export { DEFAULT_GEMINI_MODEL, GEMINI_URL } from './gemini-setup.js';

/** Close codes of the service's errors, and what each means. */
const CLOSE_MEANING: Readonly<Record<number, string>> = { 1007: 'invalid argument', 1008: 'policy violation', 1011: 'internal error' };

/** The Gemini Live backend. */
export class GeminiBackend implements AiBackend {
  readonly name = 'gemini';
  readonly inputRate = 16000;
  readonly outputRate = 24000;
  readonly dialect = 'v1beta';
  readonly serverCancelsOnSpeech = true;
  readonly serverTurnDetection: boolean;
  private readonly settings: GeminiSettings;
  private readonly decoder: GeminiDecoder;
  /** Whether this connection's setup resumed a session with a handle. */
  private resumed = false;

  constructor(private param: AiPortParam) {
    this.settings = geminiSettings(param.gemini);
    this.serverTurnDetection = param.turnDetection !== null;
    this.decoder = new GeminiDecoder(this.outputRate, param.turnDetection?.interruptResponse !== false);
  }

  /** The model in use (the parameters', else the default). */
  get model(): string {
    return this.param.model || DEFAULT_GEMINI_MODEL;
  }

  async prepareConnection(ctx: ConnectContext): Promise<ConnectionPlan> {
    this.decoder.reset();
    this.resumed = false;
    const headers = handshakeHeaders(null, 'bearer', this.param.headers);
    if (ctx.token === null) return { url: socketUrl(ctx.url, null), headers, protocols: [] };
    if (this.settings.ephemeralTokens) {
      const token = await mintToken(ctx.url, ctx.token, this.model, ctx.signal);
      return { url: socketUrl(ctx.url, token), headers, protocols: [] };
    }
    return { url: socketUrl(ctx.url, null), headers: { ...headers, 'x-goog-api-key': ctx.token }, protocols: [] };
  }

  /** The `setup` message, first on every connection (resuming the session when the port has a handle). */
  onOpen(ctx?: SetupContext): Frame[] {
    const handle = this.settings.resumption ? ctx?.resumeHandle : undefined;
    this.resumed = handle !== undefined;
    return [setupMessage(this.param, this.settings, this.model, handle)];
  }

  /** Empty: the setup went out on open, and a second `setup` on a connection is refused (1007). */
  sessionSetup(): Frame[] {
    return [];
  }

  decode(frame: Frame): BackendSignal[] {
    return this.decoder.decode(frame);
  }

  /**
   * The service's error closes with their reason: 1007 and 1008 before `setupComplete` refuse the
   * key, model or setup (fatal: retried slowly), unless the setup resumed a session (the handle is
   * dropped and a new session follows); 1011 and closes after `setupComplete` are not fatal.
   */
  closeError(code: number, reason: string): VendorError | null {
    const meaning = CLOSE_MEANING[code];
    if (meaning === undefined) return null;
    const fatal = code !== 1011 && !this.decoder.setupComplete && !this.resumed;
    const text = reason.slice(0, 300) || meaning;
    return { code: String(code), message: `the service closed the connection with ${code} (${meaning}): ${text}`, fatal, sessionExpired: false };
  }

  encodeAudio(pcm: Int16Array): Frame {
    return audioMessage(pcmToBase64(pcm), this.inputRate);
  }

  keepAlive(): Frame[] {
    return [];
  }

  /** Empty: after `interrupted` the service knows what was heard. */
  truncate(): Frame[] {
    return [];
  }

  /** Empty: the service cuts its reply itself when it hears the user. */
  cancelResponse(): Frame[] {
    return [];
  }

  /** Empty: the service replies by itself after a user turn or a tool response. */
  createResponse(): Frame[] {
    return [];
  }

  startTurn(): Frame[] {
    return [activityMessage('activityStart')];
  }

  /** `activityEnd`: the service replies by itself. */
  commitTurn(): { frames: Frame[]; requestResponse: boolean } {
    return { frames: [activityMessage('activityEnd')], requestResponse: false };
  }

  /** `activityEnd` of an activity that holds no usable audio (Gemini has no way to drop it). */
  clearTurn(): Frame[] {
    return [activityMessage('activityEnd')];
  }

  userText(text: string): Frame[] {
    return [userTextMessage(text)];
  }

  toolResult(callId: string, name: string, output: string): Frame[] {
    return [toolResponseMessage(callId, name, output)];
  }

  /** History turns for a new session (a resumed one keeps its own and gets none). */
  restoreContext(entries: readonly ContextEntry[]): Frame[] {
    return this.resumed ? [] : historyMessage(entries);
  }

  /** New parameters apply from the next connection (the service takes no second setup). */
  reconfigure(param: AiPortParam): void {
    this.param = { ...param, gemini: this.param.gemini };
  }

  startupWarnings(): string[] {
    const out: string[] = [];
    if (this.param.inputTranscription?.model)
      out.push(`ai: Gemini transcribes with its own model; the transcription model '${this.param.inputTranscription.model}' is ignored`);
    if (this.param.toolChoice !== undefined) out.push('ai: Gemini Live has no tool choice; ai.toolChoice is ignored');
    if (this.param.speed !== undefined) out.push('ai: Gemini Live has no speaking speed; ai.speed is ignored');
    return out;
  }
}

/** Makes the Gemini Live backend; throws a TypeError/RangeError naming a bad `param.gemini` field. */
export function createGeminiBackend(param: AiPortParam): AiBackend {
  return new GeminiBackend(param);
}
