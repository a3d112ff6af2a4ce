/** Validation of single values (with parsing of environment strings) and of rules across keys. */

import { accessSync, constants, statSync } from 'node:fs';
import { WEBRTC_ECHO_RATES } from '../media/echo-engine-choice.js';
import { describeFileType } from '../system/safe-file.js';
import { showValue, type ConfigProblem } from './errors.js';
import { getPath, type KeySpec } from './keys.js';
import { KEYS } from './schema.js';
import { describeFsError, type Leaf } from './sources.js';
import type { SpeakerdConfig } from './types.js';

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function parseNumber(text: string): number | undefined {
  const trimmed = text.trim();
  return NUMBER.test(trimmed) ? Number(trimmed) : undefined;
}

/**
 * Parses a string from the environment or the command line for a key: numbers in decimal notation;
 * booleans true/false, 1/0, yes/no, on/off; arrays as JSON (`[1000, 1001]`) or a comma-separated
 * list (`time,volume`, '' = empty). Returns undefined when the text does not parse.
 */
export function parseText(spec: KeySpec, text: string): unknown {
  switch (spec.kind) {
    case 'string':
      return text;
    case 'number':
      return parseNumber(text);
    case 'boolean': {
      const word = text.trim().toLowerCase();
      return TRUE.has(word) ? true : FALSE.has(word) ? false : undefined;
    }
    case 'array': {
      const trimmed = text.trim();
      if (trimmed.startsWith('[')) {
        try {
          return JSON.parse(trimmed) as unknown;
        } catch {
          return undefined;
        }
      }
      const items = trimmed === '' ? [] : trimmed.split(',').map((s) => s.trim());
      if (spec.itemType === 'string') return items;
      const numbers = items.map(parseNumber);
      return numbers.includes(undefined) ? undefined : numbers;
    }
  }
}

/**
 * Checks one value against its key's format. `fromText`: a string value for a key that is not a string
 * is parsed first (environment, command line); file values are taken as they are.
 */
export function checkLeaf(leaf: Leaf, fromText: boolean): { value: unknown } | { problem: ConfigProblem } {
  const spec = KEYS.get(leaf.path) as KeySpec;
  let value = leaf.value;
  if (fromText && typeof value === 'string' && spec.kind !== 'string') value = parseText(spec, value) ?? value;
  try {
    spec.format(value);
    return { value };
  } catch (error) {
    const expected = (error as Error).message;
    const message = spec.noEcho ? expected : `${expected}, got ${showValue(value)}`;
    return { problem: { path: leaf.path, message, source: leaf.source } };
  }
}

type Origins = Readonly<Record<string, string>>;

function problem(path: string, message: string, origins: Origins, related?: readonly string[]): ConfigProblem {
  const source = origins[path];
  const found: ConfigProblem = source === undefined ? { path, message } : { path, message, source };
  return related === undefined ? found : { ...found, related };
}

/** Largest file accepted for each key that names a file to read, in bytes (the API key: secrets.ts). */
export const FILE_KEY_LIMITS: Readonly<Record<string, number>> = {
  'audio.alsaConfig': 1024 * 1024,
  'ai.tls.caFile': 1024 * 1024,
  'ai.tls.certFile': 1024 * 1024,
  'ai.tls.keyFile': 1024 * 1024,
  'earcons.ready': 16 * 1024 * 1024,
  'earcons.connectionLost': 16 * 1024 * 1024,
  'earcons.error': 16 * 1024 * 1024,
  'earcons.mute': 16 * 1024 * 1024,
  'earcons.unmute': 16 * 1024 * 1024,
};

/** Why a file named by a key cannot be used (checked with stat and access: nothing is opened), or null. */
function fileProblem(file: string, maxBytes: number): string | null {
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return `${file} is ${describeFileType(stat)}; a regular file is needed`;
    if (stat.size > maxBytes) return `${file} is larger than ${maxBytes} bytes`;
    accessSync(file, constants.R_OK);
    return null;
  } catch (error) {
    return `cannot read ${file}: ${describeFsError(error)}`;
  }
}

/** What the running build offers, for checks of keys that name a build-time feature. */
export interface BuildFeatures {
  /** The echo engines the native addon was built with; undefined: not checked. */
  echoEngines?: readonly string[];
}

