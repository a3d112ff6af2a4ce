/**
 * The client messages speakerd sends to the Deepgram Voice Agent API V1, typed after the
 * `@deepgram/sdk` 5.13.0 `agent/v1` types (`AgentV1Settings`, `ThinkSettingsV1`, `SpeakSettingsV1`,
 * `DeepgramListenProviderV1/V2`), and how the port's parameters become them.
 */
import type { ContextEntry } from '../backend.js';
import type { AiPortParam, DeepgramAgentParam } from '../types.js';

/** Listen model when the parameters name none (the SDK's examples: Nova-3). */
export const DEFAULT_DEEPGRAM_LISTEN_MODEL = 'nova-3';
/** Think provider when the parameters name none. */
export const DEFAULT_DEEPGRAM_THINK_PROVIDER = 'open_ai';
/** Think model when the parameters name none (the SDK's examples). */
export const DEFAULT_DEEPGRAM_THINK_MODEL = 'gpt-4o-mini';
/** Speak model when the parameters name none: the service's own default voice (SDK: Flux TTS `flux-kit-en`). */
export const DEFAULT_DEEPGRAM_SPEAK_MODEL = 'flux-kit-en';
/** Think providers the agent runs with Deepgram's own keys (no endpoint or credentials to configure). */
export const DEEPGRAM_THINK_PROVIDERS = ['open_ai', 'anthropic', 'google', 'groq'] as const;
/** KeepAlive cadence while nothing else is sent, ms (the service closes after about 10 s of silence). */
export const DEFAULT_DEEPGRAM_KEEPALIVE_MS = 8000;

/** Rates speakerd uses: 16 kHz microphone (what the listen models take natively), 24 kHz replies. */
export const DEEPGRAM_INPUT_RATE = 16000;
export const DEEPGRAM_OUTPUT_RATE = 24000;

/** Aura speaks 0.7–1.5× (Flux TTS 0.5–1.5×); the port allows 0.25–1.5. */
const SPEED_MIN = 0.7;

/** `agent.listen.provider`. */
export interface DgListenProvider {
  type: 'deepgram';
  version: 'v1' | 'v2';
  model: string;
  language?: string;
}

/** `agent.think` (a client-side function is one without `endpoint`). */
export interface DgThink {
  provider: { type: string; model: string };
  prompt?: string;
  functions?: Array<{ name: string; description: string; parameters: Record<string, unknown> }>;
}

/** `agent.speak`. */
export interface DgSpeak {
  provider: { type: 'deepgram'; version: 'v1' | 'v2'; model: string; speed?: number };
}

/** One `agent.context.messages` entry (`AgentV1History`). */
export type DgHistory =
  | { type: 'History'; role: 'user' | 'assistant'; content: string }
  | { type: 'History'; function_calls: Array<{ id: string; name: string; client_side: boolean; arguments: string; response: string }> };

/** The `Settings` message (the first and only one of a connection). */
export interface DgSettings {
  type: 'Settings';
  audio: {
    input: { encoding: 'linear16'; sample_rate: number };
    output: { encoding: 'linear16'; sample_rate: number; container: 'none' };
  };
  agent: {
    context?: { messages: DgHistory[] };
    listen: { provider: DgListenProvider };
    think: DgThink;
    speak: DgSpeak;
  };
}

/** The Deepgram parameters with their defaults applied. */
export interface DeepgramResolved {
  listenModel: string;
  thinkProvider: string;
  thinkModel: string;
  speakModel: string;
  keepAliveMs: number;
}

const MODEL = /^[A-Za-z0-9._:/-]{1,200}$/;

