import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigError } from '../config/errors.js';
import { loadConfig, type LoadedConfig, type LoadOptions } from '../config/load.js';
import { KEYS } from '../config/schema.js';
import type { SpeakerdConfig } from '../config/types.js';

/** The write-only pseudo-key that stores the API key (never readable back). */
export const SECRET_KEY = 'ai.apiKey';

/** A configuration change made at run time (config_set), kept in the state file. */
export type RuntimeOverrides = Record<string, unknown>;

function coded(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * Loads the configuration with the run-time overrides (config_set) applied after the files and
 * before the environment and the command line, so an operator's flags still win.
 */
export function loadWithRuntime(base: LoadOptions, runtime: RuntimeOverrides): LoadedConfig {
  return loadConfig({ ...base, overrides: { ...runtime, ...(base.overrides ?? {}) } });
}

/** The value `config_get` returns: one non-secret key, a group, or everything. */
export function configValue(config: SpeakerdConfig, key?: string): unknown {
  if (key === undefined || key === '') return config;
  if (key === SECRET_KEY) throw coded('ERR_SECRET', `${SECRET_KEY} is write-only`);
  let value: unknown = config;
  for (const part of key.split('.')) {
    if (typeof value !== 'object' || value === null || !(part in value)) throw coded('ERR_UNKNOWN_KEY', `no configuration key '${key}'`);
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * Checks one `config_set` against the whole configuration and returns the new overrides and the
 * configuration they give. The API key is written to `<state dir>/ai-api-key` (mode 0600) and
 * `ai.apiKeyFile` pointed at it; it is never echoed.
 */
export async function applyConfigSet(
  base: LoadOptions,
  runtime: RuntimeOverrides,
  stateFile: string,
  key: string,
  value: unknown,
): Promise<{ runtime: RuntimeOverrides; loaded: LoadedConfig }> {
  let next: RuntimeOverrides;
  if (key === SECRET_KEY) {
    if (typeof value !== 'string' || value.trim() === '' || /\s/.test(value.trim())) {
      throw coded('ERR_BAD_ARGUMENT', `${SECRET_KEY} must be a non-empty string without spaces`);
    }
    const file = join(dirname(stateFile), 'ai-api-key');
    await mkdir(dirname(file), { recursive: true, mode: 0o750 });
    await writeFile(file, `${value.trim()}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    next = { ...runtime, 'ai.apiKeyFile': file };
  } else {
    if (!KEYS.has(key)) throw coded('ERR_UNKNOWN_KEY', `no configuration key '${key}'`);
    next = { ...runtime, [key]: value };
  }
  try {
    return { runtime: next, loaded: loadWithRuntime(base, next) };
  } catch (error) {
    if (error instanceof ConfigError) throw coded('ERR_CONFIG_INVALID', error.message);
    throw error;
  }
}
