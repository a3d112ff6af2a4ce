/**
 * The xAI Grok Voice Agent dialect of the fake (protocols.md section 6): a hybrid of the two OpenAI
 * shapes. Session fields are flat as in beta (`voice`, `instructions`, `turn_detection`), audio
 * configuration is GA-style (`audio.input.format`, `audio.input.transcription`, `audio.output.format`,
 * `audio.output.speed`), server events carry the GA names, the first server event is
 * `conversation.created` (no `session.created`), and there is no `conversation.item.truncate`.
 *
 * Assumptions where protocols.md says nothing definite (stated here so a test reader knows what is
 * the fake's choice, not a documented fact of the service):
 * - The GA places of fields that xAI keeps flat (`audio.output.voice`, `audio.input.turn_detection`,
 *   `audio.input.noise_reduction`), the GA-only `session.type`, and the beta format/transcription
 *   fields (`input_audio_format`, `output_audio_format`, `input_audio_transcription`,
 *   `input_audio_noise_reduction`) are **refused** with `unknown_parameter`. Silently ignoring them
 *   would let a client with the wrong shape run with the wrong voice, detection or format (pitfall 7
 *   of protocols.md), which is what the fake is there to catch.
 * - Inside `audio`, only the documented keys are accepted (input: `format`, `transcription`;
 *   output: `format`, `speed`); transcription takes `language_hint` and `keyterms` only (GA's `model`,
 *   `language`, `prompt` are refused).
 * - Other unknown top-level fields are ignored (recorded in `ignoredSessionFields`), as GA does.
 * - `turn_detection` is `server_vad` or null (no `semantic_vad`); defaults threshold 0.85,
 *   prefix_padding_ms 333 (protocols.md), silence_duration_ms 500 (not documented: the fake's choice).
 *   `create_response` / `interrupt_response` are kept when sent and default to true: the server
 *   cancels the active response itself on `speech_started`, as OpenAI's default does.
 * - `conversation.item.truncate` (and the WebRTC-only `output_audio_buffer.clear`) are unknown client
 *   events, answered with the `invalid_value` error of any unknown event type.
 * - The default voice is `eve`; any non-empty string is a voice (xAI allows custom voice ids).
 */
import { errors, type ErrorSpec } from './errors.js';
import { clone, isObject, objectAt, type Json, type JsonObject } from './json.js';

/** Model when the URL names none. */
export const XAI_DEFAULT_MODEL = 'grok-voice-latest';

/** Client event types of the xAI dialect (the OpenAI set without truncate and the WebRTC-only clear). */
export const XAI_CLIENT_EVENTS = [
  'session.update',
  'input_audio_buffer.append',
  'input_audio_buffer.commit',
  'input_audio_buffer.clear',
  'conversation.item.create',
  'conversation.item.delete',
  'conversation.item.retrieve',
  'response.create',
  'response.cancel',
];

const XAI_KEYS = new Set(['model', 'instructions', 'voice', 'turn_detection', 'audio', 'tools', 'tool_choice', 'reasoning']);
/** Fields of the GA or beta shape that have another place (or none) in xAI's: refused. */
const XAI_REFUSED = new Set(['type', 'input_audio_format', 'output_audio_format', 'input_audio_transcription', 'input_audio_noise_reduction']);
const AUDIO_KEYS: Record<'input' | 'output', Set<string>> = {
  input: new Set(['format', 'transcription']),
  output: new Set(['format', 'speed']),
};
const TRANSCRIPTION_KEYS = new Set(['language_hint', 'keyterms']);
const TURN_DETECTION_KEYS = new Set([
  'type',
  'threshold',
  'prefix_padding_ms',
  'silence_duration_ms',
  'idle_timeout_ms',
  'create_response',
  'interrupt_response',
]);
const FORMATS = ['audio/pcm', 'audio/pcmu', 'audio/pcma'];
/** PCM rates accepted (protocols.md: 8000 to 48000; the usual ones). */
const PCM_RATES = [8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000];

const PCM24: JsonObject = { type: 'audio/pcm', rate: 24000 };

function withVadDefaults(td: JsonObject): JsonObject {
  return {
    type: 'server_vad',
    threshold: 0.85,
    prefix_padding_ms: 333,
    silence_duration_ms: 500,
    idle_timeout_ms: null,
    create_response: true,
    interrupt_response: true,
    ...clone(td),
  };
}

/** The session object behind `conversation.created` (sent only in `session.updated`). */
export function xaiDefaultSession(id: string, model: string): JsonObject {
  return {
    id,
    object: 'realtime.session',
    model,
    instructions: '',
    voice: 'eve',
    turn_detection: withVadDefaults({ type: 'server_vad' }),
    tools: [],
    tool_choice: 'auto',
    audio: { input: { format: clone(PCM24), transcription: null }, output: { format: clone(PCM24), speed: 1 } },
  };
}

