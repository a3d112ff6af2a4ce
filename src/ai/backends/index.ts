import type { BackendFactory } from '../backend.js';
import { createOpenAiBackend } from './openai.js';

/** Backends by name; adding a vendor is one file in this folder and one line here. */
export const BACKENDS: Readonly<Record<string, BackendFactory>> = {
  openai: createOpenAiBackend,
  // The local parrot (local://parrot) speaks the OpenAI GA protocol in-process.
  parrot: (param) => createOpenAiBackend({ ...param, dialect: 'ga' }),
};
