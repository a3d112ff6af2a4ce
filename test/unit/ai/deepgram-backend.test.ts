import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AudioMediaAiPort } from '../../../src/ai/ai-port.js';
import type { BackendSignal, Frame } from '../../../src/ai/backend.js';
import { createDeepgramBackend, DEEPGRAM_AGENT_URL, DeepgramBackend } from '../../../src/ai/backends/deepgram.js';
import type { AiEvent, AiPortParam } from '../../../src/ai/types.js';
import { DEFAULT_AI_URLS } from '../../../src/config/schema.js';
import { backendNeedsKey } from '../../../src/config/secrets.js';
import { AudioEngine } from '../../../src/media/index.js';
import { FakeDeepgramAgentServer } from '../../fakes/deepgram-agent-server.js';
import { waitFor } from '../../helpers/signal.js';

/** A backend through Welcome → Settings → SettingsApplied. */
function ready(param: AiPortParam = {}): DeepgramBackend {
  const b = new DeepgramBackend({ backend: 'deepgram', ...param });
  b.prepareConnection({ url: DEEPGRAM_AGENT_URL, token: 'k', signal: new AbortController().signal });
  expect(b.decode('{"type":"Welcome","request_id":"req-1"}')).toEqual([{ kind: 'session_created', sessionId: 'req-1', dialect: 'v1' }]);
  b.sessionSetup();
  expect(b.decode('{"type":"SettingsApplied"}')).toEqual([{ kind: 'session_ready', mismatches: [] }]);
  return b;
}

const kinds = (signals: BackendSignal[]): string[] => signals.map((s) => s.kind);
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe('Deepgram decode(): every server message is hostile input', () => {
  it('malformed JSON, non-objects and messages without a type are malformed, never thrown', () => {
    const b = ready();
    for (const f of ['{not json', '', '[]', '7', 'null', '"Welcome"', '{"no":"type"}', '{"type":7}']) {
      expect(kinds(b.decode(f))).toEqual(['malformed']);
    }
  });

  it('wrong types in known messages are malformed', () => {
    const b = ready();
    const frames = [
      '{"type":"ConversationText","role":7,"content":"x"}',
      '{"type":"ConversationText","role":"user","content":{"a":1}}',
      '{"type":"ConversationText","role":"system","content":"x"}',
      '{"type":"FunctionCallRequest","functions":"x"}',
      '{"type":"FunctionCallRequest"}',
      '{"type":"FunctionCallRequest","functions":[{"id":1,"name":"f","arguments":"{}"}]}',
      '{"type":"FunctionCallRequest","functions":[{"id":"a","name":"f","arguments":{}}]}',
      '{"type":"FunctionCallRequest","functions":[null]}',
      '{"type":"FunctionCallCancelled","functions":[{}]}',
      '{"type":"FunctionCallCancelled","functions":{}}',
    ];
    for (const f of frames) expect(kinds(b.decode(f)), f).toEqual(['malformed']);
  });

  it('unknown types are counted as unknown, names bounded; known no-ops are ignored', () => {
    const b = ready();
    expect(b.decode(`{"type":"${'X'.repeat(5000)}"}`)).toEqual([{ kind: 'unknown', type: 'X'.repeat(100) }]);
    for (const t of ['AgentThinking', 'History', 'LatencyReport', 'PromptUpdated', 'InjectionRefused', 'FunctionCallResponse']) {
      expect(b.decode(JSON.stringify({ type: t }))).toEqual([{ kind: 'ignored' }]);
    }
  });

  it('oversize fields are cut, oversize frames are malformed', () => {
    const b = ready();
    const [e] = b.decode(JSON.stringify({ type: 'Warning', code: 'C'.repeat(10000), description: 'd'.repeat(100000) }));
    expect(e?.kind).toBe('error');
    if (e?.kind === 'error') {
      expect(e.code.length).toBe(200);
      expect(e.message.length).toBeLessThan(1100);
    }
    const [t] = b.decode(JSON.stringify({ type: 'ConversationText', role: 'user', content: 'w'.repeat(50000) }));
    expect(t?.kind === 'transcript' && t.text.length).toBe(20000);
    expect(kinds(b.decode(`{"type":"ConversationText","role":"user","content":"${'a'.repeat(1100000)}"}`))).toEqual(['malformed']);
    expect(kinds(b.decode(new Uint8Array(480002)))).toEqual(['malformed']);
    const calls = b.decode(
      JSON.stringify({
        type: 'FunctionCallRequest',
        functions: Array.from({ length: 100 }, (_, i) => ({ id: `c${i}`, name: 'f', arguments: '{}', client_side: true })),
      }),
    );
    expect(calls).toHaveLength(32);
  });

  it('binary audio before SettingsApplied is malformed; odd frames keep their half sample', () => {
    const b = new DeepgramBackend({ backend: 'deepgram' });
    b.prepareConnection({ url: DEEPGRAM_AGENT_URL, token: null, signal: new AbortController().signal });
    expect(kinds(b.decode(bytes(1, 2)))).toEqual(['malformed']);
    const r = ready();
    const first = r.decode(bytes(1, 0, 2));
    expect(kinds(first)).toEqual(['response_created', 'audio']);
    const a = first[1] as Extract<BackendSignal, { kind: 'audio' }>;
    expect(Array.from(a.pcm)).toEqual([1]);
    const second = r.decode(bytes(0, 3, 0)) as Array<Extract<BackendSignal, { kind: 'audio' }>>;
    expect(Array.from(second[0]?.pcm ?? [])).toEqual([2, 3]);
    expect(second[0]?.itemId).toBe(a.itemId);
  });

  it('survives random garbage without throwing', () => {
    const b = ready();
    const pieces = ['{', '}', '"type"', ':', '"Error"', '"ConversationText"', '[', ']', ',', '"role"', '"functions"', 'null', '1e999', '"\\u0000"'];
    let seed = 7;
    const rand = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let i = 0; i < 2000; i++) {
      const frame: Frame =
        rand(4) === 0 ? Uint8Array.from({ length: rand(64) }, () => rand(256)) : Array.from({ length: rand(12) }, () => pieces[rand(pieces.length)]).join('');
      expect(() => b.decode(frame)).not.toThrow();
    }
  });
});