/** Rules that involve more than one key, and files named by the configuration that must be readable. */
export function crossCheck(config: SpeakerdConfig, origins: Origins, build: BuildFeatures = {}): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { audio, ai } = config;
  if (build.echoEngines !== undefined && config.aec.engine !== 'auto' && !build.echoEngines.includes(config.aec.engine)) {
    problems.push(
      problem(
        'aec.engine',
        `'${config.aec.engine}' is not built into this speakerd (webrtc-audio-processing was not found when the addon was built); available: ${build.echoEngines.join(', ')}`,
        origins,
      ),
    );
  }
  if (config.aec.enabled && config.aec.engine === 'webrtc' && !WEBRTC_ECHO_RATES.includes(audio.bridgeRate)) {
    problems.push(
      problem(
        'aec.engine',
        `'webrtc' runs at a bridge rate of ${WEBRTC_ECHO_RATES.join(', ')} Hz and audio.bridgeRate is ${audio.bridgeRate}: choose one of those rates, or aec.engine 'auto' or 'speex'`,
        origins,
        ['audio.bridgeRate', 'aec.enabled'],
      ),
    );
  }
  if (audio.prefillPeriods >= audio.bufferPeriods) {
    problems.push(problem('audio.prefillPeriods', `must be less than audio.bufferPeriods (${audio.bufferPeriods}), got ${audio.prefillPeriods}`, origins));
  }
  // Both count 10 ms whatever the period: prefill must outlast the wait for one period by a tick (the
  // slack against a late wakeup), the buffer hold two periods.
  if (audio.prefillPeriods * 10 <= audio.periodMs) {
    problems.push(
      problem(
        'audio.prefillPeriods',
        `counts 10 ms and must cover one audio.periodMs (${audio.periodMs} ms) and a tick more: got ${audio.prefillPeriods}, set ${audio.periodMs / 10 + 1} or more`,
        origins,
        ['audio.periodMs'],
      ),
    );
  }
  if (audio.bufferPeriods * 10 < 2 * audio.periodMs) {
    problems.push(
      problem('audio.bufferPeriods', `counts 10 ms and must cover at least two audio.periodMs (${audio.periodMs} ms): got ${audio.bufferPeriods}`, origins, [
        'audio.periodMs',
      ]),
    );
  }
  if (ai.url !== '') {
    const local = ai.url.startsWith('local:');
    if (ai.backend === 'parrot' && !local) problems.push(problem('ai.url', `backend 'parrot' needs a local:// URL or '', got ${showValue(ai.url)}`, origins));
    if (ai.backend !== 'parrot' && local)
      problems.push(problem('ai.url', `backend '${ai.backend}' needs a ws:// or wss:// URL or '', got ${showValue(ai.url)}`, origins));
  }
  if (ai.backend === 'azure' && ai.url === '') {
    problems.push(
      problem('ai.url', "backend 'azure' has no default endpoint: set your resource's, e.g. wss://<resource>.openai.azure.com/openai/v1/realtime", origins),
    );
  }
  if (ai.backend === 'azure' && ai.model === '') {
    problems.push(problem('ai.model', "backend 'azure' needs the name of your realtime deployment in ai.model", origins));
  }
  if (ai.backend === 'deepgram' && ai.model !== '') {
    problems.push(
      problem(
        'ai.model',
        `is not used by backend 'deepgram': set the LLM with ai.deepgram.thinkProvider and ai.deepgram.thinkModel (and ai.deepgram.listenModel, ai.deepgram.speakModel), got ${showValue(ai.model)}`,
        origins,
      ),
    );
  }
  if (ai.backend === 'deepgram' && ai.authScheme === 'api-key') {
    problems.push(
      problem(
        'ai.authScheme',
        "backend 'deepgram' takes the key as 'token' (Authorization: Token, the default) or a short-lived token as 'bearer', not 'api-key'",
        origins,
      ),
    );
  }
  if (ai.backend === 'gemini' && ai.gemini.compressionTriggerTokens > 0 && !ai.gemini.contextCompression) {
    problems.push(problem('ai.gemini.compressionTriggerTokens', 'needs ai.gemini.contextCompression true (the trigger belongs to the compression)', origins));
  }
  if (ai.backend === 'gemini' && ai.dialect !== 'ga') {
    problems.push(problem('ai.dialect', `is not used by backend 'gemini' (it speaks its own protocol): leave it 'ga', got ${showValue(ai.dialect)}`, origins));
  }
  if (ai.backend === 'elevenlabs' && ai.elevenlabs.agentId === '') {
    problems.push(problem('ai.elevenlabs.agentId', "backend 'elevenlabs' needs the agent's id (agent_…, in the ElevenLabs dashboard under Agents)", origins));
  }
  if ((ai.tls.certFile === '') !== (ai.tls.keyFile === '')) {
    const missing = ai.tls.certFile === '' ? 'ai.tls.certFile' : 'ai.tls.keyFile';
    problems.push(problem(missing, 'must be set too: ai.tls.certFile and ai.tls.keyFile go together', origins));
  }
  for (const [path, maxBytes] of Object.entries(FILE_KEY_LIMITS)) {
    const value = getPath(config, path);
    if (typeof value !== 'string' || value === '') continue;
    const why = fileProblem(value, maxBytes);
    if (why !== null) problems.push(problem(path, why, origins));
  }
  return problems;
}
