import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AudioMediaAiPort } from '../../../src/ai/ai-port.js';
import type { BackendSignal } from '../../../src/ai/backend.js';
import { decodeChunk, encodeChunk, parseFormat } from '../../../src/ai/backends/elevenlabs-audio.js';
import { ARGUMENTS_LIMIT, REPLY_GAP_MS, TEXT_LIMIT } from '../../../src/ai/backends/elevenlabs-decode.js';
import { checkSignedUrl, signedUrlEndpoint } from '../../../src/ai/backends/elevenlabs-signed-url.js';
import { ElevenLabsBackend } from '../../../src/ai/backends/elevenlabs.js';
import type { AiEvent, AiPortParam } from '../../../src/ai/types.js';
import { crossCheck } from '../../../src/config/check.js';
import { defaultConfig } from '../../../src/config/load.js';
import { backendNeedsKey } from '../../../src/config/secrets.js';
import { AudioEngine } from '../../../src/media/index.js';
import { elevenLabsFake, type ElevenLabsConformanceFake } from '../../conformance/elevenlabs-fake.js';
import { waitFor } from '../../helpers/signal.js';

const PARAM: AiPortParam = { backend: 'elevenlabs', elevenlabs: { agentId: 'agent_test' } };
const KEY = 'xi-secret-key-0123456789';

/** A backend whose decoder saw the metadata (pcm_16000 both ways unless given), on a settable clock. */
function ready(formats: { input?: string; output?: string } = {}): { b: ElevenLabsBackend; clock: { t: number } } {
  const clock = { t: 1000 };
  const b = new ElevenLabsBackend(PARAM, () => clock.t);
  void b.prepareConnection({ url: 'ws://127.0.0.1:1/v1/convai/conversation', token: null, signal: new AbortController().signal });
  b.decode(meta(formats.input ?? 'pcm_16000', formats.output ?? 'pcm_16000'));
  return { b, clock };
}

function meta(input: unknown, output: unknown): string {
  return JSON.stringify({
    type: 'conversation_initiation_metadata',
    conversation_initiation_metadata_event: { conversation_id: 'conv_1', user_input_audio_format: input, agent_output_audio_format: output },
  });
}

const audio = (eventId: unknown, samples = 160): string =>
  JSON.stringify({ type: 'audio', audio_event: { audio_base_64: Buffer.alloc(samples * 2, 1).toString('base64'), event_id: eventId } });
const kinds = (signals: BackendSignal[]): string[] => signals.map((s) => s.kind);

