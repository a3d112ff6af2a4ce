/**
 * Bench child: the device side of a conversation, alone in its process: the engine on the null device
 * with the echo canceller on, an AI port wired mic-in and speaker-out, connected to the URL in argv[2].
 * After the session is up it measures its own CPU and memory for argv[3] seconds and prints one JSON line.
 * With argv[2] = 'idle' it only runs a 40 ms timer (the cost of Node itself, for comparison).
 */
import { AudioMediaAiPort } from '../src/ai/index.js';
import { AudioEngine } from '../src/media/index.js';

const [target = 'idle', secondsArg = '30'] = process.argv.slice(2);
const seconds = Number(secondsArg);

async function measure(): Promise<Record<string, unknown>> {
  const start = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const used = process.cpuUsage(start);
  const wall = (performance.now() - t0) / 1000;
  return { cpuPercent: ((used.user + used.system) / 1000 / (wall * 1000)) * 100, rssMb: process.memoryUsage().rss / 1048576, seconds: wall };
}

if (target === 'idle') {
  const timer = setInterval(() => undefined, 40);
  const result = await measure();
  clearInterval(timer);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const engine = await AudioEngine.create({ device: { type: 'null' } });
  const ai = new AudioMediaAiPort(engine);
  ai.createPort({});
  engine.captureMedia.startTransmit(ai);
  ai.startTransmit(engine.playbackMedia);
  const connected = new Promise<void>((resolve) => ai.on('event', (e) => e.type === 'connected' && resolve()));
  ai.connect(target, null);
  await connected;
  const result = await measure();
  process.stdout.write(`${JSON.stringify({ ...result, ai: ai.stats(), engine: engine.stats() })}\n`);
  ai.destroy();
  engine.close();
}
