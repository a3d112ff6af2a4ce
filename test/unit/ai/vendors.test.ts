import { describe, expect, it } from 'vitest';
import { createAzureBackend } from '../../../src/ai/backends/azure.js';
import { createXaiBackend } from '../../../src/ai/backends/xai.js';
import { OpenAiBackend } from '../../../src/ai/backends/openai.js';
import { gaSession } from '../../../src/ai/backends/openai-session.js';
import { heardText } from '../../../src/ai/context.js';
import { RateAdapter } from '../../../src/ai/rate-adapter.js';

const ctx = (url: string, token: string | null) => ({ url, token, signal: new AbortController().signal });

describe('OpenAI-dialect vendors and session options', () => {
  it('Azure GA: the deployment as model=, the key in an api-key header; Entra ID as a bearer token', () => {
    const plan = createAzureBackend({ model: 'dep1' }).prepareConnection(ctx('wss://res.openai.azure.com/openai/v1/realtime', 'k'));
    expect(plan).toMatchObject({ url: 'wss://res.openai.azure.com/openai/v1/realtime?model=dep1', headers: { 'api-key': 'k' } });
    expect((plan as { headers: Record<string, string> }).headers.Authorization).toBeUndefined();
    const entra = createAzureBackend({ model: 'dep1', authScheme: 'bearer' }).prepareConnection(ctx('wss://res.openai.azure.com/openai/v1/realtime', 't'));
    expect((entra as { headers: Record<string, string> }).headers).toEqual({ Authorization: 'Bearer t' });
  });

  it('Azure preview: api-version and deployment=, beta dialect', () => {
    const b = createAzureBackend({ model: 'dep1' });
    const plan = b.prepareConnection(ctx('wss://res.openai.azure.com/openai/realtime', 'k')) as { url: string };
    expect(plan.url).toBe('wss://res.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=dep1');
    expect(b.dialect).toBe('beta');
    expect(JSON.parse(String(b.sessionSetup()[0])).session.type).toBeUndefined();
  });

  it('xAI: conversation.created starts the session, flat voice with GA audio, no truncate', () => {
    const b = createXaiBackend({ voice: 'eve', inputTranscription: { model: 'x', language: 'en' } });
    expect(b.decode('{"type":"conversation.created","conversation":{"id":"c"}}')[0]).toMatchObject({ kind: 'session_created', dialect: 'xai' });
    expect(b.decode('{"type":"ping","timestamp":1}')[0]).toEqual({ kind: 'ignored' });
    const session = JSON.parse(String(b.sessionSetup()[0])).session;
    expect(session).toMatchObject({ voice: 'eve', audio: { input: { format: { type: 'audio/pcm', rate: 24000 }, transcription: { language_hint: 'en' } } } });
    expect(session.type).toBeUndefined();
    expect(b.truncate('i', 100)).toEqual([]);
    expect((b.prepareConnection(ctx('wss://api.x.ai/v1/realtime', 'k')) as { url: string }).url).toBe(
      'wss://api.x.ai/v1/realtime?model=grok-voice-think-fast-1.0',
    );
  });

  it('GA session options: voice by id, speed, max tokens, tool choice, truncation, transcription language and prompt', () => {
    const s = gaSession({
      voice: 'voice_123',
      speed: 1.2,
      maxOutputTokens: 512,
      toolChoice: { name: 'get_time' },
      truncation: { retentionRatio: 0.5 },
      noiseReduction: 'near_field',
      inputTranscription: { model: 'gpt-transcribe', language: 'de', prompt: 'Kitchen' },
    });
    expect(s).toMatchObject({
      max_output_tokens: 512,
      tool_choice: { type: 'function', name: 'get_time' },
      truncation: { type: 'retention_ratio', retention_ratio: 0.5 },
      audio: {
        input: { noise_reduction: { type: 'near_field' }, transcription: { model: 'gpt-transcribe', language: 'de', prompt: 'Kitchen' } },
        output: { voice: { id: 'voice_123' }, speed: 1.2 },
      },
    });
    expect(gaSession({ noiseReduction: null, inputTranscription: null }).audio?.input).not.toHaveProperty('noise_reduction');
  });

  it('a refused session.update is a config_rejected signal matched by event_id, or by param before the first configuration', () => {
    const b = new OpenAiBackend({});
    b.prepareConnection(ctx('ws://h/v1/realtime', null));
    const id = JSON.parse(String(b.sessionSetup()[0])).event_id as string;
    expect(
      b.decode(
        JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', code: 'invalid_value', message: 'm', param: 'session.x', event_id: id } }),
      )[0],
    ).toEqual({ kind: 'config_rejected', code: 'invalid_value', message: 'm', param: 'session.x' });
    expect(b.decode(JSON.stringify({ type: 'error', error: { code: 'invalid_value', message: 'm', param: 'session.y', event_id: null } }))[0]).toMatchObject({
      kind: 'config_rejected',
      param: 'session.y',
    });
    expect(b.decode(JSON.stringify({ type: 'error', error: { code: 'x', message: 'm', event_id: 'evt_other' } }))[0]).toMatchObject({ kind: 'error' });
  });

  it('heard text is cut at a word boundary; rate adapter keeps the ratio across chunks', () => {
    expect(heardText('one two three four', 0.5)).toBe('one two…');
    expect(heardText('one two', 1)).toBe('one two');
    expect(heardText('one two', 0)).toBe('');
    const a = new RateAdapter(16000, 24000);
    let n = 0;
    for (let i = 0; i < 10; i++) n += a.convert(new Int16Array(160).fill(1000)).length;
    expect(Math.abs(n - 2400)).toBeLessThanOrEqual(2);
  });
});
