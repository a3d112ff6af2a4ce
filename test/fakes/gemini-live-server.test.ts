import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { FakeGeminiLiveServer, bytesToPcm, pcmToBase64, tone, type FakeGeminiLiveServerOptions, type JsonObject } from './gemini-live-server.js';

// Checks the fake Gemini Live server itself with a plain `ws` client over loopback.

interface Msg {
  /** Top-level keys joined by ','. */
  kind: string;
  body: JsonObject;
  binary: boolean;
}

class Client {
  readonly msgs: Msg[] = [];
  readonly sizes: number[] = [];
  closed: { code: number; reason: string } | null = null;
  private cursor = 0;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      this.sizes.push(Buffer.byteLength(text));
      let body: JsonObject;
      try {
        body = JSON.parse(text) as JsonObject;
      } catch {
        body = { '(unparsed)': text };
      }
      this.msgs.push({ kind: Object.keys(body).join(','), body, binary: isBinary });
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on('error', () => undefined);
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<Client> {
    const ws = new WebSocket(url, { headers });
    const c = new Client(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }

  send(msg: JsonObject): void {
    this.ws.send(JSON.stringify(msg));
  }

  async until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`client timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Messages up to and including the next one that has key `key`. */
  async through(key: string, match: (m: Msg) => boolean = () => true): Promise<Msg[]> {
    let at = -1;
    const has = (m: Msg, i: number): boolean => i >= this.cursor && m.body[key] !== undefined && match(m);
    await this.until(() => (at = this.msgs.findIndex(has)) >= 0, key);
    const out = this.msgs.slice(this.cursor, at + 1);
    this.cursor = at + 1;
    return out;
  }

  async next(key: string, match?: (m: Msg) => boolean): Promise<Msg> {
    const all = await this.through(key, match);
    return all[all.length - 1] as Msg;
  }

  async closedWith(): Promise<{ code: number; reason: string }> {
    await this.until(() => this.closed !== null, 'close');
    return this.closed as { code: number; reason: string };
  }
}

const obj = (v: unknown): JsonObject => v as JsonObject;
const sc = (m: Msg): JsonObject => obj(m.body['serverContent']);
const MODEL = 'models/gemini-2.5-flash-native-audio-preview-12-2025';
let server: FakeGeminiLiveServer | undefined;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await server?.close();
  server = undefined;
});

async function start(opts: FakeGeminiLiveServerOptions = {}): Promise<FakeGeminiLiveServer> {
  server = await FakeGeminiLiveServer.start({ apiKey: 'AIza-test', ...opts });
  return server;
}
async function open(srv: FakeGeminiLiveServer, url = srv.urlWithKey('AIza-test')): Promise<Client> {
  const c = await Client.open(url);
  clients.push(c);
  return c;
}
async function ready(srv: FakeGeminiLiveServer, setup: JsonObject = {}, url?: string): Promise<Client> {
  const c = await open(srv, url);
  c.send({ setup: { model: MODEL, generationConfig: { responseModalities: ['AUDIO'] }, ...setup } });
  await c.next('setupComplete');
  return c;
}

describe('endpoint, auth and the setup-first rule', () => {
  it('setupComplete arrives in a binary frame carrying JSON; the setup is recorded', async () => {
    const srv = await start();
    expect(srv.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws\/google\.ai\.generativelanguage\.v1beta\.GenerativeService\.BidiGenerateContent$/);
    const c = await open(srv);
    c.send({ setup: { model: MODEL, generation_config: { responseModalities: ['AUDIO'] } } });
    const done = await c.next('setupComplete');
    expect(done.binary).toBe(true);
    expect(done.body).toEqual({ setupComplete: {} });
    expect(srv.conn().setup).toMatchObject({ model: MODEL, generationConfig: { responseModalities: ['AUDIO'] } });
    expect((await srv.waitFor('setup')).message).toHaveProperty('setup');
    expect(srv.handshakes[0]).toMatchObject({ status: 101, conn: 0 });
  });

  it('a missing or wrong key is accepted at HTTP level and then closed 1007 "API key not valid"', async () => {
    const srv = await start();
    const missing = await open(srv, srv.url);
    expect(await missing.closedWith()).toEqual({ code: 1007, reason: 'API key not valid. Please pass a valid API key.' });
    const wrong = await open(srv, srv.urlWithKey('nope'));
    expect((await wrong.closedWith()).code).toBe(1007);
    const header = await Client.open(srv.url, { 'x-goog-api-key': 'AIza-test' });
    clients.push(header);
    header.send({ setup: { model: MODEL } });
    await header.next('setupComplete');
  });

  it('an unknown path gets HTTP 404', async () => {
    const srv = await start();
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(srv.url.replace('BidiGenerateContent', 'Bidi'));
      ws.on('error', () => undefined);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    });
    expect(status).toBe(404);
  });

  it.each([
    ['realtimeInput before setup', { realtimeInput: { audio: { data: '', mimeType: 'audio/pcm;rate=16000' } } }, 1007],
    ['two top-level keys', { setup: { model: MODEL }, clientContent: {} }, 1007],
    ['unknown top-level key', { hello: {} }, 1007],
    ['setup without a model', { setup: {} }, 1007],
    ['two response modalities', { setup: { model: MODEL, generationConfig: { responseModalities: ['AUDIO', 'TEXT'] } } }, 1007],
  ])('%s closes with 1007/1008', async (_name, first, code) => {
    const srv = await start();
    const c = await open(srv);
    c.send(first as JsonObject);
    expect((await c.closedWith()).code).toBe(code);
    expect(c.msgs).toEqual([]);
  });

  it('an unknown setup field is named in the 1007 reason; an unknown model gets 1008', async () => {
    const srv = await start({ models: ['gemini-live-ok'] });
    const a = await open(srv);
    a.send({ setup: { model: 'models/gemini-live-ok', voice: 'Kore' } });
    expect(await a.closedWith()).toEqual({ code: 1007, reason: 'Invalid JSON payload received. Unknown name "voice" at \'setup\': Cannot find field.' });
    const b = await open(srv);
    b.send({ setup: { model: 'models/gemini-nope' } });
    const closed = await b.closedWith();
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/^models\/gemini-nope is not found for API version v1beta, or is not supported/);
    expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123);
  });

  it('a second setup and malformed JSON close 1007', async () => {
    const srv = await start();
    const c = await ready(srv);
    c.send({ setup: { model: MODEL } });
    expect((await c.closedWith()).code).toBe(1007);
    const d = await ready(srv);
    d.ws.send('{"realtimeInput":');
    expect((await d.closedWith()).code).toBe(1007);
    expect(srv.received.map((m) => m.type)).toEqual(['setup', 'setup', 'setup', '(invalid)']);
  });
});

describe('audio, turns and barge-in', () => {
  it('records 16 kHz input audio and its declared rate; a non-PCM mimeType closes 1007', async () => {
    const srv = await start();
    const c = await ready(srv);
    const a = tone(40, 16000, 300);
    const b = tone(20, 16000, 500);
    for (const pcm of [a, b]) c.send({ realtimeInput: { audio: { data: pcmToBase64(pcm), mimeType: 'audio/pcm;rate=16000' } } });
    c.send({ realtimeInput: { audioStreamEnd: true } });
    await srv.waitFor('realtimeInput', { match: (m) => obj(m.message['realtimeInput'])['audioStreamEnd'] === true });
    expect(srv.audioReceived[0]).toEqual(Int16Array.from([...a, ...b]));
    expect(srv.conn().inputRates).toEqual([16000, 16000]);
    c.send({ realtimeInput: { audio: { data: 'AAAA', mimeType: 'audio/wav' } } });
    expect((await c.closedWith()).code).toBe(1007);
  });

  it('activityStart is refused while automatic activity detection is on, accepted when disabled', async () => {
    const srv = await start();
    const c = await ready(srv);
    c.send({ realtimeInput: { activityStart: {} } });
    expect(await c.closedWith()).toEqual({ code: 1007, reason: 'Explicit activity control is not supported when automatic activity detection is enabled.' });
    const d = await ready(srv, { realtimeInputConfig: { automaticActivityDetection: { disabled: true } } });
    d.send({ realtimeInput: { activityStart: {} } });
    await srv.waitFor('realtimeInput', { conn: 1 });
    expect(srv.conn().activityInProgress).toBe(true);
    d.send({ realtimeInput: { activityEnd: {} } });
    await srv.waitFor('realtimeInput', { conn: 1 });
    expect(srv.conn().activityInProgress).toBe(false);
    expect(d.closed).toBeNull();
  });

  it('a turn: 24 kHz inlineData chunks, transcripts (when set up), generationComplete, turnComplete', async () => {
    const srv = await start();
    const c = await ready(srv, { inputAudioTranscription: {}, outputAudioTranscription: {} });
    expect(await srv.sendTurn({ audio: tone(200, 24000), transcript: 'hello there', inputTranscript: 'hi' })).toBe('completed');
    const seq = await c.through('serverContent', (m) => sc(m)['turnComplete'] === true);
    expect(sc(seq[0] as Msg)).toEqual({ inputTranscription: { text: 'hi', finished: true } });
    const audio = seq.filter((m) => sc(m)['modelTurn'] !== undefined);
    expect(audio).toHaveLength(5);
    const inline = obj(obj((obj(sc(audio[0] as Msg)['modelTurn'])['parts'] as JsonObject[])[0])['inlineData']);
    expect(inline['mimeType']).toBe('audio/pcm;rate=24000');
    const pcm = audio.map((m) => {
      const part = (obj(sc(m)['modelTurn'])['parts'] as JsonObject[])[0] as JsonObject;
      return Buffer.from(String(obj(part['inlineData'])['data']), 'base64');
    });
    expect(bytesToPcm(Buffer.concat(pcm))).toEqual(tone(200, 24000));
    const out = seq.map((m) => (sc(m)['outputTranscription'] as JsonObject | undefined)?.['text']).filter((t) => t !== undefined);
    expect(out.join('')).toBe('hello there');
    const tail = seq.slice(-2);
    expect(sc(tail[0] as Msg)).toEqual({ generationComplete: true });
    expect(sc(tail[1] as Msg)).toEqual({ turnComplete: true });
    expect(obj(tail[1]?.body['usageMetadata'])['totalTokenCount']).toEqual(expect.any(Number));
  });

  it('no transcription messages when the setup did not ask for them', async () => {
    const srv = await start();
    const c = await ready(srv);
    await srv.sendTurn({ audio: tone(40, 24000), transcript: 'unheard', inputTranscript: 'x' });
    const seq = await c.through('serverContent', (m) => sc(m)['turnComplete'] === true);
    expect(seq.some((m) => sc(m)['outputTranscription'] || sc(m)['inputTranscription'])).toBe(false);
  });

  it('barge-in: interrupted then turnComplete, no generationComplete; outstanding tool calls cancelled', async () => {
    const srv = await start();
    const c = await ready(srv);
    const [callId] = srv.toolCall([{ name: 'set_timer', args: { seconds: 60 } }]);
    const pending = srv.sendTurn({ audio: tone(2000, 24000), interval: 5 });
    await c.until(() => c.msgs.filter((m) => m.body['serverContent']).length >= 3, 'audio');
    expect(srv.userSpeech()).toEqual({ interrupted: true, cancelledCalls: [callId] });
    expect(await pending).toBe('interrupted');
    const seq = await c.through('serverContent', (m) => sc(m)['turnComplete'] === true);
    expect(seq.some((m) => sc(m)?.['generationComplete'])).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    const after = c.msgs.slice(c.msgs.findIndex((m) => m.body['serverContent'] && sc(m)['interrupted']));
    expect(after.map((m) => m.kind)).toEqual(['serverContent', 'serverContent', 'toolCallCancellation']);
    expect(obj(after[2]?.body['toolCallCancellation'])).toEqual({ ids: [callId] });
  });

  it('NO_INTERRUPTION: user speech does not cut the turn', async () => {
    const srv = await start();
    await ready(srv, { realtimeInputConfig: { activityHandling: 'NO_INTERRUPTION' } });
    const pending = srv.sendTurn({ audio: tone(400, 24000), interval: 2 });
    expect(srv.userSpeech().interrupted).toBe(false);
    expect(await pending).toBe('completed');
  });
});

describe('tools, hooks and session management', () => {
  it('tool call round trip: toolCall → toolResponse with id and name; a response without id closes 1007', async () => {
    const srv = await start();
    const c = await ready(srv);
    const [id] = srv.toolCall([{ name: 'get_weather', args: { city: 'Oslo' } }]);
    const call = await c.next('toolCall');
    expect(call.body).toEqual({ toolCall: { functionCalls: [{ id, name: 'get_weather', args: { city: 'Oslo' } }] } });
    c.send({ toolResponse: { functionResponses: [{ id, name: 'get_weather', response: { output: 'sunny' } }] } });
    expect(await srv.conn().waitForToolResponse(id as string)).toMatchObject({ matched: true, response: { output: 'sunny' } });
    expect(srv.conn().pendingCalls.size).toBe(0);
    c.send({ toolResponse: { functionResponses: [{ name: 'get_weather', response: {} }] } });
    expect((await c.closedWith()).code).toBe(1007);
  });

  it('onClientTurn answers clientContent with turnComplete', async () => {
    const srv = await start({ onClientTurn: (conn) => conn.sendTurn({ text: 'pong', audio: tone(40, 24000) }) });
    const c = await ready(srv);
    c.send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'ping' }] }], turnComplete: true } });
    const seq = await c.through('serverContent', (m) => sc(m)['turnComplete'] === true);
    const parts = obj(sc(seq[0] as Msg)['modelTurn'])['parts'] as JsonObject[];
    expect(parts[1]).toEqual({ text: 'pong' });
  });

  it('connection cap: goAway{timeLeft} then close 1011 with a reason', async () => {
    const srv = await start({ maxConnectionMs: 300, goAwayBeforeMs: 200 });
    const c = await ready(srv);
    const t0 = Date.now();
    expect((await c.next('goAway')).body).toEqual({ goAway: { timeLeft: '0.200s' } });
    const closed = await c.closedWith();
    expect(closed).toEqual({ code: 1011, reason: 'Deadline expired before operation could complete.' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
  });

  it('endConnection by hand with a chosen close; goAway timeLeft in whole seconds', async () => {
    const srv = await start();
    const c = await ready(srv);
    srv.goAway(50_000);
    expect(obj((await c.next('goAway')).body['goAway'])['timeLeft']).toBe('50s');
    srv.endConnection(30, { code: 1000, reason: '' });
    expect((await c.closedWith()).code).toBe(1000);
  });

  it('session resumption: handles, resume refused (1011) while the old socket is open, accepted after', async () => {
    const srv = await start();
    const c = await ready(srv, { sessionResumption: {} });
    const first = obj((await c.next('sessionResumptionUpdate')).body['sessionResumptionUpdate']);
    expect(first).toMatchObject({ resumable: true, newHandle: expect.any(String) });
    await srv.sendTurn({ audio: tone(40, 24000) });
    const second = obj((await c.next('sessionResumptionUpdate')).body['sessionResumptionUpdate']);
    expect(second['newHandle']).not.toBe(first['newHandle']);
    const handle = String(second['newHandle']);
    expect(srv.conn().handles).toEqual([first['newHandle'], handle]);

    const early = await open(srv);
    early.send({ setup: { model: MODEL, sessionResumption: { handle } } });
    expect((await early.closedWith()).code).toBe(1011);

    c.ws.close();
    await srv.waitForClose(0);
    const resumed = await ready(srv, { sessionResumption: { handle } });
    expect(srv.conn().resumedFrom).toBe(handle);
    expect(srv.sessionOfConn(srv.conn().index)).toBe(0);
    await resumed.next('sessionResumptionUpdate');

    const bogus = await open(srv);
    bogus.send({ setup: { model: MODEL, sessionResumption: { handle: 'nope' } } });
    expect((await bogus.closedWith()).code).toBe(1007);
  });

  it('ephemeral tokens: Constrained endpoint, uses counted, resumption free, unknown token 1008', async () => {
    const srv = await start({ ephemeralTokens: [{ name: 'auth_tokens/t1', uses: 1, model: MODEL }] });
    expect(srv.tokenUrl).toContain('.v1alpha.GenerativeService.BidiGenerateContentConstrained');
    const url = srv.urlWithToken('auth_tokens/t1');
    const c = await ready(srv, { sessionResumption: {} }, url);
    const handle = String(obj((await c.next('sessionResumptionUpdate')).body['sessionResumptionUpdate'])['newHandle']);
    const again = await open(srv, url);
    again.send({ setup: { model: MODEL } });
    expect((await again.closedWith()).code).toBe(1008);
    c.ws.close();
    await srv.waitForClose(0);
    await ready(srv, { sessionResumption: { handle } }, url);
    const unknown = await open(srv, srv.urlWithToken('auth_tokens/zzz'));
    expect((await unknown.closedWith()).code).toBe(1008);
    const keyAsToken = await open(srv, srv.urlWithKey('auth_tokens/t1'));
    expect((await keyAsToken.closedWith()).code).toBe(1007);
  });
});

describe('failures', () => {
  it('fail() closes with the code and reason; dropTcp gives 1006', async () => {
    const srv = await start();
    const c = await ready(srv);
    srv.fail(1008, 'The operation was aborted');
    expect(await c.closedWith()).toEqual({ code: 1008, reason: 'The operation was aborted' });
    const d = await ready(srv);
    srv.dropTcp();
    expect((await d.closedWith()).code).toBe(1006);
  });

  it('stall holds messages and pings; binaryFrames sends every message in binary frames', async () => {
    const srv = await start({ binaryFrames: true });
    const c = await ready(srv);
    let pongs = 0;
    c.ws.on('pong', () => pongs++);
    srv.stall(true);
    c.ws.ping();
    srv.goAway(1000);
    await new Promise((r) => setTimeout(r, 100));
    expect(pongs).toBe(0);
    expect(c.msgs.some((m) => m.kind === 'goAway')).toBe(false);
    srv.stall(false);
    const g = await c.next('goAway');
    expect(g.binary).toBe(true);
    await c.until(() => pongs === 1, 'pong');
  });

  it('pongDelayMs answers WebSocket pings late, like the service', async () => {
    const srv = await start({ pongDelayMs: 150 });
    const c = await ready(srv);
    const t0 = Date.now();
    let at = 0;
    c.ws.on('pong', () => (at = Date.now()));
    c.ws.ping();
    await c.until(() => at > 0, 'pong');
    expect(at - t0).toBeGreaterThanOrEqual(140);
  });

  it('sendOversize and sendRaw', async () => {
    const srv = await start();
    const c = await ready(srv);
    srv.sendOversize(1_000_003);
    await c.next('serverContent');
    expect(c.sizes[c.sizes.length - 1]).toBe(1_000_003);
    let raw = '';
    c.ws.once('message', (d) => (raw = d.toString()));
    srv.sendRaw('{"serverContent":');
    await c.until(() => raw !== '', 'raw');
    expect(raw).toBe('{"serverContent":');
  });
});
