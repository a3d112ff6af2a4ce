/**
 * Edges of the addon's NetLink (native/net/) found in review: what the native uplink may send once ws
 * has closed, how much the link thread reads ahead of JS, and TLS name checks. Raw TCP servers on
 * 127.0.0.1 that see the client's bytes as they are, the real addon with a manual-clock engine.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectTcp, createServer as createTcp, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTls, TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { NativeSocket } from '../../src/ai/native-socket.js';
import type { NativeBinding, NativeEngine, NativeNetEvent, NativeNetLinkOptions } from '../../src/media/binding.js';
import { loadNativeBinding } from '../../src/media/native-binding.js';
import { makeNamedCert } from '../fakes/openai/cert.js';
import { waitFor } from '../helpers/signal.js';

const binding: NativeBinding = loadNativeBinding();
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface ClientFrame {
  opcode: number;
  payload: Buffer;
}

/** The frames of a client byte stream (masked, RFC 6455), as far as they are complete. */
function clientFrames(bytes: Buffer): ClientFrame[] {
  const frames: ClientFrame[] = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    const len7 = (bytes[at + 1] as number) & 0x7f;
    let length = len7;
    let header = 2;
    if (len7 === 126) {
      length = bytes.readUInt16BE(at + 2);
      header = 4;
    } else if (len7 === 127) {
      length = Number(bytes.readBigUInt64BE(at + 2));
      header = 10;
    }
    const masked = ((bytes[at + 1] as number) & 0x80) !== 0;
    const start = at + header + (masked ? 4 : 0);
    if (start + length > bytes.length) break;
    const payload = Buffer.from(bytes.subarray(start, start + length));
    if (masked) for (let i = 0; i < length; i++) payload[i] = (payload[i] as number) ^ (bytes[at + header + (i & 3)] as number);
    frames.push({ opcode: (bytes[at] as number) & 0x0f, payload });
    at = start + length;
  }
  return frames;
}

/**
 * A raw TCP server that completes the WebSocket upgrade and then only listens: it keeps every byte the
 * client sends after its request head and never answers a frame (not even a close).
 */
async function listeningServer(): Promise<{ url: string; frames: () => ClientFrame[] }> {
  let after = Buffer.alloc(0);
  const sockets: Socket[] = [];
  const server = createTcp((socket: Socket) => {
    sockets.push(socket);
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (head.includes('\r\n\r\n')) {
        after = Buffer.concat([after, chunk]);
        return;
      }
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      after = Buffer.from(head.slice(end + 4), 'latin1');
      const key = /sec-websocket-key: (.*)\r\n/i.exec(head)?.[1] ?? '';
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, frames: () => clientFrames(after) };
}

/** A ws client whose socket is a NativeSocket, marked as framed once open (as AiConnection does). */
function connect(url: string): { ws: WebSocket; socket: () => NativeSocket } {
  let native: NativeSocket | undefined;
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    createConnection: ((opts: { host: string; port: string }) => {
      native = new NativeSocket(binding, { host: opts.host, port: Number(opts.port), connectTimeoutMs: 3000 });
      return native;
    }) as unknown as WebSocket.ClientOptions['createConnection'],
  });
  ws.on('open', () => native?.markFrames());
  ws.on('error', () => undefined);
  cleanups.push(() => ws.terminate());
  return { ws, socket: () => native as NativeSocket };
}

/** A manual-clock engine at 24 kHz with a tone into one ring of 960-sample batches. */
function toneRing(): { engine: NativeEngine; ring: number } {
  const engine = new binding.Engine({ manualClock: true, bridgeRate: 24000, aec: false }, () => undefined);
  cleanups.push(() => engine.close());
  engine.start();
  const tone = engine.createTone(24000, new Float64Array([440, 0, 0.3, 600000]), false);
  const ring = engine.createRing(24000, 24000 * 5, 24000, 960, 0);
  engine.connect(tone, ring, 1);
  return { engine, ring };
}

const UPLINK = { prefix: '{"audio":"', suffix: '"}', batch: 960, maxAgeMs: 5000, highWaterBytes: 262144, probeIntervalMs: 20 };

describe('the native uplink once ws has closed', () => {
  it('sends no audio and no probe after the close frame ws wrote, while the server has not answered it', async () => {
    const server = await listeningServer();
    const { ws, socket } = connect(server.url);
    await new Promise<void>((r) => ws.once('open', () => r()));
    const { engine, ring } = toneRing();
    expect(socket().attachUplink(engine, ring, UPLINK)).toBe(true);
    engine.step(8);
    await waitFor(() => server.frames().filter((f) => f.opcode === 1).length === 2, 3000, 'audio before the close');
    ws.close(1000, 'bye');
    await waitFor(() => server.frames().some((f) => f.opcode === 8), 3000, 'the close frame');
    for (let i = 0; i < 5; i++) {
      engine.step(8);
      await sleep(30);
    }
    const frames = server.frames();
    const close = frames.findIndex((f) => f.opcode === 8);
    expect(frames.slice(close + 1).map((f) => f.opcode)).toEqual([]);
    expect(frames[close]?.payload.subarray(2).toString()).toBe('bye');
  });
});

