/**
 * Handshake headers shared by the backends: the credential in the scheme the vendor wants, plus extra
 * headers from the configuration. The key goes only into the credential header, only to the
 * configured URL (AiConnection never follows redirects), and an extra header can neither replace nor
 * copy it nor steer the request elsewhere: such names are refused.
 */

/** How the key travels: `Authorization: Bearer`, an `api-key` header, or `Authorization: Token`. */
export type AuthScheme = 'bearer' | 'api-key' | 'token';

/** Header names an extra header may not use (lower case); `proxy-` and `sec-websocket-` prefixes too. */
const RESERVED = new Set([
  'authorization',
  'api-key',
  'x-api-key',
  'xi-api-key',
  'x-goog-api-key',
  'cookie',
  'host',
  'connection',
  'upgrade',
  'origin',
  'content-length',
  'transfer-encoding',
]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
const VALUE = /^[\t\x20-\x7e]{0,1024}$/;

/** The refusal of one extra header, or null when it may be sent. */
export function headerProblem(name: string, value: unknown): string | null {
  if (!TOKEN.test(name)) return `'${name.slice(0, 64)}' is not a valid header name`;
  const lower = name.toLowerCase();
  if (RESERVED.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-websocket-')) {
    return `header '${name}' carries a credential or steers the connection; set the key with the API key file and the scheme with authScheme`;
  }
  if (typeof value !== 'string' || !VALUE.test(value)) return `header '${name}' must be printable ASCII of at most 1024 characters`;
  return null;
}

/** Checks extra headers (TypeError/RangeError naming the header). */
export function checkHeaders(headers: unknown, path: string): void {
  if (headers === undefined) return;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) throw new TypeError(`${path} must be an object of header names to values`);
  const entries = Object.entries(headers);
  if (entries.length > 32) throw new RangeError(`${path} may hold at most 32 headers`);
  for (const [name, value] of entries) {
    const problem = headerProblem(name, value);
    if (problem) throw new RangeError(`${path}: ${problem}`);
  }
}

/** The handshake headers: the extra ones, then the credential (null token: none). */
export function handshakeHeaders(token: string | null, scheme: AuthScheme, extra: Record<string, string> | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(extra ?? {})) if (headerProblem(name, value) === null) headers[name] = value;
  if (token) {
    if (scheme === 'api-key') headers['api-key'] = token;
    else headers.Authorization = `${scheme === 'token' ? 'Token' : 'Bearer'} ${token}`;
  }
  return headers;
}