describe('ElevenLabs decode: hostile input is counted, never thrown', () => {
  it('malformed JSON, non-objects, missing or mistyped fields are malformed signals', () => {
    const { b } = ready();
    const cases = [
      '{not json',
      '',
      'null',
      '[]',
      '"audio"',
      '{"no":"type"}',
      '{"type":7}',
      '{"type":"audio"}',
      '{"type":"audio","audio_event":"x"}',
      '{"type":"audio","audio_event":{"audio_base_64":7,"event_id":1}}',
      '{"type":"audio","audio_event":{"audio_base_64":"AAAA","event_id":"one"}}',
      '{"type":"audio","audio_event":{"audio_base_64":"AAAA","event_id":-1}}',
      '{"type":"audio","audio_event":{"audio_base_64":"not base64!","event_id":3}}',
      '{"type":"interruption","interruption_event":{"event_id":1.5}}',
      '{"type":"ping","ping_event":{"event_id":{"x":1}}}',
      '{"type":"ping"}',
      '{"type":"agent_response","agent_response_event":{"agent_response":7,"event_id":1}}',
      '{"type":"agent_response_correction","agent_response_correction_event":{"corrected_agent_response":null}}',
      '{"type":"user_transcript","user_transcription_event":{"user_transcript":["a"]}}',
      '{"type":"client_tool_call","client_tool_call":{"tool_name":"x","tool_call_id":"c","parameters":"no"}}',
      '{"type":"client_tool_call","client_tool_call":{"tool_name":"x"}}',
      '{"type":"error","error_event":5}',
      '{"type":"conversation_initiation_metadata"}',
    ];
    for (const c of cases) {
      const out = b.decode(c);
      expect(
        out.map((s) => s.kind),
        c,
      ).toContain('malformed');
      expect(
        out.some((s) => s.kind === 'audio' || s.kind === 'reply' || s.kind === 'tool_call'),
        c,
      ).toBe(false);
    }
  });

  it('oversize fields are bounded or refused', () => {
    const { b } = ready();
    const huge = 'x'.repeat(TEXT_LIMIT * 3);
    const [t] = b
      .decode(JSON.stringify({ type: 'user_transcript', user_transcription_event: { user_transcript: huge, event_id: 1 } }))
      .filter((s) => s.kind === 'transcript');
    expect(t && t.kind === 'transcript' && t.text.length).toBe(TEXT_LIMIT);
    const bigArgs = { blob: 'y'.repeat(ARGUMENTS_LIMIT) };
    expect(
      kinds(b.decode(JSON.stringify({ type: 'client_tool_call', client_tool_call: { tool_name: 'f', tool_call_id: 'c1', parameters: bigArgs, event_id: 2 } }))),
    ).toEqual(['malformed']);
    expect(
      kinds(
        b.decode(
          JSON.stringify({ type: 'client_tool_call', client_tool_call: { tool_name: 'n'.repeat(5000), tool_call_id: 'c1', parameters: {}, event_id: 2 } }),
        ),
      ),
    ).toEqual(['malformed']);
    const [e] = b.decode(JSON.stringify({ type: 'error', error_event: { code: 1011, error_type: 'e'.repeat(5000), message: 'm'.repeat(50000) } }));
    expect(e?.kind === 'error' && e.code.length <= 200 && e.message.length <= 1000).toBe(true);
    const [u] = b.decode(JSON.stringify({ type: 'z'.repeat(10000) }));
    expect(u?.kind === 'unknown' && u.type.length).toBe(100);
  });

  it('unknown types are unknown, auxiliary ones ignored; binary garbage and random input never throw', () => {
    const { b } = ready();
    expect(kinds(b.decode('{"type":"brand_new_event","brand_new_event_event":{}}'))).toEqual(['unknown']);
    expect(kinds(b.decode('{"type":"vad_score","vad_score_event":{"vad_score":0.4}}'))).toEqual(['ignored']);
    expect(kinds(b.decode(new Uint8Array([0xff, 0xfe, 0x00, 0x7b])))).toEqual(['malformed']);
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const pieces = [
      '{',
      '}',
      '"type"',
      ':',
      '"audio"',
      '"ping"',
      '"audio_event"',
      '{"event_id":',
      '1',
      'null',
      '[',
      ']',
      ',',
      '"x"',
      '"audio_base_64"',
      '"AAAA"',
    ];
    for (let i = 0; i < 2000; i++) {
      const text = Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => pieces[Math.floor(rnd() * pieces.length)]).join('');
      expect(() => b.decode(text)).not.toThrow();
    }
  });

  it('audio before the metadata is malformed; an unsupported format is a refused configuration', () => {
    const b = new ElevenLabsBackend(PARAM);
    expect(kinds(b.decode(audio(1)))).toEqual(['malformed']);
    const [r] = b.decode(meta('pcm_16000', 'mp3_44100'));
    expect(r).toMatchObject({ kind: 'config_rejected', param: 'agent_output_audio_format' });
    expect(kinds(b.decode(meta('pcm_16000', 7)))).toEqual(['malformed']);
  });
});

