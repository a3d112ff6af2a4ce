/**
 * What the Gemini Live backend sends (protocols.md section 3, checked against `@google/genai`
 * 2.32.0): the `setup` message built from the port's parameters, the client messages, the endpoint
 * URL, and the ephemeral token request. Field names are the SDK's camelCase wire names.
 */
import type { ContextEntry } from '../backend.js';
import type { AiPortParam, GeminiOptions } from '../types.js';

/** A JSON object as sent. */
type Json = Record<string, unknown>;

/** Default model: a current Live model with native audio. */
export const DEFAULT_GEMINI_MODEL = 'gemini-2.5-flash-native-audio-preview-12-2025';

/** Default endpoint (Gemini Developer API, the SDK's default `v1beta`). */
export const GEMINI_URL = 'wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent';

/** Gemini Live options with their defaults applied. */
export type GeminiSettings = Required<Omit<GeminiOptions, 'compressionTriggerTokens'>> & { compressionTriggerTokens: number };

/** Checks the Gemini options (TypeError/RangeError naming the field) and applies the defaults. */
export function geminiSettings(options: GeminiOptions | undefined): GeminiSettings {
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) throw new TypeError('param.gemini must be an object');
  const flag = (key: keyof GeminiOptions, fallback: boolean): boolean => {
    const v = o[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw new TypeError(`param.gemini.${key} must be a boolean`);
    return v;
  };
  const trigger = o.compressionTriggerTokens ?? 0;
  if (typeof trigger !== 'number' || !Number.isInteger(trigger) || trigger < 0 || trigger > 10_000_000) {
    throw new RangeError('param.gemini.compressionTriggerTokens must be a whole number from 0 to 10000000');
  }
  return {
    ephemeralTokens: flag('ephemeralTokens', false),
    resumption: flag('resumption', true),
    contextCompression: flag('contextCompression', true),
    compressionTriggerTokens: trigger,
    inputTranscription: flag('inputTranscription', true),
    outputTranscription: flag('outputTranscription', true),
  };
}

/** The model as the setup names it (`models/<name>`). */
export function modelPath(model: string): string {
  return model.startsWith('models/') ? model : `models/${model}`;
}

function realtimeInputConfig(param: AiPortParam): Json {
  const td = param.turnDetection;
  if (td === null) return { automaticActivityDetection: { disabled: true } };
  const detection: Json = {};
  if (td?.type === 'server_vad') {
    if (td.prefixPaddingMs !== undefined) detection.prefixPaddingMs = td.prefixPaddingMs;
    if (td.silenceDurationMs !== undefined) detection.silenceDurationMs = td.silenceDurationMs;
  }
  const config: Json = { automaticActivityDetection: { disabled: false, ...detection } };
  if (td?.interruptResponse === false) config.activityHandling = 'NO_INTERRUPTION';
  return config;
}

/**
 * The `setup` message of a connection. `resumeHandle` resumes a session (the service keeps the
 * conversation); the configuration may change on a resumption, the model may not.
 */
export function setupMessage(param: AiPortParam, settings: GeminiSettings, model: string, resumeHandle: string | undefined): string {
  const generationConfig: Json = { responseModalities: [param.outputModalities?.[0] === 'text' ? 'TEXT' : 'AUDIO'] };
  if (param.voice) generationConfig.speechConfig = { voiceConfig: { prebuiltVoiceConfig: { voiceName: param.voice } } };
  if (typeof param.maxOutputTokens === 'number') generationConfig.maxOutputTokens = param.maxOutputTokens;
  const setup: Json = { model: modelPath(model), generationConfig, realtimeInputConfig: realtimeInputConfig(param) };
  if (param.instructions) setup.systemInstruction = { parts: [{ text: param.instructions }] };
  const tools = param.tools ?? [];
  if (tools.length > 0) {
    setup.tools = [{ functionDeclarations: tools.map((t) => ({ name: t.name, description: t.description, parametersJsonSchema: t.parameters })) }];
  }
  if (settings.inputTranscription) {
    const language = param.inputTranscription?.language;
    setup.inputAudioTranscription = language ? { languageCodes: [language] } : {};
  }
  if (settings.outputTranscription) setup.outputAudioTranscription = {};
  if (settings.resumption) setup.sessionResumption = resumeHandle ? { handle: resumeHandle } : {};
  if (settings.contextCompression) {
    setup.contextWindowCompression = {
      slidingWindow: {},
      ...(settings.compressionTriggerTokens > 0 ? { triggerTokens: String(settings.compressionTriggerTokens) } : {}),
    };
  }
  return JSON.stringify({ setup });
}