describe("Deepgram decode(): the protocol in the port's terms", () => {
  it('a reply: AgentStartedSpeaking opens it, text and audio belong to it, AgentAudioDone ends it', () => {
    const b = ready();
    const [created] = b.decode('{"type":"AgentStartedSpeaking","total_latency":0.4,"tts_latency":0.1,"ttt_latency":0.3}');
    expect(created?.kind).toBe('response_created');
    const id = (created as { responseId: string }).responseId;
    expect(b.decode('{"type":"ConversationText","role":"assistant","content":"Hi"}')).toEqual([
      { kind: 'transcript', role: 'assistant', text: 'Hi', final: true, itemId: id },
    ]);
    expect(b.decode(bytes(1, 0))[0]).toMatchObject({ kind: 'audio', itemId: id });
    expect(b.decode('{"type":"AgentAudioDone"}')).toEqual([
      { kind: 'audio_done', itemId: id },
      { kind: 'response_done', responseId: id, status: 'completed' },
    ]);
  });

  it('UserStartedSpeaking flushes, cancels the reply, and later audio belongs to the cut reply until the next one', () => {
    const b = ready();
    const id = (b.decode('{"type":"AgentStartedSpeaking"}')[0] as { responseId: string }).responseId;
    b.decode(bytes(1, 0));
    expect(b.decode('{"type":"UserStartedSpeaking"}')).toEqual([
      { kind: 'interrupted' },
      { kind: 'response_done', responseId: id, status: 'cancelled', reason: 'turn_detected' },
      { kind: 'speech_started' },
    ]);
    expect(b.decode(bytes(5, 0))).toMatchObject([{ kind: 'audio', itemId: id }]);
    const next = b.decode('{"type":"AgentStartedSpeaking"}');
    expect(next[0]).toMatchObject({ kind: 'response_created' });
    expect((next[0] as { responseId: string }).responseId).not.toBe(id);
  });

  it('assistant text before its reply starts belongs to that reply', () => {
    const b = ready();
    const [t] = b.decode('{"type":"ConversationText","role":"assistant","content":"early"}');
    const [c] = b.decode('{"type":"AgentStartedSpeaking"}');
    expect((t as { itemId: string }).itemId).toBe((c as { responseId: string }).responseId);
  });

  it('client-side function calls are tool calls, server-side ones are not; cancellations name the ids', () => {
    const b = ready();
    const out = b.decode(
      JSON.stringify({
        type: 'FunctionCallRequest',
        functions: [
          { id: 'a', name: 'get_weather', arguments: '{"city":"Oslo"}', client_side: true },
          { id: 'b', name: 'server_fn', arguments: '{}', client_side: false },
        ],
      }),
    );
    expect(out).toEqual([{ kind: 'tool_call', callId: 'a', name: 'get_weather', arguments: '{"city":"Oslo"}' }]);
    expect(b.decode('{"type":"FunctionCallCancelled","functions":[{"id":"a","name":"get_weather"}]}')).toEqual([
      { kind: 'tool_call_cancelled', callIds: ['a'] },
    ]);
    expect(b.toolResult('a', 'get_weather', '{"t":3}')).toEqual(['{"type":"FunctionCallResponse","id":"a","name":"get_weather","content":"{\\"t\\":3}"}']);
  });

  it('Error is session-ending (fatal for client errors, a renewal at the cap), Warning is not; INVALID_SETTINGS refuses the setup', () => {
    const b = ready();
    expect(b.decode('{"type":"Warning","code":"THINK_REQUEST_FAILED","description":"llm down"}')).toEqual([
      { kind: 'error', code: 'THINK_REQUEST_FAILED', message: 'warning from the service: llm down', fatal: false, sessionExpired: false },
    ]);
    expect(b.decode('{"type":"Error","code":"CLIENT_MESSAGE_TIMEOUT","description":"waited"}')[0]).toMatchObject({
      kind: 'error',
      fatal: false,
      sessionExpired: false,
    });
    expect(b.decode('{"type":"Error","code":"UNPARSABLE_CLIENT_MESSAGE","description":"x"}')[0]).toMatchObject({ kind: 'error', fatal: true });
    expect(b.decode('{"type":"Error","code":"SESSION_DURATION_EXCEEDED","description":"2 h"}')[0]).toMatchObject({
      kind: 'error',
      fatal: false,
      sessionExpired: true,
    });
    const fresh = new DeepgramBackend({ backend: 'deepgram' });
    fresh.prepareConnection({ url: DEEPGRAM_AGENT_URL, token: null, signal: new AbortController().signal });
    fresh.decode('{"type":"Welcome","request_id":"r"}');
    fresh.sessionSetup();
    expect(fresh.decode('{"type":"Error","code":"INVALID_SETTINGS","description":"bad"}')).toEqual([
      { kind: 'config_rejected', code: 'INVALID_SETTINGS', message: 'bad' },
    ]);
  });
});

