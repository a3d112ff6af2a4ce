/**
 * One conformance suite for every AI backend: the same conversation scenarios run through the
 * AudioMediaAiPort against a protocol-faithful fake of the vendor (docs/backends.md, "Adding a
 * backend"). A backend plugs in with a {@link ConformanceTarget}: its port parameters and a fake
 * wrapped in the {@link ConformanceFake} controls. Call `backendConformance(target)` from a
 * `test/conformance/<vendor>.test.ts` file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AudioMediaAiPort } from '../../src/ai/ai-port.js';
import type { AiEvent, AiLogger, AiPortParam } from '../../src/ai/types.js';
import { AudioEngine, AudioMediaRing } from '../../src/media/index.js';
import { waitFor } from '../helpers/signal.js';

/** A fake vendor service, seen through the controls every scenario needs. */
export interface ConformanceFake {
  /** Endpoint for connect(). */
  readonly url: string;
  /** Key for connect() (null: none). */
  readonly token: string | null;
  /** Connections accepted so far. */
  connections(): number;
  /** Sends a reply of `ms` of audio with `transcript`, unprompted (as after a user turn). */
  reply(ms: number, transcript: string): Promise<void>;
  /** The service hears the user talk over the reply (its barge-in signal). */
  userSpeaks(): void;
  /** Sends `ms` more audio belonging to the reply that was cut off (it must not be played). */
  staleAudio(ms: number): void;
  /** Drops the TCP connection without a close frame. */
  drop(): void;
  /** The service's session cap: its end-of-session signal and close (OpenAI session_expired, Gemini goAway). */
  endSession(): void;
  /** Issues a tool call; resolves with the call id. */
  toolCall(name: string, args: Record<string, unknown>): Promise<string>;
  /** Resolves with the output the client sent for `callId`. */
  toolResult(callId: string): Promise<string>;
  /** Sends `count` frames that are not valid messages of the protocol. */
  malformed(count: number): void;
  /** Milliseconds of microphone audio received on the most recent connection. */
  micMs(): number;
  /** Push-to-talk turns the client committed, and cleared, on the most recent connection. */
  commits(): number;
  /**
   * Absent when the vendor has no message to drop a turn's audio (Deepgram: an empty turn sends
   * nothing); the scenario then checks that the empty turn was closed without a commit.
   */
  clears?(): number;
  /** `conversation.item.truncate` (or the vendor's equivalent) requests received on every connection, where the fake can tell. */
  truncates?(): number;
  close(): Promise<void>;
}

/** What a backend supplies to run the suite. */
export interface ConformanceTarget {
  /** Backend name (shown in the test names). */
  name: string;
  /** Port parameters selecting the backend (timers are shortened by the suite). */
  param: AiPortParam;
  /** Starts a fake; `pushToTalk` asks for a service with its own turn detection off. */
  start(options: { pushToTalk: boolean }): Promise<ConformanceFake>;
  /** Scenarios the vendor has no notion of, with the reason (the test is skipped, the reason shown). */
  skip?: Partial<Record<Scenario, string>>;
  /**
   * The vendor has no truncate (xAI): the barge-in scenario also checks that the client sent none
   * (the fake must count them with `truncates`). Unset: nothing is checked about truncates.
   */
  noTruncate?: boolean;
}

/** The scenarios of the suite. */
export type Scenario = 'turn' | 'bargeIn' | 'reconnect' | 'sessionCap' | 'tool' | 'malformed' | 'pushToTalk';

/** One bridge period of the null device, in ms. */
const PERIOD_MS = 10;

