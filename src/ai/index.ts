/** The public AI API of speakerd. */
export { AudioMediaAiPort } from './ai-port.js';
export type { AiPortOptions, AiPortStats } from './ai-port.js';
export type { AiEvent, AiPortParam, AiState, AiLogger, ToolDefinition, TurnDetection, TlsSettings } from './types.js';
export type { AiBackend, BackendSignal, ConnectionPlan, BackendFactory } from './backend.js';
export { BACKENDS } from './backends/index.js';
export { AiError } from './errors.js';
export type { AiErrorCode } from './errors.js';
export type { DeviceControls } from './tools.js';
