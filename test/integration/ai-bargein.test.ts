import { afterEach, describe, expect, it } from 'vitest';
import { tone } from '../fakes/openai-realtime-server.js';
import { startHarness, type AiHarness } from '../helpers/ai-harness.js';
import { waitFor } from '../helpers/signal.js';

let h: AiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const PERIOD_MS = 10;

describe('AI port: barge-in, actions and tools', () => {
  it('on speech_started stops playback within a period and truncates at what was really played', async () => {
    h = await startHarness();
    await h.event('connected');
    const reply = tone(4000, 330, 7000);
    void h.server.sendResponse({ audio: reply, chunkMs: 200, transcript: 'a long answer', holdDone: true });
    await waitFor(() => h!.played() >= 24000, 4000, '1 s played');
    const since = h.events.length;
    h.server.speechStarted();
    const interrupted = await h.event('interrupted', undefined, since);
    const playedAtEvent = h.played();
    const truncate = await h.server.waitFor('conversation.item.truncate');
    await new Promise((r) => setTimeout(r, 150));
    const playedFinal = h.played();
    const trueMs = (playedFinal * 1000) / 24000;
    const sent = truncate.event as { audio_end_ms: number; item_id: string };
    expect(Math.abs(sent.audio_end_ms - trueMs)).toBeLessThanOrEqual(PERIOD_MS);
    expect(sent.audio_end_ms).toBe(interrupted.playedMs);
    // Nothing more than one period was played after the port reacted.
    expect(playedFinal - playedAtEvent).toBeLessThanOrEqual(240);
    expect(h.server.truncates[0]?.accepted).toBe(true);
    // The server cancels by itself (interrupt_response): the port does not send response.cancel.
    expect(await h.event('response_done', (e) => e.status === 'cancelled')).toMatchObject({ reason: 'turn_detected' });
    expect(h.server.cancels.map((c) => c.source)).toEqual(['turn_detected']);
    expect(h.events.map((e) => e.type)).toContain('speech_started');
    expect(await h.event('audio_done')).toMatchObject({ interrupted: true });
    await waitFor(() => h!.ai.stats().bargeInMs.count === 1, 1000, 'barge-in latency recorded');
    expect(h.ai.stats().bargeInMs.max).toBeGreaterThan(0);
  });

  it('cancels the reply itself when the service is set not to (interrupt_response false)', async () => {
    h = await startHarness({ param: { turnDetection: { type: 'server_vad', interruptResponse: false } } });
    await h.event('connected');
    void h.server.sendResponse({ audio: tone(3000), chunkMs: 100, holdDone: true });
    await waitFor(() => h!.played() > 4800, 3000, 'playing');
    h.server.speechStarted();
    await h.server.waitFor('conversation.item.truncate');
    await h.server.waitFor('response.cancel');
    expect(await h.event('response_done', (e) => e.status === 'cancelled')).toMatchObject({ reason: 'client_cancelled' });
    expect(h.server.cancels.map((c) => c.source)).toEqual(['client']);
  });

  it('drops late audio of the interrupted item', async () => {
    h = await startHarness();
    await h.event('connected');
    const { itemId } = await h.server.sendResponse({ audio: tone(2000), chunkMs: 100, holdDone: true });
    await waitFor(() => h!.played() > 2400, 3000, 'playing');
    h.ai.interrupt();
    await h.server.waitFor('conversation.item.truncate');
    await new Promise((r) => setTimeout(r, 50));
    const before = h.played();
    const delta = {
      type: 'response.output_audio.delta',
      response_id: 'r',
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      delta: Buffer.alloc(9600).toString('base64'),
    };
    h.server.sendRaw(JSON.stringify(delta));
    await waitFor(() => h!.ai.stats().lateAudioMs === 200, 2000, 'late audio counted');
    await new Promise((r) => setTimeout(r, 300));
    expect(h.played()).toBe(before);
    // interrupt() on demand also cancels the response the server is still producing.
    expect(h.server.cancels.map((c) => c.source)).toEqual(['client']);
  });

  it('serialises response.create behind response.done and answers say()', async () => {
    h = await startHarness();
    await h.event('connected');
    void h.server.sendResponse({ audio: tone(600), chunkMs: 100, interval: 50 });
    await h.event('response_start');
    h.ai.say('What time is it?');
    const item = await h.server.waitFor('conversation.item.create');
    expect(item.event).toMatchObject({ item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What time is it?' }] } });
    await h.event('response_done');
    await h.server.waitFor('response.create');
    await waitFor(() => h!.events.filter((e) => e.type === 'response_done').length === 2, 3000, 'second reply');
    const errors = h.events.filter((e) => e.type === 'error');
    expect(errors).toEqual([]);
    const types = h.server.received.map((m) => m.type);
    expect(types.indexOf('response.create')).toBeGreaterThan(types.indexOf('conversation.item.create'));
  });

  it('forwards tool calls and sends the result, then asks for the spoken reply', async () => {
    h = await startHarness({ param: { tools: [{ name: 'get_weather', description: 'Weather by city', parameters: { type: 'object' } }] } });
    await h.event('connected');
    const update = (await h.server.waitFor('session.update')).event as { session: { tools: { name: string }[] } };
    expect(update.session.tools.map((t) => t.name)).toEqual(['get_weather']);
    h.ai.on('event', (e) => {
      if (e.type === 'tool_call') h!.ai.sendToolResult(e.callId, { temperature: 3 });
    });
    const { callId } = h.server.toolCall({ name: 'get_weather', arguments: { city: 'Oslo' } });
    expect(await h.event('tool_call')).toMatchObject({ callId, name: 'get_weather', arguments: '{"city":"Oslo"}' });
    const output = await h.server.waitFor('conversation.item.create', {
      match: (m) => (m.event as { item: { type: string } }).item.type === 'function_call_output',
    });
    expect(output.event).toMatchObject({ item: { call_id: callId, output: '{"temperature":3}' } });
    await h.server.waitFor('response.create');
    await waitFor(() => h!.events.filter((e) => e.type === 'response_done').length === 2, 3000, 'spoken reply');
    expect(h.events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('answers the built-in device tools itself', async () => {
    h = await startHarness({ param: { builtinTools: ['time', 'volume'] } });
    await h.event('connected');
    h.server.toolCall({ name: 'set_volume', arguments: { volume: 40 } });
    const output = await h.server.waitFor('conversation.item.create');
    expect(JSON.parse((output.event as { item: { output: string } }).item.output)).toEqual({ volume: 40 });
    expect(h.engine.playbackMedia.getTxLevelAdjust()).toBeCloseTo(0.4, 5);
    await h.server.waitFor('response.create');
    await waitFor(() => h!.events.filter((e) => e.type === 'response_done').length === 2, 3000, 'spoken reply');
    h.server.toolCall({ name: 'get_time', arguments: {} });
    const time = await h.server.waitFor('conversation.item.create', { match: (m) => /iso/.test(JSON.stringify(m.event)) });
    const parsed = JSON.parse((time.event as { item: { output: string } }).item.output) as { iso: string };
    expect(Math.abs(Date.parse(parsed.iso) - Date.now())).toBeLessThan(5000);
    expect(h.events.filter((e) => e.type === 'tool_call')).toEqual([]);
  });

  it('correlates user transcripts by item and keeps working after malformed and unknown messages', async () => {
    h = await startHarness({ param: { inputTranscription: { model: 'gpt-4o-mini-transcribe' } } });
    await h.event('connected');
    h.server.speechStarted({ itemId: 'item_user_1' });
    h.server.speechStopped({ itemId: 'item_user_1' });
    h.server.userTranscript('item_user_1', 'turn on the lights');
    expect(await h.event('transcript', (e) => e.role === 'user')).toMatchObject({ itemId: 'item_user_1', text: 'turn on the lights', final: true });
    h.server.sendRaw('{"type": "response.output_audio.delta", oops');
    h.server.sendRaw('[]');
    h.server.sendRaw('{"type":"some.future.event","x":1}');
    await waitFor(() => h!.ai.stats().malformedMessages === 2 && h!.ai.stats().unknownMessages === 1, 2000, 'counted');
    expect(h.ai.isConnected()).toBe(true);
    const reply = tone(300);
    await h.server.sendResponse({ audio: reply });
    await waitFor(() => h!.played() >= reply.length, 2000, 'reply after garbage');
  });
});
