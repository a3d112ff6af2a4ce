/**
 * Pure validators for control requests: a parsed JSON value in, a typed request or a coded error out.
 * Nothing here touches a socket or the target, so every rule has a table test.
 */
import { ControlError } from './errors.js';
import {
  COMMANDS,
  EVENT_NAMES,
  LEVELS_HZ,
  MAX_ID_LENGTH,
  MAX_KEY_LENGTH,
  MAX_SAY_CHARS,
  type CommandName,
  type ControlRequest,
  type RequestId,
} from './protocol.js';

/** Outcome of validating one request; `id` is the id to echo (null when there was no usable one). */
export type Validation = { ok: true; id: RequestId; request: ControlRequest } | { ok: false; id: RequestId; error: ControlError };

type Args = Record<string, unknown>;

const CONFIG_KEY = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const MAX_EVENT_FILTER = 32;

/** Deepest nesting of arrays and objects accepted in a `tool_result` output or a `config_set` value. */
export const MAX_VALUE_DEPTH = 32;

/** Whether `value` nests arrays/objects deeper than `limit` (iterative: no recursion to overflow). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (typeof node !== 'object' || node === null) continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

function shallow(args: Args, name: string): unknown {
  const value = required(args, name);
  if (nestsDeeperThan(value, MAX_VALUE_DEPTH)) throw bad(`'${name}' nests arrays or objects deeper than ${MAX_VALUE_DEPTH} levels`);
  return value;
}

function bad(message: string): ControlError {
  return new ControlError('ERR_BAD_ARGUMENT', message);
}

function onlyArgs(args: Args, allowed: readonly string[]): void {
  for (const name of Object.keys(args)) {
    if (name !== 'id' && name !== 'cmd' && !allowed.includes(name)) {
      throw new ControlError('ERR_UNKNOWN_ARGUMENT', `unknown argument '${name.slice(0, 64)}'`);
    }
  }
}

function has(args: Args, name: string): boolean {
  return Object.hasOwn(args, name) && args[name] !== undefined;
}

function required(args: Args, name: string): unknown {
  if (!has(args, name)) throw new ControlError('ERR_MISSING_ARGUMENT', `'${name}' is required`);
  return args[name];
}

function integerIn(args: Args, name: string, min: number, max: number): number {
  const value = args[name];
  if (typeof value !== 'number' || !Number.isInteger(value)) throw bad(`'${name}' must be an integer`);
  if (value < min || value > max) throw new ControlError('ERR_OUT_OF_RANGE', `'${name}' must be from ${min} to ${max}`);
  return value;
}

function codePoints(text: string, limit: number): number {
  let n = 0;
  for (const _ of text) if (++n > limit) break;
  return n;
}

function stringIn(args: Args, name: string, maxChars: number): string {
  const value = required(args, name);
  if (typeof value !== 'string') throw bad(`'${name}' must be a string`);
  const n = codePoints(value, maxChars);
  if (n === 0 || n > maxChars) {
    throw new ControlError('ERR_OUT_OF_RANGE', `'${name}' must be 1 to ${maxChars} characters`);
  }
  return value;
}

function configKey(args: Args): string {
  const key = stringIn(args, 'key', MAX_KEY_LENGTH);
  if (!CONFIG_KEY.test(key)) throw bad(`'key' must be a dotted key such as ai.voice`);
  return key;
}

function eventFilter(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((e) => typeof e !== 'string')) throw bad(`'events' must be an array of event names`);
  if (value.length > MAX_EVENT_FILTER) throw new ControlError('ERR_OUT_OF_RANGE', `'events' may name at most ${MAX_EVENT_FILTER} events`);
  for (const name of value as string[]) {
    if (!EVENT_NAMES.includes(name)) throw bad(`unknown event '${name.slice(0, 64)}' (known: ${EVENT_NAMES.join(', ')})`);
  }
  return [...new Set(value as string[])];
}

function levelsRate(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw bad(`'levels' must be a number (Hz)`);
  if (value < LEVELS_HZ.min || value > LEVELS_HZ.max) {
    throw new ControlError('ERR_OUT_OF_RANGE', `'levels' must be from ${LEVELS_HZ.min} to ${LEVELS_HZ.max} Hz`);
  }
  return value;
}

function subscribe(args: Args): ControlRequest {
  onlyArgs(args, ['events', 'levels']);
  const events = has(args, 'events') ? eventFilter(args.events) : null;
  let levelsHz = has(args, 'levels') ? levelsRate(args.levels) : null;
  if (levelsHz === null && events?.includes('levels')) levelsHz = LEVELS_HZ.default;
  return { cmd: 'subscribe', events, levelsHz };
}

function volume(args: Args): ControlRequest {
  onlyArgs(args, ['value', 'delta']);
  if (has(args, 'value') && has(args, 'delta')) throw bad(`'value' and 'delta' cannot both be given`);
  if (has(args, 'value')) return { cmd: 'volume', value: integerIn(args, 'value', 0, 100) };
  if (has(args, 'delta')) return { cmd: 'volume', delta: integerIn(args, 'delta', -100, 100) };
  return { cmd: 'volume' };
}

function noArgs(cmd: CommandName) {
  return (args: Args): ControlRequest => {
    onlyArgs(args, []);
    return { cmd } as ControlRequest;
  };
}

const VALIDATORS: Record<CommandName, (args: Args) => ControlRequest> = {
  status: noArgs('status'),
  subscribe,
  unsubscribe: noArgs('unsubscribe'),
  mute: noArgs('mute'),
  unmute: noArgs('unmute'),
  toggle_mute: noArgs('toggle_mute'),
  volume,
  connect: noArgs('connect'),
  disconnect: noArgs('disconnect'),
  interrupt: noArgs('interrupt'),
  talk_start: noArgs('talk_start'),
  talk_end: noArgs('talk_end'),
  say: (args) => {
    onlyArgs(args, ['text']);
    return { cmd: 'say', text: stringIn(args, 'text', MAX_SAY_CHARS) };
  },
  tool_result: (args) => {
    onlyArgs(args, ['call_id', 'output']);
    const callId = stringIn(args, 'call_id', MAX_KEY_LENGTH);
    return { cmd: 'tool_result', callId, output: shallow(args, 'output') };
  },
  config_get: (args) => {
    onlyArgs(args, ['key']);
    return has(args, 'key') ? { cmd: 'config_get', key: configKey(args) } : { cmd: 'config_get' };
  },
  config_set: (args) => {
    onlyArgs(args, ['key', 'value']);
    const key = configKey(args);
    return { cmd: 'config_set', key, value: shallow(args, 'value') };
  },
  reload: noArgs('reload'),
  devices: noArgs('devices'),
  version: noArgs('version'),
  ping: noArgs('ping'),
};

/** The id to echo for a parsed request: a finite number or a string of up to 128 characters, else null. */
export function usableId(value: unknown): RequestId {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.length <= MAX_ID_LENGTH) return value;
  return null;
}