describe('ElevenLabs decode: the conversation', () => {
  it('the metadata announces rates and readiness (formats never assumed); µ-law round-trips', () => {
    const b = new ElevenLabsBackend(PARAM);
    expect(b.decode(meta('ulaw_8000', 'pcm_44100'))).toEqual([
      { kind: 'rates', inputRate: 8000, outputRate: 44100 },
      { kind: 'session_ready', mismatches: [], sessionId: 'conv_1' },
    ]);
    const ulaw = parseFormat('ulaw_8000')!;
    const pcm = Int16Array.from([0, 1000, -1000, 32767, -32768, 12345]);
    const back = decodeChunk(encodeChunk(pcm, ulaw), ulaw);
    pcm.forEach((v, i) => expect(Math.abs((back[i] ?? 0) - v)).toBeLessThanOrEqual(Math.max(16, Math.abs(v) / 16)));
    const frame = JSON.parse(b.encodeAudio(pcm) as string) as Record<string, string>;
    expect(Object.keys(frame)).toEqual(['user_audio_chunk']);
    expect(Buffer.from(frame.user_audio_chunk ?? '', 'base64').length).toBe(pcm.length);
  });

  it('ping is answered through a reply with the same event_id', () => {
    const { b } = ready();
    expect(b.decode('{"type":"ping","ping_event":{"event_id":42,"ping_ms":30}}')).toEqual([{ kind: 'reply', frames: ['{"type":"pong","event_id":42}'] }]);
  });

  it('a reply: created, audio on one item, done after the audio stops; interruption drops the cut-off audio by event_id', () => {
    const { b, clock } = ready();
    const first = b.decode(JSON.stringify({ type: 'agent_response', agent_response_event: { agent_response: 'Hello there', event_id: 5 } }));
    expect(kinds(first)).toEqual(['response_created', 'transcript']);
    const item = (first[1] as { itemId: string }).itemId;
    expect(b.decode(audio(5))).toMatchObject([{ kind: 'audio', itemId: item }]);
    clock.t += REPLY_GAP_MS;
    expect(b.decode('{"type":"vad_score","vad_score_event":{"vad_score":0.1}}')).toEqual([
      { kind: 'audio_done', itemId: item },
      { kind: 'response_done', responseId: item, status: 'completed' },
      { kind: 'ignored' },
    ]);
    // A second reply, cut off by the user.
    const second = b.decode(audio(7));
    const item2 = (second.find((s) => s.kind === 'audio') as { itemId: string }).itemId;
    expect(item2).not.toBe(item);
    expect(b.decode('{"type":"interruption","interruption_event":{"event_id":8}}')).toEqual([
      { kind: 'interrupted' },
      { kind: 'response_done', responseId: item2, status: 'cancelled' },
    ]);
    expect(kinds(b.decode(audio(7)))).toEqual(['ignored']);
    expect(kinds(b.decode(audio(8)))).toEqual(['ignored']);
    expect(
      b.decode(
        JSON.stringify({
          type: 'agent_response_correction',
          agent_response_correction_event: { original_agent_response: 'a b c', corrected_agent_response: 'a', event_id: 7 },
        }),
      ),
    ).toEqual([{ kind: 'transcript_correction', text: 'a', itemId: item2 }]);
    expect(kinds(b.decode(audio(9)))).toEqual(['response_created', 'audio']);
  });

  it('a user transcript ends the reply; client tool calls become tool_call signals and results client_tool_result', () => {
    const { b } = ready();
    b.decode(audio(3));
    expect(kinds(b.decode('{"type":"user_transcript","user_transcription_event":{"user_transcript":"hi","event_id":4}}'))).toEqual([
      'audio_done',
      'response_done',
      'transcript',
    ]);
    expect(
      b.decode('{"type":"client_tool_call","client_tool_call":{"tool_name":"get_weather","tool_call_id":"call_1","parameters":{"city":"Oslo"},"event_id":9}}'),
    ).toEqual([{ kind: 'tool_call', callId: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }]);
    expect(JSON.parse(b.toolResult('call_1', 'get_weather', '{"temp":3}')[0] as string)).toEqual({
      type: 'client_tool_result',
      tool_call_id: 'call_1',
      result: '{"temp":3}',
      is_error: false,
    });
  });

  it('errors: an override the agent refuses is a refused configuration, max duration a renewal', () => {
    const { b } = ready();
    expect(
      b.decode(
        '{"type":"error","error_event":{"code":1008,"error_type":"override_error","message":"Override for field \'tts.voice_id\' is not allowed by config."}}',
      ),
    ).toMatchObject([{ kind: 'config_rejected', code: 'override_error' }]);
    expect(b.decode('{"type":"error","error_event":{"code":1000,"error_type":"max_duration_exceeded"}}')).toMatchObject([
      { kind: 'error', sessionExpired: true, fatal: false },
    ]);
  });
});

