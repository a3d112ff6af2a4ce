/**
 * ElevenLabs Agents Platform (Conversational AI) over its WebSocket (protocols.md section 4, checked
 * against `@elevenlabs/client` 1.25.0): `conversation_initiation_client_data` first (with the
 * overrides the agent allows), then `conversation_initiation_metadata` announces the audio formats,
 * which the port adapts to (never assumed). Mic audio goes as `{"user_audio_chunk":…}`, every `ping`
 * is answered with a `pong` of its `event_id`, an `interruption` flushes playback and drops the audio
 * of the cut-off reply, `agent_response_correction` rewrites what was heard, and `client_tool_call`s
 * are answered with `client_tool_result`. Turn-taking always runs on the service.
 *
 * A public agent is reached with `?agent_id=` and no key. A private agent (`signedUrl: true`) needs a
 * signed URL, fetched before each connection from the API host of the configured URL with the key in
 * `xi-api-key` (elevenlabs-signed-url.ts); the WebSocket itself never carries the key.
 */
import type { AiBackend, BackendSignal, ConnectContext, ConnectionPlan, ContextEntry, Frame, VendorError } from '../backend.js';
import type { AiPortParam } from '../types.js';
import { encodeChunk, parseFormat, type ElevenLabsFormat } from './elevenlabs-audio.js';
import { ElevenLabsDecoder } from './elevenlabs-decode.js';
import { fetchSignedUrl } from './elevenlabs-signed-url.js';
import { handshakeHeaders } from './handshake.js';

/** The agent to talk to and the overrides sent with each conversation (AiPortParam.elevenlabs). */
export interface ElevenLabsParam {
  /** The agent's id (`agent_…` in the ElevenLabs dashboard); required. */
  agentId: string;
  /** A private agent: fetch a signed URL with the API key before each connection (default false: public, no key sent). */
  signedUrl?: boolean;
  /** Overrides the agent's first message (`agent.first_message`; the agent must allow it). */
  firstMessage?: string;
  /** Overrides the agent's language, e.g. 'en' or 'pt-br' (`agent.language`; the agent must allow it). */
  language?: string;
}

/** The range of TTS speed the service takes; ai.speed is clamped into it. */
const SPEED_RANGE = [0.7, 1.2] as const;
/** Longest text of a restored conversation sent as one contextual_update. */
const RESTORE_LIMIT = 8000;
const PCM_16000 = parseFormat('pcm_16000') as ElevenLabsFormat;

/** Checks `param.elevenlabs` (TypeError/RangeError naming the field) and returns it. */
export function checkElevenLabsParam(param: AiPortParam): ElevenLabsParam {
  const el = param.elevenlabs;
  if (el === undefined || el === null || typeof el !== 'object') {
    throw new RangeError("param.elevenlabs.agentId is required for backend 'elevenlabs': the id of the agent (agent_…) from the ElevenLabs dashboard");
  }
  if (typeof el.agentId !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(el.agentId)) {
    throw new RangeError("param.elevenlabs.agentId must be the agent's id (letters, digits, _ and -, e.g. agent_…)");
  }
  if (el.signedUrl !== undefined && typeof el.signedUrl !== 'boolean') throw new TypeError('param.elevenlabs.signedUrl must be a boolean');
  if (el.firstMessage !== undefined && (typeof el.firstMessage !== 'string' || el.firstMessage.length > 4000)) {
    throw new RangeError('param.elevenlabs.firstMessage must be a string of at most 4000 characters');
  }
  if (el.language !== undefined && (typeof el.language !== 'string' || !/^$|^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/.test(el.language))) {
    throw new RangeError("param.elevenlabs.language must be a language code such as 'en' or 'pt-br'");
  }
  return el;
}

/** The ElevenLabs Agents backend. */
export class ElevenLabsBackend implements AiBackend {
  readonly name = 'elevenlabs';
  /** The ring's rates; the metadata's formats are announced to the port as 'rates'. */
  readonly inputRate = 16000;
  readonly outputRate = 16000;
  readonly dialect = 'convai';
  /** The service stops its reply itself when it hears the user. */
  readonly serverCancelsOnSpeech = true;
  readonly serverTurnDetection: boolean;
  private options: ElevenLabsParam;
  private decoder: ElevenLabsDecoder;

  constructor(
    private param: AiPortParam,
    private readonly now: () => number = Date.now,
  ) {
    this.options = checkElevenLabsParam(param);
    this.serverTurnDetection = param.turnDetection !== null;
    this.decoder = new ElevenLabsDecoder(now);
  }

  prepareConnection(ctx: ConnectContext): ConnectionPlan | Promise<ConnectionPlan> {
    // A new connection: formats, interruption ids and replies start afresh.
    this.decoder = new ElevenLabsDecoder(this.now);
    const headers = handshakeHeaders(null, 'bearer', this.param.headers);
    const protocols = ['convai'];
    const { agentId, signedUrl } = this.options;
    if (!signedUrl) {
      const target = new URL(ctx.url);
      target.searchParams.set('agent_id', agentId);
      return { url: target.toString(), headers, protocols };
    }
    if (!ctx.token) throw new Error('a private ElevenLabs agent (signed-URL mode) needs the API key: set ai.apiKeyFile or the ai-api-key credential');
    return fetchSignedUrl(ctx.url, agentId, ctx.token, ctx.signal, this.param.tls).then((url) => ({ url, headers, protocols }));
  }

  onOpen(): Frame[] {
    return [JSON.stringify({ type: 'conversation_initiation_client_data', ...this.overrides() })];
  }