function isCommand(name: string): name is CommandName {
  return (COMMANDS as readonly string[]).includes(name);
}

/** Validates one parsed request object (the value of one line). */
export function validateRequest(value: unknown): Validation {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, id: null, error: new ControlError('ERR_NOT_OBJECT', 'a request must be a JSON object') };
  }
  const args = value as Args;
  const rawId = args.id;
  const id = usableId(rawId);
  try {
    if (rawId !== undefined && rawId !== null && id === null) {
      throw bad(`'id' must be a number or a string of at most ${MAX_ID_LENGTH} characters`);
    }
    const cmd = required(args, 'cmd');
    if (typeof cmd !== 'string') throw bad(`'cmd' must be a string`);
    if (!isCommand(cmd)) throw new ControlError('ERR_UNKNOWN_COMMAND', `unknown command '${cmd.slice(0, 64)}'`);
    return { ok: true, id, request: VALIDATORS[cmd](args) };
  } catch (error) {
    if (!(error instanceof ControlError)) throw error;
    return { ok: false, id, error };
  }
}

/** Parses and validates one line of text (without its newline). */
export function parseRequestLine(line: string): Validation {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, id: null, error: new ControlError('ERR_INVALID_JSON', 'the line is not valid JSON') };
  }
  return validateRequest(value);
}
