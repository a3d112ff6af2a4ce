import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, type ClientOptions } from 'ws';
import { FakeDeepgramAgentServer, bytesToPcm, pcmToBytes, tone, type FakeDeepgramAgentServerOptions, type JsonObject } from './deepgram-agent-server.js';

// Checks the fake Deepgram Voice Agent server itself with a plain `ws` client over loopback.

type Msg = JsonObject & { type: string };

class Client {
  /** JSON messages, and binary frames as `{type:'(binary)', bytes}` in arrival order. */
  readonly msgs: Msg[] = [];
  readonly audio: Buffer[] = [];
  closed: { code: number; reason: string } | null = null;
  private cursor = 0;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const b = data as Buffer;
      if (isBinary) {
        this.audio.push(b);
        this.msgs.push({ type: '(binary)', bytes: b.length });
      } else {
        this.msgs.push(JSON.parse(b.toString()) as Msg);
      }
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on('error', () => undefined);
  }

  static open(url: string, protocols: string[] = [], opts: ClientOptions = {}): Promise<Client> {
    const ws = new WebSocket(url, protocols, opts);
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

const SETTINGS = {
  type: 'Settings',
  flags: { history: false },
  audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 24000, container: 'none' } },
  agent: {
    language: 'en',
    listen: { provider: { type: 'deepgram', model: 'nova-3' } },
    think: { provider: { type: 'open_ai', model: 'gpt-4o-mini' }, prompt: 'Be brief.' },
    speak: { provider: { type: 'deepgram', model: 'aura-2-thalia-en' } },
  },
};
const KEY = { Authorization: 'Token dg-key' };
let server: FakeDeepgramAgentServer | undefined;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await server?.close();
  server = undefined;
});

async function start(opts: FakeDeepgramAgentServerOptions = {}): Promise<FakeDeepgramAgentServer> {
  server = await FakeDeepgramAgentServer.start({ apiKey: 'dg-key', ...opts });
  return server;
}
async function open(srv: FakeDeepgramAgentServer, protocols: string[] = [], headers: Record<string, string> = KEY): Promise<Client> {
  const c = await Client.open(srv.url, protocols, { headers });
  clients.push(c);
  return c;
}
async function ready(srv: FakeDeepgramAgentServer, settings: JsonObject = SETTINGS): Promise<Client> {
  const c = await open(srv);
  await c.next('Welcome');
  c.send(settings);
  await c.next('SettingsApplied');
  return c;
}
function rejected(url: string, headers: Record<string, string>): Promise<{ status: number; body: JsonObject }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('error', () => undefined);
    ws.on('open', () => reject(new Error('accepted')));
    ws.on('unexpected-response', (req, res) => {
      let text = '';
      res.on('data', (b: Buffer) => (text += b.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as JsonObject });
        req.destroy();
      });
    });
  });
}

describe('auth and the Welcome → Settings → SettingsApplied handshake', () => {
  it('401 INVALID_AUTH without a valid key; Token header, token subprotocol pair and Bearer accepted', async () => {
    const srv = await start({ accessTokens: ['jwt-1'] });
    expect(await rejected(srv.url, {})).toMatchObject({ status: 401, body: { err_code: 'INVALID_AUTH' } });
    expect((await rejected(srv.url, { Authorization: 'Token wrong' })).status).toBe(401);
    await open(srv);
    const sub = await open(srv, ['token', 'dg-key'], {});
    expect(sub.ws.protocol).toBe('token');
    await open(srv, [], { Authorization: 'Bearer jwt-1' });
    const bearerSub = await open(srv, ['bearer', 'jwt-1'], {});
    expect(bearerSub.ws.protocol).toBe('bearer');
    expect(srv.handshakes.map((h) => h.status)).toEqual([401, 401, 101, 101, 101, 101]);
  });

  it('Welcome{request_id} first; Settings → SettingsApplied; negotiated formats recorded', async () => {
    const srv = await start();
    const c = await open(srv);
    const welcome = await c.next('Welcome');
    expect(welcome['request_id']).toBe(srv.conn().requestId);
    c.send(SETTINGS);
    await c.next('SettingsApplied');
    expect(c.msgs.map((m) => m.type)).toEqual(['Welcome', 'SettingsApplied']);
    expect(srv.conn().input).toEqual({ encoding: 'linear16', sampleRate: 16000 });
    expect(srv.conn().output).toEqual({ encoding: 'linear16', sampleRate: 24000, container: 'none' });
    const noAudio = await ready(srv, { ...SETTINGS, audio: {} });
    expect(noAudio.closed).toBeNull();
    expect(srv.conn().input).toEqual({ encoding: 'linear16', sampleRate: 24000 });
  });

  it.each([
    ['binary audio before Settings', Buffer.alloc(320), 'NON_SETTINGS_MESSAGE_BEFORE_SETTINGS'],
    ['KeepAlive before Settings', { type: 'KeepAlive' }, 'NON_SETTINGS_MESSAGE_BEFORE_SETTINGS'],
    ['malformed JSON', '{"type":', 'UNPARSABLE_CLIENT_MESSAGE'],
    ['an unknown type', { type: 'SettingsConfiguration' }, 'UNPARSABLE_CLIENT_MESSAGE'],
    ['Settings without agent', { type: 'Settings', audio: {} }, 'UNPARSABLE_CLIENT_MESSAGE'],
    ['an unknown input encoding', { ...SETTINGS, audio: { input: { encoding: 'wav', sample_rate: 16000 } } }, 'INVALID_SETTINGS'],
    ['a bad output container', { ...SETTINGS, audio: { output: { encoding: 'linear16', container: 'mp4' } } }, 'INVALID_SETTINGS'],
  ])('%s: fatal Error then a close frame without status (1005)', async (_n, first, code) => {
    const srv = await start();
    const c = await open(srv);
    await c.next('Welcome');
    if (Buffer.isBuffer(first) || typeof first === 'string') c.ws.send(first);
    else c.send(first as JsonObject);
    const err = await c.next('Error');
    expect(err['code']).toBe(code);
    expect(err['description']).toEqual(expect.any(String));
    expect((await c.closedWith()).code).toBe(1005);
    expect(srv.conn().diagnostics).toEqual([{ type: 'Error', code, description: err['description'] }]);
  });

  it('a second Settings is SETTINGS_ALREADY_APPLIED', async () => {
    const srv = await start();
    const c = await ready(srv);
    c.send(SETTINGS);
    expect((await c.next('Error'))['code']).toBe('SETTINGS_ALREADY_APPLIED');
    expect((await c.closedWith()).code).toBe(1005);
  });
});

