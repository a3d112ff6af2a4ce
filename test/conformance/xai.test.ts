/**
 * Conformance of the xai backend (the OpenAI backend's xAI dialect) against the OpenAI fake in its
 * xAI dialect: conversation.created first, flat session fields with GA audio formats, GA event
 * names, and no conversation.item.truncate (the fake answers one with an error; the barge-in
 * scenario checks that none is sent).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AudioMediaAiPort } from '../../src/ai/ai-port.js';
import type { AiEvent } from '../../src/ai/types.js';
import { AudioEngine } from '../../src/media/index.js';
import { waitFor } from '../helpers/signal.js';
import { backendConformance } from './backend-conformance.js';
import { openAiFake } from './openai-fake.js';

backendConformance({
  name: 'xai (Grok voice: flat session fields, GA audio and events, no truncate)',
  param: { backend: 'xai' },
  start: () => openAiFake({ dialect: 'xai' }),
  noTruncate: true,
});

describe('xai backend against the xAI fake: what the suite does not cover', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('sends the xAI session shape the fake accepts, and ignores the ping events', async () => {
    const fake = await openAiFake({ dialect: 'xai' });
    const engine = await AudioEngine.create({ device: { type: 'null' } });
    const ai = new AudioMediaAiPort(engine, { logger: { warn: () => {}, info: () => {} } });
    close = async () => {
      ai.destroy();
      engine.close();
      await fake.close();
    };
    ai.createPort({ backend: 'xai', voice: 'rex', instructions: 'Be brief.', inputTranscription: { model: 'x', language: 'en' } });
    const events: AiEvent[] = [];
    ai.on('event', (e) => events.push(e));
    ai.connect(fake.url, fake.token);
    await waitFor(() => events.some((e) => e.type === 'connected'), 5000, 'connected');
    const update = await fake.server.waitFor('session.update');
    expect(fake.server.handshakes[0]?.url).toContain('model=grok-voice-think-fast-1.0');
    expect(update.event).toMatchObject({ session: { voice: 'rex', instructions: 'Be brief.', turn_detection: { type: 'server_vad' } } });
    expect(fake.server.session).toMatchObject({ voice: 'rex', instructions: 'Be brief.', audio: { input: { transcription: { language_hint: 'en' } } } });
    fake.server.conn().ping();
    fake.server.ping(7);
    await fake.reply(100, 'after ping');
    await waitFor(() => events.some((e) => e.type === 'transcript' && e.final && e.text === 'after ping'), 5000, 'the reply after the pings');
    expect(ai.stats().malformedMessages).toBe(0);
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('a flat field the service did not apply (voice, turn detection) is reported as a configuration mismatch', async () => {
    // The service keeps its own voice and turns detection off: the effective config says so.
    const fake = await openAiFake({ dialect: 'xai', overrideEffective: (s) => ({ ...s, voice: 'eve', turn_detection: null }) });
    const engine = await AudioEngine.create({ device: { type: 'null' } });
    const ai = new AudioMediaAiPort(engine, { logger: { warn: () => {}, info: () => {} } });
    close = async () => {
      ai.destroy();
      engine.close();
      await fake.close();
    };
    ai.createPort({ backend: 'xai', voice: 'rex' });
    const events: AiEvent[] = [];
    ai.on('event', (e) => events.push(e));
    ai.connect(fake.url, fake.token);
    await waitFor(() => events.some((e) => e.type === 'connected'), 5000, 'connected');
    const mismatches = events.flatMap((e) => (e.type === 'error' && e.code === 'ERR_AI_CONFIG_MISMATCH' ? [e.message] : []));
    expect(mismatches).toEqual([
      expect.stringContaining('session.voice: asked "rex"'),
      expect.stringContaining('session.turn_detection.type: asked "server_vad"'),
    ]);
  });
});
