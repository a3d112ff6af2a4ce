import type { CloseInfo } from './connection.js';
import type { PortLimits } from './param.js';

/** What a closed connection means for the next attempt. */
export interface Failure {
  /** Retrying soon cannot help (bad key, no quota, forbidden): retry only slowly. */
  fatal: boolean;
  /** The error to report, if the close itself is one. */
  error?: { code: string; message: string; fatal: boolean; httpStatus?: number; vendorCode?: string };
  /** Set for a connection that could not be opened: the port reports such a cause once per change. */
  causeKey?: string;
}

function vendorMessage(body: string | undefined): string {
  if (!body) return '';
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
  } catch {
    // not JSON: use the text itself
  }
  return body.slice(0, 300);
}

/**
 * Classifies how a connection ended: a refused handshake (with its HTTP status and the vendor's
 * words), a connection that could not be opened (refused, DNS, TLS, not a WebSocket: see
 * connect-failure.ts), a timeout, an oversize message, or a fatal service error seen before the close.
 */
export function connectionFailure(info: CloseInfo, fatalCode: string | null, limits: PortLimits): Failure {
  if (info.httpStatus) {
    const text = vendorMessage(info.body);
    const noQuota = info.httpStatus === 429 && /quota|billing/i.test(text);
    const fatal = info.httpStatus === 401 || info.httpStatus === 403 || noQuota;
    const what = info.httpStatus === 401 ? 'the service refused the key' : `the service refused the connection`;
    return {
      fatal,
      error: { code: 'ERR_AI_HANDSHAKE', httpStatus: info.httpStatus, fatal, message: `${what} (HTTP ${info.httpStatus})${text ? `: ${text}` : ''}` },
    };
  }
  if (fatalCode) return { fatal: true };
  const cf = info.connectFailure;
  if (cf) return { fatal: cf.fatal, causeKey: cf.causeKey, error: { code: cf.code, message: cf.message, fatal: cf.fatal } };
  switch (info.cause) {
    case 'pong_timeout':
      return {
        fatal: false,
        error: { code: 'ERR_AI_TIMEOUT', fatal: false, message: `no answer to a ping within ${limits.pongTimeoutMs} ms: the link is dead` },
      };
    case 'handshake_timeout':
      return {
        fatal: false,
        causeKey: 'connect_timeout',
        error: { code: 'ERR_AI_TIMEOUT', fatal: false, message: `no connection within ${limits.connectTimeoutMs} ms` },
      };
    case 'message_too_large':
      return {
        fatal: false,
        error: { code: 'ERR_AI_MESSAGE_TOO_LARGE', fatal: false, message: `the service sent a message over ${limits.maxPayload} bytes (closed with 1009)` },
      };
    default:
      return { fatal: false };
  }
}
