/**
 * The signed URL of a private ElevenLabs agent (protocols.md 4.1): `GET <api>/v1/convai/conversation/
 * get-signed-url?agent_id=…` with the key in `xi-api-key` returns `{"signed_url":"wss://…"}`, valid for
 * 15 minutes. The endpoint is derived from the configured WebSocket URL (same scheme security, host,
 * port and path), so the key only ever goes to that host: redirects are not followed, and a signed URL
 * naming another host is refused. No error message carries the key or the signature.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readTlsFiles } from '../tls-files.js';
import type { TlsSettings } from '../types.js';

/** Largest response body read, in bytes. */
const MAX_BODY = 64 * 1024;
/** Longest signed URL accepted. */
const MAX_URL = 8192;
/** The request is abandoned after this long, in ms. */
export const SIGNED_URL_TIMEOUT_MS = 10000;

/** The get-signed-url endpoint for `wsUrl` (ws → http, wss → https, `/get-signed-url` appended). */
export function signedUrlEndpoint(wsUrl: string, agentId: string): URL {
  const ws = new URL(wsUrl);
  const endpoint = new URL(ws.toString());
  endpoint.protocol = ws.protocol === 'wss:' ? 'https:' : 'http:';
  endpoint.pathname = `${ws.pathname.replace(/\/+$/, '')}/get-signed-url`;
  endpoint.search = '';
  endpoint.hash = '';
  endpoint.searchParams.set('agent_id', agentId);
  return endpoint;
}

/** Checks a signed URL from the service: a ws(s) URL on the configured host, as secure as the configured one. */
export function checkSignedUrl(value: unknown, wsUrl: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URL) throw new Error('the service returned no usable signed_url');
  let signed: URL;
  try {
    signed = new URL(value);
  } catch {
    throw new Error('the service returned a signed_url that is not a URL');
  }
  const configured = new URL(wsUrl);
  if (signed.protocol !== 'wss:' && signed.protocol !== 'ws:') throw new Error(`the signed_url is not a ws:// or wss:// URL (${signed.protocol})`);
  if (configured.protocol === 'wss:' && signed.protocol !== 'wss:') throw new Error('the signed_url is not wss:// although ai.url is');
  if (signed.host !== configured.host) throw new Error(`the signed_url names host ${signed.host.slice(0, 200)}, not the configured ${configured.host}`);
  return signed.toString();
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        res.destroy();
        reject(new Error(`the signed-URL response is larger than ${MAX_BODY} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

/** Why a refused request failed, from the service's JSON `detail` (bounded, never the key). */
function refusal(status: number, body: string, token: string): string {
  let detail = '';
  try {
    const parsed = JSON.parse(body) as { detail?: unknown };
    const d = parsed.detail;
    detail =
      typeof d === 'string'
        ? d
        : typeof d === 'object' && d !== null && typeof (d as { message?: unknown }).message === 'string'
          ? (d as { message: string }).message
          : '';
  } catch {
    detail = '';
  }
  detail = detail.split(token).join('***').slice(0, 300);
  const what = status === 401 || status === 403 ? 'the ElevenLabs API refused the key' : 'the ElevenLabs API refused the signed-URL request';
  return `${what} (HTTP ${status})${detail ? `: ${detail}` : ''}`;
}

/**
 * Fetches a signed URL for `agentId` from the API host of `wsUrl`. Stops when `signal` aborts;
 * rejects with an Error that names neither the key nor a signature.
 */
export async function fetchSignedUrl(wsUrl: string, agentId: string, token: string, signal: AbortSignal, tls: TlsSettings | undefined): Promise<string> {
  const endpoint = signedUrlEndpoint(wsUrl, agentId);
  const secure = endpoint.protocol === 'https:';
  const material = secure ? await readTlsFiles(tls) : {};
  signal.throwIfAborted();
  const options = {
    method: 'GET',
    headers: { 'xi-api-key': token, accept: 'application/json' },
    signal,
    timeout: SIGNED_URL_TIMEOUT_MS,
    ...(secure ? { minVersion: tls?.minVersion ?? 'TLSv1.2', rejectUnauthorized: tls?.verify !== false, ...material } : {}),
  } as const;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(endpoint, options, resolve);
    req.on('timeout', () => req.destroy(new Error(`no answer from the ElevenLabs API within ${SIGNED_URL_TIMEOUT_MS} ms`)));
    req.on('error', (error: Error & { code?: string }) =>
      reject(new Error(`the signed-URL request to ${endpoint.host} failed: ${error.code ?? error.message.slice(0, 200)}`)),
    );
    req.end();
  });
  const body = await readBody(res);
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400)
    throw new Error(`the ElevenLabs API answered with a redirect (HTTP ${status}); redirects are not followed, the key stays with ${endpoint.host}`);
  if (status !== 200) throw new Error(refusal(status, body, token));
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error('the signed-URL response is not JSON');
  }
  const signed = typeof parsed === 'object' && parsed !== null ? (parsed as { signed_url?: unknown }).signed_url : undefined;
  return checkSignedUrl(signed, wsUrl);
}
