/**
 * Deepgram Voice Agent API V1 (`wss://agent.deepgram.com/v1/agent/converse`, protocols.md section 5):
 * an orchestrated listen → think → speak agent. `Authorization: Token <key>` on the handshake; the
 * service sends `Welcome`, takes one `Settings` (audio formats, the listen/think/speak providers, the
 * prompt, functions and the restored conversation) and answers `SettingsApplied`; then raw PCM16
 * travels in binary frames both ways (16 kHz up, 24 kHz down). Its own turn detection ends turns
 * (push-to-talk adds `ForceEndTurn`); `UserStartedSpeaking` flushes playback; `KeepAlive` holds an
 * idle connection open; every `Error` ends the session, a `Warning` does not.
 */
import { endianness } from 'node:os';
import type { AiBackend, BackendSignal, ConnectContext, ConnectionPlan, Frame, SetupContext } from '../backend.js';
import type { AiPortParam } from '../types.js';
import { DeepgramReplies, decodeDeepgram, type DeepgramDecodeContext } from './deepgram-decode.js';
import {
  DEEPGRAM_INPUT_RATE,
  DEEPGRAM_OUTPUT_RATE,
  listenOf,
  resolveDeepgram,
  settingsOf,
  settingsWarnings,
  speakOf,
  thinkOf,
  type DeepgramResolved,
} from './deepgram-settings.js';
import { handshakeHeaders } from './handshake.js';

/** Endpoint used when `ai.url` is '' (the SDK's production agent host plus the V1 path). */
export const DEEPGRAM_AGENT_URL = 'wss://agent.deepgram.com/v1/agent/converse';

const HOST_IS_LE = endianness() === 'LE';

/** Samples as little-endian bytes, copied (the caller reuses its buffer). */
function pcmBytes(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.byteLength);
  if (HOST_IS_LE) {
    out.set(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  } else {
    const view = new DataView(out.buffer);
    pcm.forEach((v, i) => view.setInt16(i * 2, v, true));
  }
  return out;
}

/** The Deepgram Voice Agent backend. */
export class DeepgramBackend implements AiBackend {
  readonly name = 'deepgram';
  readonly inputRate = DEEPGRAM_INPUT_RATE;
  readonly outputRate = DEEPGRAM_OUTPUT_RATE;
  readonly dialect = 'v1';
  /** The agent stops its reply by itself when it hears the user. */
  readonly serverCancelsOnSpeech = true;
  readonly serverTurnDetection: boolean;
  readonly keepAliveMs: number;
  private dg: DeepgramResolved;
  /** What the running session was configured with, to send only what changed. */
  private applied: { prompt: string; think: string; speak: string; listen: string } | null = null;
  private settingsSent = false;
  private welcomed = false;
  private configured = false;
  private connectionSeq = 0;
  private replies = new DeepgramReplies('dg_reply_0');

  constructor(private param: AiPortParam) {
    this.dg = resolveDeepgram(param.deepgram);
    this.keepAliveMs = this.dg.keepAliveMs;
    this.serverTurnDetection = param.turnDetection !== null;
  }

  prepareConnection(ctx: ConnectContext): ConnectionPlan {
    // The key goes only in the Authorization header of this URL's handshake (no redirects are followed).
    const headers = handshakeHeaders(ctx.token, this.param.authScheme ?? 'token', this.param.headers);
    this.settingsSent = false;
    this.welcomed = false;
    this.configured = false;
    this.applied = null;
    this.replies = new DeepgramReplies(`dg_reply_${++this.connectionSeq}`);
    return { url: new URL(ctx.url).toString(), headers, protocols: [] };
  }

  onOpen(): Frame[] {
    return [];
  }

  sessionSetup(ctx?: SetupContext): Frame[] {
    if (!this.settingsSent) {
      this.settingsSent = true;
      const settings = settingsOf(this.param, this.dg, ctx?.context ?? []);
      this.applied = this.snapshot();
      return [JSON.stringify(settings)];
    }
    return this.updates();
  }

  /** Settings go once per connection; later changes go as UpdatePrompt/UpdateThink/UpdateSpeak/UpdateListen. */
  private updates(): Frame[] {
    const now = this.snapshot();
    const was = this.applied;
    this.applied = now;
    if (!was) return [];
    const out: Frame[] = [];
    if (now.prompt !== was.prompt) out.push(JSON.stringify({ type: 'UpdatePrompt', prompt: this.param.instructions ?? '' }));
    if (now.think !== was.think) out.push(JSON.stringify({ type: 'UpdateThink', think: thinkOf(this.param, this.dg) }));
    if (now.speak !== was.speak) out.push(JSON.stringify({ type: 'UpdateSpeak', speak: speakOf(this.param, this.dg) }));
    if (now.listen !== was.listen) out.push(JSON.stringify({ type: 'UpdateListen', listen: listenOf(this.param, this.dg) }));
    return out;
  }

  private snapshot(): { prompt: string; think: string; speak: string; listen: string } {
    const think = thinkOf(this.param, this.dg);
    return {
      prompt: this.param.instructions ?? '',
      think: JSON.stringify({ ...think, prompt: undefined }),
      speak: JSON.stringify(speakOf(this.param, this.dg)),
      listen: JSON.stringify(listenOf(this.param, this.dg)),
    };
  }

  decode(frame: Frame): BackendSignal[] {
    return decodeDeepgram(frame, this.decodeContext);
  }

  private readonly decodeContext: DeepgramDecodeContext = {
    replies: () => this.replies,
    isConfigured: () => this.configured,
    welcome: (requestId) => {
      if (this.welcomed) return { kind: 'ignored' };
      this.welcomed = true;
      return { kind: 'session_created', ...(requestId ? { sessionId: requestId } : {}), dialect: this.dialect };
    },
    applied: () => {
      this.configured = true;
      return { kind: 'session_ready', mismatches: [] };
    },
  };

  encodeAudio(pcm: Int16Array): Frame {
    return pcmBytes(pcm);
  }

  keepAlive(): Frame[] {
    // Before Settings any other message is a fatal error.
    return this.settingsSent ? ['{"type":"KeepAlive"}'] : [];
  }

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

  commitTurn(): { frames: Frame[]; requestResponse: boolean } {
    return { frames: ['{"type":"ForceEndTurn"}'], requestResponse: false };
  }

  clearTurn(): Frame[] {
    return [];
  }

  userText(text: string): Frame[] {
    return [JSON.stringify({ type: 'InjectUserMessage', content: text })];
  }

  toolResult(callId: string, name: string, output: string): Frame[] {
    return [JSON.stringify({ type: 'FunctionCallResponse', id: callId, name, content: output })];
  }

  restoreContext(): Frame[] {
    // The conversation went into Settings (agent.context): the service takes it nowhere else.
    return [];
  }

  reconfigure(param: AiPortParam): void {
    const dg = resolveDeepgram(param.deepgram);
    this.param = param;
    this.dg = dg;
  }

  startupWarnings(): string[] {
    return settingsWarnings(this.param);
  }
}

/** Makes the Deepgram Voice Agent backend. */
export function createDeepgramBackend(param: AiPortParam): AiBackend {
  return new DeepgramBackend(param);
}
