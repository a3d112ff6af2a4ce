/**
 * Gemini specifics through the port against the fake: goAway and the connection cap resume the
 * session (the user notices nothing), close codes surface with their reason, and the key goes only
 * to the configured host, in a header.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AudioMediaAiPort } from '../../src/ai/ai-port.js';
import type { AiEvent, AiPortParam } from '../../src/ai/types.js';
import { AudioEngine } from '../../src/media/index.js';
import { FakeGeminiLiveServer, tone, type FakeGeminiLiveServerOptions } from '../fakes/gemini-live-server.js';
import { waitFor } from '../helpers/signal.js';

const KEY = 'gemini-test-key-123';

interface Rig {
  server: FakeGeminiLiveServer;
  ai: AudioMediaAiPort;
  events: AiEvent[];
  close(): Promise<void>;
}

async function rig(options: FakeGeminiLiveServerOptions, param: AiPortParam = {}, key = KEY): Promise<Rig> {
  const server = await FakeGeminiLiveServer.start({ apiKey: KEY, ...options });
  const engine = await AudioEngine.create({ device: { type: 'null' } });
  const ai = new AudioMediaAiPort(engine, { logger: { warn: () => {}, info: () => {} } });
  ai.createPort({ backend: 'gemini', reconnect: { minMs: 50, maxMs: 200, jitter: 0 }, ...param });
  engine.captureMedia.startTransmit(ai);
  ai.startTransmit(engine.playbackMedia);
  const events: AiEvent[] = [];
  ai.on('event', (e) => events.push(e));
  ai.connect(server.url, key);
  return {
    server,
    ai,
    events,
    async close() {
      ai.destroy();
      engine.close();
      await server.close();
    },
  };
}

const connected = (r: Rig) => r.events.filter((e): e is Extract<AiEvent, { type: 'connected' }> => e.type === 'connected');

describe('gemini through the port', () => {
  let r: Rig | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  it('the connection cap (goAway, then close) resumes the session on a new connection: no history replayed, no error', async () => {
    r = await rig({ maxConnectionMs: 1500, goAwayBeforeMs: 1000 });
    await waitFor(() => connected(r!).length === 1, 3000, 'connected');
    const first = r.server.conn(0);
    await r.server.sendTurn({ audio: tone(200, 24000), transcript: 'remember this' });
    await waitFor(() => connected(r!).length === 2, 4000, 'resumed');
    expect(connected(r)[1]).toMatchObject({ renewal: true, resumed: true });
    expect(r.events.some((e) => e.type === 'session_ending')).toBe(true);
    const second = r.server.conn(1);
    expect(second.resumedFrom).toBe(first.handles.at(-1));
    expect(r.server.sessionOfConn(1)).toBe(0);
    expect(r.server.received.filter((m) => m.conn === 1 && m.type === 'clientContent')).toEqual([]);
    expect(r.events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('a drop resumes too; an unknown handle (1007) is reported with its reason and a new session follows with the history', async () => {
    r = await rig({ maxConnectionMs: 0 });
    await waitFor(() => connected(r!).length === 1, 3000, 'connected');
    await r.server.sendTurn({ audio: tone(100, 24000), transcript: 'first answer' });
    r.ai.say('hello');
    r.server.dropTcp();
    await waitFor(() => connected(r!).length === 2, 4000, 'resumed after a drop');
    expect(connected(r)[1]).toMatchObject({ resumed: true });
    // The handle becomes unknown to the service: the resumption is refused, then a fresh session.
    (r.server as unknown as { handles: Map<string, unknown> }).handles.clear();
    r.server.dropTcp();
    await waitFor(() => connected(r!).length === 3, 5000, 'a new session');
    const refused = r.events.find((e) => e.type === 'error' && e.vendorCode === '1007');
    expect(refused).toMatchObject({ code: 'ERR_AI_SERVICE', fatal: false, message: expect.stringContaining('Request contains an invalid argument.') });
    expect(connected(r)[2]?.resumed).toBeUndefined();
    const last = r.server.connections - 1;
    expect(r.server.conn(last).resumedFrom).toBeNull();
    // The history goes out right after the new session's setup: wait for it to arrive.
    await waitFor(() => r!.server.received.some((m) => m.conn === last && m.type === 'clientContent'), 3000, 'the history restored');
    const history = r.server.received.find((m) => m.conn === last && m.type === 'clientContent');
    expect(JSON.stringify(history?.message)).toContain('hello');
  });

  it('close 1007 for a bad key is a fatal error with its reason; the key is in no event', async () => {
    r = await rig({}, {}, 'wrong-key-456');
    await waitFor(() => r!.events.some((e) => e.type === 'error'), 3000, 'error');
    const error = r.events.find((e) => e.type === 'error');
    expect(error).toMatchObject({ code: 'ERR_AI_SERVICE', vendorCode: '1007', fatal: true, message: expect.stringContaining('API key not valid') });
    expect(r.events.find((e) => e.type === 'disconnected')).toMatchObject({ code: 1007 });
    expect(JSON.stringify(r.events)).not.toContain('wrong-key-456');
  });

  it('close 1008 (unknown model) and 1011 surface with their reason', async () => {
    r = await rig({ models: ['other-model'] });
    await waitFor(() => r!.events.some((e) => e.type === 'error'), 3000, 'error');
    expect(r.events.find((e) => e.type === 'error')).toMatchObject({ vendorCode: '1008', fatal: true, message: expect.stringContaining('is not found') });
    await r.close();
    r = await rig({});
    await waitFor(() => connected(r!).length === 1, 3000, 'connected');
    r.server.fail(1011, 'Internal error encountered.');
    await waitFor(() => r!.events.some((e) => e.type === 'error'), 3000, 'error');
    expect(r.events.find((e) => e.type === 'error')).toMatchObject({
      vendorCode: '1011',
      fatal: false,
      message: expect.stringContaining('Internal error encountered.'),
    });
    await waitFor(() => connected(r!).length === 2, 3000, 'back');
  });

  it('the key goes only to the configured host, in the x-goog-api-key header, never in the URL', async () => {
    r = await rig({});
    await waitFor(() => connected(r!).length === 1, 3000, 'connected');
    const [hs] = r.server.handshakes;
    expect(hs?.headers['x-goog-api-key']).toBe(KEY);
    expect(hs?.url).not.toContain(KEY);
    expect(r.server.handshakes.every((h) => (h.headers.host ?? '').startsWith('127.0.0.1:'))).toBe(true);
  });
});
