/** What the parts of one fake connection (conversation, responses) need from it. */
import type { ErrorSpec } from './errors.js';
import type { JsonObject } from './json.js';
import type { Recorder } from './recorder.js';
import type { Dialect } from './session.js';
import type { ServerEvent } from './shapes.js';

/** Services a connection offers its parts. */
export interface ConnContext {
  /** Connection index (0-based), as in the records. */
  readonly index: number;
  /** The connection's dialect. */
  readonly dialect: Dialect;
  /** The server's records. */
  readonly recorder: Recorder;
  /** The current effective session object. */
  session(): JsonObject;
  /** Sends one server event; `event_id` is added. Dropped when the socket is not open. */
  send(type: string, fields?: JsonObject): void;
  /** Sends several server events in order. */
  sendAll(events: readonly ServerEvent[]): void;
  /** Sends an `error` event; `clientEventId` is the offending client event's `event_id`. */
  error(spec: ErrorSpec, clientEventId?: string | null): void;
  /** True while the WebSocket is open. */
  isOpen(): boolean;
}