describe('keepalive and audio', () => {
  it('KeepAlive (text) keeps an idle session open; silence without it ends in CLIENT_MESSAGE_TIMEOUT', async () => {
    const srv = await start({ clientMessageTimeoutMs: 150 });
    const c = await ready(srv);
    const t = setInterval(() => c.send({ type: 'KeepAlive' }), 50);
    await new Promise((r) => setTimeout(r, 400));
    clearInterval(t);
    expect(c.closed).toBeNull();
    expect(srv.conn().keepAlives).toBeGreaterThanOrEqual(5);
    const err = await c.next('Error');
    expect(err).toEqual({
      type: 'Error',
      code: 'CLIENT_MESSAGE_TIMEOUT',
      description: 'We waited too long for a ' + "websocket message. Please ensure that you're sending binary messages containing user speech.",
    });
    expect((await c.closedWith()).code).toBe(1005);
  });

  it('binary audio feeds the timer too and is recorded as PCM; the timer also runs before Settings', async () => {
    const srv = await start({ clientMessageTimeoutMs: 150 });
    const c = await ready(srv);
    const chunks = [tone(20, 16000, 300), tone(20, 16000, 500), tone(20, 16000, 700), tone(20, 16000, 900)];
    for (const chunk of chunks) {
      c.ws.send(pcmToBytes(chunk));
      await new Promise((r) => setTimeout(r, 60));
    }
    expect(c.closed).toBeNull();
    await c.until(() => srv.conn().audioFrames === 4, 'frames');
    expect(srv.audioReceived[0]).toEqual(Int16Array.from(chunks.flatMap((x) => [...x])));
    const idle = await open(srv);
    await idle.next('Welcome');
    expect((await idle.next('Error'))['code']).toBe('CLIENT_MESSAGE_TIMEOUT');
  });
});

