import { checkHeaders } from './backends/handshake.js';
import type { AiPortParam } from './types.js';

/** Timers and limits of a port, with their defaults applied. */
export interface PortLimits {
  batchMs: number;
  prebufferMs: number;
  reconnect: { minMs: number; maxMs: number; jitter: number; fatalRetryMs: number };
  pingIntervalMs: number;
  pongTimeoutMs: number;
  connectTimeoutMs: number;
  sessionTimeoutMs: number;
  sessionLifetimeMs: number;
  maxPayload: number;
  maxMicAgeMs: number;
  maxQueuedAudioMs: number;
  sendHighWaterBytes: number;
  nativeSocket: boolean;
  contextTurns: number;
}

function num(value: unknown, path: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${path} must be a number`);
  if (!Number.isFinite(value) || value < min || value > max) throw new RangeError(`${path} must be from ${min} to ${max}, got ${value}`);
  return value;
}

function flag(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${path} must be a boolean`);
  return value;
}

function oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new RangeError(`${path} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function optionalString(value: unknown, path: string, maxLength: number): void {
  if (value === undefined) return;
  if (typeof value !== 'string') throw new TypeError(`${path} must be a string`);
  if (value.length > maxLength) throw new RangeError(`${path} must be at most ${maxLength} characters`);
}

function checkTurnDetection(td: unknown): void {
  if (td === undefined || td === null) return;
  if (typeof td !== 'object') throw new TypeError('param.turnDetection must be an object or null');
  const t = td as Record<string, unknown>;
  const type = oneOf(t.type, 'param.turnDetection.type', ['server_vad', 'semantic_vad'] as const, 'server_vad');
  if (type === 'server_vad') {
    num(t.threshold, 'param.turnDetection.threshold', 0, 1, 0.5);
    num(t.prefixPaddingMs, 'param.turnDetection.prefixPaddingMs', 0, 10000, 300);
    num(t.silenceDurationMs, 'param.turnDetection.silenceDurationMs', 0, 10000, 500);
  } else {
    oneOf(t.eagerness, 'param.turnDetection.eagerness', ['low', 'medium', 'high', 'auto'] as const, 'auto');
  }
}

function checkTools(tools: unknown): void {
  if (tools === undefined) return;
  if (!Array.isArray(tools)) throw new TypeError('param.tools must be an array');
  tools.forEach((tool: unknown, i) => {
    const t = (tool ?? {}) as Record<string, unknown>;
    if (typeof t.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(t.name)) {
      throw new RangeError(`param.tools[${i}].name must be 1-64 letters, digits, _ or -`);
    }
    optionalString(t.description, `param.tools[${i}].description`, 4096);
    if (typeof t.parameters !== 'object' || t.parameters === null) throw new TypeError(`param.tools[${i}].parameters must be a JSON Schema object`);
  });
}

function checkSessionOptions(param: AiPortParam): void {
  num(param.speed, 'param.speed', 0.25, 1.5, 1);
  if (param.maxOutputTokens !== 'inf') num(param.maxOutputTokens, 'param.maxOutputTokens', 1, 4096, 4096);
  if (param.maxOutputTokens !== undefined && param.maxOutputTokens !== 'inf' && !Number.isInteger(param.maxOutputTokens)) {
    throw new RangeError('param.maxOutputTokens must be a whole number or "inf"');
  }
  const choice = param.toolChoice;
  if (typeof choice === 'object' && choice !== null) {
    if (typeof choice.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(choice.name)) throw new RangeError('param.toolChoice.name must be a tool name');
  } else {
    oneOf(choice, 'param.toolChoice', ['auto', 'none', 'required'] as const, 'auto');
  }
  const t = param.truncation;
  if (typeof t === 'object' && t !== null) num(t.retentionRatio, 'param.truncation.retentionRatio', 0, 1, 0.5);
  else oneOf(t, 'param.truncation', ['auto', 'disabled'] as const, 'auto');
  const tr = param.inputTranscription;
  if (tr !== undefined && tr !== null) {
    if (typeof tr !== 'object') throw new TypeError('param.inputTranscription must be an object or null');
    optionalString(tr.model, 'param.inputTranscription.model', 200);
    if (tr.language !== undefined && !/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/.test(tr.language)) {
      throw new RangeError("param.inputTranscription.language must be an ISO-639-1 code such as 'en'");
    }
    optionalString(tr.prompt, 'param.inputTranscription.prompt', 4000);
  }
}

/** Checks every field of an AiPortParam (TypeError/RangeError naming the field) and returns the limits. */
export function resolveParam(param: AiPortParam): PortLimits {
  if (typeof param !== 'object' || param === null) throw new TypeError('param must be an object');
  optionalString(param.backend, 'param.backend', 64);
  optionalString(param.model, 'param.model', 200);
  oneOf(param.dialect, 'param.dialect', ['ga', 'beta', 'auto', 'xai'] as const, 'ga');
  optionalString(param.voice, 'param.voice', 100);
  checkSessionOptions(param);
  oneOf(param.authScheme, 'param.authScheme', ['bearer', 'api-key', 'token'] as const, 'bearer');
  checkHeaders(param.headers, 'param.headers');
  optionalString(param.instructions, 'param.instructions', 100000);
  if (param.outputModalities !== undefined) {
    const m = param.outputModalities;
    if (!Array.isArray(m) || m.length !== 1 || !['audio', 'text'].includes(m[0] as string)) {
      throw new RangeError("param.outputModalities must be ['audio'] or ['text']");
    }
  }
  checkTurnDetection(param.turnDetection);
  if (param.noiseReduction !== null) oneOf(param.noiseReduction, 'param.noiseReduction', ['near_field', 'far_field'] as const, 'far_field');
  checkTools(param.tools);
  (param.builtinTools ?? []).forEach((b, i) => oneOf(b, `param.builtinTools[${i}]`, ['time', 'volume', 'mute'] as const, 'time'));
  const r = param.reconnect ?? {};
  const minMs = num(r.minMs, 'param.reconnect.minMs', 10, 600000, 1000);
  return {
    batchMs: num(param.batchMs, 'param.batchMs', 10, 1000, 40),
    prebufferMs: num(param.prebufferMs, 'param.prebufferMs', 0, 5000, 100),
    reconnect: {
      minMs,
      maxMs: num(r.maxMs, 'param.reconnect.maxMs', minMs, 3600000, Math.max(30000, minMs)),
      jitter: num(r.jitter, 'param.reconnect.jitter', 0, 1, 0.2),
      fatalRetryMs: num(r.fatalRetryMs, 'param.reconnect.fatalRetryMs', 100, 86400000, 300000),
    },
    pingIntervalMs: num(param.pingIntervalMs, 'param.pingIntervalMs', 100, 600000, 15000),
    pongTimeoutMs: num(param.pongTimeoutMs, 'param.pongTimeoutMs', 100, 600000, 10000),
    connectTimeoutMs: num(param.connectTimeoutMs, 'param.connectTimeoutMs', 100, 600000, 10000),
    sessionTimeoutMs: num(param.sessionTimeoutMs, 'param.sessionTimeoutMs', 100, 600000, 10000),
    sessionLifetimeMs: num(param.sessionLifetimeMs, 'param.sessionLifetimeMs', 1000, 86400000, 55 * 60 * 1000),
    maxPayload: num(param.maxPayload, 'param.maxPayload', 1024, 1024 * 1024 * 1024, 2 * 1024 * 1024),
    maxMicAgeMs: num(param.maxMicAgeMs, 'param.maxMicAgeMs', 40, 60000, 500),
    maxQueuedAudioMs: num(param.maxQueuedAudioMs, 'param.maxQueuedAudioMs', 40, 60000, 2000),
    sendHighWaterBytes: num(param.sendHighWaterBytes, 'param.sendHighWaterBytes', 1024, 64 * 1024 * 1024, 256 * 1024),
    nativeSocket: flag(param.nativeSocket, 'param.nativeSocket', true),
    contextTurns: num(param.contextTurns, 'param.contextTurns', 0, 200, 20),
  };
}

/** Removes anything that looks like a key from a text the service or the network produced. */
export function redact(text: string, token: string | null): string {
  let out = token ? text.split(token).join('***') : text;
  out = out.replace(/\b(sk|ek|sess)-[A-Za-z0-9_*-]{4,}(?:\.[A-Za-z0-9_*-]+)*/g, '$1-***');
  return out.replace(/(Bearer\s+)[^\s"']+/gi, '$1***');
}
