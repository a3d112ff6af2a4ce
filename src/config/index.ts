/** Configuration of the daemon: schema, loading and validation, secrets, persisted state. */
export { ConfigError, EX_CONFIG, formatProblem, type ConfigProblem } from './errors.js';
export { parseMode } from './formats.js';
export {
  DEFAULT_ETC_DIR,
  defaultConfig,
  diffConfig,
  loadConfig,
  printableConfig,
  strongestEffect,
  type ConfigChange,
  type LoadedConfig,
  type LoadOptions,
} from './load.js';
export { DEFAULT_AI_URLS, EFFECT_ORDER, envVarName, KEY_EFFECTS, KEYS, SCHEMA, type KeyEffect, type KeySpec } from './schema.js';
export type { AiBackendName, AudioDeviceType, BuiltinTool, LogLevel, SpeakerdConfig } from './types.js';
export { backendNeedsKey, effectiveAiUrl } from './secrets.js';
export { ERR_STATE_WRITE, StateStore, type SpeakerState, type StateLoadResult, type StateStoreOptions } from './state.js';
export { configReference } from './reference.js';
