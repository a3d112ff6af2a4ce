/**
 * Session objects in the GA and beta shapes (protocols.md 1.2, 1.3): defaults as sent in
 * `session.created`, validation of `session.update`, and the merge that yields the effective config.
 * The xAI hybrid shape (protocols.md section 6) is in xai.ts.
 */
import { errors, type ErrorSpec } from './errors.js';
import { clone, isObject, objectAt, type Json, type JsonObject } from './json.js';
import { applyXaiSessionUpdate, xaiDefaultSession, xaiInputBytesPerMs } from './xai.js';

/** Which event and session shape a connection speaks ('xai': flat session fields, GA audio and event names). */
export type Dialect = 'ga' | 'beta' | 'xai';

/** Default instructions, visible in `session.created` like the service's. */
export const DEFAULT_INSTRUCTIONS = 'Your knowledge cutoff is 2023-10. You are a helpful, witty, and friendly AI. Talk quickly.';

const PCM24: JsonObject = { type: 'audio/pcm', rate: 24000 };
const GA_KEYS = new Set([
  'type',
  'model',
  'instructions',
  'output_modalities',
  'audio',
  'tools',
  'tool_choice',
  'max_output_tokens',
  'include',
  'tracing',
  'truncation',
  'prompt',
  'reasoning',
  'parallel_tool_calls',
]);
const BETA_KEYS = new Set([
  'model',
  'modalities',
  'instructions',
  'voice',
  'input_audio_format',
  'output_audio_format',
  'input_audio_transcription',
  'input_audio_noise_reduction',
  'turn_detection',
  'tools',
  'tool_choice',
  'temperature',
  'max_response_output_tokens',
  'speed',
  'tracing',
  'include',
]);
const GA_VOICES = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'marin', 'cedar'];
const BETA_VOICES = GA_VOICES.slice(0, 8);
const GA_FORMATS = ['audio/pcm', 'audio/pcmu', 'audio/pcma'];
const BETA_FORMATS = ['pcm16', 'g711_ulaw', 'g711_alaw'];

/** Turn-detection defaults for a `type`, with the client's fields on top. */
function withVadDefaults(dialect: Dialect, td: JsonObject): JsonObject {
  const base: JsonObject =
    td['type'] === 'semantic_vad'
      ? { type: 'semantic_vad', eagerness: 'auto', create_response: true, interrupt_response: true }
      : {
          type: 'server_vad',
          threshold: 0.5,
          prefix_padding_ms: 300,
          silence_duration_ms: 200,
          ...(dialect === 'ga' ? { idle_timeout_ms: null } : {}),
          create_response: true,
          interrupt_response: true,
        };
  return { ...base, ...clone(td) };
}

/** The session object the service sends in `session.created`. */
export function defaultSession(dialect: Dialect, id: string, model: string): JsonObject {
  if (dialect === 'xai') return xaiDefaultSession(id, model);
  const expires = Math.floor(Date.now() / 1000) + 3600;
  const vad = withVadDefaults(dialect, { type: 'server_vad' });
  if (dialect === 'beta') {
    return {
      id,
      object: 'realtime.session',
      model,
      expires_at: expires,
      modalities: ['text', 'audio'],
      instructions: DEFAULT_INSTRUCTIONS,
      voice: 'alloy',
      input_audio_format: 'pcm16',
      output_audio_format: 'pcm16',
      input_audio_transcription: null,
      input_audio_noise_reduction: null,
      turn_detection: vad,
      tools: [],
      tool_choice: 'auto',
      temperature: 0.8,
      max_response_output_tokens: 'inf',
      speed: 1,
      tracing: null,
      client_secret: null,
    };
  }
  return {
    type: 'realtime',
    object: 'realtime.session',
    id,
    model,
    output_modalities: ['audio'],
    instructions: DEFAULT_INSTRUCTIONS,
    tools: [],
    tool_choice: 'auto',
    max_output_tokens: 'inf',
    tracing: null,
    truncation: 'auto',
    prompt: null,
    expires_at: expires,
    audio: {
      input: { format: clone(PCM24), transcription: null, noise_reduction: null, turn_detection: vad },
      output: { format: clone(PCM24), voice: 'marin', speed: 1 },
    },
    include: null,
  };
}

