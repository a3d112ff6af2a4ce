/**
 * The control protocol (public): newline-delimited JSON over a Unix socket, one object per line,
 * UTF-8. docs/control-protocol.md is its full description; this module holds its types and constants.
 *
 *   request   {"id":1,"cmd":"status", ...args}
 *   reply     {"id":1,"ok":true,"result":{...}}  |  {"id":1,"ok":false,"error":{"code":"...","message":"..."}}
 *   event     {"event":"state","data":{...}}       (after subscribe)
 */
import type { DeviceEntry, ServiceEvent, ServiceStatus } from './target.js';
import type { WireError } from './errors.js';
import { requirementOf } from './access.js';

/** Every command name, in the order the docs list them. */
export const COMMANDS = [
  'status',
  'subscribe',
  'unsubscribe',
  'mute',
  'unmute',
  'toggle_mute',
  'volume',
  'connect',
  'disconnect',
  'interrupt',
  'talk_start',
  'talk_end',
  'say',
  'tool_result',
  'config_get',
  'config_set',
  'reload',
  'devices',
  'version',
  'ping',
] as const;

/** A command name. */
export type CommandName = (typeof COMMANDS)[number];

/** Names of the events a target publishes (ServiceEvent['event']), checked complete at compile time. */
const SERVICE_EVENT_NAMES_ = {
  state: 0,
  transcript: 0,
  response_start: 0,
  response_done: 0,
  speech_started: 0,
  speech_stopped: 0,
  tool_call: 0,
  tool_call_cancelled: 0,
  session_ending: 0,
  turn: 0,
  error: 0,
  config_reloaded: 0,
  volume: 0,
  mute: 0,
  mute_switch: 0,
  leds: 0,
  button: 0,
} satisfies Record<ServiceEvent['event'], 0>;

/** Service event names a subscriber may select. */
export const SERVICE_EVENT_NAMES = Object.keys(SERVICE_EVENT_NAMES_) as ServiceEvent['event'][];

/** Every event name a subscriber may select: the service's events and `levels`. */
export const EVENT_NAMES: readonly string[] = [...SERVICE_EVENT_NAMES, 'levels'];

/** A request id: echoed in the reply; `null` when the request had none. */
export type RequestId = number | string | null;

/** Longest string id accepted (longer ones are not usable: the reply carries `"id":null`). */
export const MAX_ID_LENGTH = 128;

/** Longest `say` text, in characters (Unicode code points). */
export const MAX_SAY_CHARS = 4096;

/** Longest `config_get`/`config_set` key and `tool_result` call_id. */
export const MAX_KEY_LENGTH = 256;

/** Range of the `levels` rate of a subscription, in Hz, and the rate used when `levels` is only named in `events`. */
export const LEVELS_HZ = { min: 1, max: 50, default: 10 } as const;

/** A validated request. */
export type ControlRequest =
  | { cmd: 'status' | 'mute' | 'unmute' | 'toggle_mute' }
  | { cmd: 'unsubscribe' }
  | { cmd: 'connect' | 'disconnect' | 'interrupt' | 'reload' | 'devices' | 'version' | 'ping' }
  | { cmd: 'talk_start' | 'talk_end' }
  | { cmd: 'subscribe'; events: string[] | null; levelsHz: number | null }
  | { cmd: 'volume'; value?: number; delta?: number }
  | { cmd: 'say'; text: string }
  | { cmd: 'tool_result'; callId: string; output: unknown }
  | { cmd: 'config_get'; key?: string }
  | { cmd: 'config_set'; key: string; value: unknown };

/** Commands that change something (they need more than the 'read' level and are audited). */
export function isMutating(request: ControlRequest): boolean {
  const requirement = requirementOf(request, () => undefined);
  return 'never' in requirement || requirement.level !== 'read';
}

/** Results of the commands, as they appear in `result`. */
export interface CommandResults {
  status: ServiceStatus;
  subscribe: { subscribed: true; events: string[]; levels: number | null };
  unsubscribe: { subscribed: false };
  mute: { muted: boolean };
  unmute: { muted: boolean };
  toggle_mute: { muted: boolean };
  volume: { volume: number };
  connect: Record<string, never>;
  disconnect: Record<string, never>;
  interrupt: Record<string, never>;
  talk_start: { talking: boolean };
  talk_end: { talking: boolean };
  say: Record<string, never>;
  tool_result: Record<string, never>;
  config_get: { key: string | null; value: unknown };
  config_set: { key: string };
  reload: Record<string, never>;
  devices: { devices: DeviceEntry[] };
  version: { version: string; node: string; addon: string; echoEngines?: string[]; protocol: number };
  ping: { pong: true; time: string };
}

/** Version of this protocol, reported by `version`; raised only on incompatible changes. */
export const PROTOCOL_VERSION = 1;

/** A successful reply. */
export interface OkReply {
  id: RequestId;
  ok: true;
  result: Record<string, unknown>;
}

/** An error reply. */
export interface ErrorReply {
  id: RequestId;
  ok: false;
  error: WireError;
}

/** A reply line. */
export type Reply = OkReply | ErrorReply;

/** An event line: the service's events, `levels`, and the final `dropped`. */
export interface EventMessage {
  event: string;
  data: Record<string, unknown>;
}

/** Serialises a success reply as one line (with its newline). */
export function encodeOk(id: RequestId, result: object): string {
  return `${JSON.stringify({ id, ok: true, result })}\n`;
}

/** Serialises an error reply as one line (with its newline). */
export function encodeError(id: RequestId, error: WireError): string {
  const extra = { ...(error.required === undefined ? {} : { required: error.required }), ...(error.key === undefined ? {} : { key: error.key }) };
  return `${JSON.stringify({ id, ok: false, error: { code: error.code, message: error.message, ...extra } })}\n`;
}

/** Serialises an event as one line (with its newline). */
export function encodeEvent(event: string, data: object): string {
  return `${JSON.stringify({ event, data })}\n`;
}
