import type { AiPortParam, TurnDetection } from '../types.js';

/** A JSON object as sent or received. */
export type Json = Record<string, unknown>;

import type { GaSession, GaToolChoice, GaTruncation, GaTurnDetection } from './openai-events.js';

function turnDetection(td: TurnDetection | null | undefined): GaTurnDetection | null {
  if (td === null) return null;
  const t = td ?? { type: 'server_vad' };
  if (t.type === 'server_vad') {
    const out: GaTurnDetection = { type: 'server_vad' };
    if (t.threshold !== undefined) out.threshold = t.threshold;
    if (t.prefixPaddingMs !== undefined) out.prefix_padding_ms = t.prefixPaddingMs;
    if (t.silenceDurationMs !== undefined) out.silence_duration_ms = t.silenceDurationMs;
    if (t.idleTimeoutMs !== undefined) out.idle_timeout_ms = t.idleTimeoutMs;
    return { ...out, create_response: t.createResponse ?? true, interrupt_response: t.interruptResponse ?? true };
  }
  const out: GaTurnDetection = { type: 'semantic_vad' };
  if (t.eagerness !== undefined) out.eagerness = t.eagerness;
  return { ...out, create_response: t.createResponse ?? true, interrupt_response: t.interruptResponse ?? true };
}

function tools(param: AiPortParam): GaSession['tools'] & object {
  return (param.tools ?? []).map((t) => ({ type: 'function' as const, name: t.name, description: t.description, parameters: t.parameters }));
}

function toolChoice(c: AiPortParam['toolChoice']): GaToolChoice | undefined {
  return c === undefined ? undefined : typeof c === 'string' ? c : { type: 'function', name: c.name };
}

function truncation(t: AiPortParam['truncation']): GaTruncation | undefined {
  return t === undefined || typeof t === 'string' ? t : { type: 'retention_ratio', retention_ratio: t.retentionRatio };
}

/** A voice name, or a custom voice id (`voice_…`) as the `{id}` object GA takes. */
export function gaVoice(voice: string): string | { id: string } {
  return voice.startsWith('voice_') ? { id: voice } : voice;
}

/** Fields shared by the GA and the beta/xAI shapes (names differ only for max tokens). */
function common(param: AiPortParam, session: Json, maxTokensKey: string): void {
  if (param.instructions !== undefined) session.instructions = param.instructions;
  if (param.maxOutputTokens !== undefined) session[maxTokensKey] = param.maxOutputTokens;
  const choice = toolChoice(param.toolChoice);
  if (choice !== undefined) session.tool_choice = choice;
}

/** The GA `session` object for session.update. */
export function gaSession(param: AiPortParam): GaSession {
  const input: NonNullable<NonNullable<GaSession['audio']>['input']> = {
    format: { type: 'audio/pcm', rate: 24000 },
    turn_detection: turnDetection(param.turnDetection),
  };
  // The SDK types make both fields non-nullable: off is the field left out (a new session has them off).
  if (param.noiseReduction !== null) input.noise_reduction = { type: param.noiseReduction ?? 'far_field' };
  if (param.inputTranscription) input.transcription = param.inputTranscription;
  const output: NonNullable<NonNullable<GaSession['audio']>['output']> = { format: { type: 'audio/pcm', rate: 24000 } };
  if (param.voice !== undefined) output.voice = gaVoice(param.voice);
  if (param.speed !== undefined) output.speed = param.speed;
  const session: GaSession = {
    type: 'realtime',
    output_modalities: param.outputModalities ?? ['audio'],
    audio: { input, output },
    tools: tools(param),
  };
  common(param, session as unknown as Json, 'max_output_tokens');
  const trunc = truncation(param.truncation);
  if (trunc !== undefined) session.truncation = trunc;
  return session;
}