/** Result of applying a `session.update`: the new effective session, or the error to send. */
export type UpdateResult = { ok: true; session: JsonObject; ignored: string[] } | { ok: false; error: ErrorSpec };

/** Validates `update` (the event's `session` field) for `dialect` and merges it over `current`. */
export function applySessionUpdate(dialect: Dialect, current: JsonObject, update: Json | undefined, audioOutputStarted: boolean): UpdateResult {
  if (!isObject(update)) return { ok: false, error: errors.missingParam('session') };
  if (dialect === 'xai') return applyXaiSessionUpdate(current, update);
  const error = dialect === 'ga' ? validateGa(update) : validateBeta(update);
  if (error) return { ok: false, error };
  const voiceBefore = outputVoice(dialect, current);
  const next = clone(current);
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(update)) {
    if (!(dialect === 'ga' ? GA_KEYS : BETA_KEYS).has(key)) ignored.push(key);
    else if (key === 'audio' && isObject(value)) mergeGaAudio(next, value);
    else if (key === 'turn_detection') next[key] = isObject(value) ? withVadDefaults(dialect, value) : null;
    else next[key] = clone(value);
  }
  if (audioOutputStarted && JSON.stringify(outputVoice(dialect, next)) !== JSON.stringify(voiceBefore)) {
    return { ok: false, error: errors.voiceLocked() };
  }
  return { ok: true, session: next, ignored };
}

function mergeGaAudio(next: JsonObject, audio: JsonObject): void {
  const into = objectAt(next, 'audio') ?? {};
  for (const dir of ['input', 'output']) {
    const given = objectAt(audio, dir);
    if (!given) continue;
    const merged: JsonObject = { ...(objectAt(into, dir) ?? {}) };
    for (const [k, v] of Object.entries(given)) {
      merged[k] = k === 'turn_detection' && isObject(v) ? withVadDefaults('ga', v) : clone(v);
    }
    into[dir] = merged;
  }
  next['audio'] = into;
}

function validateGa(s: JsonObject): ErrorSpec | undefined {
  if (s['type'] === undefined) return errors.missingParam('session.type');
  if (s['type'] !== 'realtime') {
    const detail = `Invalid value: '${String(s['type'])}'. This fake serves only 'realtime' sessions.`;
    return errors.invalidValue('session.type', detail);
  }
  const mods = s['output_modalities'];
  const oneMode = Array.isArray(mods) && mods.length === 1 && (mods[0] === 'audio' || mods[0] === 'text');
  if (mods !== undefined && !oneMode) {
    const detail = "Invalid 'session.output_modalities': use ['audio'] or ['text'], not both.";
    return errors.invalidValue('session.output_modalities', detail);
  }
  const audio = s['audio'];
  if (audio === undefined) return undefined;
  if (!isObject(audio)) return errors.invalidType('session.audio', 'an object');
  for (const dir of ['input', 'output']) {
    const d = objectAt(audio, dir);
    const fmt = d?.['format'];
    if (fmt !== undefined) {
      const type = isObject(fmt) ? fmt['type'] : undefined;
      if (typeof type !== 'string' || !GA_FORMATS.includes(type)) {
        return errors.invalidValue(`session.audio.${dir}.format.type`);
      }
      if (type === 'audio/pcm' && isObject(fmt) && fmt['rate'] !== undefined && fmt['rate'] !== 24000) {
        return errors.invalidValue(`session.audio.${dir}.format.rate`, "Invalid 'rate': audio/pcm is 24000 only.");
      }
    }
  }
  const out = objectAt(audio, 'output');
  const voice = out?.['voice'];
  if (voice !== undefined && !isObject(voice) && !(typeof voice === 'string' && GA_VOICES.includes(voice))) {
    return errors.invalidValue('session.audio.output.voice');
  }
  const speed = out?.['speed'];
  if (typeof speed === 'number' && (speed < 0.25 || speed > 1.5)) {
    return errors.outOfRange('session.audio.output.speed', 0.25, 1.5, speed);
  }
  return validateTurnDetection('session.audio.input.turn_detection', objectAt(audio, 'input')?.['turn_detection']);
}

