import type { AiEvent } from '../ai/types.js';
import type { ServiceState } from '../control/target.js';

/** What moves the service between states: AI port events and the daemon's own milestones. */
export type StateInput =
  { kind: 'ai'; event: AiEvent; link?: LinkView } | { kind: 'audio_ready' } | { kind: 'connecting' } | { kind: 'stopping' } | { kind: 'fatal' };

/**
 * What the port says besides the event: whether reply audio is still in the playout ring, and whether
 * the link is up. Reply audio keeps playing after the link drops, and the state says so.
 */
export interface LinkView {
  playingOut: boolean;
  connected: boolean;
}

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
      return fromAi(current, input.event, input.link ?? { playingOut: false, connected: true });
  }
}

function fromAi(current: ServiceState, event: AiEvent, link: LinkView): ServiceState {
  // While reply audio still plays, the device is speaking whatever the link does; audio_done settles it.
  const stillSpeaking = current === 'speaking' && link.playingOut;
  switch (event.type) {
    case 'connected':
      return stillSpeaking ? 'speaking' : 'listening';
    case 'disconnected':
      if (stillSpeaking) return 'speaking';
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
      if (current !== 'speaking') return current;
      return link.connected ? 'listening' : 'offline';
    case 'response_done':
      return current === 'thinking' ? 'listening' : current;
    default:
      return current;
  }
}

function online(state: ServiceState): boolean {
  return state === 'listening' || state === 'user_speaking' || state === 'thinking' || state === 'speaking';
}