/** Result of a `session.update` in the xAI dialect. */
export type XaiUpdateResult = { ok: true; session: JsonObject; ignored: string[] } | { ok: false; error: ErrorSpec };

/** Validates `update` in the xAI shape and merges it over `current`. */
export function applyXaiSessionUpdate(current: JsonObject, update: JsonObject): XaiUpdateResult {
  const error = validateXai(update);
  if (error) return { ok: false, error };
  const next = clone(current);
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(update)) {
    if (!XAI_KEYS.has(key)) ignored.push(key);
    else if (key === 'audio' && isObject(value)) mergeAudio(next, value);
    else if (key === 'turn_detection') next[key] = isObject(value) ? withVadDefaults(value) : null;
    else next[key] = clone(value);
  }
  return { ok: true, session: next, ignored };
}

function mergeAudio(next: JsonObject, audio: JsonObject): void {
  const into = objectAt(next, 'audio') ?? {};
  for (const dir of ['input', 'output']) {
    const given = objectAt(audio, dir);
    if (given) into[dir] = { ...(objectAt(into, dir) ?? {}), ...clone(given) };
  }
  next['audio'] = into;
}

function validateXai(s: JsonObject): ErrorSpec | undefined {
  for (const key of Object.keys(s)) if (XAI_REFUSED.has(key)) return errors.unknownParam(`session.${key}`);
  const voice = s['voice'];
  if (voice !== undefined && !(typeof voice === 'string' && voice.length > 0)) {
    return errors.invalidType('session.voice', 'a voice name or id (string)');
  }
  const audio = s['audio'];
  if (audio !== undefined) {
    const e = validateAudio(audio);
    if (e) return e;
  }
  return validateTurnDetection(s['turn_detection']);
}

function validateAudio(audio: Json): ErrorSpec | undefined {
  if (!isObject(audio)) return errors.invalidType('session.audio', 'an object');
  for (const key of Object.keys(audio)) {
    if (key !== 'input' && key !== 'output') return errors.unknownParam(`session.audio.${key}`);
  }
  for (const dir of ['input', 'output'] as const) {
    const d = audio[dir];
    if (d === undefined) continue;
    if (!isObject(d)) return errors.invalidType(`session.audio.${dir}`, 'an object');
    for (const key of Object.keys(d)) {
      if (!AUDIO_KEYS[dir].has(key)) return errors.unknownParam(`session.audio.${dir}.${key}`);
    }
    const fmt = d['format'];
    if (fmt !== undefined) {
      const type = isObject(fmt) ? fmt['type'] : undefined;
      if (typeof type !== 'string' || !FORMATS.includes(type)) return errors.invalidValue(`session.audio.${dir}.format.type`);
      const rate = isObject(fmt) ? fmt['rate'] : undefined;
      if (type === 'audio/pcm' && rate !== undefined && !(typeof rate === 'number' && PCM_RATES.includes(rate))) {
        return errors.invalidValue(`session.audio.${dir}.format.rate`, `Invalid 'rate': audio/pcm takes one of ${PCM_RATES.join(', ')}.`);
      }
    }
    const tr = d['transcription'];
    if (dir === 'input' && tr !== undefined && tr !== null) {
      if (!isObject(tr)) return errors.invalidType('session.audio.input.transcription', 'an object or null');
      for (const key of Object.keys(tr)) {
        if (!TRANSCRIPTION_KEYS.has(key)) return errors.unknownParam(`session.audio.input.transcription.${key}`);
      }
    }
    const speed = d['speed'];
    if (dir === 'output' && speed !== undefined && typeof speed !== 'number') {
      return errors.invalidType('session.audio.output.speed', 'a number');
    }
  }
  return undefined;
}

function validateTurnDetection(td: Json | undefined): ErrorSpec | undefined {
  const param = 'session.turn_detection';
  if (td === undefined || td === null) return undefined;
  if (!isObject(td)) return errors.invalidType(param, 'an object or null');
  if (td['type'] !== 'server_vad') {
    return errors.invalidValue(`${param}.type`, `Invalid value: '${String(td['type'])}'. Supported values are: 'server_vad'.`);
  }
  for (const key of Object.keys(td)) if (!TURN_DETECTION_KEYS.has(key)) return errors.unknownParam(`${param}.${key}`);
  return undefined;
}

/** Bytes per millisecond of an xAI input format (PCM16 at its rate, G.711 at 8 kHz). */
export function xaiInputBytesPerMs(session: JsonObject): number {
  const fmt = objectAt(objectAt(objectAt(session, 'audio'), 'input'), 'format');
  const type = fmt?.['type'];
  if (type === 'audio/pcmu' || type === 'audio/pcma') return 8;
  const rate = fmt?.['rate'];
  return typeof rate === 'number' ? (rate * 2) / 1000 : 48;
}
