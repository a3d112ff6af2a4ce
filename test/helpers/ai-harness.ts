import { AudioMediaAiPort } from '../../src/ai/ai-port.js';
import type { AiEvent, AiLogger, AiPortParam } from '../../src/ai/types.js';
import { AudioEngine, AudioMediaRing } from '../../src/media/index.js';
import { FakeRealtimeServer, type FakeRealtimeServerOptions } from '../fakes/openai-realtime-server.js';
import { waitFor } from './signal.js';

/** An engine on the null device, an AI port wired to it, a fake service, and what was played. */
export interface AiHarness {
  engine: AudioEngine;
  ai: AudioMediaAiPort;
  server: FakeRealtimeServer;
  events: AiEvent[];
  warnings: string[];
  /** Samples of reply audio the AI port played into the bridge (its ring's played counter). */
  played(): number;
  /** What a sink on the AI port's output heard: samples from the first to the last non-silent one. */
  heardSpan(): number;
  /** Waits for an event of `type` (matching `match`) that arrived after `since` events. */
  event<T extends AiEvent['type']>(
    type: T,
    match?: (e: Extract<AiEvent, { type: T }>) => boolean,
    since?: number,
    timeoutMs?: number,
  ): Promise<Extract<AiEvent, { type: T }>>;
  close(): Promise<void>;
}

/** Starts everything; `connect` (default true) connects to the fake with token 'test-key'. */
export async function startHarness(
  options: { server?: FakeRealtimeServerOptions; param?: AiPortParam; manualClock?: boolean; connect?: boolean; token?: string | null } = {},
): Promise<AiHarness> {
  const server = await FakeRealtimeServer.start(options.server);
  const engine = await AudioEngine.create({ device: { type: 'null' }, manualClock: options.manualClock ?? false });
  const warnings: string[] = [];
  const logger: AiLogger = { warn: (m) => warnings.push(m), info: () => {} };
  const ai = new AudioMediaAiPort(engine, { logger });
  ai.createPort({ pingIntervalMs: 500, pongTimeoutMs: 500, reconnect: { minMs: 50, maxMs: 400, jitter: 0 }, ...options.param });
  engine.captureMedia.startTransmit(ai);
  ai.startTransmit(engine.playbackMedia);
  const sink = AudioMediaRing.create(engine, { rate: 24000, txSeconds: 60 });
  ai.startTransmit(sink);
  let position = 0;
  let first = -1;
  let last = -1;
  sink.on('tx', (b) => {
    b.forEach((v, i) => {
      if (Math.abs(v) <= 2) return;
      if (first < 0) first = position + i;
      last = position + i;
    });
    position += b.length;
  });
  const events: AiEvent[] = [];
  ai.on('event', (e) => events.push(e));
  if (options.connect ?? true) ai.connect(server.url, options.token === undefined ? 'test-key' : options.token);
  const harness: AiHarness = {
    engine,
    ai,
    server,
    events,
    warnings,
    played: () => (ai.stats().playedMs * 24000) / 1000,
    heardSpan: () => {
      sink.pullBatches();
      return first < 0 ? 0 : last - first + 1;
    },
    async event(type, match, since = 0, timeoutMs = 5000) {
      const find = (): AiEvent | undefined => events.slice(since).find((e) => e.type === type && (!match || match(e as never)));
      await waitFor(() => find() !== undefined, timeoutMs, `AI event ${type}`);
      return find() as never;
    },
    async close() {
      ai.destroy();
      engine.close();
      await server.close();
    },
  };
  return harness;
}
