import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BackendSignal } from '../../../src/ai/backend.js';
import { GeminiBackend } from '../../../src/ai/backends/gemini.js';
import { durationMs } from '../../../src/ai/backends/gemini-decode.js';
import { mintToken, socketUrl } from '../../../src/ai/backends/gemini-setup.js';
import { pcmToBase64 } from '../../../src/ai/pcm.js';

const URL_ = 'wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent';
const ctx = (token: string | null, url = URL_) => ({ url, token, signal: new AbortController().signal });
const audio = (n = 480) => ({ inlineData: { mimeType: 'audio/pcm;rate=24000', data: pcmToBase64(new Int16Array(n).fill(1000)) } });
const kinds = (s: BackendSignal[]) => s.map((x) => x.kind);

function ready(): GeminiBackend {
  const b = new GeminiBackend({});
  b.decode('{"setupComplete":{}}');
  return b;
}

describe('Gemini backend: what it sends', () => {
  it('puts the key in the x-goog-api-key header, never in the URL, and sends setup first', async () => {
    const b = new GeminiBackend({ instructions: 'be brief', voice: 'Kore', tools: [{ name: 't', description: 'd', parameters: { type: 'object' } }] });
    const plan = await b.prepareConnection(ctx('secret-key'));
    expect(plan.url).toBe(URL_);
    expect(plan.headers).toEqual({ 'x-goog-api-key': 'secret-key' });
    const [setup] = b.onOpen({ resumeHandle: 'h1' });
    const s = JSON.parse(String(setup)).setup;
    expect(s).toMatchObject({
      model: 'models/gemini-2.5-flash-native-audio-preview-12-2025',
      generationConfig: { responseModalities: ['AUDIO'], speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } } },
      systemInstruction: { parts: [{ text: 'be brief' }] },
      tools: [{ functionDeclarations: [{ name: 't', description: 'd', parametersJsonSchema: { type: 'object' } }] }],
      inputAudioTranscription: {},
      outputAudioTranscription: {},
      sessionResumption: { handle: 'h1' },
      contextWindowCompression: { slidingWindow: {} },
    });
    expect(String(setup)).not.toContain('secret-key');
    expect(b.sessionSetup()).toEqual([]);
  });

  it('push-to-talk: automatic activity detection off, activityStart/activityEnd, no response request', () => {
    const b = new GeminiBackend({ turnDetection: null, gemini: { resumption: false, contextCompression: false } });
    const s = JSON.parse(String(b.onOpen({ resumeHandle: 'ignored' })[0])).setup;
    expect(s.realtimeInputConfig).toEqual({ automaticActivityDetection: { disabled: true } });
    expect(s.sessionResumption).toBeUndefined();
    expect(s.contextWindowCompression).toBeUndefined();
    expect(b.serverTurnDetection).toBe(false);
    expect(b.startTurn()).toEqual(['{"realtimeInput":{"activityStart":{}}}']);
    expect(b.commitTurn()).toEqual({ frames: ['{"realtimeInput":{"activityEnd":{}}}'], requestResponse: false });
  });

  it('encodes mic audio at 16 kHz and tool results with id and name', () => {
    const b = new GeminiBackend({});
    expect(JSON.parse(String(b.encodeAudio(new Int16Array([1, 2]))))).toEqual({
      realtimeInput: { audio: { data: 'AQACAA==', mimeType: 'audio/pcm;rate=16000' } },
    });
    expect(JSON.parse(String(b.toolResult('c1', 'get', '{"a":1}')[0]))).toEqual({
      toolResponse: { functionResponses: [{ id: 'c1', name: 'get', response: { output: { a: 1 } } }] },
    });
    expect(b.truncate()).toEqual([]);
    expect(b.cancelResponse()).toEqual([]);
  });

  it('the ephemeral-token URL carries the token name on the Constrained endpoint, never a key', () => {
    expect(socketUrl(URL_, 'auth_tokens/abc')).toBe(
      'wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained?access_token=auth_tokens%2Fabc',
    );
  });
});

