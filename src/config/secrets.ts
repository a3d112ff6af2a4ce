/**
 * The API key: read from `ai.apiKeyFile` or from the systemd credential `ai.credential`, never part of
 * the configuration object, and never quoted in a problem, warning or log line.
 *
 * Precedence: an explicit `ai.apiKeyFile` wins; the credential `$CREDENTIALS_DIRECTORY/<ai.credential>`
 * is used when `ai.apiKeyFile` is '' (a credential present beside an apiKeyFile gives a warning).
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigFileError, readConfiguredFile } from '../system/safe-file.js';
import type { ConfigProblem } from './errors.js';
import { DEFAULT_AI_URLS } from './schema.js';
import type { AiConfig, AiElevenLabsConfig } from './types.js';

/** Largest key file read, in bytes. */
export const MAX_KEY_BYTES = 16 * 1024;

/** The endpoint the AI port connects to: `ai.url`, or the backend's default when it is ''. */
export function effectiveAiUrl(ai: Pick<AiConfig, 'backend' | 'url'>): string {
  return ai.url !== '' ? ai.url : DEFAULT_AI_URLS[ai.backend];
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/i;

/** Whether the backend needs an API key: 'openai' and 'deepgram' (and 'elevenlabs' with signed URLs) at any host but the loopback (local fakes need none). */
export function backendNeedsKey(ai: Pick<AiConfig, 'backend' | 'url'> & { elevenlabs?: Pick<AiElevenLabsConfig, 'signedUrl'> }): boolean {
  // ElevenLabs: only a private agent (signed URLs) needs the key.
  if (ai.backend === 'elevenlabs' && ai.elevenlabs?.signedUrl !== true) return false;
  if (!['openai', 'azure', 'xai', 'gemini', 'deepgram', 'elevenlabs'].includes(ai.backend)) return false;
  try {
    return !LOOPBACK.test(new URL(effectiveAiUrl(ai)).hostname);
  } catch {
    return true;
  }
}

/** The outcome of looking for the key. */
export interface ApiKeyResult {
  apiKey: string | null;
  /** The file the key came from (a path is not a secret). */
  source: string | null;
  problems: ConfigProblem[];
  warnings: string[];
}

type KeyRead = { missing: true } | { key: string } | { problem: string };

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function privateMode(file: string): (mode: number) => string | null {
  return (mode) => {
    if ((mode & 0o077) === 0) return null;
    const shown = (mode & 0o777).toString(8).padStart(4, '0');
    return `${file} is accessible by group or others (mode ${shown}); the API key must be private: run chmod 600 ${file}`;
  };
}

/**
 * Reads a key file without blocking (a FIFO, a device or a directory is refused, not waited on) and
 * off the event loop. With `emptyIsMissing` (the systemd credential), a file holding only white space
 * counts as no key: systemd 252 cannot skip a missing `LoadCredential=` file, so the unit supplies an
 * empty `SetCredential=` fallback under the same name.
 */
async function readKeyFile(file: string, key: 'ai.apiKeyFile' | 'ai.credential', emptyIsMissing = false): Promise<KeyRead> {
  let bytes: Buffer;
  try {
    bytes = await readConfiguredFile(file, { key, maxBytes: MAX_KEY_BYTES, checkMode: privateMode(file) });
  } catch (error) {
    if (error instanceof ConfigFileError) {
      if (error.reason === 'missing') return { missing: true };
      if (error.reason === 'too_large') return { problem: `${file} is larger than ${MAX_KEY_BYTES} bytes; it must hold only the key` };
      return { problem: error.message.slice(key.length + 2) };
    }
    throw error;
  }
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return { problem: `${file} is not valid UTF-8 text; it must hold only the key` };
  }
  const value = text.trim();
  if (value === '') return emptyIsMissing ? { missing: true } : { problem: `${file} is empty; it must hold the API key` };
  if (/[\s\x00-\x1f\x7f]/.test(value)) return { problem: `${file} holds spaces, line breaks or control characters inside the key; it must hold only the key` };
  if (!/^[\x21-\x7e]+$/.test(value))
    return { problem: `${file} holds characters outside printable ASCII; an API key is sent in an HTTP header and must be ASCII` };
  return { key: value };
}

/** Finds and reads the API key for `ai` (see the module comment for the precedence). */
export async function readApiKey(ai: AiConfig, env: NodeJS.ProcessEnv, origins: Readonly<Record<string, string>> = {}): Promise<ApiKeyResult> {
  const result: ApiKeyResult = { apiKey: null, source: null, problems: [], warnings: [] };
  const needed = backendNeedsKey(ai);
  const credentialDir = env.CREDENTIALS_DIRECTORY;
  const credential = credentialDir && ai.credential ? join(credentialDir, ai.credential) : null;
  const take = async (file: string, path: 'ai.apiKeyFile' | 'ai.credential'): Promise<boolean> => {
    const read = await readKeyFile(file, path, path === 'ai.credential');
    const source = origins[path] ?? (path === 'ai.credential' ? '$CREDENTIALS_DIRECTORY' : undefined);
    if ('key' in read) Object.assign(result, { apiKey: read.key, source: file });
    else if ('problem' in read) result.problems.push({ path, message: read.problem, ...(source ? { source } : {}) });
    return !('missing' in read);
  };
  if (ai.apiKeyFile !== '') {
    const found = await take(ai.apiKeyFile, 'ai.apiKeyFile');
    if (!found && needed) {
      result.problems.push({ path: 'ai.apiKeyFile', message: `${ai.apiKeyFile} does not exist; backend '${ai.backend}' needs an API key there` });
    } else if (!found) result.warnings.push(`ai.apiKeyFile ${ai.apiKeyFile} does not exist (backend '${ai.backend}' needs no key)`);
    if (credential && existsSync(credential)) {
      result.warnings.push(`the systemd credential '${ai.credential}' is ignored: ai.apiKeyFile is set`);
    }
    return result;
  }
  const found = credential !== null && (await take(credential, 'ai.credential'));
  if (!found && needed) {
    result.problems.push({
      path: 'ai.apiKeyFile',
      message:
        `backend '${ai.backend}' at ${effectiveAiUrl(ai)} needs an API key: set ai.apiKeyFile to a file holding only the key ` +
        `(chmod 600), or pass the systemd credential '${ai.credential || 'ai-api-key'}' (LoadCredential=${ai.credential || 'ai-api-key'}:/path/to/key)`,
    });
  }
  return result;
}