/** Checks `param.deepgram` (TypeError/RangeError naming the field) and applies the defaults. */
export function resolveDeepgram(d: DeepgramAgentParam | undefined): DeepgramResolved {
  if (d !== undefined && (typeof d !== 'object' || d === null || Array.isArray(d))) throw new TypeError('param.deepgram must be an object');
  const model = (v: unknown, field: string, fallback: string): string => {
    if (v === undefined || v === '') return fallback;
    if (typeof v !== 'string' || !MODEL.test(v)) throw new RangeError(`param.deepgram.${field} must be a model name (letters, digits, . _ : / -)`);
    return v;
  };
  const provider = d?.thinkProvider ?? DEFAULT_DEEPGRAM_THINK_PROVIDER;
  if (!(DEEPGRAM_THINK_PROVIDERS as readonly string[]).includes(provider)) {
    throw new RangeError(`param.deepgram.thinkProvider must be one of ${DEEPGRAM_THINK_PROVIDERS.map((p) => `'${p}'`).join(', ')}`);
  }
  const keepAliveMs = d?.keepAliveMs ?? DEFAULT_DEEPGRAM_KEEPALIVE_MS;
  if (typeof keepAliveMs !== 'number' || !Number.isInteger(keepAliveMs) || keepAliveMs < 100 || keepAliveMs > 60000) {
    throw new RangeError('param.deepgram.keepAliveMs must be a whole number from 100 to 60000');
  }
  return {
    listenModel: model(d?.listenModel, 'listenModel', DEFAULT_DEEPGRAM_LISTEN_MODEL),
    thinkProvider: provider,
    thinkModel: model(d?.thinkModel, 'thinkModel', DEFAULT_DEEPGRAM_THINK_MODEL),
    speakModel: model(d?.speakModel, 'speakModel', DEFAULT_DEEPGRAM_SPEAK_MODEL),
    keepAliveMs,
  };
}

/** Flux models (`flux-*`) use the V2 API of their family, the others (Nova, Aura) V1. */
function family(model: string): 'v1' | 'v2' {
  return model.startsWith('flux-') ? 'v2' : 'v1';
}

/** `agent.listen`, with the transcription language when one is set. */
export function listenOf(param: AiPortParam, dg: DeepgramResolved): { provider: DgListenProvider } {
  const language = param.inputTranscription?.language;
  const version = family(dg.listenModel);
  return { provider: { type: 'deepgram', version, model: dg.listenModel, ...(language && version === 'v1' ? { language } : {}) } };
}

/** `agent.think`: provider, prompt (the instructions) and the client-side functions (the tools). */
export function thinkOf(param: AiPortParam, dg: DeepgramResolved): DgThink {
  const tools = param.tools ?? [];
  return {
    provider: { type: dg.thinkProvider, model: dg.thinkModel },
    ...(param.instructions ? { prompt: param.instructions } : {}),
    ...(tools.length > 0 ? { functions: tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })) } : {}),
  };
}

/** `agent.speak`: the voice is `param.voice` when set, else the speak model; speed within what the voices take. */
export function speakOf(param: AiPortParam, dg: DeepgramResolved): DgSpeak {
  const model = param.voice || dg.speakModel;
  const speed = param.speed !== undefined && param.speed !== 1 ? Math.max(SPEED_MIN, param.speed) : undefined;
  return { provider: { type: 'deepgram', version: family(model), model, ...(speed !== undefined ? { speed } : {}) } };
}

/** The conversation restored into a new session, as `agent.context.messages`. */
export function historyOf(entries: readonly ContextEntry[]): DgHistory[] {
  return entries.map((e): DgHistory =>
    e.kind === 'message'
      ? { type: 'History', role: e.role, content: e.text }
      : { type: 'History', function_calls: [{ id: e.callId, name: e.name, client_side: true, arguments: e.arguments, response: e.output }] },
  );
}

/** The `Settings` message. */
export function settingsOf(param: AiPortParam, dg: DeepgramResolved, context: readonly ContextEntry[]): DgSettings {
  return {
    type: 'Settings',
    audio: {
      input: { encoding: 'linear16', sample_rate: DEEPGRAM_INPUT_RATE },
      output: { encoding: 'linear16', sample_rate: DEEPGRAM_OUTPUT_RATE, container: 'none' },
    },
    agent: {
      ...(context.length > 0 ? { context: { messages: historyOf(context) } } : {}),
      listen: listenOf(param, dg),
      think: thinkOf(param, dg),
      speak: speakOf(param, dg),
    },
  };
}

/** Warnings about parameters the agent cannot honour as given. */
export function settingsWarnings(param: AiPortParam): string[] {
  const out: string[] = [];
  if (param.speed !== undefined && param.speed < SPEED_MIN) out.push(`deepgram: speed ${param.speed} is below what the voices take; ${SPEED_MIN} is used`);
  if (param.outputModalities?.[0] === 'text') out.push("deepgram: outputModalities ['text'] is not available; the agent always speaks");
  return out;
}
