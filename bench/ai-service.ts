/**
 * Bench child: the fake OpenAI service in its own process (so its CPU is not counted against the
 * device). Replies with 3 s of speech-like audio every 5 s, streamed at twice real time in 100 ms
 * chunks as the real service does; prints its URL on the first line of stdout.
 */
import { FakeRealtimeServer, tone } from '../test/fakes/openai-realtime-server.js';

const server = await FakeRealtimeServer.start();
server.onResponseCreate = () => undefined;
process.stdout.write(`${server.url}\n`);
const reply = tone(3000, 180, 6000);
setInterval(() => {
  if (server.connections > 0 && !server.activeResponse) void server.sendResponse({ audio: reply, chunkMs: 100, interval: 50, transcript: 'speech' });
}, 5000);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
