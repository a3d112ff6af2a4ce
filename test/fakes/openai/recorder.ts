/** What the fake OpenAI Realtime server saw, for test assertions, and waiting on it. */
import type { IncomingHttpHeaders } from 'node:http';
import { concatPcm } from './audio.js';
import type { JsonObject } from './json.js';
import type { Dialect } from './session.js';

/** One WebSocket upgrade request, accepted or not. */
export interface HandshakeRecord {
  /** Request path and query, e.g. `/v1/realtime?model=gpt-realtime`. */
  url: string;
  /** Request headers (lower-case names). */
  headers: IncomingHttpHeaders;
  /** Subprotocols offered in `Sec-WebSocket-Protocol`, in order. */
  protocols: string[];
  /** Dialect chosen for the connection; null when rejected. */
  dialect: Dialect | null;
  /** 101 when accepted, else the HTTP status sent. */
  status: number;
  /** Connection index (0-based) when accepted, else null. */
  conn: number | null;
}

/** One parsed client message. */
export interface ReceivedMessage {
  /** Connection index (0-based). */
  conn: number;
  /** The event's `type`. */
  type: string;
  /** The whole parsed event. */
  event: JsonObject;
  /** `Date.now()` on arrival. */
  at: number;
}

/** One `conversation.item.truncate` request. */
export interface TruncateRecord {
  conn: number;
  itemId: string;
  contentIndex: number;
  audioEndMs: number;
  /** Audio generated for the item when the request arrived, in ms; null when the item is unknown. */
  generatedMs: number | null;
  /** True when answered with `conversation.item.truncated`, false when with an `error`. */
  accepted: boolean;
}

/** One cancellation: a client `response.cancel`, or a server-VAD barge-in that cancelled a response. */
export interface CancelRecord {
  conn: number;
  source: 'client' | 'turn_detected';
  /** `response_id` named by the client's `response.cancel`, if any. */
  requestedId: string | null;
  /** The response actually cancelled; null when nothing was active (the client got an error). */
  cancelledId: string | null;
}

/** Options of {@link Recorder.waitFor}. */
export interface WaitForOptions {
  /** Give up after this many ms (default 5000). */
  timeoutMs?: number;
  /** Only messages of this connection. */
  conn?: number;
  /** Only messages for which this returns true. */
  match?: (m: ReceivedMessage) => boolean;
  /** Search from this index of `received`; default: after the last message of this type that waitFor returned. */
  since?: number;
}

/** Records of one server, shared by its connections. */
export class Recorder {
  /** Every upgrade request. */
  readonly handshakes: HandshakeRecord[] = [];
  /** Every parsed client message, in arrival order. */
  readonly received: ReceivedMessage[] = [];
  /** Every truncate request. */
  readonly truncates: TruncateRecord[] = [];
  /** Every cancellation. */
  readonly cancels: CancelRecord[] = [];
  /** Number of accepted connections. */
  connections = 0;
  private readonly audioChunks: Int16Array[][] = [];
  private readonly cursors = new Map<string, number>();
  private readonly waiters = new Set<() => void>();

  /** Appended input audio per connection, concatenated. */
  get audioReceived(): Int16Array[] {
    return this.audioChunks.map((c) => concatPcm(c));
  }

  /** Counts a new connection and returns its index (call {@link notify} once it is set up). */
  addConnection(): number {
    this.audioChunks.push([]);
    return this.connections++;
  }

  /** Stores a parsed client message. */
  addReceived(m: ReceivedMessage): void {
    this.received.push(m);
    this.notify();
  }

  /** Stores decoded input audio of connection `conn`. */
  addAudio(conn: number, pcm: Int16Array): void {
    this.audioChunks[conn]?.push(pcm);
  }

  /** Wakes the waiters so they re-check their condition. */
  notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** The next client message of `type` (see {@link WaitForOptions} for which one counts as next). */
  async waitFor(type: string, opts: WaitForOptions = {}): Promise<ReceivedMessage> {
    const probe = (): ReceivedMessage | undefined => {
      for (let i = opts.since ?? this.cursors.get(type) ?? 0; i < this.received.length; i++) {
        const m = this.received[i];
        if (!m || m.type !== type || (opts.conn !== undefined && m.conn !== opts.conn)) continue;
        if (opts.match && !opts.match(m)) continue;
        this.cursors.set(type, i + 1);
        return m;
      }
      return undefined;
    };
    return this.until(probe, opts.timeoutMs ?? 5000, `client message '${type}'`);
  }

  /** Resolves with the first defined value of `probe`, re-checked on every recorded change. */
  until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const now = probe();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const v = probe();
        if (v === undefined) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`fake realtime server: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }
}