describe('Gemini backend: ephemeral tokens', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('mints the token on the configured host only, with the key in a header, and connects with the token', async () => {
    const calls: Array<{ url: string; init: RequestInit }> = [];
    vi.stubGlobal('fetch', async (url: URL, init: RequestInit) => {
      calls.push({ url: String(url), init });
      return new Response(JSON.stringify({ name: 'auth_tokens/t1' }), { status: 200 });
    });
    const b = new GeminiBackend({ gemini: { ephemeralTokens: true } });
    const plan = await b.prepareConnection(
      ctx('the-key', 'wss://proxy.example:8443/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent'),
    );
    expect(calls.map((c) => c.url)).toEqual(['https://proxy.example:8443/v1alpha/auth_tokens']);
    expect((calls[0]?.init.headers as Record<string, string>)['x-goog-api-key']).toBe('the-key');
    expect(calls[0]?.init.redirect).toBe('manual');
    expect(plan.url).toContain(
      'proxy.example:8443/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained?access_token=auth_tokens%2Ft1',
    );
    expect(JSON.stringify(plan)).not.toContain('the-key');
  });

  it('a refused or redirected token request fails without quoting the key or the body', async () => {
    vi.stubGlobal('fetch', async () => new Response('key the-key is bad', { status: 302, headers: { location: 'https://evil.example/' } }));
    const error = await mintToken('wss://h.example/ws/x', 'the-key', 'm', new AbortController().signal).catch((e: Error) => e);
    expect(String(error)).toMatch(/refused \(HTTP 302\)/);
    expect(String(error)).not.toContain('the-key');
  });
});

