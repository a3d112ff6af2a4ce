import { afterEach, describe, expect, it } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSelfSignedCert, tone } from '../fakes/openai-realtime-server.js';
import { startHarness, type AiHarness } from '../helpers/ai-harness.js';
import { waitFor } from '../helpers/signal.js';

// Issue 8, "no fault takes the daemon down": misbehaving peers, broken networks, stale audio, huge
// messages, unknown tool calls and unreadable TLS files each end in a reported, bounded failure.

let h: AiHarness | undefined;
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const c of cleanups.splice(0)) await c();
});

const count = (hh: AiHarness, type: string): number => hh.events.filter((e) => e.type === type).length;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A raw TCP server on 127.0.0.1 that treats each accepted socket with `onSocket`. */
async function rawServer(onSocket: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => {
    sockets.forEach((s) => s.destroy());
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/** A port on 127.0.0.1 that nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('AI port: connect deadline', () => {
  it('gives up on a server that trickles its response headers, at the absolute connect deadline', async () => {
    const { port } = await rawServer((socket) => {
      let timer: NodeJS.Timeout | undefined;
      socket.once('data', () => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\nX-Slow: ');
        timer = setInterval(() => socket.write('a'), 100);
      });
      socket.on('close', () => clearInterval(timer));
    });
    h = await startHarness({ connect: false, param: { connectTimeoutMs: 500 } });
    const started = Date.now();
    h.ai.connect(`ws://127.0.0.1:${port}/v1/realtime`, null);
    const error = await h.event('error', (e) => e.code === 'ERR_AI_TIMEOUT', 0, 2500);
    const elapsed = Date.now() - started;
    expect(error.message).toMatch(/no connection within 500 ms/);
    expect(elapsed).toBeLessThan(1200);
    await h.event('disconnected');
    expect(h.ai.getState()).toBe('reconnecting');
  });
});

describe('AI port: connect failures are reported with a cause', () => {
  it('connection refused: ERR_AI_CONNECT_REFUSED naming host:port, logged once across retries', async () => {
    const port = await closedPort();
    h = await startHarness({ connect: false });
    h.ai.connect(`ws://127.0.0.1:${port}/v1/realtime`, null);
    const error = await h.event('error', (e) => e.code === 'ERR_AI_CONNECT_REFUSED');
    expect(error.fatal).toBe(false);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toContain('ECONNREFUSED');
    await waitFor(() => count(h!, 'disconnected') >= 3, 3000, 'retries');
    expect(h.events.filter((e) => e.type === 'error')).toHaveLength(1);
    expect(h.warnings.filter((w) => w.includes('ECONNREFUSED'))).toHaveLength(1);
    expect(h.ai.getState()).toBe('reconnecting');
  });

  it('DNS failure: ERR_AI_DNS naming the host', async () => {
    h = await startHarness({ connect: false });
    h.ai.connect('ws://nonexistent.invalid:8080/v1/realtime', null);
    const error = await h.event('error', (e) => e.code === 'ERR_AI_DNS');
    expect(error.message).toContain('nonexistent.invalid');
    expect(error.message).toMatch(/ENOTFOUND|EAI_AGAIN|EAI_FAIL/);
    expect(error.fatal).toBe(false);
    expect(h.warnings.filter((w) => w.includes('nonexistent.invalid'))).toHaveLength(1);
  });

  it('TLS certificate verification failure: ERR_AI_TLS, fatal (slow retry), without the key', async () => {
    const token = 'sk-test-THISISASECRETKEY123456';
    h = await startHarness({ server: { tls: makeSelfSignedCert() }, token, param: { reconnect: { minMs: 50, maxMs: 100, fatalRetryMs: 200 } } });
    const error = await h.event('error', (e) => e.code === 'ERR_AI_TLS');
    expect(error.fatal).toBe(true);
    expect(error.message).toMatch(/certificate verification failed/i);
    expect(error.message).toMatch(/127\.0\.0\.1:\d+/);
    expect(await h.event('disconnected')).toMatchObject({ retryInMs: 200 });
    expect(h.ai.getState()).toBe('failed');
    await waitFor(() => count(h!, 'disconnected') >= 3, 3000, 'slow retries');
    expect(h.events.filter((e) => e.type === 'error')).toHaveLength(1);
    expect(h.warnings.filter((w) => /certificate/.test(w))).toHaveLength(1);
    const everything = JSON.stringify([h.events, h.warnings, h.ai.toJSON(), h.ai.stats()]);
    expect(everything).not.toContain('THISISASECRETKEY');
  });

  it.each([
    ['a non-HTTP reply', 'SSH-2.0-OpenSSH_9.6\r\n'],
    ['a 101 without a valid accept key', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n'],
  ])('garbage handshake (%s): ERR_AI_PROTOCOL naming host:port', async (_what, reply) => {
    const { port } = await rawServer((socket) => socket.once('data', () => socket.write(reply)));
    h = await startHarness({ connect: false });
    h.ai.connect(`ws://127.0.0.1:${port}/v1/realtime`, null);
    const error = await h.event('error', (e) => e.code === 'ERR_AI_PROTOCOL');
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.fatal).toBe(false);
    await waitFor(() => count(h!, 'disconnected') >= 2, 3000, 'retried');
  });
});

describe('AI port: timers belong to their connection', () => {
  it('the session-expiry close of an old session never closes the next connection during a stall', async () => {
    h = await startHarness({ param: { pingIntervalMs: 60000 } });
    await h.event('connected');
    h.server.expireSession();
    await h.event('connected', (e) => e.renewal);
    h.server.stall(true);
    await sleep(2600);
    h.server.stall(false);
    await sleep(100);
    expect(h.server.conn(1).closed).toBeFalsy();
    expect(count(h, 'disconnected')).toBe(1);
    expect(h.ai.isConnected()).toBe(true);
  });
});

describe('AI port: stale microphone audio', () => {
  // What arrives at once when the service reads again: at most maxMicAgeMs that was already in the
  // network when it stalled (the probe gate stops handing audio over), plus at most maxMicAgeMs of
  // audio that was still fresh. Without the bound it is the whole stall.
  it('after an uplink stall, no more than maxMicAgeMs of old audio reaches the service', async () => {
    h = await startHarness({ param: { pingIntervalMs: 60000, maxMicAgeMs: 300 } });
    await h.event('connected');
    await sleep(300);
    h.server.stall(true);
    await sleep(3000);
    const resumed = Date.now();
    h.server.stall(false);
    await sleep(600);
    const burst = h.server.received.filter((m) => m.conn === 0 && m.type === 'input_audio_buffer.append' && m.at < resumed + 150);
    const late = burst.filter((m) => m.at >= resumed);
    const lateMs = late.reduce((ms, m) => ms + Buffer.from((m.event as { audio: string }).audio, 'base64').length / 2 / 24, 0);
    expect(lateMs).toBeLessThanOrEqual(2 * 300 + 400);
    const stats = h.ai.stats();
    expect(stats.staleSendMs).toBeGreaterThan(1800);
    expect(stats.droppedSendMs).toBeGreaterThanOrEqual(stats.staleSendMs);
    expect(h.ai.isConnected()).toBe(true);
  });
});

describe('AI port: message size', () => {
  it('refuses a 3 MB message by default with close 1009 and ERR_AI_MESSAGE_TOO_LARGE', async () => {
    h = await startHarness();
    await h.event('connected');
    h.server.sendOversize(3 * 1024 * 1024);
    const error = await h.event('error', (e) => e.code === 'ERR_AI_MESSAGE_TOO_LARGE');
    expect(error.message).toMatch(/over 2097152 bytes/);
    expect((await h.server.waitForClose(0)).code).toBe(1009);
    await waitFor(() => count(h!, 'connected') === 2, 3000, 'reconnected');
  });
});

describe('AI port: tool results', () => {
  it('refuses a result for a call id it never issued, or already answered, or from an ended session', async () => {
    h = await startHarness();
    await h.event('connected');
    expect(() => h!.ai.sendToolResult('call_never', { ok: true })).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_CALL' }));
    const call = h.server.toolCall({ name: 'get_weather', arguments: { city: 'Oslo' } });
    await h.event('tool_call');
    h.ai.sendToolResult(call.callId, { temperature: 3 });
    expect(() => h!.ai.sendToolResult(call.callId, { temperature: 3 })).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_CALL' }));
    await h.event('response_done');
    const since = h.events.length;
    const second = h.server.toolCall({ name: 'get_weather', arguments: { city: 'Bergen' } });
    await h.event('tool_call', (e) => e.callId === second.callId, since);
    h.server.dropTcp();
    await waitFor(() => count(h!, 'connected') === 2, 3000, 'reconnected');
    expect(() => h!.ai.sendToolResult(second.callId, {})).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_CALL' }));
  });
});

describe('AI port: playout after the link drops', () => {
  it('isPlayingOut() stays true while the ring plays after a disconnect, then audio_done', async () => {
    h = await startHarness({ param: { reconnect: { minMs: 5000, maxMs: 5000, jitter: 0 } } });
    await h.event('connected');
    expect(h.ai.isPlayingOut()).toBe(false);
    const reply = tone(1500);
    await h.server.sendResponse({ audio: reply, holdDone: true });
    await h.event('audio_start');
    await waitFor(() => h!.played() > 0, 2000, 'playing');
    expect(h.ai.isPlayingOut()).toBe(true);
    h.server.dropTcp();
    await h.event('disconnected');
    expect(h.ai.isPlayingOut()).toBe(true);
    const done = await h.event('audio_done', undefined, 0, 3000);
    expect(done.interrupted).toBe(false);
    expect(h.ai.isPlayingOut()).toBe(false);
    expect(h.played()).toBe(reply.length);
  });
});

describe('AI port: TLS files', () => {
  it('a FIFO as tls.caFile is reported promptly as ERR_CONFIG_FILE naming the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'speakerd-fifo-'));
    const fifo = join(dir, 'ca.pem');
    execFileSync('mkfifo', [fifo]);
    // A writer that turns up late, so that a blocking read would end (and the test fail, not hang).
    const writer: ChildProcess = spawn('sh', ['-c', `sleep 3; echo not-a-cert > '${fifo}'`], { stdio: 'ignore' });
    cleanups.push(() => {
      if (writer.exitCode === null) writer.kill();
      rmSync(dir, { recursive: true, force: true });
    });
    h = await startHarness({
      connect: false,
      server: { tls: makeSelfSignedCert() },
      param: { tls: { caFile: fifo }, reconnect: { minMs: 50, maxMs: 100, fatalRetryMs: 200 } },
    });
    const started = Date.now();
    h.ai.connect(h.server.url, 'test-key');
    const error = await h.event('error', (e) => e.code === 'ERR_CONFIG_FILE', 0, 5000);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error.message).toContain('ai.tls.caFile');
    expect(error.message).toMatch(/FIFO/);
    expect(error.fatal).toBe(true);
    expect(h.ai.getState()).toBe('failed');
    expect(h.server.connections).toBe(0);
  });
});

describe("AI port: the addon's socket trusts what Node's trusts", () => {
  const saved = process.env.NODE_EXTRA_CA_CERTS;
  afterEach(() => {
    if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = saved;
  });

  it("trusts $NODE_EXTRA_CA_CERTS besides Node's roots, and warns and leaves it out when it cannot be read", async () => {
    const cert = makeSelfSignedCert();
    const dir = mkdtempSync(join(tmpdir(), 'extra-ca-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'extra.pem');
    writeFileSync(file, cert.cert);
    process.env.NODE_EXTRA_CA_CERTS = file;
    h = await startHarness({ server: { tls: cert } });
    await h.event('connected');
    expect(h.warnings.filter((w) => w.includes('NODE_EXTRA_CA_CERTS'))).toEqual([]);
    await h.close();

    process.env.NODE_EXTRA_CA_CERTS = join(dir, 'missing.pem');
    h = await startHarness({ server: { tls: cert }, param: { reconnect: { minMs: 50, maxMs: 100, fatalRetryMs: 200 } } });
    const error = await h.event('error', (e) => e.code === 'ERR_AI_TLS');
    expect(error.message).toMatch(/self-signed certificate/);
    expect(h.warnings.some((w) => w.includes('ignoring NODE_EXTRA_CA_CERTS') && w.includes('missing.pem'))).toBe(true);
  });
});
