/**
 * Why a connection attempt failed before the WebSocket opened, in stable codes: the network error
 * behind it (refused, DNS, TLS, a reply that is not a WebSocket handshake) with its errno code and the
 * host:port it was aimed at. Certificate verification failures are configuration-class (fatal): a
 * retry on the fast backoff cannot fix a certificate.
 */

/** Stable codes of a failed connection attempt (docs/ai.md lists them). */
export type ConnectErrorCode = 'ERR_AI_CONNECT_REFUSED' | 'ERR_AI_DNS' | 'ERR_AI_TLS' | 'ERR_AI_PROTOCOL' | 'ERR_AI_NETWORK';

/** A classified connection failure. */
export interface ConnectFailure {
  code: ConnectErrorCode;
  /** The cause in words, with the errno code and host:port; never a header or a key. */
  message: string;
  /** Configuration-class: retried only on the slow (fatal) path. */
  fatal: boolean;
  /** Identifies the cause, so that it is logged once per change and not once per retry. */
  causeKey: string;
}

/** The network error as the socket reported it. */
export interface NetworkError {
  code?: string;
  message: string;
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA', 'EAI_SERVICE']);
const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'PATH_LENGTH_EXCEEDED',
]);

/** host:port of a ws:// or wss:// URL (the default port filled in). */
export function targetOf(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === 'wss:' ? '443' : '80');
    return `${u.hostname}:${port}`;
  } catch {
    return 'the service';
  }
}

/** Keeps the first line of a network message and drops anything after a colon-led detail list. */
function short(text: string): string {
  return (text.split('\n')[0] ?? '').slice(0, 200);
}

/** Classifies an error raised before the WebSocket opened. */
export function classifyConnectError(error: NetworkError, target: string): ConnectFailure {
  const code = error.code ?? '';
  const at = `${target}${code ? ` (${code})` : ''}`;
  if (code === 'ECONNREFUSED') {
    return { code: 'ERR_AI_CONNECT_REFUSED', fatal: false, causeKey: `refused:${target}`, message: `connection refused by ${at}: nothing listens there` };
  }
  if (DNS_CODES.has(code)) {
    const host = target.replace(/:\d+$/, '');
    return { code: 'ERR_AI_DNS', fatal: false, causeKey: `dns:${code}:${host}`, message: `cannot resolve ${host} (${code}) for ${target}` };
  }
  if (CERT_CODES.has(code)) {
    return {
      code: 'ERR_AI_TLS',
      fatal: true,
      causeKey: `cert:${code}:${target}`,
      message: `TLS certificate verification failed for ${at}: ${short(error.message)} (check tls.caFile or the service URL)`,
    };
  }
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /\bSSL\b|\bTLS\b/.test(error.message)) {
    return { code: 'ERR_AI_TLS', fatal: false, causeKey: `tls:${code}:${target}`, message: `TLS handshake with ${at} failed: ${short(error.message)}` };
  }
  if (code.startsWith('HPE_') || code === '' || code.startsWith('WS_ERR')) {
    return {
      code: 'ERR_AI_PROTOCOL',
      fatal: false,
      causeKey: `protocol:${code || short(error.message)}:${target}`,
      message: `${at} did not answer with a WebSocket handshake: ${short(error.message)}`,
    };
  }
  return { code: 'ERR_AI_NETWORK', fatal: false, causeKey: `network:${code}:${target}`, message: `cannot connect to ${at}: ${short(error.message)}` };
}
