import { afterEach, describe, expect, it } from 'vitest';
import { tone } from '../fakes/openai-realtime-server.js';
import { startHarness, type AiHarness } from '../helpers/ai-harness.js';
import { waitFor } from '../helpers/signal.js';

// The AI port through the media plane on the real-time null device, against the fake service.

let h: AiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Samples at 24 kHz for a duration. */
const ms = (n: number): number => (n * 24000) / 1000;

describe('AI port: conversation', () => {
  it('connects, configures the session (GA), streams the microphone continuously and plays a reply in full', async () => {
    h = await startHarness({ param: { voice: 'marin', instructions: 'Be brief.' } });
    const connected = await h.event('connected');
    expect(connected).toMatchObject({ renewal: false, dialect: 'ga' });
    expect(h.ai.isConnected()).toBe(true);
    expect(h.ai.getState()).toBe('connected');
    const update = await h.server.waitFor('session.update');
    expect(update.event).toMatchObject({ session: { type: 'realtime', instructions: 'Be brief.', audio: { output: { voice: 'marin' } } } });
    expect(h.server.handshakes[0]?.headers.authorization).toBe('Bearer test-key');
    expect(h.server.handshakes[0]?.url).toContain('model=gpt-realtime');
    // The microphone streams silence continuously at 24 kHz in 40 ms batches.
    await new Promise((r) => setTimeout(r, 400));
    const sentMs = ((h.server.audioReceived[0]?.length ?? 0) * 1000) / 24000;
    expect(sentMs).toBeGreaterThan(250);
    const appends = h.server.received.filter((m) => m.type === 'input_audio_buffer.append');
    expect(appends.length).toBeGreaterThan(5);
    // A 1 s reply plays in full, with its transcript and response events.
    const reply = tone(1000, 440, 8000);
    await h.server.sendResponse({ audio: reply, chunkMs: 100, transcript: 'Hello there' });
    await h.event('response_done', (e) => e.status === 'completed');
    await waitFor(() => h!.played() >= reply.length, 3000, 'reply played');
    expect(h.played()).toBe(reply.length);
    await waitFor(() => Math.abs(h!.heardSpan() - reply.length) < ms(5), 1000, 'reply heard');
    expect(h.events.map((e) => e.type)).toEqual(expect.arrayContaining(['response_start', 'transcript', 'response_done']));
    expect(await h.event('transcript', (e) => e.final)).toMatchObject({ role: 'assistant', text: 'Hello there' });
    expect(await h.event('audio_done')).toMatchObject({ interrupted: false });
    const order = h.events.map((e) => e.type);
    expect(order.indexOf('audio_start')).toBeGreaterThan(order.indexOf('response_start'));
    expect(order.indexOf('audio_done')).toBeGreaterThan(order.indexOf('audio_start'));
    expect(h.ai.stats()).toMatchObject({ malformedMessages: 0, unknownMessages: 0, droppedPlayoutMs: 0 });
    const micToWire = h.ai.stats().micToWireMs;
    expect(micToWire.count).toBeGreaterThan(5);
    expect(micToWire.p50).toBeGreaterThan(0);
  });

  it('plays a reply shorter than the prebuffer at once, and no part of it leaks into the next', async () => {
    h = await startHarness({ param: { prebufferMs: 300 } });
    await h.event('connected');
    const short = tone(60, 300, 6000);
    await h.server.sendResponse({ audio: short, transcript: 'ok' });
    await waitFor(() => h!.played() >= short.length, 2000, 'short reply');
    expect(h.played()).toBe(short.length);
    const status = h.ai.stats();
    expect(status.receivedMs).toBe(60);
    const second = tone(500, 500, 6000);
    await h.server.sendResponse({ audio: second, chunkMs: 50 });
    await waitFor(() => h!.played() >= short.length + second.length, 3000, 'second reply');
    expect(h.played()).toBe(short.length + second.length);
  });

  it('plays a single 10 s delta in full', async () => {
    h = await startHarness();
    await h.event('connected');
    const long = tone(10000, 200, 5000);
    await h.server.sendResponse({ audio: long, chunkMs: 10000 });
    await h.event('response_done');
    await waitFor(() => h!.played() >= long.length, 13000, '10 s reply');
    expect(h.played()).toBe(long.length);
    expect(h.ai.stats().droppedPlayoutMs).toBe(0);
  }, 20000);

  it('speaks the beta dialect when configured, and detects it with auto', async () => {
    h = await startHarness({ param: { dialect: 'beta' } });
    expect(await h.event('connected')).toMatchObject({ dialect: 'beta' });
    expect(h.server.handshakes[0]?.headers['openai-beta']).toBe('realtime=v1');
    const update = await h.server.waitFor('session.update');
    expect(update.event).toMatchObject({ session: { input_audio_format: 'pcm16' } });
    const reply = tone(400);
    await h.server.sendResponse({ audio: reply, transcript: 'beta ok' });
    await waitFor(() => h!.played() >= reply.length, 2000, 'beta reply');
    await h.close();
    h = await startHarness({ server: { dialect: 'beta' }, param: { dialect: 'auto' } });
    expect(await h.event('connected')).toMatchObject({ dialect: 'beta' });
    const sent = (await h.server.waitFor('session.update')).event as { session: Record<string, unknown> };
    expect(sent.session.type).toBeUndefined();
    expect(h.events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('reports an effective configuration that differs from the one asked for', async () => {
    h = await startHarness({
      param: { voice: 'marin' },
      server: { overrideEffective: (s) => ({ ...s, audio: { ...(s.audio as object), output: { format: { type: 'audio/pcmu' }, voice: 'alloy' } } }) },
    });
    const mismatch = await h.event('error', (e) => e.code === 'ERR_AI_CONFIG_MISMATCH' && /voice/.test(e.message));
    expect(mismatch.message).toMatch(/asked "marin", service uses "alloy"/);
    await h.event('error', (e) => /output\.format\.type/.test(e.message));
  });

  it('delivers events to an onEvent override as well as to listeners', async () => {
    const { AudioMediaAiPort } = await import('../../src/ai/index.js');
    const seen: string[] = [];
    class Speaker extends AudioMediaAiPort {
      override onEvent(event: { type: string }): void {
        seen.push(event.type);
      }
    }
    h = await startHarness({ connect: false });
    const port = new Speaker(h.engine);
    port.createPort({});
    port.connect(h.server.url, null);
    await waitFor(() => seen.includes('connected'), 3000, 'override called');
    port.destroy();
  });

  it('serialises its parameters without secrets and reads them back checked', async () => {
    h = await startHarness({ param: { voice: 'cedar', tls: { caFile: '/etc/ssl/ca.pem' } }, token: 'sk-secret-token-value' });
    await h.event('connected');
    const text = JSON.stringify(h.ai);
    expect(text).not.toContain('sk-secret');
    const { AudioMediaAiPort } = await import('../../src/ai/index.js');
    expect(AudioMediaAiPort.paramFromJSON(text)).toMatchObject({ voice: 'cedar', tls: { caFile: '/etc/ssl/ca.pem' } });
    expect(() => AudioMediaAiPort.paramFromJSON('{"batchMs":1}')).toThrow(/param\.batchMs/);
  });

  it('applies new instructions with a session.update, and renews the session for a new voice', async () => {
    h = await startHarness({ param: { voice: 'marin', instructions: 'one' } });
    await h.event('connected');
    h.ai.reconfigure({ ...h.ai.toJSON(), instructions: 'two' });
    const update = await h.server.waitFor('session.update', { match: (m) => JSON.stringify(m.event).includes('"two"') });
    expect(update.conn).toBe(0);
    h.ai.reconfigure({ ...h.ai.toJSON(), voice: 'cedar' });
    expect(await h.event('connected', (e) => e.renewal)).toMatchObject({ renewal: true });
    const renewed = await h.server.waitFor('session.update', { conn: 1 });
    expect(renewed.event).toMatchObject({ session: { instructions: 'two', audio: { output: { voice: 'cedar' } } } });
    expect(() => h!.ai.reconfigure({ ...h!.ai.toJSON(), batchMs: 20 })).toThrow(/batchMs cannot change/);
  });

  it('mute sends digital silence, never the microphone', async () => {
    h = await startHarness();
    await h.event('connected');
    const tonePort = (await import('../../src/media/index.js')).AudioMediaTone.create(h.engine, [{ freq: 700, amplitude: 0.5, ms: 5000 }]);
    tonePort.startTransmit(h.ai);
    await new Promise((r) => setTimeout(r, 300));
    const before = h.server.audioReceived[0]?.length ?? 0;
    expect((h.server.audioReceived[0] ?? new Int16Array()).slice(0, before).some((v) => Math.abs(v) > 1000)).toBe(true);
    h.ai.setMuted(true);
    await new Promise((r) => setTimeout(r, 150));
    const mutedFrom = h.server.audioReceived[0]?.length ?? 0;
    await new Promise((r) => setTimeout(r, 400));
    const after = h.server.audioReceived[0] ?? new Int16Array();
    expect(after.length - mutedFrom).toBeGreaterThan(ms(250));
    expect(after.slice(mutedFrom).every((v) => v === 0)).toBe(true);
    expect(h.ai.isMuted()).toBe(true);
  });
});
