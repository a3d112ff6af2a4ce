import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AudioMediaAiPort } from '../src/ai/index.js';
import { AudioEngine } from '../src/media/index.js';
import { FakeRealtimeServer, tone } from '../test/fakes/openai-realtime-server.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Seconds of conversation the CPU is measured over. */
const CPU_SECONDS = 30;

function firstLine(child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) return reject(new Error('no stdout'));
    const lines = createInterface({ input: child.stdout });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`bench child exited with ${code}`)));
  });
}

async function runClient(target: string): Promise<{ cpuPercent: number; rssMb: number; ai?: { receivedMs: number; playedMs: number } }> {
  const child = spawn(process.execPath, [join(here, 'ai-client.js'), target, String(CPU_SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(await firstLine(child)) as never;
}

/** CPU and memory of a device process in full-duplex conversation with a fake service in another process. */
async function benchConversationCpu(): Promise<Record<string, number>> {
  const service = spawn(process.execPath, [join(here, 'ai-service.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await firstLine(service);
    const idle = await runClient('idle');
    const talk = await runClient(url);
    return {
      'whole device process, full duplex, AEC on (% of a core, target <= 1)': talk.cpuPercent,
      'idle Node process with a 40 ms timer (% of a core)': idle.cpuPercent,
      'device process RSS (MB, target <= 64)': talk.rssMb,
      'reply audio played during the measurement (s)': (talk.ai?.playedMs ?? 0) / 1000,
    };
  } finally {
    service.kill('SIGTERM');
  }
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('bench: timed out');
    await new Promise((r) => setImmediate(r));
  }
}

/** Latencies with the fake in this process (shared clock): mic to wire, wire to speaker, barge-in. */
async function benchLatency(): Promise<Record<string, number>> {
  const server = await FakeRealtimeServer.start();
  server.onResponseCreate = () => undefined;
  const engine = await AudioEngine.create({ device: { type: 'null' } });
  const ai = new AudioMediaAiPort(engine);
  ai.createPort({});
  engine.captureMedia.startTransmit(ai);
  ai.startTransmit(engine.playbackMedia);
  try {
    const connected = new Promise<void>((resolve) => ai.on('event', (e) => e.type === 'connected' && resolve()));
    ai.connect(server.url, null);
    await connected;
    const wireToSpeaker: number[] = [];
    for (let i = 0; i < 20; i++) {
      const before = ai.stats().playedMs;
      const t0 = performance.now();
      void server.sendResponse({ audio: tone(300), chunkMs: 100 });
      await until(() => ai.stats().playedMs > before);
      wireToSpeaker.push(performance.now() - t0);
      await until(() => server.activeResponse === null && ai.stats().playedMs >= before + 300);
    }
    for (let i = 0; i < 20; i++) {
      const before = ai.stats().playedMs;
      void server.sendResponse({ audio: tone(2000), chunkMs: 100, holdDone: true });
      await until(() => ai.stats().playedMs > before + 200);
      server.speechStarted();
      await until(() => ai.stats().bargeInMs.count === i + 1);
      await until(() => server.activeResponse === null);
    }
    wireToSpeaker.sort((a, b) => a - b);
    const stats = ai.stats();
    return {
      'mic to wire, last sample of a batch, p50 (ms)': stats.micToWireMs.p50,
      'mic to wire, last sample of a batch, p95 (ms)': stats.micToWireMs.p95,
      'mic to wire, oldest sample (batch 40 ms + p95) (ms, target <= 50)': 40 + stats.micToWireMs.p95,
      'wire to speaker, first delta to first sample played, p50 (ms)': wireToSpeaker[10] ?? 0,
      'wire to speaker, p95 (ms)': wireToSpeaker[18] ?? 0,
      'barge-in, speech_started to playback stopped, p50 (ms)': stats.bargeInMs.p50,
      'barge-in, max (ms, target <= one 10 ms period + dispatch)': stats.bargeInMs.max,
    };
  } finally {
    ai.destroy();
    engine.close();
    await server.close();
  }
}

/** The AI port's costs and latencies. */
export async function benchAi(): Promise<Record<string, number>> {
  return { ...(await benchLatency()), ...(await benchConversationCpu()) };
}