/** The beta `session` object for session.update (flat shape, no `type`). */
export function betaSession(param: AiPortParam): Json {
  const modalities = param.outputModalities?.includes('text') && !param.outputModalities.includes('audio') ? ['text'] : ['text', 'audio'];
  const session: Json = {
    modalities,
    input_audio_format: 'pcm16',
    output_audio_format: 'pcm16',
    turn_detection: turnDetection(param.turnDetection),
    input_audio_noise_reduction: param.noiseReduction === null ? null : { type: param.noiseReduction ?? 'far_field' },
    tools: tools(param),
  };
  if (param.inputTranscription !== undefined) session.input_audio_transcription = param.inputTranscription;
  if (param.voice !== undefined) session.voice = param.voice;
  if (param.speed !== undefined) session.speed = param.speed;
  common(param, session, 'max_response_output_tokens');
  return session;
}

/**
 * The xAI session: flat beta-style voice, instructions and turn detection, GA-style audio formats
 * (protocols.md section 6); transcription takes `language_hint`.
 */
export function xaiSession(param: AiPortParam): Json {
  const input: Json = { format: { type: 'audio/pcm', rate: 24000 } };
  const tr = param.inputTranscription;
  if (tr) input.transcription = tr.language ? { language_hint: tr.language } : {};
  const output: Json = { format: { type: 'audio/pcm', rate: 24000 } };
  if (param.speed !== undefined) output.speed = param.speed;
  const session: Json = { turn_detection: turnDetection(param.turnDetection), audio: { input, output }, tools: tools(param) };
  if (param.voice !== undefined) session.voice = param.voice;
  common(param, session, 'max_output_tokens');
  return session;
}

function get(obj: unknown, path: string[]): unknown {
  let cur = obj;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Json)[key];
  }
  return cur;
}

/** Whether a session object is in the GA shape (`type` and nested `audio`) or the beta one. */
export function sessionDialect(session: unknown): 'ga' | 'beta' {
  return get(session, ['type']) !== undefined || get(session, ['audio']) !== undefined ? 'ga' : 'beta';
}

/**
 * Compares what was asked with the effective configuration in session.updated; returns one line per
 * difference that changes what the device does (wrong audio format, voice, detection, transcription).
 */
export function sessionMismatches(requested: object, effective: unknown, dialect: 'ga' | 'beta' | 'xai'): string[] {
  const paths: string[][] =
    dialect === 'xai'
      ? [
          // xAI: GA-style audio formats, flat voice and turn detection (protocols.md section 6).
          ['audio', 'input', 'format', 'type'],
          ['audio', 'input', 'format', 'rate'],
          ['audio', 'output', 'format', 'type'],
          ['audio', 'output', 'format', 'rate'],
          ['voice'],
          ['turn_detection', 'type'],
          ['audio', 'input', 'transcription', 'language_hint'],
          ['instructions'],
        ]
      : dialect !== 'beta'
        ? [
            ['audio', 'input', 'format', 'type'],
            ['audio', 'input', 'format', 'rate'],
            ['audio', 'output', 'format', 'type'],
            ['audio', 'output', 'format', 'rate'],
            ['audio', 'output', 'voice'],
            ['audio', 'input', 'turn_detection', 'type'],
            ['audio', 'input', 'transcription', 'model'],
            ['audio', 'input', 'noise_reduction', 'type'],
            ['output_modalities'],
            ['instructions'],
          ]
        : [
            ['input_audio_format'],
            ['output_audio_format'],
            ['voice'],
            ['turn_detection', 'type'],
            ['input_audio_transcription', 'model'],
            ['input_audio_noise_reduction', 'type'],
            ['modalities'],
            ['instructions'],
          ];
  const out: string[] = [];
  for (const path of paths) {
    const want = get(requested, path);
    if (want === undefined) continue;
    const have = get(effective, path);
    if (JSON.stringify(want) !== JSON.stringify(have)) {
      const show = (v: unknown): string => (path.at(-1) === 'instructions' ? `${String(v).length} characters` : JSON.stringify(v));
      out.push(`session.${path.join('.')}: asked ${show(want)}, service uses ${show(have)}`);
    }
  }
  return out;
}
