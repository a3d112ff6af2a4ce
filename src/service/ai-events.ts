/** How the AI port's events appear on the control socket (docs/control-protocol.md, snake_case fields). */
import type { AiEvent } from '../ai/types.js';
import type { ServiceEvent } from '../control/target.js';

const item = (id: string | undefined): Record<string, unknown> => (id ? { item_id: id } : {});

function errorData(e: Extract<AiEvent, { type: 'error' }>): Record<string, unknown> {
  return {
    code: e.code,
    message: e.message,
    fatal: e.fatal,
    ...(e.vendorCode ? { vendorCode: e.vendorCode } : {}),
    ...(e.httpStatus ? { httpStatus: e.httpStatus } : {}),
    ...(e.param ? { param: e.param } : {}),
    ...item(e.itemId),
  };
}

/** The control socket's shape of an AI event, or null when it is not published. */
export function toServiceEvent(e: AiEvent): ServiceEvent | null {
  switch (e.type) {
    case 'transcript':
      return { event: 'transcript', data: { role: e.role, text: e.text, final: e.final, ...item(e.itemId) } };
    case 'response_start':
      return { event: 'response_start', data: { response_id: e.responseId } };
    case 'response_done':
      return {
        event: 'response_done',
        data: { response_id: e.responseId, status: e.status, ...(e.reason ? { reason: e.reason } : {}), ...(e.error ? { error: e.error } : {}) },
      };
    case 'speech_started':
    case 'speech_stopped':
      return { event: e.type, data: item(e.itemId) };
    case 'tool_call':
      return { event: 'tool_call', data: { call_id: e.callId, name: e.name, arguments: e.arguments } };
    case 'tool_call_cancelled':
      return { event: 'tool_call_cancelled', data: { call_ids: [...e.callIds] } };
    case 'session_ending':
      return { event: 'session_ending', data: { time_left_ms: e.timeLeftMs } };
    case 'turn':
      return { event: 'turn', data: { open: e.open, ...(e.committed === undefined ? {} : { committed: e.committed }) } };
    case 'error':
      return { event: 'error', data: errorData(e) };
    default:
      return null;
  }
}