/** One batch of microphone audio (`realtimeInput.audio`, the rate in the MIME type). */
export function audioMessage(base64: string, rate: number): string {
  return `{"realtimeInput":{"audio":{"data":"${base64}","mimeType":"audio/pcm;rate=${rate}"}}}`;
}

/** A `realtimeInput` activity signal (push-to-talk with automatic activity detection off). */
export function activityMessage(which: 'activityStart' | 'activityEnd'): string {
  return JSON.stringify({ realtimeInput: { [which]: {} } });
}

/** A user turn as text; `turnComplete` asks for a reply. */
export function userTextMessage(text: string): string {
  return JSON.stringify({ clientContent: { turns: [{ role: 'user', parts: [{ text }] }], turnComplete: true } });
}

/** The result of a function call: `response.output` holds the JSON value, or the text when it is not JSON. */
export function toolResponseMessage(callId: string, name: string, output: string): string {
  let value: unknown = output;
  try {
    value = JSON.parse(output) as unknown;
  } catch {
    value = output;
  }
  return JSON.stringify({ toolResponse: { functionResponses: [{ id: callId, name, response: { output: value } }] } });
}

/**
 * The conversation restored into a new (not resumed) session, as history turns that ask for no
 * reply: what the user heard of each reply, and tool calls with their results as text.
 */
export function historyMessage(entries: readonly ContextEntry[]): string[] {
  const turns = entries.map((e) =>
    e.kind === 'message'
      ? { role: e.role === 'user' ? 'user' : 'model', parts: [{ text: e.text }] }
      : { role: 'model', parts: [{ text: `[called ${e.name}(${e.arguments}); it returned ${e.output}]` }] },
  );
  return turns.length === 0 ? [] : [JSON.stringify({ clientContent: { turns, turnComplete: false } })];
}

/**
 * The WebSocket URL: the configured one, switched to the ephemeral-token endpoint when `token` is
 * an `auth_tokens/…` name (`v1alpha …BidiGenerateContentConstrained?access_token=`). The API key
 * itself never goes into the URL: it travels in the `x-goog-api-key` header.
 */
export function socketUrl(configured: string, token: string | null): string {
  const target = new URL(configured);
  if (token !== null && token.startsWith('auth_tokens/')) {
    target.pathname = target.pathname
      .replace(/\.v1(alpha|beta)?\.GenerativeService\./, '.v1alpha.GenerativeService.')
      .replace(/\.BidiGenerateContent$/, '.BidiGenerateContentConstrained');
    target.searchParams.delete('key');
    target.searchParams.set('access_token', token);
  }
  return target.toString();
}

/** Longest wait for the token request. */
const TOKEN_TIMEOUT_MS = 10_000;

/**
 * Mints a single-use ephemeral token (REST `auth_tokens`, as `ai.authTokens.create` does) on the
 * configured URL's own host, locked to `model`; the API key goes only in its `x-goog-api-key`
 * header. Never follows a redirect. Errors say why without quoting the key or the answer's body.
 */
export async function mintToken(configured: string, key: string, model: string, signal: AbortSignal, now = Date.now()): Promise<string> {
  const socket = new URL(configured);
  const endpoint = new URL(`${socket.protocol === 'wss:' ? 'https:' : 'http:'}//${socket.host}/v1alpha/auth_tokens`);
  const body = {
    uses: 1,
    expireTime: new Date(now + 30 * 60_000).toISOString(),
    newSessionExpireTime: new Date(now + 60_000).toISOString(),
    bidiGenerateContentSetup: { model: modelPath(model) },
  };
  const timeout = AbortSignal.timeout(TOKEN_TIMEOUT_MS);
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': key },
    body: JSON.stringify(body),
    redirect: 'manual',
    signal: AbortSignal.any([signal, timeout]),
  });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`the ephemeral token request to ${endpoint.host} was refused (HTTP ${response.status})`);
  }
  const text = await response.text();
  let name: unknown;
  try {
    name = (JSON.parse(text.slice(0, 64 * 1024)) as { name?: unknown }).name;
  } catch {
    name = undefined;
  }
  if (typeof name !== 'string' || !/^auth_tokens\/[A-Za-z0-9._~-]{1,500}$/.test(name)) {
    throw new Error(`the ephemeral token answer from ${endpoint.host} holds no token name`);
  }
  return name;
}
