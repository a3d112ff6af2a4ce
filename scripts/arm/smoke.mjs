// Smoke test of a (cross-)built addon on the CPU that runs it (under qemu-user on the build host):
// the loader picks the build for this CPU; for each echo engine the build has, the engine ticks on the
// null device with it and both resamplers, and the offline echo canceller removes a synthetic echo
// and keeps the near end; aec.engine 'auto' runs webrtc when the build has it; the resampler runs; an
// sd_notify datagram reaches a receiver with this process's pid; the AI socket on the addon's thread
// (NetLink, TLS through the OpenSSL this Node exports) carries `ws` to a wss:// server in this process,
// refuses that server's certificate without its CA, and its native uplink sends a manual-clock ring's
// microphone batches as whole messages, byte for byte what the same tone gives a ring read by JS.
// Prints one line; exits 1 on any failure.
//
//   node scripts/arm/smoke.mjs [--engines=speex,webrtc]     (after `npm run build:ts`; from the repository)
//
// --engines: the echo engines the build must have, exactly (the ARM builds: speex,webrtc).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttps } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNativeAddon, loadNativeBinding } from '../../dist/src/media/native-binding.js';
import { AudioEngine } from '../../dist/src/media/index.js';
import { NativeSocket } from '../../dist/src/ai/native-socket.js';
import { makeSelfSignedCert } from '../../dist/test/fakes/openai/cert.js';
import WebSocket, { WebSocketServer } from 'ws';

const root = new URL('../..', import.meta.url).pathname;
const expectedEngines = process.argv.find((a) => a.startsWith('--engines='))?.slice('--engines='.length);
const path = findNativeAddon(root);
const binding = loadNativeBinding();
const { echoEngines } = binding.buildInfo();
if (expectedEngines !== undefined && echoEngines.join(',') !== expectedEngines) {
  throw new Error(`echo engines: the build has ${echoEngines.join(',')}, expected ${expectedEngines}`);
}

// The engine ticking on the null device with the echo canceller (engine `aecEngine`) and the resamplers.
async function tick(aecEngine) {
  const engine = await AudioEngine.create({ manualClock: true, device: { type: 'null', rate: 48000 }, aec: { engine: aecEngine } });
  try {
    engine.step(100);
    const { tickAvgUs, frames, aec } = engine.stats();
    if (frames < 100 || aec === null) throw new Error(`engine (${aecEngine}): ${frames} frames, aec ${JSON.stringify(aec)}`);
    return { running: aec.engine, tickAvgUs };
  } finally {
    engine.close();
  }
}

// The offline canceller on 3 s of a far end (amplitude-modulated noise) echoed through a three-tap
// path 5 ms late, then 1 s of the near end alone (a 440 Hz tone): the echo removed over the far end's
// last second, and the near end's loss over the last half second.
const RATE = 16000;
const FAR = 3 * RATE;
const LENGTH = 4 * RATE;
let seed = 12345;
const noise = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const far = Int16Array.from({ length: LENGTH }, (_, i) => (i < FAR ? Math.round(6000 * noise() * (0.6 + 0.4 * Math.sin((2 * Math.PI * 3 * i) / RATE))) : 0));
const near = Int16Array.from({ length: LENGTH }, (_, i) => (i < FAR ? 0 : Math.round(3000 * Math.sin((2 * Math.PI * 440 * i) / RATE))));
const at = (i) => far[i] ?? 0;
const mic = Int16Array.from({ length: LENGTH }, (_, i) => Math.round(0.5 * at(i - 80) + 0.25 * at(i - 117) - 0.1 * at(i - 170)) + near[i]);
const power = (x, start, end) => x.subarray(start, end).reduce((sum, v) => sum + v * v, 0) / (end - start) + 1;
const MIN_ERLE_DB = 20;
const MAX_NEAR_LOSS_DB = 6;

