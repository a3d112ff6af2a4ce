import type { BackendFactory } from '../backend.js';
import { createAzureBackend } from './azure.js';
import { createGeminiBackend } from './gemini.js';
import { createDeepgramBackend } from './deepgram.js';
import { createElevenLabsBackend } from './elevenlabs.js';
import { createOpenAiBackend } from './openai.js';
import { createXaiBackend } from './xai.js';

/** Backends by name; adding a vendor is one file in this folder and one line here (docs/backends.md). */
export const BACKENDS: Readonly<Record<string, BackendFactory>> = {
  openai: createOpenAiBackend,
  azure: createAzureBackend,
  xai: createXaiBackend,
  gemini: createGeminiBackend,
  deepgram: createDeepgramBackend,
  elevenlabs: createElevenLabsBackend,
  // The local parrot (local://parrot) speaks the OpenAI GA protocol in-process.
  parrot: (param) => createOpenAiBackend({ ...param, dialect: 'ga' }),
};
