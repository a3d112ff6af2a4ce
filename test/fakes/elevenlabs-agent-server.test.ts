import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { FakeElevenLabsAgentServer, bytesToPcm, pcmToBase64, tone, type FakeElevenLabsAgentServerOptions, type JsonObject } from './elevenlabs-agent-server.js';

// Checks the fake ElevenLabs Agents server itself with a plain `ws` client over loopback.

type Msg = JsonObject & { type: string };

class Client {
  readonly msgs: Msg[] = [];
  closed: { code: number; reason: string } | null = null;
  /** Answer pings with pongs automatically (as every SDK does). */
  autoPong = true;
  private cursor = 0;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      let m: Msg;
      try {
        m = JSON.parse(data.toString()) as Msg;
      } catch {
        m = { type: '(unparsed)' };
      }
      this.msgs.push(m);
      if (m.type === 'ping' && this.autoPong) {
        this.send({ type: 'pong', event_id: (m['ping_event'] as JsonObject)['event_id'] ?? null });
      }
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on('error', () => undefined);
  }

  static open(url: string, protocols: string[] = ['convai']): Promise<Client> {
    const ws = new WebSocket(url, protocols);
    const c = new Client(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }

  send(m: JsonObject): void {
    this.ws.send(JSON.stringify(m));
  }

  async until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`client timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async through(type: string): Promise<Msg[]> {
    let at = -1;
    await this.until(() => (at = this.msgs.findIndex((m, i) => i >= this.cursor && m.type === type)) >= 0, type);
    const out = this.msgs.slice(this.cursor, at + 1);
    this.cursor = at + 1;
    return out;
  }

  async next(type: string): Promise<Msg> {
    const all = await this.through(type);
    return all[all.length - 1] as Msg;
  }

  async closedWith(): Promise<{ code: number; reason: string }> {
    await this.until(() => this.closed !== null, 'close');
    return this.closed as { code: number; reason: string };
  }
}

const obj = (v: unknown): JsonObject => v as JsonObject;
/** What the JS SDK sends when no override is set: empty groups only. */
const SDK_INIT = {
  type: 'conversation_initiation_client_data',
  conversation_config_override: { agent: {}, tts: {}, conversation: {} },
  source_info: { source: 'js_sdk', version: '1.25.0' },
};
let server: FakeElevenLabsAgentServer | undefined;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await server?.close();
  server = undefined;
});

async function start(opts: FakeElevenLabsAgentServerOptions = {}): Promise<FakeElevenLabsAgentServer> {
  server = await FakeElevenLabsAgentServer.start(opts);
  return server;
}
async function open(url: string, protocols?: string[]): Promise<Client> {
  const c = await Client.open(url, protocols);
  clients.push(c);
  return c;
}
async function ready(srv: FakeElevenLabsAgentServer, init: JsonObject = SDK_INIT, url = srv.agentUrl()): Promise<{ c: Client; meta: JsonObject }> {
  const c = await open(`${url}&source=js_sdk&version=1.25.0`);
  c.send(init);
  const meta = obj((await c.next('conversation_initiation_metadata'))['conversation_initiation_metadata_event']);
  return { c, meta };
}

describe('handshake, auth and initiation', () => {
  it('metadata announces the configured formats; convai subprotocol selected; initiation recorded', async () => {
    const srv = await start({ inputFormat: 'pcm_16000', outputFormat: 'pcm_24000' });
    const { c, meta } = await ready(srv);
    expect(c.ws.protocol).toBe('convai');
    expect(c.msgs[0]?.type).toBe('conversation_initiation_metadata');
    expect(meta).toEqual({ conversation_id: expect.stringMatching(/^conv_/), agent_output_audio_format: 'pcm_24000', user_input_audio_format: 'pcm_16000' });
    expect(srv.conn().initiation).toMatchObject({ source_info: { source: 'js_sdk' } });
    expect(srv.handshakes[0]?.url).toContain('agent_id=agent_test');
  });

  it('a first message other than conversation_initiation_client_data closes 1008', async () => {
    const srv = await start();
    const c = await open(srv.agentUrl());
    c.send({ user_audio_chunk: pcmToBase64(tone(20, 16000)) });
    expect((await c.closedWith()).code).toBe(1008);
    expect(c.msgs).toEqual([]);
  });

  it('no initiation within initiationTimeoutMs closes 1008', async () => {
    const srv = await start({ initiationTimeoutMs: 50 });
    const c = await open(srv.agentUrl());
    expect((await c.closedWith()).code).toBe(1008);
  });

  it('overrides: a disallowed one gets error{override_error} and close 1008; an allowed one passes', async () => {
    const srv = await start({ allowedOverrides: ['agent.first_message', 'tts.voice_id'] });
    const denied = await open(srv.agentUrl());
    denied.send({ ...SDK_INIT, conversation_config_override: { agent: { prompt: { prompt: 'Be a pirate' } } } });
    const err = obj((await denied.next('error'))['error_event']);
    expect(err).toMatchObject({ code: 1008, error_type: 'override_error' });
    expect(String(err['message'])).toContain('agent.prompt.prompt');
    expect((await denied.closedWith()).code).toBe(1008);
    await ready(srv, { ...SDK_INIT, conversation_config_override: { agent: { first_message: 'Hi' }, tts: { voice_id: 'v1' } } });
  });

  it('unknown agent id closes 1008', async () => {
    const srv = await start();
    const c = await open(srv.agentUrl('agent_other'));
    expect((await c.closedWith()).code).toBe(1008);
  });

  it('private agent: signed URL (expiry, single use) or bearer subprotocol; nothing else', async () => {
    const srv = await start({ private: true, authorizationTokens: ['tok123'] });
    const bare = await open(srv.agentUrl());
    expect((await bare.closedWith()).code).toBe(1008);
    const signed = srv.signedUrl();
    expect(signed).toMatch(/[?&]agent_id=agent_test&conversation_signature=cvtkn_/);
    await ready(srv, SDK_INIT, signed);
    await ready(srv, SDK_INIT, signed); // reusable unless single-use
    const once = srv.signedUrl({ singleUse: true });
    await ready(srv, SDK_INIT, once);
    expect((await (await open(once)).closedWith()).code).toBe(1008);
    const expired = srv.signedUrl({ ttlMs: 1 });
    await new Promise((r) => setTimeout(r, 10));
    expect((await (await open(expired)).closedWith()).code).toBe(1008);
    const bearer = await open(srv.agentUrl(), ['convai', 'bearer.tok123']);
    bearer.send(SDK_INIT);
    await bearer.next('conversation_initiation_metadata');
  });
});

describe('audio, keepalive and turns', () => {
  it('records base64 PCM from user_audio_chunk (no type field); counts invalid base64', async () => {
    const srv = await start();
    const { c } = await ready(srv);
    const a = tone(250, 16000, 300);
    c.send({ user_audio_chunk: pcmToBase64(a) });
    c.send({ user_audio_chunk: 'not base64!' });
    await srv.waitFor('user_audio_chunk');
    await srv.waitFor('user_audio_chunk');
    expect(srv.audioReceived[0]).toEqual(a);
    expect(srv.conn().invalidAudioChunks).toBe(1);
  });

  it('pings are answered by pong with the same event_id: the socket stays open; ping_ms reported', async () => {
    const srv = await start({ pingIntervalMs: 30, pongTimeoutMs: 100 });
    const { c } = await ready(srv);
    await c.until(() => c.msgs.filter((m) => m.type === 'ping').length >= 4, 'pings', 2000);
    expect(c.closed).toBeNull();
    const pings = c.msgs.filter((m) => m.type === 'ping').map((m) => obj(m['ping_event']));
    expect(pings[0]?.['ping_ms']).toBeNull();
    expect(pings[3]?.['ping_ms']).toEqual(expect.any(Number));
    expect(
      srv
        .conn()
        .pings.slice(0, 3)
        .every((p) => p.answeredAt !== null),
    ).toBe(true);
  });

  it('a ping without pong (or with the wrong event_id) closes the socket', async () => {
    const srv = await start({ pingIntervalMs: 30, pongTimeoutMs: 80 });
    const { c } = await ready(srv);
    c.autoPong = false;
    c.ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as Msg;
      if (m.type === 'ping') c.send({ type: 'pong', event_id: 999999 });
    });
    expect(await c.closedWith()).toEqual({ code: 1008, reason: 'Ping not answered with pong' });
  });

  it('agent turn: agent_response, parts, then audio events sharing one growing event_id', async () => {
    const srv = await start({ outputFormat: 'pcm_24000', pingIntervalMs: 0 });
    const { c } = await ready(srv);
    const r1 = await srv.agentResponse({ audio: tone(300, 24000), text: 'Hello there', parts: true });
    expect(r1).toMatchObject({ status: 'completed', chunks: 3 });
    await c.until(() => c.msgs.filter((m) => m.type === 'audio').length === 3, 'audio');
    const types = c.msgs.slice(1).map((m) => m.type);
    expect(types).toEqual([
      'agent_chat_response_part',
      'agent_chat_response_part',
      'agent_chat_response_part',
      'agent_chat_response_part',
      'agent_response',
      'audio',
      'audio',
      'audio',
    ]);
    const audio = c.msgs.filter((m) => m.type === 'audio').map((m) => obj(m['audio_event']));
    expect(audio.every((a) => a['event_id'] === r1.eventId)).toBe(true);
    const pcm = bytesToPcm(Buffer.concat(audio.map((a) => Buffer.from(String(a['audio_base_64']), 'base64'))));
    expect(pcm).toEqual(tone(300, 24000));
    const r2 = await srv.agentResponse({ audio: tone(100, 24000) });
    expect(r2.eventId).toBeGreaterThan(r1.eventId);
  });

  it('barge-in: interruption{event_id} above every audio id, no audio after it, correction of the text', async () => {
    const srv = await start({ pingIntervalMs: 0 });
    const { c } = await ready(srv);
    const pending = srv.agentResponse({ audio: tone(3000, 16000), text: 'one two three four five six seven eight', chunkMs: 100, interval: 5 });
    await c.until(() => c.msgs.filter((m) => m.type === 'audio').length >= 5, 'audio');
    const { eventId, interruptedEventId } = srv.interrupt({ correction: true });
    const r = await pending;
    expect(r.status).toBe('interrupted');
    expect(interruptedEventId).toBe(r.eventId);
    expect(eventId).toBeGreaterThan(r.eventId);
    const seq = await c.through('agent_response_correction');
    expect(seq.slice(-2).map((m) => m.type)).toEqual(['interruption', 'agent_response_correction']);
    expect(obj(seq[seq.length - 2]?.['interruption_event'])).toEqual({ event_id: eventId });
    const corr = obj(seq[seq.length - 1]?.['agent_response_correction_event']);
    expect(corr['original_agent_response']).toBe('one two three four five six seven eight');
    expect(String(corr['corrected_agent_response']).length).toBeLessThan(39);
    await new Promise((r2) => setTimeout(r2, 50));
    const afterIdx = c.msgs.findIndex((m) => m.type === 'interruption');
    expect(c.msgs.slice(afterIdx).some((m) => m.type === 'audio')).toBe(false);
    const next = await srv.agentResponse({ audio: tone(100, 16000) });
    expect(next.eventId).toBeGreaterThan(eventId);
  });

  it('transcripts, client tool call round trip, user_message hook', async () => {
    const srv = await start({ pingIntervalMs: 0, onUserMessage: (conn, m) => conn.agentResponse({ text: `echo ${String(m['text'])}` }) });
    const { c } = await ready(srv);
    const t1 = srv.userTranscript('turn on', { tentative: true });
    const t2 = srv.userTranscript('turn on the light');
    expect(obj((await c.next('tentative_user_transcript'))['tentative_user_transcription_event'])).toEqual({ user_transcript: 'turn on', event_id: t1 });
    expect(obj((await c.next('user_transcript'))['user_transcription_event'])).toEqual({ user_transcript: 'turn on the light', event_id: t2 });
    const id = srv.clientToolCall({ name: 'set_light', parameters: { on: true } });
    const call = obj((await c.next('client_tool_call'))['client_tool_call']);
    expect(call).toMatchObject({ tool_name: 'set_light', tool_call_id: id, parameters: { on: true } });
    c.send({ type: 'client_tool_result', tool_call_id: id, result: 'done', is_error: false });
    expect(await srv.conn().waitForToolResult(id)).toMatchObject({ result: 'done', isError: false, matched: true });
    c.send({ type: 'user_message', text: 'hi' });
    expect(obj((await c.next('agent_response'))['agent_response_event'])['agent_response']).toBe('echo hi');
  });

  it('clientEvents filters what reaches the client (no interruption → no barge-in signal)', async () => {
    const srv = await start({ pingIntervalMs: 0, clientEvents: ['audio', 'agent_response', 'conversation_initiation_metadata'] });
    const { c } = await ready(srv);
    srv.interrupt();
    srv.userTranscript('x');
    await srv.agentResponse({ text: 'y' });
    await c.next('agent_response');
    expect(c.msgs.map((m) => m.type)).toEqual(['conversation_initiation_metadata', 'agent_response']);
  });
});

describe('errors and failures', () => {
  it('max duration: error{max_duration_exceeded} then close 1000; endCall closes 1000', async () => {
    const srv = await start({ pingIntervalMs: 0 });
    const { c } = await ready(srv);
    srv.maxDurationExceeded();
    expect(obj((await c.next('error'))['error_event'])).toMatchObject({ code: 1000, error_type: 'max_duration_exceeded' });
    expect((await c.closedWith()).code).toBe(1000);
    const d = (await ready(srv)).c;
    srv.endCall();
    expect((await d.closedWith()).code).toBe(1000);
  });

  it('malformed JSON: error{invalid_message} and close 1002; an unknown type only gets an error', async () => {
    const srv = await start({ pingIntervalMs: 0 });
    const { c } = await ready(srv);
    c.send({ type: 'frobnicate' });
    expect(obj((await c.next('error'))['error_event'])).toMatchObject({ code: 1002, error_type: 'invalid_message' });
    expect(c.closed).toBeNull();
    c.ws.send('{nope');
    await c.next('error');
    expect((await c.closedWith()).code).toBe(1002);
  });

  it('dropTcp gives 1006; stall holds events; sendOversize is one valid message of that size', async () => {
    const srv = await start({ pingIntervalMs: 0 });
    const { c } = await ready(srv);
    srv.stall(true);
    srv.userTranscript('held');
    await new Promise((r) => setTimeout(r, 50));
    expect(c.msgs.some((m) => m.type === 'user_transcript')).toBe(false);
    srv.stall(false);
    await c.next('user_transcript');
    let size = 0;
    c.ws.once('message', (d) => (size = (d as Buffer).length));
    srv.sendOversize(500_001);
    await c.next('audio');
    expect(size).toBe(500_001);
    srv.dropTcp();
    expect((await c.closedWith()).code).toBe(1006);
  });
});
