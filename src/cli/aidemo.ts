#!/usr/bin/env node
/**
 * speakerd-aidemo: the sound device talking to a real-time AI service, nothing else (what PJSIP's
 * aidemo is for pjsua2 users). The API key comes from the environment, never from the command line.
 *
 * Usage: speakerd-aidemo [--backend NAME] [--url URL] [--model NAME] [--clock-rate HZ]
 *                        [--null-audio] [--duration SECONDS] [--capture PCM --playback PCM]
 *                        [--log-level LEVEL] [--set KEY=VALUE]...
 * Exit codes: 0 done, 1 failed, 2 bad usage, 78 invalid configuration.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AudioMediaAiPort } from '../ai/ai-port.js';
import type { AiEvent } from '../ai/types.js';
import { ConfigError, EX_CONFIG } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { DEFAULT_AI_URLS } from '../config/schema.js';
import { AudioEngine } from '../media/engine.js';
import { aiParam, aiUrl, engineOptions } from '../service/media-options.js';
import { createLogger, type LogLevel } from '../system/log.js';
import { addSetPairs } from './set-option.js';

const USAGE =
  'usage: speakerd-aidemo [--backend NAME] [--url URL] [--model NAME] [--clock-rate HZ] [--null-audio] ' +
  '[--duration SECONDS] [--capture PCM --playback PCM] [--log-level LEVEL] [--set KEY=VALUE]...';

/** The environment variable holding each backend's API key (the vendors' SDKs use the same names). */
export const KEY_VARIABLES: Readonly<Record<string, readonly string[]>> = {
  openai: ['OPENAI_API_KEY'],
  azure: ['AZURE_OPENAI_API_KEY'],
  xai: ['XAI_API_KEY'],
  gemini: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
  elevenlabs: ['ELEVENLABS_API_KEY'],
  deepgram: ['DEEPGRAM_API_KEY'],
};

/** What the command line asks for, as configuration overrides. */
function parseCommandLine(argv: string[]): { overrides: Record<string, unknown>; durationS: number | null; logLevel: LogLevel } {
  const { values } = parseArgs({
    args: argv,
    options: {
      backend: { type: 'string', default: 'openai' },
      url: { type: 'string' },
      model: { type: 'string' },
      'clock-rate': { type: 'string' },
      'null-audio': { type: 'boolean', default: false },
      duration: { type: 'string' },
      capture: { type: 'string' },
      playback: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      set: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const overrides: Record<string, unknown> = { 'ai.backend': values.backend, 'earcons.enabled': 'false' };
  if (values.url !== undefined) overrides['ai.url'] = values.url;
  if (values.model !== undefined) overrides['ai.model'] = values.model;
  if (values['clock-rate'] !== undefined) overrides['audio.rate'] = values['clock-rate'];
  if (!values['null-audio']) {
    overrides['audio.device'] = 'alsa';
    if (values.capture !== undefined) overrides['audio.capture'] = values.capture;
    if (values.playback !== undefined) overrides['audio.playback'] = values.playback;
  }
  addSetPairs(values.set ?? [], overrides);
  let durationS: number | null = null;
  if (values.duration !== undefined) {
    durationS = Number(values.duration);
    if (!Number.isFinite(durationS) || durationS <= 0 || durationS > 86400) throw new RangeError('--duration must be a number of seconds from 0 to 86400');
  }
  const level = values['log-level'] ?? 'info';
  if (!['debug', 'info', 'notice', 'warning', 'error'].includes(level)) throw new RangeError(`--log-level must be debug, info, notice, warning or error`);
  return { overrides, durationS, logLevel: level as LogLevel };
}

/** One line per event, as a person watching the demo wants to read it. */
export function describeEvent(e: AiEvent): string | null {
  switch (e.type) {
    case 'connected':
      return `connected${e.sessionId ? ` (session ${e.sessionId})` : ''}`;
    case 'disconnected':
      return `disconnected: ${e.code}${e.reason ? ` ${e.reason}` : ''}${e.retryInMs !== undefined ? `; retrying in ${e.retryInMs} ms` : ''}`;
    case 'transcript':
      return e.final ? `${e.role}: ${e.text}` : null;
    case 'response_start':
      return 'assistant is answering';
    case 'response_done':
      return `answer ${e.status}${e.reason ? ` (${e.reason})` : ''}`;
    case 'speech_started':
      return 'you are speaking';
    case 'speech_stopped':
      return 'you stopped';
    case 'audio_start':
      return 'speaking';
    case 'error':
      return `error ${e.code}: ${e.message}`;
    default:
      return null;
  }
}

/**
 * The key from the environment, written to a private temp file for the configuration loader (which
 * checks it like any key file); null when the backend needs none or none is set.
 */
function keyFileFromEnvironment(backend: string, dir: string): string | null {
  const name = (KEY_VARIABLES[backend] ?? []).find((v) => (process.env[v] ?? '').trim() !== '');
  if (name === undefined) return null;
  const file = join(dir, 'key');
  writeFileSync(file, (process.env[name] ?? '').trim(), { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parseCommandLine>;
  try {
    args = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`speakerd-aidemo: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'speakerd-aidemo-'));
  let loaded;
  try {
    const keyFile = keyFileFromEnvironment(String(args.overrides['ai.backend']), dir);
    if (keyFile !== null) args.overrides['ai.apiKeyFile'] = keyFile;
    // No /etc: everything comes from the command line and the environment's key.
    loaded = await loadConfig({ etcDir: join(dir, 'etc'), env: {}, overrides: args.overrides });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const log = createLogger({ level: args.logLevel, component: 'aidemo' });
  if (loaded.apiKey) log.redact(loaded.apiKey);
  const engine = await AudioEngine.create(engineOptions(loaded.config));
  engine.on('device', (d: { state: string; message?: string }) => log.info(`sound device ${d.state}${d.message ? `: ${d.message}` : ''}`));
  const ai = new AudioMediaAiPort(engine, { logger: log });
  ai.createPort(aiParam(loaded.config));
  engine.captureMedia.startTransmit(ai);
  ai.startTransmit(engine.playbackMedia);
  ai.on('event', (e) => {
    const line = describeEvent(e);
    if (line !== null) log.info(line);
  });
  ai.connect(aiUrl(loaded.config, DEFAULT_AI_URLS), loaded.apiKey);
  log.info(`talking to ${loaded.config.ai.backend}${args.durationS !== null ? ` for ${args.durationS} s` : '; Ctrl-C stops'}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    if (args.durationS !== null) setTimeout(resolve, args.durationS * 1000);
  });
  const stats = ai.stats();
  log.info(`done: ${stats.reconnects} reconnects, ${Math.round(stats.droppedSendMs)} ms of microphone dropped`);
  ai.destroy();
  engine.close();
  log.flush();
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`speakerd-aidemo: invalid configuration:\n${error.message}\n`);
    process.exit(EX_CONFIG);
  }
  const e = error as Error & { code?: string };
  process.stderr.write(`speakerd-aidemo: ${e.code && !e.message.startsWith(e.code) ? `${e.code}: ` : ''}${e.message}\n`);
  process.exit(1);
});