describe('Deepgram client messages', () => {
  it('Settings: formats, providers, prompt, functions, restored context; then only updates', () => {
    const b = new DeepgramBackend({
      backend: 'deepgram',
      instructions: 'Be brief.',
      tools: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object' } }],
      inputTranscription: { model: 'nova-3', language: 'de' },
      deepgram: { listenModel: 'nova-3', thinkProvider: 'anthropic', thinkModel: 'claude-3-5-haiku-latest', speakModel: 'aura-2-thalia-en' },
    });
    b.prepareConnection({ url: DEEPGRAM_AGENT_URL, token: null, signal: new AbortController().signal });
    expect(b.keepAlive()).toEqual([]);
    const [settings] = b.sessionSetup({
      context: [
        { kind: 'message', role: 'user', text: 'hi' },
        { kind: 'tool', callId: 'c', name: 'f', arguments: '{}', output: 'ok' },
      ],
    });
    expect(JSON.parse(settings as string)).toEqual({
      type: 'Settings',
      audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 24000, container: 'none' } },
      agent: {
        context: {
          messages: [
            { type: 'History', role: 'user', content: 'hi' },
            { type: 'History', function_calls: [{ id: 'c', name: 'f', client_side: true, arguments: '{}', response: 'ok' }] },
          ],
        },
        listen: { provider: { type: 'deepgram', version: 'v1', model: 'nova-3', language: 'de' } },
        think: {
          provider: { type: 'anthropic', model: 'claude-3-5-haiku-latest' },
          prompt: 'Be brief.',
          functions: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object' } }],
        },
        speak: { provider: { type: 'deepgram', version: 'v1', model: 'aura-2-thalia-en' } },
      },
    });
    expect(b.keepAlive()).toEqual(['{"type":"KeepAlive"}']);
    expect(b.restoreContext([{ kind: 'message', role: 'user', text: 'hi' }])).toEqual([]);
    b.reconfigure({ backend: 'deepgram', instructions: 'Be kind.', deepgram: { speakModel: 'flux-kit-en' } });
    expect(b.sessionSetup().map((f) => JSON.parse(f as string).type)).toEqual(['UpdatePrompt', 'UpdateThink', 'UpdateSpeak', 'UpdateListen']);
    expect(b.sessionSetup()).toEqual([]);
  });

  it("defaults: the SDK's current providers, KeepAlive every 8 s, ForceEndTurn commits a push-to-talk turn", () => {
    const b = new DeepgramBackend({ backend: 'deepgram', turnDetection: null });
    b.prepareConnection({ url: DEEPGRAM_AGENT_URL, token: null, signal: new AbortController().signal });
    const s = JSON.parse(b.sessionSetup()[0] as string);
    expect(s.agent.listen.provider).toEqual({ type: 'deepgram', version: 'v1', model: 'nova-3' });
    expect(s.agent.think.provider).toEqual({ type: 'open_ai', model: 'gpt-4o-mini' });
    expect(s.agent.speak.provider).toEqual({ type: 'deepgram', version: 'v2', model: 'flux-kit-en' });
    expect(b.keepAliveMs).toBe(8000);
    expect(b.serverTurnDetection).toBe(false);
    expect(b.commitTurn()).toEqual({ frames: ['{"type":"ForceEndTurn"}'], requestResponse: false });
    expect(b.userText('hello')).toEqual(['{"type":"InjectUserMessage","content":"hello"}']);
    const audio = b.encodeAudio(Int16Array.from([1, -2]));
    expect(Array.from(audio as Uint8Array)).toEqual([1, 0, 0xfe, 0xff]);
  });

  it('refuses bad options by name', () => {
    expect(() => createDeepgramBackend({ deepgram: { thinkProvider: 'aws_bedrock' as never } })).toThrow(/thinkProvider/);
    expect(() => createDeepgramBackend({ deepgram: { listenModel: 'bad model' } })).toThrow(/listenModel/);
    expect(() => createDeepgramBackend({ deepgram: { keepAliveMs: 5 } })).toThrow(/keepAliveMs/);
  });
});