function validateBeta(s: JsonObject): ErrorSpec | undefined {
  for (const key of Object.keys(s)) if (!BETA_KEYS.has(key)) return errors.unknownParam(`session.${key}`);
  const mods = s['modalities'];
  if (mods !== undefined) {
    const set = Array.isArray(mods) ? [...mods].sort().join(',') : '';
    if (set !== 'text' && set !== 'audio,text') return errors.invalidValue('session.modalities');
  }
  for (const key of ['input_audio_format', 'output_audio_format']) {
    const f = s[key];
    const ok = typeof f === 'string' && BETA_FORMATS.includes(f);
    if (f !== undefined && !ok) return errors.invalidValue(`session.${key}`);
  }
  const voice = s['voice'];
  const knownVoice = typeof voice === 'string' && BETA_VOICES.includes(voice);
  if (voice !== undefined && !knownVoice) return errors.invalidValue('session.voice');
  const t = s['temperature'];
  if (typeof t === 'number' && (t < 0.6 || t > 1.2)) return errors.outOfRange('session.temperature', 0.6, 1.2, t);
  return validateTurnDetection('session.turn_detection', s['turn_detection']);
}

function validateTurnDetection(param: string, td: Json | undefined): ErrorSpec | undefined {
  if (td === undefined || td === null) return undefined;
  if (!isObject(td)) return errors.invalidType(param, 'an object or null');
  if (td['type'] !== 'server_vad' && td['type'] !== 'semantic_vad') return errors.invalidValue(`${param}.type`);
  return undefined;
}

function gaAudio(session: JsonObject, dir: 'input' | 'output'): JsonObject | undefined {
  return objectAt(objectAt(session, 'audio'), dir);
}

/** The session's turn detection (`null` when off). */
export function turnDetection(dialect: Dialect, session: JsonObject): JsonObject | null {
  // xAI keeps turn detection flat, as beta does.
  const td = dialect === 'ga' ? gaAudio(session, 'input')?.['turn_detection'] : session['turn_detection'];
  return isObject(td) ? td : null;
}

/** The output voice (string or `{id}`), as configured. */
export function outputVoice(dialect: Dialect, session: JsonObject): Json {
  // xAI keeps the voice flat, as beta does.
  return (dialect === 'ga' ? gaAudio(session, 'output')?.['voice'] : session['voice']) ?? null;
}

/** The output audio format as configured (GA object or beta string). */
export function outputFormat(dialect: Dialect, session: JsonObject): Json {
  // xAI audio formats are GA-style objects under `audio`.
  return (dialect !== 'beta' ? gaAudio(session, 'output')?.['format'] : session['output_audio_format']) ?? null;
}

/** Bytes per millisecond of the input audio format (48 for PCM16 24 kHz, 8 for G.711). */
export function inputBytesPerMs(dialect: Dialect, session: JsonObject): number {
  if (dialect === 'xai') return xaiInputBytesPerMs(session);
  const f = dialect === 'ga' ? objectAt(gaAudio(session, 'input'), 'format')?.['type'] : session['input_audio_format'];
  return f === 'audio/pcmu' || f === 'audio/pcma' || f === 'g711_ulaw' || f === 'g711_alaw' ? 8 : 48;
}

/** True when the session answers in text only (GA `['text']`, beta `['text']`). */
export function textOnly(dialect: Dialect, session: JsonObject): boolean {
  if (dialect === 'xai') return false;
  const mods = session[dialect === 'ga' ? 'output_modalities' : 'modalities'];
  return Array.isArray(mods) && !mods.includes('audio');
}
