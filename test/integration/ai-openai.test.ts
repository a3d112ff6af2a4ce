import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { tone } from '../fakes/openai-realtime-server.js';
import { startHarness, type AiHarness } from '../helpers/ai-harness.js';
import { waitFor } from '../helpers/signal.js';

let h: AiHarness | undefined;
let other: Server | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await new Promise((r) => (other ? other.close(r) : r(undefined)));
  other = undefined;
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('OpenAI backend against the fake: issue 9 findings', () => {
  it('sends an event_id on every client event and reports a refused session.update once, as a configuration error, with no retry loop', async () => {
    h = await startHarness({ param: { voice: 'no-such-voice' } });
    const error = await h.event('error', (e) => e.code === 'ERR_AI_CONFIG_REJECTED');
    expect(error).toMatchObject({ fatal: true, param: 'session.audio.output.voice', vendorCode: 'invalid_value' });
    const update = h.server.received.find((m) => m.type === 'session.update');
    expect(update?.event).toHaveProperty('event_id');
    await sleep(1500);
    expect(h.server.connections).toBe(1);
    expect(h.events.filter((e) => e.type === 'error' && e.code === 'ERR_AI_CONFIG_REJECTED')).toHaveLength(1);
    expect(h.events.some((e) => e.type === 'error' && e.code === 'ERR_AI_TIMEOUT')).toBe(false);
    expect(h.ai.getState()).toBe('failed');
    expect(h.warnings.filter((w) => w.includes('ERR_AI_CONFIG_REJECTED'))).toHaveLength(1);
    // A new configuration is tried at once.
    h.ai.reconfigure({ pingIntervalMs: 500, pongTimeoutMs: 500, reconnect: { minMs: 50, maxMs: 400, jitter: 0 }, voice: 'marin' });
    const connected = await h.event('connected');
    expect(connected.sessionId).toMatch(/^sess_/);
    expect(
      h.server.received.filter((m) => m.type !== 'input_audio_buffer.append').every((m) => typeof (m.event as { event_id?: unknown }).event_id === 'string'),
    ).toBe(true);
  });

  it('a refused update of a live session keeps the session and is not fatal', async () => {
    h = await startHarness({ param: { voice: 'marin' } });
    await h.event('connected');
    h.server.conn().sendError('invalid_value', 'bad', 'invalid_request_error', 'session.instructions');
    const e = await h.event('error');
    expect(e).toMatchObject({ code: 'ERR_AI_SERVICE', param: 'session.instructions', fatal: false });
  });

  it('keeps a failed response error, an input-transcription failure and the error param', async () => {
    h = await startHarness();
    await h.event('connected');
    h.server.sendRaw(
      JSON.stringify({
        type: 'response.done',
        event_id: 'e1',
        response: {
          id: 'resp_f',
          status: 'failed',
          status_details: { type: 'failed', error: { type: 'server_error', code: 'rate_limit_exceeded', message: 'slow down' } },
        },
      }),
    );
    expect(await h.event('response_done')).toMatchObject({ status: 'failed', error: { code: 'rate_limit_exceeded', message: 'slow down' } });
    h.server.sendRaw(
      JSON.stringify({
        type: 'conversation.item.input_audio_transcription.failed',
        event_id: 'e2',
        item_id: 'item_u',
        content_index: 0,
        error: { type: 'transcription_error', code: 'audio_unintelligible', message: 'could not transcribe' },
      }),
    );
    expect(await h.event('error', (e) => e.code === 'ERR_AI_TRANSCRIPTION_FAILED')).toMatchObject({
      vendorCode: 'audio_unintelligible',
      itemId: 'item_u',
      fatal: false,
    });
  });

  it('restores only what the user heard of a cut-off reply, and tool calls with their results, after a reconnect', async () => {
    h = await startHarness({ param: { tools: [{ name: 'get_weather', description: 'weather', parameters: { type: 'object' } }] } });
    await h.event('connected');
    const { callId } = h.server.toolCall({ name: 'get_weather', arguments: '{"city":"Oslo"}' });
    await h.event('tool_call');
    h.ai.sendToolResult(callId, { temp: 3 });
    await h.event('audio_done');
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    void h.server.sendResponse({ audio: tone(4000), chunkMs: 200, transcript: words, holdDone: true });
    await waitFor(() => h!.played() >= 24000, 4000, '1 s played');
    h.server.speechStarted();
    await h.event('interrupted');
    await sleep(200);
    const since = h.events.length;
    h.server.dropTcp();
    await h.event('connected', undefined, since);
    await sleep(200);
    const restored = h.server.received
      .filter((m) => m.conn === 1 && m.type === 'conversation.item.create')
      .map((m) => (m.event as { item: Record<string, unknown> }).item);
    expect(restored.map((i) => i.type)).toEqual(expect.arrayContaining(['function_call', 'function_call_output']));
    expect(restored.find((i) => i.type === 'function_call')).toMatchObject({ call_id: callId, name: 'get_weather', arguments: '{"city":"Oslo"}' });
    const assistant = restored.filter((i) => i.role === 'assistant').map((i) => JSON.stringify(i.content));
    const cut = assistant.find((c) => c.includes('word0'));
    expect(cut).toBeDefined();
    expect(cut).not.toContain('word39');
    expect(cut).toContain('…');
  });

  it('defaults to a current model and warns once at start about a deprecated one', async () => {
    h = await startHarness();
    await h.event('connected');
    expect(h.server.handshakes[0]?.url).toContain('model=gpt-realtime-1.5');
    expect(h.warnings.filter((w) => w.includes('deprecated'))).toEqual([]);
    await h.close();
    h = await startHarness({ param: { model: 'gpt-realtime' } });
    await h.event('connected');
    expect(h.warnings.filter((w) => w.includes("'gpt-realtime' is deprecated") && w.includes('2027-01-20'))).toHaveLength(1);
  });

  it('sends extra headers and the chosen auth scheme, and the key never reaches another host (redirects are not followed)', async () => {
    let leaked = 0;
    other = createServer((req, res) => {
      if (req.headers.authorization || req.headers['api-key']) leaked++;
      res.end();
    }).on('upgrade', (req, socket) => {
      if (req.headers.authorization || req.headers['api-key']) leaked++;
      socket.destroy();
    });
    await new Promise<void>((r) => other!.listen(0, '127.0.0.1', r));
    const elsewhere = `ws://127.0.0.1:${(other.address() as AddressInfo).port}/v1/realtime`;
    h = await startHarness({ server: { rejectStatus: 307, rejectHeaders: { location: elsewhere } }, param: { headers: { 'OpenAI-Project': 'proj_1' } } });
    await h.event('disconnected');
    await sleep(300);
    expect(leaked).toBe(0);
    expect(h.server.handshakes[0]?.headers['openai-project']).toBe('proj_1');
    expect(h.server.handshakes[0]?.headers.authorization).toBe('Bearer test-key');
    expect(JSON.stringify(h.events)).not.toContain('test-key');
    await h.close();
    h = await startHarness({ param: { authScheme: 'api-key' } });
    await h.event('connected');
    expect(h.server.handshakes[0]?.headers['api-key']).toBe('test-key');
    expect(h.server.handshakes[0]?.headers.authorization).toBeUndefined();
    expect(() => h!.ai.reconfigure({ headers: { Authorization: 'Bearer other' } })).toThrow(/credential/);
    expect(() => h!.ai.reconfigure({ headers: { Host: 'evil.example' } })).toThrow(/steers the connection/);
  });
});