function cancel(engine) {
  const canceller = new binding.EchoCanceller({ rate: RATE, frame: 160, engine });
  const out = canceller.process(mic, far);
  const stats = canceller.stats();
  const erleDb = 10 * Math.log10(power(mic, FAR - RATE, FAR) / power(out, FAR - RATE, FAR));
  const nearLossDb = 10 * Math.log10(power(near, LENGTH - RATE / 2, LENGTH) / power(out, LENGTH - RATE / 2, LENGTH));
  if (out.length !== LENGTH || stats.engine !== engine || !stats.converged || erleDb < MIN_ERLE_DB || nearLossDb > MAX_NEAR_LOSS_DB) {
    throw new Error(
      `echo canceller (${engine}): ${out.length} samples, stats ${JSON.stringify(stats)}, ERLE ${erleDb.toFixed(1)} dB, near-end loss ${nearLossDb.toFixed(1)} dB`,
    );
  }
  return `${engine} ERLE ${erleDb.toFixed(0)} dB, near-end loss ${nearLossDb.toFixed(1)} dB`;
}

const ticks = [];
const cancellers = [];
for (const engine of echoEngines) {
  const { running, tickAvgUs } = await tick(engine);
  if (running !== engine) throw new Error(`engine: aec.engine '${engine}' runs '${running}'`);
  ticks.push(`${engine} ${tickAvgUs.toFixed(0)} us`);
  cancellers.push(cancel(engine));
}
const auto = (await tick('auto')).running;
if (auto !== (echoEngines.includes('webrtc') ? 'webrtc' : 'speex'))
  throw new Error(`engine: aec.engine 'auto' runs '${auto}' with ${echoEngines.join(',')} built`);

const sine = Int16Array.from({ length: 48000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48000)));
const down = binding.resample(sine, 48000, 16000, 5);
if (down.length < 15800 || down.length > 16200) throw new Error(`resample: ${down.length} samples`);

