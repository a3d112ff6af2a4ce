/**
 * OpenAI Realtime models: the default, and the ones the official `openai` package marks deprecated
 * (its `RealtimeSessionCreateRequest.model` and `AudioTranscription.model` doc comments, openai
 * 7.60.0). test/unit/ai/openai-models.test.ts checks this table against the installed package.
 */

/** The default realtime model: the non-reasoning successor of `gpt-realtime`, not deprecated. */
export const DEFAULT_OPENAI_MODEL = 'gpt-realtime-1.5';

/** Deprecated realtime and transcription models with their announced shutdown dates (YYYY-MM-DD). */
export const DEPRECATED_MODELS: Readonly<Record<string, string>> = {
  'gpt-realtime': '2027-01-20',
  'gpt-realtime-2025-08-28': '2027-01-20',
  'gpt-realtime-mini': '2027-01-20',
  'gpt-realtime-mini-2025-12-15': '2027-01-20',
  'gpt-audio-mini': '2027-01-20',
  'gpt-audio-mini-2025-12-15': '2027-01-20',
  'whisper-1': '2027-02-26',
  'gpt-4o-mini-transcribe': '2027-02-26',
  'gpt-4o-mini-transcribe-2025-12-15': '2027-02-26',
  'gpt-4o-transcribe': '2027-02-26',
  'gpt-4o-transcribe-diarize': '2027-02-26',
};

/** Models retired already: the service refuses them. */
const RETIRED = /^gpt-4o(-mini)?-realtime-preview/;

/** A warning for a deprecated or retired model (`what` names its role), or null when it is current. */
export function modelWarning(model: string, what: string, now: Date = new Date()): string | null {
  if (RETIRED.test(model)) return `${what} '${model}' has been retired by OpenAI: the service refuses it; use ${DEFAULT_OPENAI_MODEL}`;
  const shutdown = DEPRECATED_MODELS[model];
  if (shutdown === undefined) return null;
  const past = now.toISOString().slice(0, 10) >= shutdown;
  return `${what} '${model}' is deprecated by OpenAI ${past ? `and was shut down on ${shutdown}` : `and shuts down on ${shutdown}`}; see https://developers.openai.com/api/docs/deprecations`;
}
