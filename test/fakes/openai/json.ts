/** JSON value types for the fake OpenAI Realtime server, and small helpers to read them safely. */

/** Any JSON value as parsed from, or sent on, the wire. */
export type Json = string | number | boolean | null | Json[] | JsonObject;

/** A JSON object. */
export interface JsonObject {
  [key: string]: Json;
}

/** True when `v` is a plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v[key]` when `v` is an object and that field is an object, else undefined. */
export function objectAt(v: Json | undefined, key: string): JsonObject | undefined {
  if (!isObject(v)) return undefined;
  const f = v[key];
  return isObject(f) ? f : undefined;
}

/** `v[key]` when it is a string, else undefined. */
export function stringAt(v: Json | undefined, key: string): string | undefined {
  if (!isObject(v)) return undefined;
  const f = v[key];
  return typeof f === 'string' ? f : undefined;
}

/** A deep copy of a JSON value. */
export function clone<T extends Json>(v: T): T {
  return structuredClone(v);
}
