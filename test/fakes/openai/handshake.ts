/**
 * The HTTP side of the fake's WebSocket upgrade (protocols.md 1.1): subprotocols, dialect detection,
 * API-key check, and rejections with an HTTP status and an OpenAI-style JSON body.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { newId } from './ids.js';
import type { JsonObject } from './json.js';
import type { Dialect } from './session.js';

/** Subprotocol prefix that carries an API key (browsers cannot set headers). */
export const KEY_PROTOCOL_PREFIX = 'openai-insecure-api-key.';
/** Subprotocol that selects the beta dialect. */
export const BETA_PROTOCOL = 'openai-beta.realtime-v1';

/** Subprotocols offered by the client, in order. */
export function offeredProtocols(req: IncomingMessage): string[] {
  const h = req.headers['sec-websocket-protocol'];
  if (!h) return [];
  return h
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/** The dialect for this request: `forced` unless 'auto', else beta on `OpenAI-Beta: realtime=v1` or its subprotocol. */
export function detectDialect(req: IncomingMessage, protocols: readonly string[], forced: Dialect | 'auto'): Dialect {
  if (forced !== 'auto') return forced;
  const beta = req.headers['openai-beta'];
  const values = Array.isArray(beta) ? beta : beta ? [beta] : [];
  if (values.some((v) => v.split(',').some((p) => p.trim() === 'realtime=v1'))) return 'beta';
  return protocols.includes(BETA_PROTOCOL) ? 'beta' : 'ga';
}

/**
 * The API key presented: `Authorization: Bearer <key>`, an `api-key` header (Azure), else the key
 * subprotocol; undefined when none.
 */
export function presentedKey(req: IncomingMessage, protocols: readonly string[]): string | undefined {
  const azure = req.headers['api-key'];
  if (typeof azure === 'string' && azure !== '') return azure;
  const auth = req.headers.authorization;
  const m = auth ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null;
  if (m?.[1]) return m[1];
  const p = protocols.find((x) => x.startsWith(KEY_PROTOCOL_PREFIX));
  return p ? p.slice(KEY_PROTOCOL_PREFIX.length) : undefined;
}

function openAiError(message: string, type: string, code: string | null): JsonObject {
  return { error: { message, type, param: null, code } };
}

/** OpenAI's body for a missing (`presented` undefined) or wrong API key. */
export function authErrorBody(presented: string | undefined): JsonObject {
  if (presented === undefined) {
    return openAiError(
      "You didn't provide an API key. You need to provide your API key in an Authorization header " +
        'using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).',
      'invalid_request_error',
      null,
    );
  }
  const masked = presented.length > 8 ? `${presented.slice(0, 3)}${'*'.repeat(8)}${presented.slice(-4)}` : '****';
  return openAiError(
    `Incorrect API key provided: ${masked}. You can find your API key at ` + 'https://platform.openai.com/account/api-keys.',
    'invalid_request_error',
    'invalid_api_key',
  );
}

/** An OpenAI-like JSON body for `status` (403 region, 429 quota, 5xx server error, others generic). */
export function defaultRejectBody(status: number): JsonObject {
  if (status === 401) return authErrorBody(undefined);
  if (status === 403) {
    const code = 'unsupported_country_region_territory';
    return openAiError('Country, region, or territory not supported', 'request_forbidden', code);
  }
  if (status === 404) return openAiError('Invalid URL (GET /v1/realtime)', 'invalid_request_error', null);
  if (status === 429) {
    return openAiError('You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', 'insufficient_quota');
  }
  if (status >= 500) {
    const message = 'The server had an error while processing your request. Sorry about that!';
    return openAiError(message, 'server_error', null);
  }
  return openAiError(STATUS_CODES[status] ?? 'Error', 'invalid_request_error', null);
}

/** Answers the upgrade with an HTTP error response and closes the socket. */
export function rejectUpgrade(socket: Duplex, status: number, body: JsonObject, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(text)}`,
    `x-request-id: ${newId('req_')}`,
    'Connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
}