/**
 * A TCP server in a child process (it runs while this thread is busy) that answers with an HTTP head
 * and then writes as fast as the kernel takes its bytes; `flushed()` asks how many the kernel took.
 */
async function floodServer(): Promise<{ port: number; flushed: () => Promise<number> }> {
  const script = `
    const net = require('node:net');
    let flushed = 0;
    const chunk = Buffer.alloc(65536, 0x61);
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.write('HTTP/1.1 200 OK\\r\\n\\r\\n');
      const pump = () => {
        while (!socket.destroyed && socket.write(chunk, () => { flushed += chunk.length; }));
      };
      socket.on('drain', pump);
      pump();
    });
    server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
    process.on('message', () => process.send({ flushed }));
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  cleanups.push(() => {
    child.kill();
  });
  const reply = (): Promise<{ port?: number; flushed?: number }> =>
    new Promise((r) => child.once('message', (m) => r(m as { port?: number; flushed?: number })));
  const { port } = await reply();
  return {
    port: port as number,
    flushed: async () => {
      const answer = reply();
      child.send('count');
      return (await answer).flushed as number;
    },
  };
}

describe("NetLink's reading ahead of JS", () => {
  it('hands a fast peer’s bytes over in bounded events, and reads little ahead of a JS thread that is busy', async () => {
    const server = await floodServer();
    let total = 0;
    let largest = 0;
    const NetLink = binding.NetLink;
    if (!NetLink) throw new Error('the addon has no NetLink');
    const link = new NetLink({ address: '127.0.0.1', port: server.port }, (type, payload) => {
      if (type !== 'data') return;
      total += (payload as Buffer).length;
      largest = Math.max(largest, (payload as Buffer).length);
    });
    cleanups.push(() => link.destroy());
    await waitFor(() => total > 16 << 20, 5000, 'the first megabytes');
    // This thread is busy for 300 ms: the link reads ahead of it by at most 1 MiB, so the peer can only
    // fill the socket's buffers (a few MiB); a link that kept reading would let it send hundreds.
    const before = await server.flushed();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    const during = (await server.flushed()) - before;
    expect(during).toBeLessThan(32 << 20);
    expect(largest).toBeLessThanOrEqual(80 << 10);
    // Reading goes on once JS took its bytes.
    const after = total;
    await waitFor(() => total > after + (16 << 20), 5000, 'more after the stall');
  });
});

/** A TLS server on 127.0.0.1 that completes the handshake and then says nothing; returns its port. */
async function tlsServer(identity: { key: string; cert: string }): Promise<number> {
  const sockets: Socket[] = [];
  const server = createTls(identity, (socket) => socket.on('error', () => undefined));
  server.on('connection', (socket: Socket) => sockets.push(socket));
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as AddressInfo).port;
}

/** A NetLink whose events are collected; `next(type)` resolves with the payload of the first event of that type. */
function rawLink(options: NativeNetLinkOptions): { events: { type: NativeNetEvent; payload: unknown }[]; next: (type: NativeNetEvent) => Promise<unknown> } {
  const NetLink = binding.NetLink;
  if (!NetLink) throw new Error('the addon has no NetLink');
  const events: { type: NativeNetEvent; payload: unknown }[] = [];
  const link = new NetLink(options, (type, payload) => events.push({ type, payload }));
  cleanups.push(() => link.destroy());
  const next = async (type: NativeNetEvent): Promise<unknown> => {
    await waitFor(() => events.some((e) => e.type === type || e.type === 'error'), 5000, type);
    const event = events.find((e) => e.type === type || e.type === 'error');
    if (event?.type !== type) throw new Error(`${event?.type ?? 'nothing'} instead of ${type}: ${JSON.stringify(event?.payload)}`);
    return event.payload;
  };
  return { events, next };
}

describe("NetLink's TLS", () => {
  it('refuses to verify a certificate without a name or address to check it against', async () => {
    const identity = makeNamedCert('elsewhere.example');
    const port = await tlsServer(identity);
    // Trusted, but for another name: with no host given, a link that connected would have verified nothing of the name.
    expect(() => rawLink({ address: '127.0.0.1', port, tls: { ca: [identity.cert], verify: true } })).toThrow(/options\.tls\.host/);
    expect(() => rawLink({ address: '127.0.0.1', port, tls: { ca: [identity.cert], host: '' } })).toThrow(/options\.tls\.host/);
    // Without verification no host is needed.
    await rawLink({ address: '127.0.0.1', port, tls: { verify: false } }).next('connect');
  });

  it('with verification off, reports a broken record as the TLS error it is, not as the unverified certificate', async () => {
    const identity = makeNamedCert('elsewhere.example');
    const tlsPort = await tlsServer(identity);
    // A proxy that can slip a forged application-data record into what the server sends.
    const clients: Socket[] = [];
    const proxy = createTcp((client) => {
      clients.push(client);
      const upstream = connectTcp(tlsPort, '127.0.0.1');
      clients.push(upstream);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      for (const c of clients) c.destroy();
      return new Promise<void>((r) => proxy.close(() => r()));
    });
    const link = rawLink({ address: '127.0.0.1', port: (proxy.address() as AddressInfo).port, tls: { verify: false } });
    await link.next('connect');
    await sleep(50);
    clients[0]?.write(Buffer.concat([Buffer.from([0x17, 0x03, 0x03, 0x00, 0x40]), randomBytes(0x40)]));
    const error = (await waitFor(() => link.events.some((e) => e.type === 'error'), 3000, 'the error').then(
      () => link.events.find((e) => e.type === 'error')?.payload,
    )) as { code: string; message: string };
    expect(error.code).toMatch(/^ERR_SSL_/);
    expect(error.message).toMatch(/^TLS read failed/);
  });
});

/** A raw TCP server that answers the upgrade with `interim` responses first, then the 101 and `after`, in one write. */
async function interimServer(interim: string, after: Buffer): Promise<string> {
  const sockets: Socket[] = [];
  const server = createTcp((socket: Socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const key = /sec-websocket-key: (.*)\r\n/i.exec(head)?.[1] ?? '';
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      const upgrade = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
      socket.write(Buffer.concat([Buffer.from(interim + upgrade, 'latin1'), after]));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** An unmasked server frame of up to 125 bytes. */
function serverFrame(opcode: number, payload: string): Buffer {
  return Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), Buffer.from(payload)]);
}

describe("NetLink's filter of the server's stream, around the response head", () => {
  for (const [name, interim] of [
    ['right after the 101 in the same read', ''],
    ['after an interim 103 response (Early Hints) before the 101', 'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n'],
  ] as const) {
    it(`takes out a probe pong ${name}, and passes the frames around it`, async () => {
      const url = await interimServer(
        interim,
        Buffer.concat([serverFrame(1, 'first'), serverFrame(0xa, 'n1'), serverFrame(0xa, 'u2'), serverFrame(1, 'last')]),
      );
      const { ws } = connect(url);
      const messages: string[] = [];
      const pongs: string[] = [];
      ws.on('message', (data) => messages.push(data.toString()));
      ws.on('pong', (data) => pongs.push(data.toString()));
      await waitFor(() => messages.length === 2, 3000, 'both messages');
      expect(messages).toEqual(['first', 'last']);
      expect(pongs).toEqual(['u2']);
    });
  }
});

/** CPU time (clock ticks) the link threads ("speakerd-net") of this process have used. */
function linkThreadTicks(): number {
  let ticks = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() !== 'speakerd-net') continue;
    const fields = (readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks;
}

describe("NetLink's TLS renegotiation", () => {
  it('waits without spinning while a write waits for the server’s handshake records, and sends it once they come', async () => {
    const identity = makeNamedCert('renegotiating.example');
    const received: Buffer[] = [];
    const sockets: TLSSocket[] = [];
    const server = createTls({ ...identity, maxVersion: 'TLSv1.2' }, (socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
      socket.on('data', (data: Buffer) => received.push(data));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    });
    const NetLink = binding.NetLink;
    if (!NetLink) throw new Error('the addon has no NetLink');
    const events: string[] = [];
    const link = new NetLink({ address: '127.0.0.1', port: (server.address() as AddressInfo).port, tls: { verify: false } }, (type) => events.push(type));
    cleanups.push(() => link.destroy());
    await waitFor(() => events.includes('connect') && sockets.length === 1, 3000, 'the handshake');
    // The server asks for a new handshake and reads nothing for a while: the client's next write waits for it.
    const socket = sockets[0] as TLSSocket;
    socket.pause();
    (socket as unknown as { _handle: { readStop(): void; readStart(): void } })._handle.readStop();
    socket.renegotiate({}, () => undefined);
    await sleep(50);
    const before = linkThreadTicks();
    link.write(Buffer.from('after the renegotiation'));
    await sleep(500);
    // A link thread polling for POLLOUT on a writable socket would have used about 50 ticks of 10 ms.
    expect(linkThreadTicks() - before).toBeLessThan(10);
    (socket as unknown as { _handle: { readStart(): void } })._handle.readStart();
    socket.resume();
    await waitFor(() => Buffer.concat(received).toString() === 'after the renegotiation', 3000, 'the write');
    expect(events.filter((e) => e === 'written')).toHaveLength(1);
  });
});

describe("NetLink's client certificate", () => {
  it('refuses a key protected by a passphrase with a clear error that carries neither key nor passphrase, without asking for it', async () => {
    const identity = makeNamedCert('client.example');
    const dir = mkdtempSync(join(tmpdir(), 'net-link-edges-'));
    let encrypted: string;
    try {
      const plain = join(dir, 'k');
      writeFileSync(plain, identity.key);
      encrypted = execFileSync('openssl', ['pkey', '-in', plain, '-aes256', '-passout', 'pass:hunter2-passphrase'], { stdio: 'pipe' }).toString();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(encrypted).toContain('ENCRYPTED PRIVATE KEY');
    const port = await tlsServer(makeNamedCert('server.example'));
    const link = rawLink({ address: '127.0.0.1', port, tls: { verify: false, cert: identity.cert, key: encrypted } });
    await expect(link.next('connect')).rejects.toThrow(/ERR_SSL_CLIENT_CERTIFICATE/);
    const error = link.events.find((e) => e.type === 'error')?.payload as { code: string; message: string };
    expect(error.code).toBe('ERR_SSL_CLIENT_CERTIFICATE');
    expect(error.message).toMatch(/passphrase is not supported/);
    expect(error.message).not.toMatch(/hunter2|PRIVATE KEY|BEGIN/);
  });
});

describe("NetLink's end of a TLS stream", () => {
  it('takes a server that closes TCP without close_notify for the end of the stream, as Node does, not for a TLS error', async () => {
    const identity = makeNamedCert('abrupt.example');
    const raws: Socket[] = [];
    const server = createTcp((raw) => {
      raws.push(raw);
      raw.on('error', () => undefined);
      const tls = new TLSSocket(raw, { isServer: true, key: identity.key, cert: identity.cert });
      tls.on('error', () => undefined);
      // An HTTP reply whose body ends with the connection, cut below TLS.
      tls.on('secure', () => tls.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\nno key', () => setTimeout(() => raw.destroy(), 50)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      for (const s of raws) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    });
    const link = rawLink({ address: '127.0.0.1', port: (server.address() as AddressInfo).port, tls: { verify: false } });
    await link.next('end');
    const data = Buffer.concat(link.events.filter((e) => e.type === 'data').map((e) => e.payload as Buffer));
    expect(data.toString()).toBe('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\nno key');
    expect(link.events.map((e) => e.type)).not.toContain('error');
  });
});

describe("NetLink's default trust", () => {
  it("trusts OpenSSL's default store (here SSL_CERT_FILE) with systemRoots, as Node does with --use-openssl-ca, and not without", async () => {
    const identity = makeNamedCert('trusted.example');
    const port = await tlsServer(identity);
    const dir = mkdtempSync(join(tmpdir(), 'net-link-edges-'));
    const saved = process.env.SSL_CERT_FILE;
    cleanups.push(() => {
      if (saved === undefined) delete process.env.SSL_CERT_FILE;
      else process.env.SSL_CERT_FILE = saved;
      rmSync(dir, { recursive: true, force: true });
    });
    writeFileSync(join(dir, 'ca.pem'), identity.cert);
    process.env.SSL_CERT_FILE = join(dir, 'ca.pem');
    await rawLink({ address: '127.0.0.1', port, tls: { systemRoots: true, host: 'trusted.example' } }).next('connect');
    await expect(rawLink({ address: '127.0.0.1', port, tls: { host: 'trusted.example' } }).next('connect')).rejects.toThrow(/DEPTH_ZERO_SELF_SIGNED_CERT/);
    await expect(rawLink({ address: '127.0.0.1', port, tls: { systemRoots: true, host: 'other.example' } }).next('connect')).rejects.toThrow(
      /ERR_TLS_CERT_ALTNAME_INVALID/,
    );
  });
});

describe('the native uplink when its port goes', () => {
  it('says it is no longer attached once the port it sent is removed', async () => {
    const server = await listeningServer();
    const { ws, socket } = connect(server.url);
    await new Promise<void>((r) => ws.once('open', () => r()));
    const { engine, ring } = toneRing();
    socket().attachUplink(engine, ring, UPLINK);
    engine.step(8);
    await waitFor(() => server.frames().filter((f) => f.opcode === 1).length === 2, 3000, 'audio');
    expect(socket().uplinkStats()?.attached).toBe(true);
    engine.removePort(ring);
    await waitFor(() => socket().uplinkStats()?.attached === false, 2000, 'attached: false');
  });
});
