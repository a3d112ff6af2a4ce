/**
 * xAI Grok voice (protocols.md section 6): the OpenAI backend in its xAI dialect: flat session
 * fields (voice, instructions, turn_detection) with GA audio formats, conversation.created as the
 * first event, and no truncate (a cut-off reply is cancelled and flushed locally).
 */
import type { AiBackend } from '../backend.js';
import type { AiPortParam } from '../types.js';
import { OpenAiBackend, type OpenAiFlavour } from './openai.js';

/** Default endpoint of xAI's realtime API. */
export const XAI_URL = 'wss://api.x.ai/v1/realtime';

const XAI: OpenAiFlavour = { name: 'xai', defaultModel: 'grok-voice-think-fast-1.0', authScheme: 'bearer', checkModels: false };

/**
 * xAI Grok voice: the OpenAI backend in its xAI dialect (flat session fields with GA audio formats,
 * conversation.created first, no truncate: the reply is cancelled and flushed locally).
 */
export function createXaiBackend(param: AiPortParam): AiBackend {
  return new OpenAiBackend({ ...param, dialect: 'xai' }, XAI);
}