  /** `conversation_config_override` with only what is set (every override must be allowed by the agent). */
  private overrides(): { conversation_config_override?: Record<string, Record<string, unknown>> } {
    const agent: Record<string, unknown> = {};
    const tts: Record<string, unknown> = {};
    if (this.param.instructions) agent.prompt = { prompt: this.param.instructions };
    if (this.options.firstMessage) agent.first_message = this.options.firstMessage;
    if (this.options.language) agent.language = this.options.language;
    if (this.param.voice) tts.voice_id = this.param.voice;
    if (this.param.speed !== undefined && this.param.speed !== 1) tts.speed = Math.min(SPEED_RANGE[1], Math.max(SPEED_RANGE[0], this.param.speed));
    const override = { ...(Object.keys(agent).length ? { agent } : {}), ...(Object.keys(tts).length ? { tts } : {}) };
    return Object.keys(override).length ? { conversation_config_override: override } : {};
  }

  /** Nothing to send: the overrides go with the next conversation (a voice change renews the session). */
  sessionSetup(): Frame[] {
    return [];
  }

  decode(frame: Frame): BackendSignal[] {
    return this.decoder.decode(frame);
  }

  /**
   * The service's refusals are close frames with a reason: 1008 before the conversation started (an
   * unknown agent, authentication required, an override the agent does not allow) is a configuration
   * problem (fatal: retried slowly, not in a fast loop); 1002 (a message it could not parse) and
   * closes after the start are not fatal.
   */
  closeError(code: number, reason: string): VendorError | null {
    if (code !== 1008 && code !== 1002) return null;
    const started = this.decoder.formats !== null;
    const what = code === 1008 ? 'policy violation' : 'protocol error';
    return {
      code: String(code),
      message: `the service closed the conversation with ${code} (${what}): ${reason.slice(0, 300) || what}`,
      fatal: code === 1008 && !started,
      sessionExpired: false,
    };
  }

  encodeAudio(pcm: Int16Array): Frame {
    return `{"user_audio_chunk":"${encodeChunk(pcm, this.decoder.formats?.input ?? PCM_16000)}"}`;
  }

  keepAlive(): Frame[] {
    return [];
  }

  /** The service keeps track of what was heard (and corrects the text itself). */
  truncate(): Frame[] {
    return [];
  }

  cancelResponse(): Frame[] {
    return [];
  }

  createResponse(): Frame[] {
    return [];
  }

  startTurn(): Frame[] {
    return [];
  }

  /** The service ends the turn itself when the microphone goes quiet; there is no commit message. */
  commitTurn(): { frames: Frame[]; requestResponse: boolean } {
    return { frames: [], requestResponse: false };
  }

  clearTurn(): Frame[] {
    return [];
  }

  userText(text: string): Frame[] {
    return [JSON.stringify({ type: 'user_message', text })];
  }

  toolResult(callId: string, _name: string, output: string): Frame[] {
    return [JSON.stringify({ type: 'client_tool_result', tool_call_id: callId, result: output, is_error: false })];
  }

  /** The conversation so far as one non-interrupting `contextual_update` (the service has no items to restore). */
  restoreContext(entries: readonly ContextEntry[]): Frame[] {
    const lines = entries.map((e) =>
      e.kind === 'message' ? `${e.role === 'user' ? 'User' : 'Assistant'}: ${e.text}` : `Tool ${e.name}(${e.arguments}) returned: ${e.output}`,
    );
    let text = '';
    for (let i = lines.length - 1; i >= 0; i--) {
      const next = `${lines[i]}\n${text}`;
      if (next.length > RESTORE_LIMIT) break;
      text = next;
    }
    if (text === '') return [];
    return [JSON.stringify({ type: 'contextual_update', text: `The conversation so far (restored after a reconnect):\n${text.trimEnd()}` })];
  }

  reconfigure(param: AiPortParam): void {
    this.options = checkElevenLabsParam(param);
    this.param = param;
  }

  startupWarnings(): string[] {
    const p = this.param;
    const out: string[] = [];
    const sent = Object.keys(this.overrides().conversation_config_override ?? {}).length > 0;
    if (sent)
      out.push(
        'elevenlabs: overrides (voice, speed, instructions, first message or language) are sent with each conversation; the agent must allow each in its Security settings, or the service ends the conversation at once (ERR_AI_CONFIG_REJECTED)',
      );
    if (p.speed !== undefined && (p.speed < SPEED_RANGE[0] || p.speed > SPEED_RANGE[1]))
      out.push(`elevenlabs: speed ${p.speed} is outside the service's ${SPEED_RANGE[0]}–${SPEED_RANGE[1]}; clamped`);
    if (p.model) out.push('elevenlabs: the model is not used; the agent chooses its LLM and voice');
    if (p.inputTranscription) out.push('elevenlabs: inputTranscription is not used; the agent always transcribes the user');
    if (p.turnDetection === null) out.push('elevenlabs: push-to-talk only gates the microphone; the service still decides when the turn ends');
    const tools = (p.tools ?? []).map((t) => t.name);
    if (tools.length) out.push(`elevenlabs: tools are defined in the agent: it must have client tools named ${tools.join(', ')}`);
    return out;
  }
}

/** Makes the ElevenLabs Agents backend (throws a RangeError without `param.elevenlabs.agentId`). */
export function createElevenLabsBackend(param: AiPortParam): AiBackend {
  return new ElevenLabsBackend(param);
}
