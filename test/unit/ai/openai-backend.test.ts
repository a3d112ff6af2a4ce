import { describe, expect, it } from 'vitest';
import { OpenAiBackend } from '../../../src/ai/backends/openai.js';
import { base64ToPcm, pcmToBase64 } from '../../../src/ai/pcm.js';

const ctx = (url: string, token: string | null) => ({ url, token, signal: new AbortController().signal });
/** Parses a frame the backend made (all OpenAI frames are text) and drops its event_id. */
const parse = (frame: string | Uint8Array | undefined) => {
  const { event_id: id, ...rest } = JSON.parse(String(frame ?? ''));
  expect(id).toMatch(/^evt_[a-z0-9_]+$/);
  return rest;
};

describe('OpenAI backend', () => {
  it('adds the model to the URL only when absent, and the beta header only for beta', () => {
    const ga = new OpenAiBackend({ model: 'gpt-realtime-mini' });
    expect(ga.prepareConnection(ctx('wss://api.openai.com/v1/realtime', 'k'))).toEqual({
      url: 'wss://api.openai.com/v1/realtime?model=gpt-realtime-mini',
      headers: { Authorization: 'Bearer k' },
      protocols: [],
    });
    expect(ga.prepareConnection(ctx('ws://127.0.0.1:9/v1/realtime?model=x', null)).url).toBe('ws://127.0.0.1:9/v1/realtime?model=x');
    expect(new OpenAiBackend({ dialect: 'beta' }).prepareConnection(ctx('ws://h/v1/realtime', 'k')).headers).toEqual({
      Authorization: 'Bearer k',
      'OpenAI-Beta': 'realtime=v1',
    });
  });

  it('builds the GA session with far-field noise reduction and 24 kHz PCM', () => {
    const b = new OpenAiBackend({ voice: 'marin', instructions: 'hi', inputTranscription: { model: 'whisper-1' } });
    const [update] = b.sessionSetup();
    expect(parse(update)).toEqual({
      type: 'session.update',
      session: {
        type: 'realtime',
        instructions: 'hi',
        output_modalities: ['audio'],
        tools: [],
        audio: {
          input: {
            format: { type: 'audio/pcm', rate: 24000 },
            turn_detection: { type: 'server_vad', create_response: true, interrupt_response: true },
            noise_reduction: { type: 'far_field' },
            transcription: { model: 'whisper-1' },
          },
          output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'marin' },
        },
      },
    });
  });

  it('builds the flat beta session without session.type', () => {
    const b = new OpenAiBackend({ dialect: 'beta', voice: 'alloy', turnDetection: null });
    const session = parse(b.sessionSetup()[0]).session;
    expect(session.type).toBeUndefined();
    expect(session).toMatchObject({ modalities: ['text', 'audio'], input_audio_format: 'pcm16', voice: 'alloy', turn_detection: null });
    expect(b.serverTurnDetection).toBe(false);
  });

  it('detects the dialect from session.created when auto', () => {
    const b = new OpenAiBackend({ dialect: 'auto' });
    expect(b.decode(JSON.stringify({ type: 'session.created', session: { id: 's1', modalities: ['text', 'audio'] } }))).toEqual([
      { kind: 'session_created', sessionId: 's1', dialect: 'beta' },
    ]);
    expect(b.dialect).toBe('beta');
    const g = new OpenAiBackend({ dialect: 'auto' });
    g.decode(JSON.stringify({ type: 'session.created', session: { id: 's2', type: 'realtime', audio: {} } }));
    expect(g.dialect).toBe('ga');
  });

  it('decodes both dialects of audio, transcripts, VAD, responses and tool calls', () => {
    const b = new OpenAiBackend({});
    const pcm = new Int16Array([1, -2, 32767, -32768]);
    for (const type of ['response.output_audio.delta', 'response.audio.delta']) {
      const [s] = b.decode(JSON.stringify({ type, item_id: 'i', response_id: 'r', delta: pcmToBase64(pcm) }));
      expect(s).toEqual({ kind: 'audio', itemId: 'i', responseId: 'r', pcm });
    }
    expect(b.decode('{"type":"response.audio_transcript.done","item_id":"i","transcript":"hello"}')).toEqual([
      { kind: 'transcript', role: 'assistant', text: 'hello', final: true, itemId: 'i' },
    ]);
    expect(b.decode('{"type":"conversation.item.input_audio_transcription.completed","item_id":"u","transcript":"hi"}')).toEqual([
      { kind: 'transcript', role: 'user', text: 'hi', final: true, itemId: 'u' },
    ]);
    expect(b.decode('{"type":"response.done","response":{"id":"r","status":"cancelled","status_details":{"reason":"turn_detected"}}}')).toEqual([
      { kind: 'response_done', responseId: 'r', status: 'cancelled', reason: 'turn_detected' },
    ]);
    expect(b.decode('{"type":"response.function_call_arguments.done","call_id":"c","name":"f","arguments":"{}"}')).toEqual([
      { kind: 'tool_call', callId: 'c', name: 'f', arguments: '{}' },
    ]);
    expect(b.decode('{"type":"error","error":{"code":"session_expired","message":"m"}}')).toEqual([
      { kind: 'error', code: 'session_expired', message: 'm', fatal: false, sessionExpired: true },
    ]);
    expect(b.decode('{"type":"error","error":{"code":"invalid_api_key","message":"m"}}')[0]).toMatchObject({ fatal: true });
  });

  it('reports malformed and unknown messages instead of throwing', () => {
    const b = new OpenAiBackend({});
    expect(b.decode('{not json')).toEqual([{ kind: 'malformed', reason: 'invalid JSON' }]);
    expect(b.decode('[1,2]')).toEqual([{ kind: 'malformed', reason: 'not a JSON object' }]);
    expect(b.decode('{"no":"type"}')).toEqual([{ kind: 'malformed', reason: 'no type' }]);
    expect(b.decode('{"type":"response.output_audio.delta"}')[0]?.kind).toBe('malformed');
    expect(b.decode('{"type":"brand.new.event"}')).toEqual([{ kind: 'unknown', type: 'brand.new.event' }]);
    expect(b.decode('{"type":"rate_limits.updated"}')).toEqual([{ kind: 'ignored' }]);
  });

  it('reports what the service changed in session.updated', () => {
    const b = new OpenAiBackend({ voice: 'marin' });
    b.sessionSetup();
    const effective = {
      type: 'realtime',
      output_modalities: ['audio'],
      audio: {
        input: { format: { type: 'audio/pcmu' }, turn_detection: { type: 'server_vad' }, noise_reduction: { type: 'far_field' } },
        output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy' },
      },
    };
    const [signal] = b.decode(JSON.stringify({ type: 'session.updated', session: effective }));
    expect(signal).toEqual({
      kind: 'session_ready',
      mismatches: [
        'session.audio.input.format.type: asked "audio/pcm", service uses "audio/pcmu"',
        'session.audio.input.format.rate: asked 24000, service uses undefined',
        'session.audio.output.voice: asked "marin", service uses "alloy"',
      ],
    });
  });

  it('encodes PCM little-endian and the client events the port sends', () => {
    const b = new OpenAiBackend({});
    // Appends carry no event_id: the same frame around every batch, which the native framing reuses.
    const frame = b.encodeAudio(new Int16Array([0x0102, -1])) as string;
    expect(frame).toBe(`${b.audioTemplate.prefix}AgH//w==${b.audioTemplate.suffix}`);
    const msg = JSON.parse(frame) as { type: string; audio: string };
    expect(Object.keys(msg)).toEqual(['type', 'audio']);
    expect(msg.type).toBe('input_audio_buffer.append');
    expect([...Buffer.from(msg.audio, 'base64')]).toEqual([0x02, 0x01, 0xff, 0xff]);
    expect(base64ToPcm(Buffer.from([0x02, 0x01, 0xff]).toString('base64'))).toEqual(new Int16Array([0x0102]));
    expect(parse(b.truncate('i', 1234.9)[0])).toEqual({ type: 'conversation.item.truncate', item_id: 'i', content_index: 0, audio_end_ms: 1234 });
    expect(parse(b.toolResult('c', 'get_time', '{"a":1}')[0]).item).toEqual({ type: 'function_call_output', call_id: 'c', output: '{"a":1}' });
    expect(parse(b.restoreContext([{ kind: 'message', role: 'assistant', text: 'yes' }])[0]).item.content).toEqual([{ type: 'output_text', text: 'yes' }]);
  });
});
