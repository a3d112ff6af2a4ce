import type { AiEvent } from '../ai/types.js';
import type { ServiceState } from '../control/target.js';

/** What moves the service between states: AI port events and the daemon's own milestones. */
export type StateInput =
  | { kind: 'ai'; event: AiEvent }
  | { kind: 'audio_ready' }
  | { kind: 'connecting' }
  | { kind: 'stopping' }
  | { kind: 'fatal' };

/**
 * The service's state after `input` (a pure function; the daemon publishes changes).
 * starting → connecting → listening ⇄ user_speaking → thinking → speaking → listening;
 * offline while the link is down and retried; error after a fatal failure; stopping at the end.
 */
export function nextState(current: ServiceState, input: StateInput): ServiceState {
  if (current === 'stopping') return current;
  switch (input.kind) {
    case 'stopping':
      return 'stopping';
    case 'fatal':
      return 'error';
    case 'audio_ready':
      return current === 'starting' ? 'connecting' : current;
    case 'connecting':
      return 'connecting';
    case 'ai':
      return fromAi(current, input.event);
  }
}

function fromAi(current: ServiceState, event: AiEvent): ServiceState {
  switch (event.type) {
    case 'connected':
      return 'listening';
    case 'disconnected':
      return event.retryInMs === undefined ? 'offline' : current === 'error' ? 'error' : 'offline';
    case 'error':
      return event.fatal ? 'error' : current;
    case 'speech_started':
      return online(current) ? 'user_speaking' : current;
    case 'speech_stopped':
      return current === 'user_speaking' ? 'thinking' : current;
    case 'response_start':
      return current === 'listening' || current === 'user_speaking' ? 'thinking' : current;
    case 'audio_start':
      return online(current) ? 'speaking' : current;
    case 'audio_done':
      return current === 'speaking' ? 'listening' : current;
    case 'response_done':
      return current === 'thinking' ? 'listening' : current;
    default:
      return current;
  }
}

function online(state: ServiceState): boolean {
  return state === 'listening' || state === 'user_speaking' || state === 'thinking' || state === 'speaking';
}
