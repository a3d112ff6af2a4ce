/**
 * Push-to-talk for the service: the talk button and the control socket's talk_start/talk_end drive
 * the AI port's turns when the service's own turn detection is off (`ai.turnDetection` 'none'): the
 * microphone is sent only while the turn is open, and the turn is committed at its end.
 */
import type { AudioMediaAiPort } from '../ai/ai-port.js';

/** Opens or closes the port's turn when it takes manual turns; returns whether a turn is open afterwards. */
export function driveTurn(ai: AudioMediaAiPort | null, manualTurns: boolean, open: boolean): boolean {
  if (!ai || !manualTurns) return open;
  if (open) ai.startTurn();
  else ai.endTurn();
  return ai.isTurnOpen();
}
