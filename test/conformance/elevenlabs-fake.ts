/**
 * The fake ElevenLabs Agents server (test/fakes/elevenlabs-agent-server.ts) behind the conformance
 * controls. For a private agent it also answers the API's `GET /v1/convai/conversation/get-signed-url`
 * on the same host (the fake has no HTTP API of its own): the `xi-api-key` must match, and every such
 * request is recorded in `apiRequests`.
 */
import type { IncomingHttpHeaders, Server } from 'node:http';
import { FakeElevenLabsAgentServer, formatRate, tone, type FakeElevenLabsAgentServerOptions } from '../fakes/elevenlabs-agent-server.js';
import { waitFor } from '../helpers/signal.js';
import type { ConformanceFake } from './backend-conformance.js';

/** One request the fake API host received. */
export interface ApiRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** Options of {@link elevenLabsFake}. */
export interface ElevenLabsFakeOptions extends FakeElevenLabsAgentServerOptions {
  /** The API key the signed-URL endpoint wants (a private agent); absent: a public agent. */
  apiKey?: string;
  /** Answer get-signed-url with this instead of a signed URL of the fake (tests of refusals). */
  signedUrlAnswer?: { status: number; body: string; headers?: Record<string, string> };
}

/** The fake, its signed-URL API, and the conformance controls. */
export type ElevenLabsConformanceFake = ConformanceFake & { server: FakeElevenLabsAgentServer; apiRequests: ApiRequest[] };

/** Answers get-signed-url on the fake's own HTTP server (reached through its protected field). */
function serveSignedUrls(srv: FakeElevenLabsAgentServer, options: ElevenLabsFakeOptions, requests: ApiRequest[]): void {
  const http = (srv as unknown as { server: Server }).server;
  http.removeAllListeners('request');
  http.on('request', (req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname !== '/v1/convai/conversation/get-signed-url' || req.method !== 'GET') return json(404, { detail: 'Not Found' });
    if (!options.apiKey || req.headers['xi-api-key'] !== options.apiKey)
      return json(401, { detail: { status: 'invalid_api_key', message: 'Invalid API key' } });
    if (options.signedUrlAnswer) {
      const a = options.signedUrlAnswer;
      return void res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(a.body);
    }
    const agentId = url.searchParams.get('agent_id') ?? '';
    if (agentId !== srv.agentId) return json(404, { detail: { status: 'agent_not_found', message: 'Agent not found' } });
    json(200, { signed_url: srv.signedUrl({ agentId, singleUse: true }) });
  });
}

/** Starts the ElevenLabs fake (pings every 250 ms) and wraps it. */
export async function elevenLabsFake(options: ElevenLabsFakeOptions = {}): Promise<ElevenLabsConformanceFake> {
  const srv = await FakeElevenLabsAgentServer.start({ pingIntervalMs: 250, pongTimeoutMs: 2000, private: options.apiKey !== undefined, ...options });
  const apiRequests: ApiRequest[] = [];
  serveSignedUrls(srv, options, apiRequests);
  const outRate = formatRate(options.outputFormat ?? 'pcm_16000');
  const inRate = formatRate(options.inputFormat ?? 'pcm_16000');
  let cutEventId: number | null = null;
  let lastReply: number | null = null;
  const respond = (ms: number, text: string) => srv.agentResponse({ audio: tone(ms, outRate), text, chunkMs: 100 }).catch(() => undefined);
  return {
    server: srv,
    apiRequests,
    url: srv.url,
    token: options.apiKey ?? null,
    connections: () => srv.connections,
    async reply(ms, transcript) {
      const p = respond(ms, transcript);
      lastReply = srv.conn().lastEventId;
      await p;
    },
    userSpeaks() {
      cutEventId = lastReply;
      srv.interrupt({ correction: true });
    },
    staleAudio(ms) {
      const b64 = Buffer.from(tone(ms, outRate).buffer).toString('base64');
      srv.sendRaw(JSON.stringify({ type: 'audio', audio_event: { audio_base_64: b64, event_id: cutEventId ?? 1 } }));
    },
    drop: () => srv.dropTcp(),
    endSession: () => srv.maxDurationExceeded(),
    async toolCall(name, args) {
      const id = srv.clientToolCall({ name, parameters: args as never });
      // The agent goes on speaking once the client tool answered, as the service does.
      void srv
        .conn()
        .waitForToolResult(id)
        .then(
          () => respond(200, 'done'),
          () => undefined,
        );
      return id;
    },
    async toolResult(callId) {
      const find = () => srv.toolResults.find((r) => r.toolCallId === callId);
      await waitFor(() => find() !== undefined, 3000, `client_tool_result ${callId}`);
      return find()?.result ?? '';
    },
    malformed(count) {
      const junk = [
        '{not json',
        '[]',
        '{"no":"type"}',
        '{"type":"audio"}',
        '{"type":"audio","audio_event":{"audio_base_64":7,"event_id":1}}',
        '{"type":"ping","ping_event":{"event_id":"soon"}}',
        '{"type":"client_tool_call","client_tool_call":{"tool_name":"x","parameters":"no"}}',
      ];
      for (let i = 0; i < count; i++) srv.sendRaw(junk[i % junk.length] as string);
    },
    micMs: () => ((srv.audioReceived[srv.connections - 1]?.length ?? 0) * 1000) / inRate,
    commits: () => 0,
    clears: () => 0,
    close: () => srv.close(),
  };
}
