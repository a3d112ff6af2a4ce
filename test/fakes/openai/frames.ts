/** Parsing of client frames: JSON text events only, each an object with a string `type`. */
import type { RawData } from 'ws';
import { errors, type ErrorSpec } from './errors.js';
import { isObject, stringAt, type JsonObject } from './json.js';

/** Client event types the service knows (listed in the `invalid_value` error for unknown ones). */
export const CLIENT_EVENTS = [
  'session.update',
  'input_audio_buffer.append',
  'input_audio_buffer.commit',
  'input_audio_buffer.clear',
  'conversation.item.create',
  'conversation.item.truncate',
  'conversation.item.delete',
  'conversation.item.retrieve',
  'response.create',
  'response.cancel',
  'output_audio_buffer.clear',
];

/** A parsed client event, or the error to answer a bad frame with. */
export type ParsedFrame = { ok: true; type: string; event: JsonObject; eventId: string | null } | { ok: false; error: ErrorSpec; eventId: string | null };

/** Parses one WebSocket message; binary frames, bad JSON, non-objects and a missing `type` are errors. */
export function parseClientFrame(data: RawData, isBinary: boolean): ParsedFrame {
  if (isBinary) {
    return { ok: false, eventId: null, error: { code: 'invalid_message', message: 'Binary frames are not supported; send JSON text.' } };
  }
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  let event: unknown;
  try {
    event = JSON.parse(buf.toString('utf8'));
  } catch {
    return { ok: false, error: errors.invalidJson(), eventId: null };
  }
  if (!isObject(event)) return { ok: false, error: errors.invalidType('(root)', 'an object'), eventId: null };
  const eventId = stringAt(event, 'event_id') ?? null;
  const type = event['type'];
  if (typeof type !== 'string') return { ok: false, error: errors.missingParam('type'), eventId };
  return { ok: true, type, event, eventId };
}
