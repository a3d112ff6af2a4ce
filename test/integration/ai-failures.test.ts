import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { makeSelfSignedCert, tone } from '../fakes/openai-realtime-server.js';
import { startHarness, type AiHarness } from '../helpers/ai-harness.js';
import { waitFor } from '../helpers/signal.js';

// Every way a link can fail, against the fake service: the port reports it, frees the socket,
// reconnects (slowly for fatal errors) and the conversation goes on.

let h: AiHarness | undefined;
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const c of cleanups.splice(0)) await c();
});

const count = (hh: AiHarness, type: string): number => hh.events.filter((e) => e.type === type).length;

describe('AI port: links that die', () => {
  it('reconnects after an abrupt TCP drop and the conversation goes on with its context', async () => {
    h = await startHarness();
    await h.event('connected');
    await h.server.sendResponse({ audio: tone(200), transcript: 'The kettle is on.' });
    await h.event('response_done');
    h.server.dropTcp();
    const disconnected = await h.event('disconnected');
    expect(disconnected).toMatchObject({ code: 1006, renewal: false, retryInMs: 50 });
    expect(h.ai.getState()).toBe('reconnecting');
    await h.server.waitForConnection(2);
    await h.event('connected', (e) => !e.renewal, 1);
    await waitFor(() => count(h!, 'connected') === 2, 3000, 'second connected');
    const restored = await h.server.waitFor('conversation.item.create', { conn: 1 });
    expect(restored.event).toMatchObject({ item: { role: 'assistant', content: [{ type: 'output_text', text: 'The kettle is on.' }] } });
    const reply = tone(300);
    const before = h.played();
    await h.server.sendResponse({ audio: reply });
    await waitFor(() => h!.played() >= before + reply.length, 2000, 'reply on the new session');
  });

  it('detects a stalled peer with the pong deadline and reconnects', async () => {
    h = await startHarness();
    await h.event('connected');
    h.server.stall(true);
    const error = await h.event('error', (e) => e.code === 'ERR_AI_TIMEOUT', 0, 3000);
    expect(error.message).toMatch(/no answer to a ping within 500 ms/);
    await h.event('disconnected');
    await waitFor(() => count(h!, 'connected') === 2, 3000, 'reconnected');
    expect(h.server.connections).toBe(2);
  });

  it('renews the session on session_expired (close 1001) and restores the conversation', async () => {
    h = await startHarness();
    await h.event('connected');
    h.server.userTranscript('item_u1', 'remind me about the oven');
    await h.event('transcript');
    h.server.expireSession();
    const error = await h.event('error', (e) => e.vendorCode === 'session_expired');
    expect(error.fatal).toBe(false);
    expect(await h.event('disconnected')).toMatchObject({ code: 1001, renewal: true, retryInMs: 0 });
    expect(await h.event('connected', (e) => e.renewal)).toMatchObject({ renewal: true });
    const restored = await h.server.waitFor('conversation.item.create', { conn: 1 });
    expect(restored.event).toMatchObject({ item: { role: 'user', content: [{ type: 'input_text', text: 'remind me about the oven' }] } });
  });

  it('renews before the session lifetime, but only after the reply has finished playing', async () => {
    h = await startHarness({ param: { sessionLifetimeMs: 1000 } });
    await h.event('connected');
    const reply = tone(1500, 300, 6000);
    await h.server.sendResponse({ audio: reply, chunkMs: 100 });
    await h.event('disconnected', (e) => e.renewal, 0, 5000);
    expect(h.played()).toBe(reply.length);
    expect(await h.event('connected', (e) => e.renewal)).toMatchObject({ renewal: true });
    const closes = await h.server.waitForClose(0);
    expect(closes).toMatchObject({ code: 1000, reason: 'session renewal' });
  });

  it('reports a refused key once, with its HTTP status and without the key, and retries slowly', async () => {
    const token = 'sk-test-THISISASECRETKEY123456';
    h = await startHarness({ server: { apiKey: 'sk-the-right-one' }, token, param: { reconnect: { minMs: 50, maxMs: 100, fatalRetryMs: 200 } } });
    const error = await h.event('error', (e) => e.code === 'ERR_AI_HANDSHAKE');
    expect(error).toMatchObject({ httpStatus: 401, fatal: true });
    expect(await h.event('disconnected')).toMatchObject({ httpStatus: 401, retryInMs: 200 });
    expect(h.ai.getState()).toBe('failed');
    await waitFor(() => h!.server.handshakes.length >= 3, 3000, 'slow retries');
    expect(h.events.filter((e) => e.type === 'error')).toHaveLength(1);
    const everything = JSON.stringify([h.events, h.warnings, h.ai.toJSON(), h.ai.stats()]);
    expect(everything).not.toContain('THISISASECRETKEY');
    expect(everything).not.toContain(token);
  });

  it('treats a server error (500) as transient: backoff doubles, and resets once a session is up', async () => {
    h = await startHarness({ server: { rejectStatus: 500 } });
    await waitFor(() => count(h!, 'disconnected') >= 4, 5000, 'retries');
    const delays = h.events.flatMap((e) => (e.type === 'disconnected' ? [e.retryInMs] : []));
    expect(delays.slice(0, 4)).toEqual([50, 100, 200, 400]);
    const error = h.events.find((e) => e.type === 'error');
    expect(error).toMatchObject({ code: 'ERR_AI_HANDSHAKE', httpStatus: 500, fatal: false });
    expect(h.ai.getState()).toBe('reconnecting');
  });

  it('tells a quota 429 (fatal) from a rate-limit 429 (transient)', async () => {
    h = await startHarness({
      server: {
        rejectStatus: 429,
        rejectBody: {
          error: {
            message: 'You exceeded your current quota, please check your plan and billing details.',
            type: 'insufficient_quota',
            code: 'insufficient_quota',
          },
        },
      },
    });
    expect(await h.event('error')).toMatchObject({ httpStatus: 429, fatal: true });
    await h.close();
    h = await startHarness({
      server: { rejectStatus: 429, rejectBody: { error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } } },
    });
    expect(await h.event('error')).toMatchObject({ httpStatus: 429, fatal: false });
  });

  it('gives up on a session that is never set up, and retries', async () => {
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => silent.once('listening', r));
    cleanups.push(() => new Promise<void>((r) => silent.close(() => r())));
    const port = (silent.address() as { port: number }).port;
    h = await startHarness({ connect: false, param: { sessionTimeoutMs: 300 } });
    h.ai.connect(`ws://127.0.0.1:${port}/v1/realtime`, null);
    const error = await h.event('error', (e) => e.code === 'ERR_AI_TIMEOUT');
    expect(error.message).toMatch(/not set up within 300 ms/);
    await waitFor(() => count(h!, 'disconnected') >= 2, 3000, 'retried');
  });

  it('gives up on a handshake that never completes', async () => {
    const { createServer } = await import('node:net');
    const accepted: import('node:net').Socket[] = [];
    const blackhole = createServer((socket) => accepted.push(socket));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => {
      accepted.forEach((s) => s.destroy());
      return new Promise<void>((r) => blackhole.close(() => r()));
    });
    const port = (blackhole.address() as { port: number }).port;
    h = await startHarness({ connect: false, param: { connectTimeoutMs: 300 } });
    h.ai.connect(`ws://127.0.0.1:${port}/v1/realtime`, null);
    const error = await h.event('error', (e) => e.code === 'ERR_AI_TIMEOUT');
    expect(error.message).toMatch(/no connection within 300 ms/);
    expect(h.ai.getState()).toBe('reconnecting');
  });

  it('closes with 1009 on an oversize message, reports it and reconnects', async () => {
    h = await startHarness({ param: { maxPayload: 64 * 1024 } });
    await h.event('connected');
    h.server.sendOversize(200 * 1024);
    const error = await h.event('error', (e) => e.code === 'ERR_AI_MESSAGE_TOO_LARGE');
    expect(error.message).toMatch(/over 65536 bytes/);
    expect((await h.server.waitForClose(0)).code).toBe(1009);
    await waitFor(() => count(h!, 'connected') === 2, 3000, 'reconnected');
  });

  // Loopback TCP buffers grow to tens of MB on this kernel, so a stalled peer never pushes back
  // within a test's time; the dropping itself is covered by test/unit/ai/send-queue.test.ts.
  it('rides out a peer that stops reading: frames stay whole and control messages get through', async () => {
    h = await startHarness({ param: { pingIntervalMs: 60000 } });
    await h.event('connected');
    await h.server.sendResponse({ audio: tone(3000), chunkMs: 200, holdDone: true });
    h.server.stall(true);
    await new Promise((r) => setTimeout(r, 600));
    h.ai.interrupt();
    h.server.stall(false);
    const truncate = await h.server.waitFor('conversation.item.truncate', { timeoutMs: 5000 });
    expect((truncate.event as { audio_end_ms: number }).audio_end_ms).toBeGreaterThan(0);
    await h.server.waitFor('response.cancel');
    await new Promise((r) => setTimeout(r, 200));
    const appends = h.server.received.filter((m) => m.type === 'input_audio_buffer.append');
    for (const m of appends) {
      const audio = (m.event as { audio: string }).audio;
      expect(Buffer.from(audio, 'base64').length).toBe(1920);
    }
    // Every batch sent is received or counted as dropped; the last one may still be on its way (a slow
    // machine, an ASan build), so the books are checked until they balance.
    const balanced = (): boolean => {
      const stats = h!.ai.stats();
      const receivedMs = ((h!.server.audioReceived[0]?.length ?? 0) * 1000) / 24000;
      return receivedMs + stats.droppedSendMs >= stats.sentMs - 40;
    };
    await waitFor(balanced, 3000, 'sent audio received or counted as dropped');
    expect(h.ai.isConnected()).toBe(true);
  });

  it('verifies TLS certificates: trusts a given CA, refuses an unknown one, warns when verification is off', async () => {
    const cert = makeSelfSignedCert();
    const dir = mkdtempSync(join(tmpdir(), 'speakerd-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'ca.pem'), cert.cert);
    h = await startHarness({ server: { tls: cert }, param: { tls: { caFile: join(dir, 'ca.pem') } } });
    expect(h.server.url.startsWith('wss://')).toBe(true);
    await h.event('connected');
    await h.close();
    h = await startHarness({ server: { tls: cert } });
    const refused = await h.event('disconnected');
    expect(refused.reason).toMatch(/self[- ]signed|certificate/i);
    expect(h.events.some((e) => e.type === 'connected')).toBe(false);
    await h.close();
    h = await startHarness({ server: { tls: cert }, param: { tls: { verify: false } } });
    await h.event('connected');
    expect(h.warnings.some((w) => /verification is OFF/.test(w))).toBe(true);
  });

  it('disconnect() closes with 1000 and stops reconnecting', async () => {
    h = await startHarness();
    await h.event('connected');
    h.ai.disconnect();
    expect((await h.server.waitForClose(0)).code).toBe(1000);
    await h.event('disconnected');
    await new Promise((r) => setTimeout(r, 300));
    expect(h.server.connections).toBe(1);
    expect(h.ai.getState()).toBe('idle');
    expect(h.ai.isConnected()).toBe(false);
    expect(() => h!.ai.say('hello')).toThrow(expect.objectContaining({ code: 'ERR_AI_NOT_CONNECTED' }));
  });
});