interface Rig {
  engine: AudioEngine;
  ai: AudioMediaAiPort;
  fake: ConformanceFake;
  events: AiEvent[];
  warnings: string[];
  /** Samples of reply audio played by the port (its ring's counter). */
  playedMs(): number;
  /** Samples a sink on the port's output heard that were not silent. */
  heardMs(): number;
  event<T extends AiEvent['type']>(
    type: T,
    since?: number,
    match?: (e: Extract<AiEvent, { type: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<AiEvent, { type: T }>>;
  close(): Promise<void>;
}

async function rig(target: ConformanceTarget, pushToTalk: boolean): Promise<Rig> {
  const fake = await target.start({ pushToTalk });
  const engine = await AudioEngine.create({ device: { type: 'null' } });
  const warnings: string[] = [];
  const logger: AiLogger = { warn: (m) => warnings.push(m), info: () => {} };
  const ai = new AudioMediaAiPort(engine, { logger });
  ai.createPort({
    pingIntervalMs: 500,
    pongTimeoutMs: 1000,
    reconnect: { minMs: 50, maxMs: 400, jitter: 0 },
    ...target.param,
    ...(pushToTalk ? { turnDetection: null } : {}),
  });
  engine.captureMedia.startTransmit(ai);
  ai.startTransmit(engine.playbackMedia);
  const sink = AudioMediaRing.create(engine, { rate: 24000, txSeconds: 60 });
  ai.startTransmit(sink);
  let loud = 0;
  sink.on('tx', (b) => b.forEach((v) => Math.abs(v) > 2 && loud++));
  const events: AiEvent[] = [];
  ai.on('event', (e) => events.push(e));
  ai.connect(fake.url, fake.token);
  return {
    engine,
    ai,
    fake,
    events,
    warnings,
    playedMs: () => ai.stats().playedMs,
    heardMs: () => {
      sink.pullBatches();
      return (loud * 1000) / 24000;
    },
    async event(type, since = 0, match, timeoutMs = 5000) {
      const find = (): AiEvent | undefined => events.slice(since).find((e) => e.type === type && (!match || match(e as never)));
      await waitFor(() => find() !== undefined, timeoutMs, `AI event ${type}`);
      return find() as never;
    },
    async close() {
      ai.destroy();
      engine.close();
      await fake.close();
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Defines the conformance tests of one backend. */
export function backendConformance(target: ConformanceTarget): void {
  describe(`backend conformance: ${target.name}`, () => {
    let r: Rig | undefined;
    afterEach(async () => {
      await r?.close();
      r = undefined;
    });
    const scenario = (name: Scenario, title: string, fn: () => Promise<void>): void => {
      const reason = target.skip?.[name];
      if (reason) it.skip(`${title} (skipped: ${reason})`, fn);
      else it(title, fn);
    };

    scenario('turn', 'a turn: connects, plays a reply in full with its transcript, and the key appears in no event', async () => {
      r = await rig(target, false);
      const connected = await r.event('connected');
      expect(connected.renewal).toBe(false);
      await r.fake.reply(400, 'hello there');
      await r.event('transcript', 0, (e) => e.role === 'assistant' && e.final && e.text === 'hello there');
      await r.event('audio_done', 0, (e) => !e.interrupted);
      expect(r.playedMs()).toBeGreaterThanOrEqual(390);
      expect(r.heardMs()).toBeGreaterThanOrEqual(350);
      expect(r.fake.micMs()).toBeGreaterThan(0);
      if (r.fake.token) expect(JSON.stringify(r.events) + r.warnings.join('\n')).not.toContain(r.fake.token);
    });

    scenario('bargeIn', 'barge-in: playback silent within one period of the signal, no stale audio after', async () => {
      r = await rig(target, false);
      await r.event('connected');
      void r.fake.reply(4000, 'a long answer');
      await waitFor(() => r!.playedMs() >= 500, 4000, '500 ms played');
      const since = r.events.length;
      r.fake.userSpeaks();
      await r.event('audio_done', since, (e) => e.interrupted);
      const atFlush = r.playedMs();
      await waitFor(() => r!.ai.stats().bargeInMs.count >= 1, 2000, 'barge-in latency recorded');
      expect(r.ai.stats().bargeInMs.max).toBeLessThanOrEqual(PERIOD_MS + 5);
      expect(r.ai.isPlayingOut()).toBe(false);
      r.fake.staleAudio(500);
      await sleep(300);
      expect(r.playedMs() - atFlush).toBeLessThanOrEqual(PERIOD_MS);
      // The conversation goes on: the next reply plays.
      await r.fake.reply(200, 'next');
      await r.event('audio_done', since, (e) => !e.interrupted);
      if (target.noTruncate) {
        const truncates = r.fake.truncates?.bind(r.fake);
        if (!truncates) throw new Error(`${target.name}: noTruncate needs a fake that counts truncates`);
        expect(truncates()).toBe(0);
        expect(r.events.filter((e) => e.type === 'error')).toEqual([]);
      }
    });

    scenario('reconnect', 'reconnect after a drop: back within the backoff, and the conversation goes on', async () => {
      r = await rig(target, false);
      await r.event('connected');
      const since = r.events.length;
      r.fake.drop();
      await r.event('disconnected', since);
      await r.event('connected', since);
      expect(r.fake.connections()).toBe(2);
      await r.fake.reply(200, 'still here');
      await r.event('audio_done', since, (e) => !e.interrupted);
      expect(r.ai.stats().reconnects).toBe(1);
    });

    scenario('sessionCap', 'session cap: the session is renewed at once, reported as a renewal', async () => {
      r = await rig(target, false);
      await r.event('connected');
      const since = r.events.length;
      r.fake.endSession();
      const connected = await r.event('connected', since);
      expect(connected.renewal).toBe(true);
      expect(r.fake.connections()).toBe(2);
      expect(r.events.slice(since).filter((e) => e.type === 'error' && e.fatal)).toEqual([]);
    });

    scenario('tool', 'a tool call round trip: the call is an event, the result reaches the service, a reply follows', async () => {
      r = await rig(target, false);
      await r.event('connected');
      const callId = await r.fake.toolCall('get_weather', { city: 'Oslo' });
      const call = await r.event('tool_call');
      expect(call).toMatchObject({ callId, name: 'get_weather' });
      expect(JSON.parse(call.arguments)).toEqual({ city: 'Oslo' });
      const since = r.events.length;
      r.ai.sendToolResult(callId, { temp: 3 });
      expect(JSON.parse(await r.fake.toolResult(callId))).toEqual({ temp: 3 });
      expect(() => r!.ai.sendToolResult(callId, {})).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_CALL' }));
      await r.event('audio_done', since, undefined, 5000);
    });

    scenario('malformed', 'malformed messages are counted and survived', async () => {
      r = await rig(target, false);
      await r.event('connected');
      r.fake.malformed(5);
      await waitFor(() => r!.ai.stats().malformedMessages >= 5, 2000, '5 malformed messages counted');
      expect(r.ai.getState()).toBe('connected');
      await r.fake.reply(200, 'fine');
      await r.event('audio_done', 0, (e) => !e.interrupted);
      expect(r.fake.connections()).toBe(1);
    });

    scenario('pushToTalk', 'push-to-talk: the microphone goes out only while the turn is open; committed at its end, cleared when empty', async () => {
      r = await rig(target, true);
      await r.event('connected');
      await sleep(300);
      expect(r.fake.micMs()).toBe(0);
      r.ai.startTurn();
      await sleep(400);
      r.ai.endTurn();
      await waitFor(() => r!.fake.commits() === 1, 2000, 'one commit');
      const micAtEnd = r.fake.micMs();
      expect(micAtEnd).toBeGreaterThanOrEqual(250);
      await r.event('audio_done', 0, (e) => !e.interrupted);
      await sleep(300);
      expect(r.fake.micMs()).toBeLessThanOrEqual(micAtEnd + 80);
      r.ai.startTurn();
      r.ai.endTurn();
      const clears = r.fake.clears?.bind(r.fake);
      if (clears) await waitFor(() => clears() === 1, 2000, 'one clear');
      else await r.event('turn', 0, (e) => e.committed === false, 2000);
      expect(r.fake.commits()).toBe(1);
      expect(r.events.filter((e) => e.type === 'turn').map((e) => (e as { committed?: boolean }).committed)).toEqual([undefined, true, undefined, false]);
    });
  });
}
