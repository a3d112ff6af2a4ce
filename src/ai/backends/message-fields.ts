/**
 * Reading fields of a vendor's JSON messages, which are hostile input: a field is taken only when it
 * has the expected type, and text is cut to a limit. Shared by every backend's decoder.
 */
import type { Frame } from '../backend.js';

/** A decoded JSON object. */
export type Json = Record<string, unknown>;

/** `v` when it is a JSON object (not null, not an array), else undefined. */
export function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

/** `v` cut to `limit` characters when it is a string, else undefined. */
export function str(v: unknown, limit: number): string | undefined {
  return typeof v === 'string' ? v.slice(0, limit) : undefined;
}

/** Longest message `type` kept. */
const TYPE_LIMIT = 200;

/** Parses one frame into a JSON object with a string `type`, or says why it is not one. */
export function parseFrame(frame: Frame): { type: string; m: Json } | { malformed: string } {
  const text = typeof frame === 'string' ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { malformed: 'invalid JSON' };
  }
  const m = obj(parsed);
  if (!m) return { malformed: 'not a JSON object' };
  const type = str(m.type, TYPE_LIMIT);
  return type === undefined ? { malformed: 'no type' } : { type, m };
}