describe('ElevenLabs initiation data and parameters', () => {
  it('sends only the overrides that are set; speed clamped to the service range', () => {
    expect(JSON.parse(new ElevenLabsBackend(PARAM).onOpen()[0] as string)).toEqual({ type: 'conversation_initiation_client_data' });
    const b = new ElevenLabsBackend({
      ...PARAM,
      voice: 'voice123',
      speed: 1.5,
      instructions: 'Be brief.',
      elevenlabs: { agentId: 'agent_test', firstMessage: 'Hi!', language: 'de' },
    });
    expect(JSON.parse(b.onOpen()[0] as string)).toEqual({
      type: 'conversation_initiation_client_data',
      conversation_config_override: {
        agent: { prompt: { prompt: 'Be brief.' }, first_message: 'Hi!', language: 'de' },
        tts: { voice_id: 'voice123', speed: 1.2 },
      },
    });
    expect(b.startupWarnings().join('\n')).toMatch(/must allow/);
  });

  it('refuses a missing or bad agent id with a clear error', () => {
    expect(() => new ElevenLabsBackend({ backend: 'elevenlabs' })).toThrow(/agentId is required/);
    expect(() => new ElevenLabsBackend({ backend: 'elevenlabs', elevenlabs: { agentId: 'a b' } })).toThrow(/agent's id/);
  });

  it('config: the agent id is required, the key only in signed-URL mode, and the signed-URL endpoint derives from ai.url', () => {
    const config = defaultConfig();
    config.ai.backend = 'elevenlabs';
    expect(crossCheck(config, {}).map((p) => p.path)).toContain('ai.elevenlabs.agentId');
    config.ai.elevenlabs.agentId = 'agent_x';
    expect(crossCheck(config, {})).toEqual([]);
    expect(backendNeedsKey(config.ai)).toBe(false);
    config.ai.elevenlabs.signedUrl = true;
    expect(backendNeedsKey(config.ai)).toBe(true);
    expect(signedUrlEndpoint('wss://api.eu.residency.elevenlabs.io/v1/convai/conversation?x=1', 'agent_x').toString()).toBe(
      'https://api.eu.residency.elevenlabs.io/v1/convai/conversation/get-signed-url?agent_id=agent_x',
    );
    expect(() => checkSignedUrl('wss://evil.example/v1/convai/conversation?agent_id=a', 'wss://api.elevenlabs.io/v1/convai/conversation')).toThrow(/host/);
    expect(() => checkSignedUrl('ws://api.elevenlabs.io/v1/convai/conversation', 'wss://api.elevenlabs.io/v1/convai/conversation')).toThrow(/wss/);
  });
});

describe('ElevenLabs through the port: the key never leaves for another host', () => {
  let fake: ElevenLabsConformanceFake | undefined;
  let engine: AudioEngine | undefined;
  let ai: AudioMediaAiPort | undefined;
  let other: Server | undefined;
  /** What the port logged (warnings and info). */
  const logged: string[] = [];
  afterEach(async () => {
    ai?.destroy();
    engine?.close();
    await fake?.close();
    await new Promise<void>((r) => (other ? other.close(() => r()) : r()));
    ai = engine = fake = other = undefined;
  });

  async function port(param: AiPortParam, url: string, token: string | null): Promise<AiEvent[]> {
    engine = await AudioEngine.create({ device: { type: 'null' } });
    const events: AiEvent[] = [];
    logged.length = 0;
    ai = new AudioMediaAiPort(engine, { logger: { warn: (m) => logged.push(m), info: (m) => logged.push(m) } });
    ai.createPort({ reconnect: { minMs: 50, maxMs: 200, jitter: 0 }, ...param });
    engine.captureMedia.startTransmit(ai);
    ai.on('event', (e) => events.push(e));
    ai.connect(url, token);
    return events;
  }

  const headerText = (h: IncomingHttpHeaders): string => JSON.stringify(h);

  it('signed URL: the key goes only as xi-api-key to the configured host; the WebSocket carries none', async () => {
    fake = await elevenLabsFake({ agentId: 'agent_p', apiKey: KEY });
    const events = await port({ backend: 'elevenlabs', elevenlabs: { agentId: 'agent_p', signedUrl: true } }, fake.url, KEY);
    await waitFor(() => events.some((e) => e.type === 'connected'), 5000, 'connected');
    expect(fake.apiRequests).toHaveLength(1);
    expect(fake.apiRequests[0]?.url).toBe('/v1/convai/conversation/get-signed-url?agent_id=agent_p');
    expect(fake.apiRequests[0]?.headers['xi-api-key']).toBe(KEY);
    expect(fake.server.handshakes).toHaveLength(1);
    const hs = fake.server.handshakes[0]!;
    expect(hs.url).toContain('conversation_signature=');
    expect(headerText(hs.headers) + hs.url).not.toContain(KEY);
    expect(fake.server.received.map((m) => JSON.stringify(m.message)).join('')).not.toContain(KEY);
    expect(JSON.stringify(events) + logged.join('\n')).not.toContain(KEY);
  });

  it('public agent: a configured key is sent nowhere', async () => {
    fake = await elevenLabsFake();
    const events = await port(PARAM, fake.url, KEY);
    await waitFor(() => events.some((e) => e.type === 'connected'), 5000, 'connected');
    expect(fake.apiRequests).toHaveLength(0);
    expect(headerText(fake.server.handshakes[0]!.headers) + fake.server.handshakes[0]!.url).not.toContain(KEY);
    expect(fake.server.handshakes[0]!.url).toContain('agent_id=agent_test');
  });

  it('a redirect of the signed-URL request is not followed (the key stays with the configured host); the error names no key', async () => {
    const hits: IncomingHttpHeaders[] = [];
    other = createServer((req, res) => {
      hits.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"signed_url":"ws://127.0.0.1:1/x"}');
    });
    await new Promise<void>((r) => other!.listen(0, '127.0.0.1', () => r()));
    const elsewhere = `http://localhost:${(other.address() as AddressInfo).port}/v1/convai/conversation/get-signed-url?agent_id=agent_p`;
    fake = await elevenLabsFake({ agentId: 'agent_p', apiKey: KEY, signedUrlAnswer: { status: 302, body: '', headers: { location: elsewhere } } });
    const events = await port({ backend: 'elevenlabs', elevenlabs: { agentId: 'agent_p', signedUrl: true } }, fake.url, KEY);
    await waitFor(() => events.some((e) => e.type === 'error'), 5000, 'an error');
    await new Promise((r) => setTimeout(r, 300));
    expect(hits).toEqual([]);
    expect(fake.server.handshakes).toHaveLength(0);
    const err = events.find((e) => e.type === 'error') as Extract<AiEvent, { type: 'error' }>;
    expect(err).toMatchObject({ code: 'ERR_AI_CONNECT', fatal: false });
    expect(err.message).toMatch(/redirect/);
    expect(JSON.stringify(events) + logged.join('\n')).not.toContain(KEY);
  });

  it('a signed URL naming another host is refused before any connection', async () => {
    fake = await elevenLabsFake({
      agentId: 'agent_p',
      apiKey: KEY,
      signedUrlAnswer: { status: 200, body: '{"signed_url":"ws://localhost:9/v1/convai/conversation?agent_id=agent_p"}' },
    });
    const events = await port({ backend: 'elevenlabs', elevenlabs: { agentId: 'agent_p', signedUrl: true } }, fake.url, KEY);
    await waitFor(() => events.some((e) => e.type === 'error'), 5000, 'an error');
    expect((events.find((e) => e.type === 'error') as { message: string }).message).toMatch(/host localhost:9/);
    expect(fake.server.handshakes).toHaveLength(0);
  });

  it('signed-URL mode without a key is a clear, fatal connect error', async () => {
    fake = await elevenLabsFake({ agentId: 'agent_p', apiKey: KEY });
    const events = await port({ backend: 'elevenlabs', elevenlabs: { agentId: 'agent_p', signedUrl: true } }, fake.url, null);
    await waitFor(() => events.some((e) => e.type === 'error'), 2000, 'an error');
    expect(events.find((e) => e.type === 'error')).toMatchObject({ code: 'ERR_AI_CONNECT', fatal: true, message: expect.stringMatching(/needs the API key/) });
    expect(fake.apiRequests).toHaveLength(0);
  });

  it('push-to-talk gates the microphone: nothing before the turn, audio while it is open, none after', async () => {
    fake = await elevenLabsFake();
    const events = await port({ ...PARAM, turnDetection: null }, fake.url, null);
    await waitFor(() => events.some((e) => e.type === 'connected'), 5000, 'connected');
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.micMs()).toBe(0);
    ai!.startTurn();
    await new Promise((r) => setTimeout(r, 300));
    ai!.endTurn();
    await new Promise((r) => setTimeout(r, 100));
    const atEnd = fake.micMs();
    expect(atEnd).toBeGreaterThanOrEqual(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.micMs()).toBeLessThanOrEqual(atEnd + 50);
    expect(events.filter((e) => e.type === 'turn')).toEqual([
      { type: 'turn', open: true },
      { type: 'turn', open: false, committed: true },
    ]);
  });
});