describe('replies, barge-in, functions', () => {
  it('a reply: AgentThinking, AgentStartedSpeaking, ConversationText, binary PCM, AgentAudioDone; History with flags', async () => {
    const srv = await start();
    const c = await ready(srv, { ...SETTINGS, flags: { history: true } });
    expect(await srv.sendReply({ audio: tone(200, 24000), text: 'Hi there', thinking: 'hmm' })).toBe('completed');
    const seq = await c.through('AgentAudioDone');
    expect(seq.map((m) => m.type)).toEqual([
      'AgentThinking',
      'AgentStartedSpeaking',
      'ConversationText',
      'History',
      '(binary)',
      '(binary)',
      '(binary)',
      '(binary)',
      '(binary)',
      'AgentAudioDone',
    ]);
    expect(seq[2]).toEqual({ type: 'ConversationText', role: 'assistant', content: 'Hi there' });
    expect(seq[1]).toMatchObject({ total_latency: expect.any(Number), tts_latency: expect.any(Number) });
    expect(bytesToPcm(Buffer.concat(c.audio))).toEqual(tone(200, 24000));
    srv.conversationText('user', 'thanks');
    expect(await c.next('ConversationText')).toEqual({ type: 'ConversationText', role: 'user', content: 'thanks' });
  });

  it('barge-in: UserStartedSpeaking stops the audio, no AgentAudioDone', async () => {
    const srv = await start();
    const c = await ready(srv);
    const pending = srv.sendReply({ audio: tone(2000, 24000), interval: 5 });
    await c.until(() => c.audio.length >= 3, 'audio');
    expect(srv.userStartedSpeaking()).toEqual({ cutReply: true });
    expect(await pending).toBe('interrupted');
    await c.next('UserStartedSpeaking');
    await new Promise((r) => setTimeout(r, 50));
    const idx = c.msgs.findIndex((m) => m.type === 'UserStartedSpeaking');
    expect(c.msgs.slice(idx + 1)).toEqual([]);
    expect(c.msgs.some((m) => m.type === 'AgentAudioDone')).toBe(false);
  });

  it('function call round trip (client_side); InjectAgentMessage refused while speaking; updates acknowledged', async () => {
    const srv = await start({ onInjectUserMessage: (conn, m) => conn.sendReply({ text: `you said ${String(m['content'])}` }) });
    const c = await ready(srv);
    const [id] = srv.functionCallRequest([{ name: 'set_timer', arguments: { seconds: 5 } }]);
    const req = await c.next('FunctionCallRequest');
    expect(req['functions']).toEqual([{ id, name: 'set_timer', arguments: '{"seconds":5}', client_side: true }]);
    c.send({ type: 'FunctionCallResponse', id: id as string, name: 'set_timer', content: 'ok' });
    expect(await srv.conn().waitForFunctionResponse(id as string)).toMatchObject({ matched: true, content: 'ok' });
    c.send({ type: 'UpdatePrompt', prompt: 'Be terse.' });
    await c.next('PromptUpdated');
    await srv.sendReply({ audio: tone(100, 24000), holdDone: true });
    c.send({ type: 'InjectAgentMessage', message: 'Still there?' });
    expect(await c.next('InjectionRefused')).toEqual({ type: 'InjectionRefused', message: 'Still there?' });
    expect(srv.finishReply()).toBe(true);
    await c.next('AgentAudioDone');
    c.send({ type: 'InjectUserMessage', content: 'hello' });
    expect((await c.next('ConversationText'))['content']).toBe('you said hello');
    const [gone] = srv.functionCallRequest([{ name: 'slow' }]);
    srv.functionCallCancelled([gone as string]);
    expect((await c.next('FunctionCallCancelled'))['functions']).toEqual([{ id: gone, name: 'slow' }]);
  });
});

describe('errors, warnings, caps and failures', () => {
  it('Warning keeps the session; Error ends it (errorCloseCode picks a code)', async () => {
    const srv = await start({ errorCloseCode: 1011 });
    const c = await ready(srv);
    srv.warning('SLOW_THINK', 'The LLM is slow');
    expect(await c.next('Warning')).toEqual({ type: 'Warning', code: 'SLOW_THINK', description: 'The LLM is slow' });
    expect(c.closed).toBeNull();
    srv.error('INTERNAL_SERVER_ERROR');
    expect((await c.next('Error'))['code']).toBe('INTERNAL_SERVER_ERROR');
    expect((await c.closedWith()).code).toBe(1011);
  });

  it('session cap: Error then close after maxSessionMs, even with KeepAlive', async () => {
    const srv = await start({ maxSessionMs: 200, sessionCapError: { code: 'CAP', description: 'two hours' } });
    const c = await ready(srv);
    const t = setInterval(() => c.send({ type: 'KeepAlive' }), 30);
    const err = await c.next('Error');
    clearInterval(t);
    expect(err).toMatchObject({ code: 'CAP', description: 'two hours' });
    expect((await c.closedWith()).code).toBe(1005);
  });

  it('dropTcp (1006), stall, oversize binary frame, raw text frame', async () => {
    const srv = await start();
    const c = await ready(srv);
    srv.stall(true);
    srv.warning('W', 'held');
    await new Promise((r) => setTimeout(r, 50));
    expect(c.msgs.some((m) => m.type === 'Warning')).toBe(false);
    srv.stall(false);
    await c.next('Warning');
    srv.sendOversize(1 << 20);
    await c.until(() => c.audio.length === 1, 'oversize');
    expect(c.audio[0]?.length).toBe(1 << 20);
    srv.sendRaw('{"type":"Weird"}');
    expect(await c.next('Weird')).toEqual({ type: 'Weird' });
    srv.dropTcp();
    expect((await c.closedWith()).code).toBe(1006);
  });
});