describe('Gemini backend: decode', () => {
  it('a turn: response, audio, transcripts, audio_done, response_done', () => {
    const b = ready();
    const first = b.decode(JSON.stringify({ serverContent: { inputTranscription: { text: 'hi' } } }));
    expect(first).toEqual([{ kind: 'transcript', role: 'user', text: 'hi', final: false }]);
    const s = b.decode(JSON.stringify({ serverContent: { modelTurn: { parts: [audio()] }, outputTranscription: { text: 'Hello' } } }));
    expect(kinds(s)).toEqual(['transcript', 'response_created', 'audio', 'transcript']);
    expect(s[0]).toMatchObject({ role: 'user', text: 'hi', final: true });
    const done = b.decode(new TextEncoder().encode(JSON.stringify({ serverContent: { generationComplete: true } })));
    expect(done).toEqual([{ kind: 'audio_done', itemId: 'gemini-turn-1' }]);
    const end = b.decode(JSON.stringify({ serverContent: { turnComplete: true }, usageMetadata: { totalTokenCount: 3 } }));
    expect(end).toEqual([
      { kind: 'transcript', role: 'assistant', text: 'Hello', final: true, itemId: 'gemini-turn-1' },
      { kind: 'response_done', responseId: 'gemini-turn-1', status: 'completed' },
    ]);
  });

  it('interrupted: flush, audio of the cut turn (same message or later) dropped, next turn plays', () => {
    const b = ready();
    b.decode(JSON.stringify({ serverContent: { modelTurn: { parts: [audio()] } } }));
    const cut = b.decode(JSON.stringify({ serverContent: { interrupted: true, modelTurn: { parts: [audio()] } } }));
    expect(kinds(cut)).toEqual(['interrupted']);
    expect(kinds(b.decode(JSON.stringify({ serverContent: { modelTurn: { parts: [audio()] } } })))).toEqual(['ignored']);
    expect(b.decode(JSON.stringify({ serverContent: { turnComplete: true } }))).toEqual([
      { kind: 'response_done', responseId: 'gemini-turn-1', status: 'cancelled' },
    ]);
    expect(kinds(b.decode(JSON.stringify({ serverContent: { interrupted: true, modelTurn: { parts: [audio()] } } })))).toEqual(['interrupted']);
    const next = b.decode(JSON.stringify({ serverContent: { modelTurn: { parts: [audio()] } } }));
    expect(next[1]).toMatchObject({ kind: 'audio', itemId: 'gemini-turn-2' });
  });

  it('tool calls, cancellations, goAway, resumption, voice activity', () => {
    const b = ready();
    expect(b.decode(JSON.stringify({ toolCall: { functionCalls: [{ id: 'f1', name: 'get_weather', args: { city: 'Oslo' } }] } }))).toEqual([
      { kind: 'tool_call', callId: 'f1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
    ]);
    expect(b.decode('{"toolCallCancellation":{"ids":["f1"]}}')).toEqual([{ kind: 'tool_call_cancelled', callIds: ['f1'] }]);
    expect(b.decode('{"goAway":{"timeLeft":"50s"}}')).toEqual([{ kind: 'session_ending', timeLeftMs: 50000 }]);
    expect(b.decode('{"sessionResumptionUpdate":{"newHandle":"h2","resumable":true}}')).toEqual([{ kind: 'resumption', handle: 'h2' }]);
    expect(b.decode('{"sessionResumptionUpdate":{"resumable":false}}')).toEqual([{ kind: 'ignored' }]);
    expect(b.decode('{"voiceActivity":{"voiceActivityType":"ACTIVITY_START"}}')).toEqual([{ kind: 'speech_started' }]);
    expect(durationMs('1.5s')).toBe(1500);
  });

  it('hostile input: counted as malformed or unknown, never thrown', () => {
    const b = ready();
    const huge = 'x'.repeat(200_000);
    const cases: Array<[string | Uint8Array, string]> = [
      ['{not json', 'malformed'],
      [new Uint8Array([0xff, 0xfe, 0x00]), 'malformed'],
      ['[]', 'malformed'],
      ['null', 'malformed'],
      ['"text"', 'malformed'],
      ['{}', 'malformed'],
      ['{"serverContent":7}', 'malformed'],
      ['{"serverContent":{"modelTurn":{"parts":"no"}}}', 'malformed'],
      ['{"serverContent":{"modelTurn":{"parts":[7]}}}', 'malformed'],
      ['{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=24000","data":"!!!"}}]}}}', 'malformed'],
      ['{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=8000","data":"AAAA"}}]}}}', 'malformed'],
      ['{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"image/png","data":"AAAA"}}]}}}', 'malformed'],
      ['{"serverContent":{"outputTranscription":{"text":5}}}', 'malformed'],
      ['{"toolCall":{"functionCalls":[{"name":"x"}]}}', 'malformed'],
      ['{"toolCall":{"functionCalls":[{"id":"a","name":"x","args":[1]}]}}', 'malformed'],
      [JSON.stringify({ toolCall: { functionCalls: [{ id: 'a', name: 'x', args: { big: huge } }] } }), 'malformed'],
      ['{"toolCall":{}}', 'malformed'],
      ['{"toolCallCancellation":{"ids":[1,2]}}', 'malformed'],
      ['{"goAway":{"timeLeft":"soon"}}', 'malformed'],
      ['{"goAway":[]}', 'malformed'],
      ['{"sessionResumptionUpdate":{"resumable":true,"newHandle":7}}', 'malformed'],
      ['{"setupComplete":"yes"}', 'malformed'],
      ['{"voiceActivity":{}}', 'malformed'],
      ['{"brandNewMessage":{}}', 'unknown'],
    ];
    for (const [frame, kind] of cases) {
      let out: BackendSignal[] = [];
      expect(() => (out = b.decode(frame))).not.toThrow();
      expect(out.map((s) => s.kind)).toContain(kind);
    }
    const long = b.decode(JSON.stringify({ serverContent: { outputTranscription: { text: huge } } }));
    const t = long.find((s) => s.kind === 'transcript');
    expect(t && t.kind === 'transcript' ? t.text.length : 0).toBeLessThanOrEqual(10_000);
    expect(kinds(b.decode(JSON.stringify({ serverContent: { modelTurn: { parts: [audio()] } } })))).toContain('audio');
  });

  it('close codes 1007/1008/1011 become errors with their reason; fatal only for a refused setup', () => {
    const b = new GeminiBackend({});
    expect(b.closeError(1007, 'API key not valid. Please pass a valid API key.')).toMatchObject({
      code: '1007',
      fatal: true,
      message: expect.stringContaining('API key not valid'),
    });
    expect(b.closeError(1011, 'Deadline expired')).toMatchObject({ code: '1011', fatal: false });
    expect(b.closeError(1000, '')).toBeNull();
    b.decode('{"setupComplete":{}}');
    expect(b.closeError(1008, 'policy')).toMatchObject({ fatal: false });
  });
});
