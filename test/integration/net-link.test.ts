/**
 * The addon's NetLink under `ws` (src/ai/native-socket.ts, native/net/): the AI service's socket on a
 * native thread, plain and TLS, and the native uplink that sends a ring's microphone batches between
 * ws's frames. Real WebSocket servers on 127.0.0.1 (ws, over http and https), a raw TCP server for the
 * byte-level cases, the real addon with a manual-clock engine.
 */
import { createHash } from 'node:crypto';
import { createServer as createHttps, type Server as HttpsServer } from 'node:https';
import { createServer as createTcp, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { NativeSocket, type NativeTlsOptions } from '../../src/ai/native-socket.js';
import type { NativeBinding, NativeEngine, NativeEvent, NativeUplinkStats } from '../../src/media/binding.js';
import { loadNativeBinding } from '../../src/media/native-binding.js';
import { makeSelfSignedCert } from '../fakes/openai-realtime-server.js';
import { makeNamedCert } from '../fakes/openai/cert.js';
import { waitFor } from '../helpers/signal.js';
import { threadTimes, wakeups } from '../../bench/proc-stats.js';

const binding: NativeBinding = loadNativeBinding();
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Served {
  url: string;
  port: number;
  /** Messages the server received, in order (text as strings, binary as Buffers). */
  received: (string | Buffer)[];
  /** Payloads of the pings the server received. */
  pings: string[];
  sockets: WebSocket[];
}

/** A ws server on 127.0.0.1 (over https when `tls` is given) that echoes every message. */
async function serve(
  options: { tls?: { key: string; cert: string; maxVersion?: 'TLSv1.2'; requestCert?: boolean; ca?: string }; echo?: boolean } = {},
): Promise<Served> {
  let https: HttpsServer | undefined;
  let wss: WebSocketServer;
  if (options.tls) {
    const { key, cert, maxVersion, requestCert, ca } = options.tls;
    https = createHttps({ key, cert, ...(maxVersion ? { maxVersion } : {}), ...(requestCert ? { requestCert: true, rejectUnauthorized: true, ca } : {}) });
    wss = new WebSocketServer({ server: https });
    await new Promise<void>((r) => https?.listen(0, '127.0.0.1', r));
  } else {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((r) => wss.on('listening', r));
  }
  const port = ((https ?? wss).address() as AddressInfo).port;
  const served: Served = { url: `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${port}/realtime`, port, received: [], pings: [], sockets: [] };
  wss.on('connection', (socket) => {
    served.sockets.push(socket);
    socket.on('ping', (data) => served.pings.push(data.toString()));
    socket.on('message', (data, isBinary) => {
      const message = isBinary ? Buffer.from(data as Buffer) : data.toString();
      served.received.push(message);
      if (options.echo ?? true) socket.send(message, { binary: isBinary });
    });
  });
  cleanups.push(async () => {
    for (const s of served.sockets) s.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
    if (https) await new Promise<void>((r) => https?.close(() => r()));
  });
  return served;
}

/** A ws client whose socket is a NativeSocket (marked as framed once open, as AiConnection does). */
function connect(url: string, tls?: Partial<NativeTlsOptions>): { ws: WebSocket; socket: () => NativeSocket } {
  let native: NativeSocket | undefined;
  const secure = url.startsWith('wss:');
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    createConnection: ((opts: { host: string; port: string; servername?: string }) => {
      native = new NativeSocket(binding, {
        host: opts.host,
        port: Number(opts.port),
        connectTimeoutMs: 3000,
        ...(opts.servername !== undefined ? { servername: opts.servername } : {}),
        ...(secure ? { tls: { verify: true, minVersion: 'TLSv1.2', ...tls } } : {}),
      });
      return native;
    }) as unknown as WebSocket.ClientOptions['createConnection'],
  });
  ws.on('open', () => native?.markFrames());
  cleanups.push(() => ws.terminate());
  return { ws, socket: () => native as NativeSocket };
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

function failed(ws: WebSocket): Promise<Error & { code?: string }> {
  return new Promise((resolve, reject) => {
    ws.once('error', resolve);
    ws.once('open', () => reject(new Error('opened')));
  });
}