const dir = mkdtempSync(join(tmpdir(), 'speakerd-smoke-'));
try {
  const receiver = new binding.NotifyReceiver(join(dir, 'notify'));
  process.env.NOTIFY_SOCKET = join(dir, 'notify');
  if (!binding.notify('STATUS=smoke')) throw new Error('notify() returned false');
  const got = receiver.receive(5000);
  receiver.close();
  if (!got || got.message !== 'STATUS=smoke' || got.pid !== process.pid) throw new Error(`sd_notify: ${JSON.stringify(got)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
// --- NetLink: wss:// through the addon's own thread, and the native uplink ------------------------------
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** `promise`, or an error naming `what` after `ms` (a smoke that hangs would stall CI's ARM stage). */
function within(ms, what, promise) {
  let timer;
  const late = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`net link: no ${what} within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** A ws client on 127.0.0.1:`port` over a NativeSocket (TLS verified against `ca`, or Node's roots). */
function nativeClient(port, ca) {
  let socket;
  const ws = new WebSocket(`wss://127.0.0.1:${port}/realtime`, {
    perMessageDeflate: false,
    createConnection: (opts) =>
      (socket = new NativeSocket(binding, {
        host: opts.host,
        port: Number(opts.port),
        connectTimeoutMs: 10000,
        ...(opts.servername !== undefined ? { servername: opts.servername } : {}),
        tls: { ...(ca !== undefined ? { ca } : {}), verify: true, minVersion: 'TLSv1.2' },
      })),
  });
  ws.on('open', () => socket.markFrames());
  return { ws, socket: () => socket };
}

const outcome = (ws) =>
  new Promise((resolve) => {
    ws.once('open', () => resolve({ open: true }));
    ws.once('error', (error) => resolve({ open: false, error }));
  });

const UPLINK = {
  prefix: '{"type":"input_audio_buffer.append","audio":"',
  suffix: '"}',
  batch: 960,
  maxAgeMs: 5000,
  highWaterBytes: 262144,
  probeIntervalMs: 100,
};
const BATCH_BYTES = 960 * 2;
const ROUNDS = 5;

async function netLink() {
  if (!binding.NetLink) throw new Error('net link: this addon has no NetLink');
  const { key, cert } = makeSelfSignedCert();
  const https = createHttps({ key, cert });
  const wss = new WebSocketServer({ server: https });
  const received = [];
  const sockets = [];
  wss.on('connection', (socket) => {
    sockets.push(socket);
    socket.on('message', (data, isBinary) => {
      received.push(data.toString());
      if (!isBinary && data.toString() === 'echo over tls') socket.send('echo over tls');
    });
  });
  await new Promise((r) => https.listen(0, '127.0.0.1', r));
  const port = https.address().port;
  const engine = new binding.Engine({ manualClock: true, bridgeRate: 24000, aec: false }, () => {});
  let client;
  try {
    // Verification is real: without the CA (Node's roots) the self-signed server is refused.
    const untrusted = nativeClient(port);
    const refused = await within(20000, 'refusal of an untrusted certificate', outcome(untrusted.ws));
    untrusted.ws.terminate();
    if (refused.open || refused.error?.code !== 'DEPTH_ZERO_SELF_SIGNED_CERT')
      throw new Error(`net link: without the CA the connection ${refused.open ? 'opened' : `failed with ${refused.error?.code}: ${refused.error?.message}`}`);

    client = nativeClient(port, cert);
    const opened = await within(20000, 'TLS WebSocket open', outcome(client.ws));
    if (!opened.open) throw new Error(`net link: wss:// failed: ${opened.error?.code} ${opened.error?.message}`);
    const echoed = new Promise((r) => client.ws.once('message', (d) => r(d.toString())));
    client.ws.send('echo over tls');
    const echo = await within(10000, 'echo', echoed);
    if (echo !== 'echo over tls') throw new Error(`net link: echoed '${echo}'`);

    // A 440 Hz tone into two rings at 24 kHz: one read by JS (readTxBase64), one by the native uplink.
    engine.start();
    const tone = engine.createTone(24000, new Float64Array([440, 0, 0.3, 600000]), false);
    const js = engine.createRing(24000, 24000 * 5, 24000, 960, 0);
    const native = engine.createRing(24000, 24000 * 5, 24000, 960, 0);
    engine.connect(tone, js, 1);
    engine.connect(tone, native, 1);
    if (!client.socket().attachUplink(engine, native, UPLINK)) throw new Error('net link: attachUplink refused an open link');
    const expected = [];
    const out = new Uint8Array(4096);
    for (let round = 0; round < ROUNDS; round++) {
      engine.step(8);
      for (let n; (n = engine.readTxBase64(js, out, 0, 960)) > 0;) expected.push(Buffer.from(out.subarray(0, n)).toString('latin1'));
      await sleep(20);
    }
    const audio = () => received.filter((m) => m.startsWith('{'));
    const deadline = Date.now() + 20000;
    while (audio().length < expected.length && Date.now() < deadline) await sleep(20);
    await sleep(100);
    const got = audio();
    if (expected.length !== 2 * ROUNDS || got.length !== expected.length)
      throw new Error(`net link: the server received ${got.length} audio messages, JS read ${expected.length} batches, expected ${2 * ROUNDS}`);
    got.forEach((message, i) => {
      const parsed = JSON.parse(message);
      const bytes = Buffer.from(parsed.audio ?? '', 'base64');
      const silent = bytes.length === BATCH_BYTES && new Int16Array(bytes.buffer, bytes.byteOffset, 960).every((v) => v === 0);
      if (parsed.type !== 'input_audio_buffer.append' || bytes.length !== BATCH_BYTES || silent || parsed.audio !== expected[i])
        throw new Error(
          `net link: audio message ${i}: type ${parsed.type}, ${bytes.length} bytes${silent ? ' of silence' : ''}, ${parsed.audio === expected[i] ? 'same as' : 'differs from'} the JS ring's batch`,
        );
    });
    const stats = client.socket().uplinkStats();
    if (stats?.sentMessages !== expected.length || stats.staleMessages !== 0 || !stats.attached)
      throw new Error(`net link: uplink stats ${JSON.stringify({ ...stats, micToWireMs: stats?.micToWireMs.length })}`);
    client.socket().detachUplink();
    return `native TLS socket + uplink (${got.length} x ${BATCH_BYTES} B)`;
  } finally {
    engine.close();
    client?.ws.terminate();
    for (const s of sockets) s.terminate();
    await new Promise((r) => wss.close(() => r()));
    await new Promise((r) => https.close(() => r()));
  }
}
const net = await netLink();

console.log(
  `smoke ok on ${process.arch} (node ${process.version}): ${path.slice(root.length)}, echo engines ${echoEngines.join(',')} ('auto' runs ${auto}); ` +
    `100 ticks at 48 kHz per engine (${ticks.join(', ')} per 10 ms tick); offline canceller: ${cancellers.join('; ')}; resampler, sd_notify; ${net}`,
);