describe('Deepgram: the API key', () => {
  let other: Server | undefined;
  let fake: FakeDeepgramAgentServer | undefined;
  let engine: AudioEngine | undefined;
  let ai: AudioMediaAiPort | undefined;
  afterEach(async () => {
    ai?.destroy();
    engine?.close();
    await fake?.close();
    await new Promise((r) => (other ? other.close(r) : r(undefined)));
    ai = undefined;
    engine = undefined;
    fake = undefined;
    other = undefined;
  });

  it('is needed for the service, defaults to its endpoint, and travels as Authorization: Token to the configured host only', async () => {
    expect(DEFAULT_AI_URLS.deepgram).toBe('wss://agent.deepgram.com/v1/agent/converse');
    expect(backendNeedsKey({ backend: 'deepgram', url: '' })).toBe(true);
    expect(backendNeedsKey({ backend: 'deepgram', url: 'ws://127.0.0.1:9/v1/agent/converse' })).toBe(false);
    const plan = createDeepgramBackend({}).prepareConnection({
      url: 'wss://agent.example.net/v1/agent/converse',
      token: 'secret',
      signal: new AbortController().signal,
    });
    expect(plan).toEqual({ url: 'wss://agent.example.net/v1/agent/converse', headers: { Authorization: 'Token secret' }, protocols: [] });
    const bearer = createDeepgramBackend({ authScheme: 'bearer' }).prepareConnection({
      url: DEEPGRAM_AGENT_URL,
      token: 'jwt',
      signal: new AbortController().signal,
    });
    expect(bearer.headers).toEqual({ Authorization: 'Bearer jwt' });
  });

  it('never reaches another host: a redirect is not followed, and the key is in no event', async () => {
    let leaked = 0;
    let seen = 0;
    other = createServer((req, res) => {
      seen++;
      if (req.headers.authorization) leaked++;
      res.end();
    }).on('upgrade', (req, socket) => {
      seen++;
      if (req.headers.authorization) leaked++;
      socket.destroy();
    });
    await new Promise<void>((r) => other!.listen(0, '127.0.0.1', r));
    const elsewhere = `ws://127.0.0.1:${(other.address() as AddressInfo).port}/v1/agent/converse`;
    let auth: string | undefined;
    const redirector = createServer((_req, res) => res.end()).on('upgrade', (req, socket) => {
      auth = req.headers.authorization;
      socket.end(`HTTP/1.1 307 Temporary Redirect\r\nLocation: ${elsewhere}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    try {
      engine = await AudioEngine.create({ device: { type: 'null' } });
      ai = new AudioMediaAiPort(engine, { logger: { warn: () => {}, info: () => {} } });
      ai.createPort({ backend: 'deepgram', reconnect: { minMs: 50, maxMs: 100, jitter: 0 } });
      const events: AiEvent[] = [];
      ai.on('event', (e) => events.push(e));
      ai.connect(`ws://127.0.0.1:${(redirector.address() as AddressInfo).port}/v1/agent/converse`, 'dg-secret-key');
      await waitFor(() => events.some((e) => e.type === 'disconnected'), 3000, 'disconnected');
      await new Promise((r) => setTimeout(r, 300));
      expect(auth).toBe('Token dg-secret-key');
      expect(seen).toBe(0);
      expect(leaked).toBe(0);
      expect(JSON.stringify(events)).not.toContain('dg-secret-key');
    } finally {
      ai?.destroy();
      ai = undefined;
      await new Promise((r) => redirector.close(r));
    }
  });

  it('the fake sees the key only in the Authorization header of the configured URL', async () => {
    fake = await FakeDeepgramAgentServer.start({ apiKey: 'dg-key' });
    engine = await AudioEngine.create({ device: { type: 'null' } });
    ai = new AudioMediaAiPort(engine, { logger: { warn: () => {}, info: () => {} } });
    ai.createPort({ backend: 'deepgram' });
    const events: AiEvent[] = [];
    ai.on('event', (e) => events.push(e));
    ai.connect(fake.url, 'dg-key');
    await waitFor(() => events.some((e) => e.type === 'connected'), 3000, 'connected');
    const hs = fake.handshakes[0];
    expect(hs?.headers.authorization).toBe('Token dg-key');
    expect(hs?.url).not.toContain('dg-key');
    expect(fake.received[0]?.type).toBe('Settings');
    expect(JSON.stringify(fake.received)).not.toContain('dg-key');
  });
});