describe('NetLink under ws', () => {
  it('carries messages both ways in order over TCP, a 1 MiB one too, and runs each write callback once its bytes left', async () => {
    const served = await serve();
    const { ws } = connect(served.url);
    await opened(ws);
    const echoed: string[] = [];
    ws.on('message', (data) => echoed.push(data.toString()));
    const written: number[] = [];
    const big = 'x'.repeat(1 << 20);
    for (let i = 0; i < 100; i++) ws.send(`m${i}`, () => written.push(i));
    ws.send(big, () => written.push(100));
    await waitFor(() => echoed.length === 101, 5000, 'echoes');
    expect(echoed.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
    expect(echoed[100]).toBe(big);
    expect(written).toEqual(Array.from({ length: 101 }, (_, i) => i));
    expect(ws.bufferedAmount).toBe(0);
  });

  it('verifies the server certificate as Node does: trusted with its CA, refused without, and refused for another name', async () => {
    const tls = makeSelfSignedCert();
    const served = await serve({ tls });
    const good = connect(served.url, { ca: tls.cert });
    await opened(good.ws);
    const echoed = new Promise<string>((r) => good.ws.once('message', (d) => r(d.toString())));
    good.ws.send('over tls');
    expect(await echoed).toBe('over tls');

    const untrusted = await failed(connect(served.url).ws);
    expect(untrusted.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    // A trusted certificate for another name (CN=localhost, no IP) on the server at 127.0.0.1.
    const other = makeNamedCert('localhost');
    const elsewhere = await serve({ tls: other });
    const otherName = await failed(connect(elsewhere.url, { ca: other.cert }).ws);
    expect(otherName.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(otherName.message).toContain('127.0.0.1');
    // Verification off: the same untrusted server is accepted.
    await opened(connect(served.url, { verify: false }).ws);
  });

  it('refuses a server below minVersion with an ERR_SSL code, and presents a client certificate to a server that requires one', async () => {
    const tls = makeSelfSignedCert();
    const old = await serve({ tls: { ...tls, maxVersion: 'TLSv1.2' } });
    await opened(connect(old.url, { ca: tls.cert }).ws);
    const tooOld = await failed(connect(old.url, { ca: tls.cert, minVersion: 'TLSv1.3' }).ws);
    expect(tooOld.code).toMatch(/^ERR_SSL_/);

    const client = makeNamedCert('speakerd-client');
    const strict = await serve({ tls: { ...tls, requestCert: true, ca: client.cert } });
    await opened(connect(strict.url, { ca: tls.cert, cert: client.cert, key: client.key }).ws);
    // Without one the server refuses the handshake: its WebSocket server only ever saw the first client.
    const anonymous = connect(strict.url, { ca: tls.cert }).ws;
    await new Promise<void>((r) => {
      anonymous.once('close', () => r());
      anonymous.once('error', () => r());
    });
    expect(anonymous.readyState).not.toBe(WebSocket.OPEN);
    expect(strict.sockets).toHaveLength(1);
  });

  it('reports a refused port and an unknown host with the codes Node uses', async () => {
    const probe = createTcp();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    expect((await failed(connect(`ws://127.0.0.1:${port}/`).ws)).code).toBe('ECONNREFUSED');
    expect((await failed(connect('ws://no-such-host.invalid/').ws)).code).toMatch(/^(ENOTFOUND|EAI_AGAIN)$/);
  });
});

/** A raw TCP server that completes the upgrade, then (`delayMs` later) writes `after` one byte at a time. */
async function rawServer(after: Buffer, delayMs = 0): Promise<{ url: string; server: TcpServer }> {
  const server = createTcp((socket: Socket) => {
    let head = '';
    socket.on('data', (chunk) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const key = /sec-websocket-key: (.*)\r\n/i.exec(head)?.[1] ?? '';
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      const response = Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      const bytes = Buffer.concat([response, after]);
      void (async () => {
        for (const [i, byte] of bytes.entries()) {
          if (i === response.length) await sleep(delayMs);
          if (socket.destroyed) return;
          socket.write(Buffer.from([byte]));
          await sleep(1);
        }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

/** An unmasked server frame. */
function frame(opcode: number, payload: Buffer): Buffer {
  const head =
    payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length]) : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([head, payload]);
}

describe("NetLink's filter of the server's stream", () => {
  it('takes out only the pongs of its own probes, whatever the reads split, and passes every other frame intact', async () => {
    const binary = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
    const stream = Buffer.concat([
      frame(1, Buffer.from('hello')),
      frame(0xa, Buffer.from('n5')),
      frame(0xa, Buffer.from('k')),
      frame(2, binary),
      frame(0xa, Buffer.from('u7')),
      // Not a probe's pong (the tag and digits only): passed on.
      frame(0xa, Buffer.from('nabc')),
      frame(0xa, Buffer.from('n-1')),
      frame(1, Buffer.from('bye')),
    ]);
    const { url } = await rawServer(stream);
    const { ws } = connect(url);
    const messages: (string | Buffer)[] = [];
    const pongs: string[] = [];
    ws.on('message', (data, isBinary) => messages.push(isBinary ? Buffer.from(data as Buffer) : data.toString()));
    ws.on('pong', (data) => pongs.push(data.toString()));
    await opened(ws);
    await waitFor(() => messages.length === 3, 5000, 'three messages');
    expect(messages[0]).toBe('hello');
    expect(Buffer.compare(messages[1] as Buffer, binary)).toBe(0);
    expect(messages[2]).toBe('bye');
    expect(pongs).toEqual(['k', 'u7', 'nabc', 'n-1']);
  });
});

/** A manual-clock engine at 24 kHz whose tone feeds two rings: one read by JS, one by the native uplink. */
function twoRings(): { engine: NativeEngine; events: NativeEvent[]; js: number; native: number } {
  const events: NativeEvent[] = [];
  const engine = new binding.Engine({ manualClock: true, bridgeRate: 24000, aec: false }, (e) => events.push(e));
  cleanups.push(() => engine.close());
  engine.start();
  const tone = engine.createTone(24000, new Float64Array([440, 0, 0.3, 600000]), false);
  const js = engine.createRing(24000, 24000 * 5, 24000, 960, 0);
  const native = engine.createRing(24000, 24000 * 5, 24000, 960, 0);
  engine.connect(tone, js, 1);
  engine.connect(tone, native, 1);
  return { engine, events, js, native };
}

const UPLINK = {
  prefix: '{"type":"input_audio_buffer.append","audio":"',
  suffix: '"}',
  batch: 960,
  maxAgeMs: 5000,
  highWaterBytes: 262144,
  probeIntervalMs: 100,
};

describe('the native uplink', () => {
  it('sends each batch the engine completes as one text message, byte for byte what readTxBase64 frames, between ws frames', async () => {
    const served = await serve({ echo: false });
    const { ws, socket } = connect(served.url);
    await opened(ws);
    const { engine, native, js } = twoRings();
    expect(socket().attachUplink(engine, native, UPLINK)).toBe(true);
    const expected: string[] = [];
    const out = new Uint8Array(4096);
    for (let round = 0; round < 10; round++) {
      engine.step(8);
      ws.send(`control ${round}`);
      for (let n; (n = engine.readTxBase64(js, out, 0, 960)) > 0;)
        expected.push(UPLINK.prefix + Buffer.from(out.subarray(0, n)).toString('latin1') + UPLINK.suffix);
      await sleep(20);
    }
    await waitFor(() => served.received.filter((m) => String(m).startsWith('{')).length === expected.length, 3000, 'every batch').catch((e: Error) => {
      const stats = socket().uplinkStats();
      throw new Error(
        `${e.message}: ${served.received.filter((m) => String(m).startsWith('{')).length} of ${expected.length}, ${JSON.stringify({ ...stats, micToWireMs: stats?.micToWireMs.length })} ${JSON.stringify(engine.ringStatus(native))}`,
      );
    });
    const audio = served.received.filter((m) => String(m).startsWith('{'));
    expect(expected.length).toBe(20);
    expect(audio).toEqual(expected);
    // ws's own messages arrived whole and in their order among the audio.
    expect(served.received.filter((m) => String(m).startsWith('control'))).toEqual(Array.from({ length: 10 }, (_, i) => `control ${i}`));
    const stats = socket().uplinkStats();
    expect(stats).toMatchObject({ sentMessages: 20, sentSamples: 20 * 960, staleMessages: 0, attached: true });
    expect(stats?.micToWireMs.length).toBe(20);
  });

  it('keeps tx_ready from JS while attached, hands the ring back on detach, and probes with pings whose pongs ws never sees', async () => {
    const served = await serve({ echo: false });
    const { ws, socket } = connect(served.url);
    await opened(ws);
    const pongs: string[] = [];
    ws.on('pong', (d) => pongs.push(d.toString()));
    const { engine, events, native } = twoRings();
    socket().attachUplink(engine, native, UPLINK);
    for (let i = 0; i < 10; i++) {
      engine.step(8);
      await sleep(30);
    }
    await waitFor(() => served.received.length >= 20, 3000, 'audio');
    expect(events.filter((e) => e.type === 'tx_ready' && e.port === native)).toHaveLength(0);
    await waitFor(() => served.pings.length > 0, 3000, 'a probe');
    expect(served.pings.every((p) => /^n\d+$/.test(p))).toBe(true);
    ws.ping('k');
    await waitFor(() => pongs.length === 1, 3000, 'the liveness pong');
    expect(pongs).toEqual(['k']);

    socket().detachUplink();
    const sent = served.received.length;
    engine.step(8);
    await waitFor(() => events.some((e) => e.type === 'tx_ready' && e.port === native), 2000, 'tx_ready for JS again');
    await sleep(50);
    expect(served.received.length).toBe(sent);
    expect(socket().uplinkStats()?.attached).toBe(false);
  });

  it("is woken by the audio thread itself: the engine's control thread sleeps through the batches it sends", async () => {
    const served = await serve({ echo: false });
    const { ws, socket } = connect(served.url);
    await opened(ws);
    const controlThreads = (): number[] => [...threadTimes(process.pid)].filter(([, t]) => t.name === 'speakerd-ctl').map(([tid]) => tid);
    const before = new Set(controlThreads());
    const engine = new binding.Engine({ manualClock: true, bridgeRate: 24000, aec: false }, () => undefined);
    cleanups.push(() => engine.close());
    engine.start();
    const tone = engine.createTone(24000, new Float64Array([440, 0, 0.3, 600000]), false);
    const native = engine.createRing(24000, 24000 * 5, 24000, 960, 0);
    engine.connect(tone, native, 1);
    socket().attachUplink(engine, native, UPLINK);
    await waitFor(() => controlThreads().some((t) => !before.has(t)), 2000, 'the control thread');
    const ctl = controlThreads().find((t) => !before.has(t)) as number;
    await sleep(100);
    const idle = wakeups(process.pid, ctl);
    for (let i = 0; i < 10; i++) {
      engine.step(8);
      await sleep(30);
    }
    await waitFor(() => served.received.length >= 20, 3000, 'audio');
    // 20 batches: routed through the control thread (kTxReady) they woke it once each.
    expect(wakeups(process.pid, ctl) - idle).toBeLessThanOrEqual(3);
    expect(socket().uplinkStats()).toMatchObject({ sentMessages: 20, staleMessages: 0 });
  });

  it('stops reading a ring whose port is removed or whose engine is closed', async () => {
    const served = await serve({ echo: false });
    const { ws, socket } = connect(served.url);
    await opened(ws);
    const { engine, native } = twoRings();
    socket().attachUplink(engine, native, UPLINK);
    engine.step(8);
    await waitFor(() => served.received.length === 2, 3000, 'audio');
    engine.removePort(native);
    engine.step(20);
    await sleep(100);
    expect(served.received.length).toBe(2);
    expect(() => socket().attachUplink(engine, native, UPLINK)).toThrow(/not a ring port/);

    const second = twoRings();
    socket().attachUplink(second.engine, second.native, UPLINK);
    second.engine.step(4);
    await waitFor(() => served.received.length === 3, 3000, 'audio of the second engine');
    second.engine.close();
    await sleep(100);
    expect(served.received.length).toBe(3);
    expect(() => socket().attachUplink(second.engine, second.native, UPLINK)).toThrow(/closed/);
  });

  it('takes no pong for a probe it has not sent as proof that the peer reads', async () => {
    // The server reads nothing it is sent (no probe is answered) and, 300 ms in, forges the pong of a
    // probe far ahead: the lag keeps counting from the first unanswered probe.
    const { url } = await rawServer(frame(0xa, Buffer.from('n999999')), 300);
    const { ws, socket } = connect(url);
    await opened(ws);
    const { engine, native } = twoRings();
    socket().attachUplink(engine, native, { ...UPLINK, maxAgeMs: 200, probeIntervalMs: 50 });
    const started = Date.now();
    while (Date.now() - started < 700) {
      engine.step(4);
      await sleep(40);
    }
    expect(socket().uplinkStats()?.lagMs).toBeGreaterThan(550);
    expect(socket().uplinkStats()?.staleMessages).toBeGreaterThan(0);
  });

  it("sends a due probe in the next batch's write within its grace, and on its own without one", async () => {
    const stream = async (probeIntervalMs: number, probeGraceMs: number): Promise<NativeUplinkStats> => {
      const served = await serve({ echo: false });
      const { ws, socket } = connect(served.url);
      await opened(ws);
      const { engine, native } = twoRings();
      socket().attachUplink(engine, native, { ...UPLINK, probeIntervalMs, probeGraceMs });
      for (let i = 0; i < 25; i++) {
        engine.step(4);
        await sleep(40);
      }
      await waitFor(() => served.received.length === 25, 3000, 'every batch');
      // Read as the stream ends: once the grace is over, the last batches' probe goes alone (no batch follows).
      const streamed = socket().uplinkStats() as NativeUplinkStats;
      await waitFor(() => served.pings.length >= streamed.probes, 3000, 'every probe');
      expect(served.pings.slice(0, streamed.probes).every((p) => /^n\d+$/.test(p))).toBe(true);
      return streamed;
    };
    // A grace as long as the interval, far longer than the batch period: every probe goes with a batch.
    const riding = await stream(300, 300);
    expect(riding.sentMessages).toBe(25);
    expect(riding.probes).toBeGreaterThanOrEqual(5);
    expect(riding.probesAlone).toBe(0);
    // The upgrade request, then at most one write per batch (two batches ready together share one).
    expect(riding.sends).toBeLessThanOrEqual(1 + riding.sentMessages);
    // No grace: a probe falls due 50 ms after the audio it covers, between two 40 ms batches, and goes alone.
    const alone = await stream(50, 0);
    expect(alone.sentMessages).toBe(25);
    expect(alone.probesAlone).toBeGreaterThan(0);
  });

  it('drops audio older than maxAgeMs and holds the rest while the peer does not read, then resumes', async () => {
    const served = await serve({ echo: false });
    const { ws, socket } = connect(served.url);
    await opened(ws);
    await waitFor(() => served.sockets.length === 1, 2000, 'server side');
    const { engine, native } = twoRings();
    socket().attachUplink(engine, native, { ...UPLINK, maxAgeMs: 200, probeIntervalMs: 50 });
    engine.step(8);
    await waitFor(() => served.received.length === 2, 3000, 'audio');
    // The server stops reading: its pongs stop too, so the link holds the audio and then drops it as stale.
    const raw = (served.sockets[0] as unknown as { _socket: Socket })._socket;
    raw.pause();
    for (let i = 0; i < 20; i++) {
      engine.step(4);
      await sleep(40);
    }
    const during = socket().uplinkStats();
    expect(during?.lagMs).toBeGreaterThan(200);
    expect(during?.staleMessages).toBeGreaterThan(5);
    raw.resume();
    await sleep(200);
    const before = served.received.length;
    engine.step(8);
    await waitFor(() => served.received.length >= before + 2, 3000, 'audio after the stall');
    expect(socket().uplinkStats()?.lagMs).toBeLessThan(200);
  });
});
