/**
 * Executes validated requests against the ControlTarget. Subscriptions are per connection and handled
 * there; everything else is here. Synchronous target methods give synchronous results, so replies to
 * them leave in the order the requests came; `config_set` and `reload` return promises.
 */
import { PROTOCOL_VERSION, type ControlRequest } from './protocol.js';
import type { ControlTarget } from './target.js';

/** A request this module executes (all but subscribe/unsubscribe). */
export type TargetRequest = Exclude<ControlRequest, { cmd: 'subscribe' | 'unsubscribe' }>;

type Result = Record<string, unknown>;

function clampVolume(volume: number): number {
  return Math.min(100, Math.max(0, Math.round(volume)));
}

function volume(target: ControlTarget, request: Extract<TargetRequest, { cmd: 'volume' }>): Result {
  if (request.value !== undefined) target.setVolume(request.value);
  else if (request.delta !== undefined) target.setVolume(clampVolume(target.getVolume() + request.delta));
  return { volume: target.getVolume() };
}

function setMuted(target: ControlTarget, muted: boolean): Result {
  target.setMuted(muted);
  return { muted: target.isMuted() };
}

function configGet(target: ControlTarget, key: string | undefined): Result {
  const value = key === undefined ? target.configGet() : target.configGet(key);
  return { key: key ?? null, value: value === undefined ? null : value };
}

/** Runs one request; returns its `result`, or a promise of it for the asynchronous commands. */
export function execute(target: ControlTarget, request: TargetRequest): Result | Promise<Result> {
  switch (request.cmd) {
    case 'status':
      return { ...target.status() };
    case 'mute':
      return setMuted(target, true);
    case 'unmute':
      return setMuted(target, false);
    case 'toggle_mute':
      return setMuted(target, !target.isMuted());
    case 'volume':
      return volume(target, request);
    case 'connect':
      target.connect();
      return {};
    case 'disconnect':
      target.disconnect();
      return {};
    case 'interrupt':
      target.interrupt();
      return {};
    case 'talk_start':
    case 'talk_end':
      return { talking: target.talk(request.cmd === 'talk_start') };
    case 'say':
      target.say(request.text);
      return {};
    case 'tool_result':
      target.toolResult(request.callId, request.output);
      return {};
    case 'config_get':
      return configGet(target, request.key);
    case 'config_set':
      return target.configSet(request.key, request.value).then(() => ({ key: request.key }));
    case 'reload':
      return target.reload().then(() => ({}));
    case 'devices':
      return { devices: target.devices() };
    case 'version':
      return { ...target.version(), protocol: PROTOCOL_VERSION };
    case 'ping':
      return { pong: true, time: new Date().toISOString() };
  }
}
