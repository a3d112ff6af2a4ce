import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, type ClientOptions } from 'ws';
import {
  FakeRealtimeServer,
  bytesToPcm,
  makeSelfSignedCert,
  pcmToBase64,
  tone,
  type FakeRealtimeServerOptions,
  type JsonObject,
} from './openai-realtime-server.js';

// Checks the fake OpenAI Realtime server itself with a plain `ws` client over loopback.

type Msg = JsonObject & { type: string };

/** A bare client that records every server event and reads them in order. */
class Client {
  readonly msgs: Msg[] = [];
  readonly sizes: number[] = [];
  readonly errors: Error[] = [];
  closed: { code: number; reason: string } | null = null;
  private cursor = 0;
  private wake: (() => void) | null = null;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      this.sizes.push(Buffer.byteLength(text));
      try {
        this.msgs.push(JSON.parse(text) as Msg);
      } catch {
        this.msgs.push({ type: '(unparsed)', raw: text });
      }
      this.wake?.();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake?.();
    });
    ws.on('error', (e) => this.errors.push(e));
  }

  static open(url: string, protocols: string[] = ['realtime'], opts: ClientOptions = {}): Promise<Client> {
    const ws = new WebSocket(url, protocols, opts);
    const client = new Client(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  send(type: string, fields: JsonObject = {}): void {
    this.ws.send(JSON.stringify({ type, ...fields }));
  }

  /** Waits until `check` holds (re-checked on every event). */
  async until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`client timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 20);
      });
    }
  }

  /** All events from the cursor up to and including the next one of `type`; moves the cursor past it. */
  async through(type: string): Promise<Msg[]> {
    let at = -1;
    await this.until(() => (at = this.msgs.findIndex((m, i) => i >= this.cursor && m.type === type)) >= 0, type);
    const out = this.msgs.slice(this.cursor, at + 1);
    this.cursor = at + 1;
    return out;
  }

  /** The next event of `type` (skipping others). */
  async next(type: string): Promise<Msg> {
    const all = await this.through(type);
    return all[all.length - 1] as Msg;
  }
}

/** Upgrade answer of a rejected handshake: HTTP status and parsed body. */
function rejected(url: string, headers: Record<string, string> = {}, protocols = ['realtime']): Promise<{ status: number; body: JsonObject }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.on('error', () => undefined);
    ws.on('open', () => reject(new Error('handshake unexpectedly accepted')));
    ws.on('unexpected-response', (req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as JsonObject });
        req.destroy();
      });
    });
  });
}

const obj = (v: unknown): JsonObject => v as JsonObject;
const errorOf = async (c: Client): Promise<JsonObject> => obj((await c.next('error'))['error']);
let server: FakeRealtimeServer | undefined;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await server?.close();
  server = undefined;
});

async function setup(
  opts: FakeRealtimeServerOptions = {},
  headers: Record<string, string> = {},
  protocols?: string[],
): Promise<{ srv: FakeRealtimeServer; client: Client }> {
  const srv = (server = await FakeRealtimeServer.start(opts));
  const client = await Client.open(`${srv.url}?model=gpt-realtime`, protocols, { headers });
  clients.push(client);
  return { srv, client };
}

async function gaSession(client: Client, session: JsonObject = {}): Promise<Msg> {
  await client.next('session.created');
  client.send('session.update', { session: { type: 'realtime', ...session } });
  return client.next('session.updated');
}

describe('handshake and session', () => {
  it('GA: session.created in the GA shape, session.type required, fields merged into session.updated', async () => {
    const { srv, client } = await setup({}, { Authorization: 'Bearer sk-test' });
    expect(client.ws.protocol).toBe('realtime');
    const created = await client.next('session.created');
    expect(client.msgs[0]?.type).toBe('session.created');
    const s = obj(created['session']);
    expect(s).toMatchObject({
      type: 'realtime',
      object: 'realtime.session',
      model: 'gpt-realtime',
      output_modalities: ['audio'],
      audio: { input: { format: { type: 'audio/pcm', rate: 24000 }, turn_detection: { type: 'server_vad' } } },
    });
    expect(String(s['id'])).toMatch(/^sess_/);
    expect(s['modalities']).toBeUndefined();
    expect(srv.handshakes[0]).toMatchObject({ status: 101, dialect: 'ga', conn: 0, protocols: ['realtime'] });
    expect(srv.handshakes[0]?.headers.authorization).toBe('Bearer sk-test');

    client.send('session.update', { event_id: 'evt_1', session: { instructions: 'hi' } });
    expect(await errorOf(client)).toMatchObject({ code: 'missing_required_parameter', param: 'session.type', event_id: 'evt_1' });

    const turn_detection = { type: 'server_vad', silence_duration_ms: 700 };
    client.send('session.update', {
      session: {
        type: 'realtime',
        instructions: 'Be brief.',
        input_audio_format: 'g711_ulaw',
        audio: { input: { turn_detection }, output: { voice: 'cedar' } },
      },
    });
    const updated = obj((await client.next('session.updated'))['session']);
    expect(updated).toMatchObject({
      instructions: 'Be brief.',
      audio: {
        output: { voice: 'cedar', format: { type: 'audio/pcm' } },
        input: { format: { type: 'audio/pcm' }, turn_detection: { silence_duration_ms: 700, threshold: 0.5, interrupt_response: true } },
      },
    });
    expect(updated['input_audio_format']).toBeUndefined();
    expect(srv.conn().ignoredSessionFields).toEqual(['input_audio_format']);
    expect((await srv.waitFor('session.update')).event['event_id']).toBe('evt_1');
  });

  it('beta (header): session.created + conversation.created, flat shape, session.type rejected', async () => {
    const { srv, client } = await setup({}, { 'OpenAI-Beta': 'realtime=v1' });
    const [created, conv] = await client.through('conversation.created');
    expect(created?.type).toBe('session.created');
    expect(obj(conv?.['conversation'])['object']).toBe('realtime.conversation');
    expect(obj(created?.['session'])).toMatchObject({ modalities: ['text', 'audio'], input_audio_format: 'pcm16', voice: 'alloy' });
    expect(obj(created?.['session'])['type']).toBeUndefined();
    client.send('session.update', { session: { type: 'realtime', instructions: 'x' } });
    expect((await client.next('error'))['error']).toMatchObject({ code: 'unknown_parameter', param: 'session.type' });
    client.send('session.update', { session: { voice: 'verse', turn_detection: null, temperature: 0.7 } });
    expect(obj((await client.next('session.updated'))['session'])).toMatchObject({
      voice: 'verse',
      turn_detection: null,
      temperature: 0.7,
      input_audio_format: 'pcm16',
    });
    expect(srv.handshakes[0]?.dialect).toBe('beta');
  });

  it('beta by subprotocol; overrideEffective makes the server ignore a field', async () => {
    const overrideEffective = (s: JsonObject): JsonObject => ({ ...s, voice: 'alloy' });
    const { client } = await setup({ overrideEffective }, {}, ['realtime', 'openai-beta.realtime-v1']);
    await client.next('conversation.created');
    client.send('session.update', { session: { voice: 'echo', instructions: 'x' } });
    expect(obj((await client.next('session.updated'))['session'])).toMatchObject({ voice: 'alloy', instructions: 'x' });
  });

  it('apiKey: 401 with an OpenAI JSON body for a missing or wrong key; header or subprotocol accepted', async () => {
    server = await FakeRealtimeServer.start({ apiKey: 'sk-right-key-1234' });
    const missing = await rejected(server.url);
    expect(missing.status).toBe(401);
    expect(obj(missing.body['error'])).toMatchObject({ type: 'invalid_request_error', code: null });
    const wrong = await rejected(server.url, { Authorization: 'Bearer sk-wrong-key-9999' });
    expect(wrong.status).toBe(401);
    expect(obj(wrong.body['error'])['code']).toBe('invalid_api_key');
    expect(String(obj(wrong.body['error'])['message'])).not.toContain('sk-wrong-key-9999');
    const headers = { Authorization: 'Bearer sk-right-key-1234' };
    clients.push(await Client.open(server.url, ['realtime'], { headers }));
    clients.push(await Client.open(server.url, ['realtime', 'openai-insecure-api-key.sk-right-key-1234']));
    expect(server.handshakes.map((h) => h.status)).toEqual([401, 401, 101, 101]);
    expect(server.connections).toBe(2);
  });

  it.each([403, 429, 500])('rejectStatus %i is visible to the client with a JSON body', async (status) => {
    server = await FakeRealtimeServer.start({ rejectStatus: status });
    const r = await rejected(server.url);
    expect(r.status).toBe(status);
    expect(obj(r.body['error'])['message']).toEqual(expect.any(String));
    expect(server.connections).toBe(0);
  });

  it('TLS: wss:// with a self-signed certificate trusted through `ca`, refused without it', async () => {
    const { key, cert } = makeSelfSignedCert();
    server = await FakeRealtimeServer.start({ tls: { key, cert } });
    expect(server.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/v1\/realtime$/);
    await expect(Client.open(server.url)).rejects.toThrow(/self[- ]signed/i);
    const client = await Client.open(server.url, ['realtime'], { ca: cert });
    clients.push(client);
    expect((await client.next('session.created')).type).toBe('session.created');
  });
});

const GA_TAIL = [
  'response.output_audio.done',
  'response.output_audio_transcript.done',
  'response.content_part.done',
  'response.output_item.done',
  'conversation.item.done',
  'response.done',
];

describe('responses', () => {
  it('GA: response.create gets the canonical sequence; audio arrives intact', async () => {
    const { client } = await setup();
    await gaSession(client);
    client.send('response.create');
    const seq = await client.through('response.done');
    const types = seq.map((m) => m.type);
    expect(types.slice(0, 5)).toEqual([
      'response.created',
      'rate_limits.updated',
      'response.output_item.added',
      'conversation.item.added',
      'response.content_part.added',
    ]);
    expect(types.slice(-6)).toEqual(GA_TAIL);
    const deltas = seq.filter((m) => m.type === 'response.output_audio.delta');
    expect(deltas.length).toBe(8); // 300 ms in 40 ms chunks
    const pcm = Buffer.concat(deltas.map((d) => Buffer.from(String(d['delta']), 'base64')));
    expect(bytesToPcm(pcm)).toEqual(tone(300));
    expect(seq.find((m) => m.type === 'response.output_audio_transcript.done')?.['transcript']).toBe('ok');
    const done = obj(seq[seq.length - 1]?.['response']);
    expect(done).toMatchObject({
      status: 'completed',
      output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_audio', transcript: 'ok' }] }],
    });
    expect(obj(done['usage'])['total_tokens']).toEqual(expect.any(Number));
  });

  it('beta: the same sequence with beta names', async () => {
    const { srv, client } = await setup({}, { 'OpenAI-Beta': 'realtime=v1' });
    await client.next('conversation.created');
    const r = await srv.sendResponse({ audio: tone(100), chunkMs: 20, transcript: 'hello there' });
    expect(r.status).toBe('completed');
    const types = (await client.through('response.done')).map((m) => m.type);
    expect(types).toContain('conversation.item.created');
    expect(types).not.toContain('conversation.item.done');
    expect(types.filter((t) => t === 'response.audio.delta').length).toBe(5);
    expect(types.filter((t) => t === 'response.audio_transcript.delta').length).toBe(2);
    expect(types.slice(-5)).toEqual([
      'response.audio.done',
      'response.audio_transcript.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.done',
    ]);
  });

  it('single active response: a second response.create is refused until response.done', async () => {
    const { srv, client } = await setup();
    await gaSession(client);
    const held = await srv.sendResponse({ audio: tone(200), transcript: 'wait', holdDone: true });
    expect(held.status).toBe('held');
    expect(srv.activeResponse).toMatchObject({ responseId: held.responseId, held: true, generatedMs: 200 });
    client.send('response.create', { event_id: 'evt_2' });
    const err = await errorOf(client);
    expect(err).toMatchObject({ code: 'conversation_already_has_active_response', event_id: 'evt_2' });
    expect(String(err['message'])).toContain(held.responseId);
    await expect(srv.sendResponse({ audio: tone(10) })).rejects.toThrow(/still active/);
    expect(client.msgs.some((m) => m.type === 'response.done')).toBe(false);
    expect(srv.finishResponse()).toBe(true);
    expect(obj((await client.next('response.done'))['response'])['status']).toBe('completed');
    client.send('response.create');
    expect((await client.next('response.created')).type).toBe('response.created');
  });

  it('truncate: accepted within the generated audio, refused beyond it, every request recorded', async () => {
    const { srv, client } = await setup();
    await gaSession(client);
    const { itemId } = await srv.sendResponse({ audio: tone(500) });
    await client.next('response.done');
    client.send('conversation.item.truncate', { item_id: itemId, content_index: 0, audio_end_ms: 600 });
    expect((await errorOf(client))['message']).toBe('Audio content of 500ms is already shorter than 600ms');
    client.send('conversation.item.truncate', { item_id: itemId, content_index: 0, audio_end_ms: 200 });
    expect(await client.next('conversation.item.truncated')).toMatchObject({ item_id: itemId, audio_end_ms: 200 });
    client.send('conversation.item.truncate', { item_id: itemId, content_index: 0, audio_end_ms: 300 });
    expect((await errorOf(client))['message']).toBe('Audio content of 200ms is already shorter than 300ms');
    client.send('conversation.item.truncate', { item_id: itemId, content_index: 0, audio_end_ms: 12.5 });
    expect((await errorOf(client))['code']).toBe('invalid_type');
    expect(srv.truncates.map((t) => [t.audioEndMs, t.generatedMs, t.accepted])).toEqual([
      [600, 500, false],
      [200, 500, true],
      [300, 200, false],
      [12.5, 200, false],
    ]);
  });

  it('barge-in: speech_started cancels the reply mid-stream (incomplete items, cancelled/turn_detected)', async () => {
    const { srv, client } = await setup();
    await gaSession(client);
    const pending = srv.sendResponse({ audio: tone(2000), transcript: 'a long answer', interval: 5 });
    await client.until(() => client.msgs.filter((m) => m.type === 'response.output_audio.delta').length >= 3, 'deltas');
    const { itemId, cancelledResponseId } = srv.speechStarted();
    const result = await pending;
    expect(result.status).toBe('cancelled');
    expect(cancelledResponseId).toBe(result.responseId);
    await client.next('input_audio_buffer.speech_started');
    const after = await client.through('response.done');
    expect(after.map((m) => m.type)).toEqual(GA_TAIL);
    expect(obj(after[3]?.['item'])['status']).toBe('incomplete');
    expect(obj(after[5]?.['response'])).toMatchObject({ status: 'cancelled', status_details: { type: 'cancelled', reason: 'turn_detected' } });
    await new Promise((r) => setTimeout(r, 50));
    expect(client.msgs[client.msgs.length - 1]?.type).toBe('response.done');
    expect(srv.cancels).toEqual([{ conn: 0, source: 'turn_detected', requestedId: null, cancelledId: result.responseId }]);
    expect(itemId).toMatch(/^item_/);
  });

  it('barge-in with interrupt_response:false leaves the reply running; response.cancel ends it', async () => {
    const { srv, client } = await setup();
    const turn_detection = { type: 'server_vad', interrupt_response: false };
    await gaSession(client, { audio: { input: { turn_detection } } });
    client.send('response.cancel');
    expect((await errorOf(client))['code']).toBe('response_cancel_not_active');
    const r = await srv.sendResponse({ audio: tone(100), holdDone: true });
    expect(srv.speechStarted().cancelledResponseId).toBeNull();
    client.send('response.cancel');
    const done = obj((await client.next('response.done'))['response']);
    expect(done).toMatchObject({ id: r.responseId, status: 'cancelled', status_details: { reason: 'client_cancelled' } });
    expect(srv.cancels.map((c) => c.cancelledId)).toEqual([null, r.responseId]);
  });

  it('tool call, then function_call_output checked against known call ids', async () => {
    const { srv, client } = await setup();
    await gaSession(client);
    const call = srv.toolCall({ name: 'get_weather', arguments: { city: 'Oslo' } });
    const seq = await client.through('response.done');
    const done = seq.find((m) => m.type === 'response.function_call_arguments.done');
    expect(done).toMatchObject({ call_id: call.callId, name: 'get_weather', arguments: '{"city":"Oslo"}' });
    const output = (call_id: string): JsonObject => ({ item: { type: 'function_call_output', call_id, output: '{}' } });
    client.send('conversation.item.create', output('call_nope'));
    expect((await errorOf(client))['code']).toBe('invalid_value');
    client.send('conversation.item.create', output(call.callId));
    const added = obj((await client.next('conversation.item.added'))['item']);
    expect(added).toMatchObject({ type: 'function_call_output', call_id: call.callId });
    await client.next('conversation.item.done');
  });
});

describe('input audio and user turns', () => {
  it('records appended PCM; commit needs 100 ms; VAD and transcript events', async () => {
    const { srv, client } = await setup();
    await gaSession(client);
    const a = tone(50, 300);
    const b = tone(100, 600);
    client.send('input_audio_buffer.append', { audio: pcmToBase64(a) });
    client.send('input_audio_buffer.commit');
    expect((await errorOf(client))['code']).toBe('input_audio_buffer_commit_empty');
    client.send('input_audio_buffer.append', { audio: pcmToBase64(b) });
    client.send('input_audio_buffer.commit');
    const committed = await client.next('input_audio_buffer.committed');
    const user = obj((await client.next('conversation.item.added'))['item']);
    expect(user).toMatchObject({ id: committed['item_id'], role: 'user' });
    await client.next('conversation.item.done');
    expect(srv.audioReceived[0]).toEqual(Int16Array.from([...a, ...b]));
    expect(srv.received.filter((m) => m.type === 'input_audio_buffer.append')).toHaveLength(2);

    const started = srv.speechStarted();
    const speech = await client.next('input_audio_buffer.speech_started');
    expect(speech).toMatchObject({ item_id: started.itemId, audio_start_ms: 150 });
    srv.speechStopped({ audioEndMs: 900 });
    const stopped = await client.next('input_audio_buffer.speech_stopped');
    expect(stopped).toMatchObject({ item_id: started.itemId, audio_end_ms: 900 });
    expect(srv.commitUserTurn()).toBe(started.itemId);
    srv.userTranscript(started.itemId, 'turn on the light', { delta: true });
    const tail = await client.through('conversation.item.input_audio_transcription.completed');
    expect(
      tail
        .filter((m) => m.type.endsWith('.delta'))
        .map((m) => m['delta'])
        .join(''),
    ).toBe('turn on the light');
    expect(tail[tail.length - 1]?.['transcript']).toBe('turn on the light');
  });

  it('unknown event types and malformed JSON get errors; the session stays open', async () => {
    const { client } = await setup();
    await gaSession(client);
    client.send('response.frobnicate');
    expect(await errorOf(client)).toMatchObject({ code: 'invalid_value', param: 'type' });
    client.ws.send('{not json');
    expect((await errorOf(client))['code']).toBe('invalid_json');
    client.send('input_audio_buffer.clear');
    expect((await client.next('input_audio_buffer.cleared')).type).toBe('input_audio_buffer.cleared');
  });
});

describe('failures', () => {
  it('expireSession: session_expired error, then close 1001 with the same reason', async () => {
    const { srv, client } = await setup();
    await client.next('session.created');
    srv.expireSession();
    const message = 'Your session hit the maximum duration of 60 minutes.';
    expect(await errorOf(client)).toMatchObject({ code: 'session_expired', message });
    await client.until(() => client.closed !== null, 'close');
    expect(client.closed).toEqual({ code: 1001, reason: 'Your session hit the maximum duration of 60 minutes.' });
    expect((await srv.waitForClose()).code).toBe(1001);
  });

  it('dropTcp: the client sees 1006 (no close frame)', async () => {
    const { srv, client } = await setup();
    await client.next('session.created');
    srv.dropTcp();
    await client.until(() => client.closed !== null, 'close');
    expect(client.closed?.code).toBe(1006);
  });

  it('stall: pings and events go unanswered until resumed', async () => {
    const { srv, client } = await setup();
    await client.next('session.created');
    let pongs = 0;
    client.ws.on('pong', () => pongs++);
    client.ws.ping();
    await client.until(() => pongs === 1, 'first pong');
    srv.stall(true);
    client.ws.ping();
    srv.sendError('test_code', 'held back');
    await new Promise((r) => setTimeout(r, 300));
    expect(pongs).toBe(1);
    expect(client.msgs.some((m) => m.type === 'error')).toBe(false);
    srv.stall(false);
    await client.until(() => pongs === 2, 'pong after resume');
    expect((await errorOf(client))['code']).toBe('test_code');
  });

  it('sendOversize: one valid JSON message of exactly that size; a smaller client maxPayload fails', async () => {
    const { srv, client } = await setup();
    await client.next('session.created');
    srv.sendOversize(2_000_001);
    const m = await client.next('response.output_audio.delta');
    expect(client.sizes[client.sizes.length - 1]).toBe(2_000_001);
    expect(String(m['delta']).length % 4).toBe(0);
    const small = await Client.open(srv.url, ['realtime'], { maxPayload: 1 << 20 });
    clients.push(small);
    await small.next('session.created');
    srv.sendOversize(2 << 20);
    await small.until(() => small.closed !== null, 'close');
    // ws: the error carries the code, the client sends close 1009 but reports 1006 (it stops reading).
    const codes = small.errors.map((e) => (e as Error & { code?: string }).code);
    expect(codes).toEqual(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
    expect(small.closed?.code).toBe(1006);
  });

  it('sendRaw passes frames through verbatim; server maxPayload closes an oversized client message', async () => {
    const { srv, client } = await setup({ maxPayload: 64 * 1024 });
    await client.next('session.created');
    let raw = '';
    client.ws.once('message', (d) => (raw = d.toString()));
    srv.sendRaw('{"type":"response.output_audio.delta","delta":');
    await new Promise((r) => setTimeout(r, 50));
    expect(raw).toBe('{"type":"response.output_audio.delta","delta":');
    client.ws.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: pcmToBase64(tone(2000)) }));
    await client.until(() => client.closed !== null, 'close');
    expect(client.closed?.code).toBe(1009);
  });
});

describe('xai dialect (Grok voice, protocols.md section 6)', () => {
  /** A client of a server forced to the xAI dialect, with the session configured (default: nothing changed). */
  async function xai(session?: JsonObject): Promise<{ srv: FakeRealtimeServer; client: Client }> {
    const srv = (server = await FakeRealtimeServer.start({ dialect: 'xai', apiKey: 'xai-key' }));
    const client = await Client.open(srv.url, ['realtime'], { headers: { Authorization: 'Bearer xai-key' } });
    clients.push(client);
    await client.next('conversation.created');
    if (session) {
      client.send('session.update', { session });
      await client.next('session.updated');
    }
    return { srv, client };
  }

  it('conversation.created is the first and only event; session.updated has the flat fields with GA audio', async () => {
    const { srv, client } = await xai();
    await new Promise((r) => setTimeout(r, 50));
    expect(client.msgs.map((m) => m.type)).toEqual(['conversation.created']);
    expect(obj(client.msgs[0]?.['conversation'])).toMatchObject({ object: 'realtime.conversation' });
    expect(srv.handshakes[0]).toMatchObject({ status: 101, dialect: 'xai' });
    client.send('session.update', {
      event_id: 'evt_x',
      session: {
        voice: 'rex',
        instructions: 'Be brief.',
        turn_detection: { type: 'server_vad', silence_duration_ms: 700 },
        audio: {
          input: { format: { type: 'audio/pcm', rate: 16000 }, transcription: { language_hint: 'en' } },
          output: { format: { type: 'audio/pcm', rate: 24000 }, speed: 1.1 },
        },
        tools: [{ type: 'function', name: 'f', description: 'd', parameters: {} }],
        temperature: 0.7,
      },
    });
    const updated = obj((await client.next('session.updated'))['session']);
    expect(updated).toMatchObject({
      model: 'grok-voice-latest',
      voice: 'rex',
      instructions: 'Be brief.',
      turn_detection: { type: 'server_vad', threshold: 0.85, prefix_padding_ms: 333, silence_duration_ms: 700 },
      audio: {
        input: { format: { type: 'audio/pcm', rate: 16000 }, transcription: { language_hint: 'en' } },
        output: { format: { type: 'audio/pcm', rate: 24000 }, speed: 1.1 },
      },
    });
    expect(updated['type']).toBeUndefined();
    expect(updated['temperature']).toBeUndefined();
    expect(srv.conn().ignoredSessionFields).toEqual(['temperature']);
    expect(client.msgs.some((m) => m.type === 'session.created')).toBe(false);
  });

  it.each([
    [{ type: 'realtime' }, 'unknown_parameter', 'session.type'],
    [{ audio: { output: { voice: 'marin' } } }, 'unknown_parameter', 'session.audio.output.voice'],
    [{ audio: { input: { turn_detection: { type: 'server_vad' } } } }, 'unknown_parameter', 'session.audio.input.turn_detection'],
    [{ audio: { input: { noise_reduction: { type: 'far_field' } } } }, 'unknown_parameter', 'session.audio.input.noise_reduction'],
    [{ audio: { input: { transcription: { model: 'whisper-1' } } } }, 'unknown_parameter', 'session.audio.input.transcription.model'],
    [{ input_audio_format: 'pcm16' }, 'unknown_parameter', 'session.input_audio_format'],
    [{ input_audio_transcription: { model: 'whisper-1' } }, 'unknown_parameter', 'session.input_audio_transcription'],
    [{ turn_detection: { type: 'semantic_vad' } }, 'invalid_value', 'session.turn_detection.type'],
    [{ voice: { id: 'voice_1' } }, 'invalid_type', 'session.voice'],
    [{ audio: { input: { format: { type: 'audio/pcm', rate: 12345 } } } }, 'invalid_value', 'session.audio.input.format.rate'],
    [{ audio: { output: { format: { type: 'pcm16' } } } }, 'invalid_value', 'session.audio.output.format.type'],
  ])('session.update %j is refused (%s %s) and changes nothing', async (session, code, param) => {
    const { srv, client } = await xai();
    const before = srv.session;
    client.send('session.update', { event_id: 'evt_bad', session });
    expect(await errorOf(client)).toMatchObject({ code, param, event_id: 'evt_bad' });
    expect(srv.session).toEqual(before);
    client.send('session.update', { session: { voice: 'ara' } });
    expect(obj((await client.next('session.updated'))['session'])['voice']).toBe('ara');
  });

  it('responses use the GA event names and item shapes; response.done also carries the usage at the top', async () => {
    const { client } = await xai({ voice: 'eve' });
    client.send('response.create');
    const seq = await client.through('response.done');
    const types = seq.map((m) => m.type);
    expect(types.slice(0, 5)).toEqual([
      'response.created',
      'rate_limits.updated',
      'response.output_item.added',
      'conversation.item.added',
      'response.content_part.added',
    ]);
    expect(types.slice(-6)).toEqual(GA_TAIL);
    expect(types.filter((t) => t === 'response.output_audio.delta').length).toBe(8);
    expect(types.some((t) => t.startsWith('response.audio'))).toBe(false);
    const done = seq[seq.length - 1] as Msg;
    expect(obj(done['response'])).toMatchObject({
      status: 'completed',
      output: [{ content: [{ type: 'output_audio', transcript: 'ok' }] }],
      audio: { output: { voice: 'eve', format: { type: 'audio/pcm', rate: 24000 } } },
    });
    expect(obj(done['usage'])['total_tokens']).toEqual(expect.any(Number));
    expect(done['usage']).toEqual(obj(done['response'])['usage']);
  });

  it('conversation.item.truncate is an unknown event: error, recorded as not accepted, session stays open', async () => {
    const { srv, client } = await xai({});
    const { itemId } = await srv.sendResponse({ audio: tone(500) });
    await client.next('response.done');
    client.send('conversation.item.truncate', { event_id: 'evt_t', item_id: itemId, content_index: 0, audio_end_ms: 200 });
    const err = await errorOf(client);
    expect(err).toMatchObject({ code: 'invalid_value', param: 'type', event_id: 'evt_t' });
    expect(String(err['message'])).toContain("'conversation.item.truncate'");
    expect(String(err['message'])).not.toContain("'conversation.item.truncate',");
    expect(srv.truncates).toEqual([{ conn: 0, itemId, contentIndex: 0, audioEndMs: 200, generatedMs: 500, accepted: false }]);
    client.send('output_audio_buffer.clear', { event_id: 'evt_c' });
    expect(await errorOf(client)).toMatchObject({ code: 'invalid_value', param: 'type', event_id: 'evt_c' });
    await new Promise((r) => setTimeout(r, 50));
    expect(client.msgs.some((m) => m.type === 'conversation.item.truncated')).toBe(false);
    client.send('response.create');
    await client.next('response.done');
    expect(client.closed).toBeNull();
  });

  it('barge-in: speech_started cancels the reply (turn_detected); not with interrupt_response:false', async () => {
    const { srv, client } = await xai({});
    const pending = srv.sendResponse({ audio: tone(2000), interval: 5 });
    await client.until(() => client.msgs.filter((m) => m.type === 'response.output_audio.delta').length >= 3, 'deltas');
    const { cancelledResponseId } = srv.speechStarted();
    const result = await pending;
    expect(result.status).toBe('cancelled');
    expect(cancelledResponseId).toBe(result.responseId);
    const after = await client.through('response.done');
    expect(obj(after[after.length - 1]?.['response'])).toMatchObject({ status: 'cancelled', status_details: { reason: 'turn_detected' } });
    client.send('session.update', { session: { turn_detection: { type: 'server_vad', interrupt_response: false } } });
    await client.next('session.updated');
    await srv.sendResponse({ audio: tone(100), holdDone: true });
    expect(srv.speechStarted().cancelledResponseId).toBeNull();
    expect(srv.finishResponse()).toBe(true);
  });

  it('input audio at the configured rate (commit needs 100 ms), push-to-talk with turn_detection null, ping', async () => {
    const { srv, client } = await xai({ turn_detection: null, audio: { input: { format: { type: 'audio/pcm', rate: 16000 } } } });
    expect(srv.session['turn_detection']).toBeNull();
    client.send('input_audio_buffer.append', { audio: pcmToBase64(tone(90, 440, 8000, 16000)) });
    client.send('input_audio_buffer.commit', { event_id: 'evt_short' });
    expect(await errorOf(client)).toMatchObject({ code: 'input_audio_buffer_commit_empty', event_id: 'evt_short' });
    client.send('input_audio_buffer.append', { audio: pcmToBase64(tone(20, 440, 8000, 16000)) });
    client.send('input_audio_buffer.commit');
    const committed = await client.next('input_audio_buffer.committed');
    expect(obj((await client.next('conversation.item.added'))['item'])['id']).toBe(committed['item_id']);
    await client.next('conversation.item.done');
    srv.ping(1234);
    expect(await client.next('ping')).toMatchObject({ type: 'ping', timestamp: 1234 });
  });
});
