/**
 * The fake Gemini Live server (test/fakes/gemini-live-server.ts) behind the conformance controls.
 * Gemini has no response items and no clear: a push-to-talk turn is an activity
 * (`activityStart` … `activityEnd`), committed when it holds audio and cleared when it holds none;
 * the service replies by itself after a committed activity or a tool response (scripted here).
 */
import { FakeGeminiLiveServer, tone, type FakeGeminiLiveServerOptions, type ReceivedMessage } from '../fakes/gemini-live-server.js';
import type { ConformanceFake } from './backend-conformance.js';

/** Milliseconds of 16 kHz PCM in one `realtimeInput.audio` message. */
function audioMs(m: ReceivedMessage): number {
  const audio = (m.message.realtimeInput as { audio?: { data?: string } } | undefined)?.audio;
  return typeof audio?.data === 'string' ? (Buffer.from(audio.data, 'base64').length / 2 / 16000) * 1000 : 0;
}

const has = (m: ReceivedMessage, key: string): boolean => m.type === 'realtimeInput' && (m.message.realtimeInput as Record<string, unknown>)[key] !== undefined;

/** Push-to-talk activities of a connection: committed (audio inside) and cleared (none). */
function activities(server: FakeGeminiLiveServer, conn: number): { commits: number; clears: number } {
  let commits = 0;
  let clears = 0;
  let ms = 0;
  for (const m of server.received) {
    if (m.conn !== conn) continue;
    if (has(m, 'activityStart')) ms = 0;
    ms += audioMs(m);
    if (!has(m, 'activityEnd')) continue;
    if (ms >= 100) commits++;
    else clears++;
  }
  return { commits, clears };
}

/** Starts the Gemini fake and wraps it; `token` is the API key the client must present. */
export async function geminiFake(
  options: FakeGeminiLiveServerOptions & { token?: string; pushToTalk?: boolean } = {},
): Promise<ConformanceFake & { server: FakeGeminiLiveServer }> {
  const token = options.token ?? 'conformance-gemini-key';
  const server = await FakeGeminiLiveServer.start({ ...options, apiKey: token });
  let turn: Promise<unknown> = Promise.resolve();
  let closed = false;
  const reply = (ms: number, transcript: string): Promise<void> => {
    // Faster than real time, as the service streams (so a long reply is still streaming when cut).
    const next = turn.then(() => server.sendTurn({ audio: tone(ms, 24000), transcript, chunkMs: 40, interval: 20 }).catch(() => 'closed'));
    turn = next;
    return next.then(() => undefined);
  };
  if (options.pushToTalk) {
    // The service answers each committed activity.
    void (async () => {
      let answered = 0;
      while (!closed) {
        await server.waitFor('realtimeInput', { match: (m) => has(m, 'activityEnd'), timeoutMs: 60_000 }).catch(() => undefined);
        const { commits } = activities(server, server.connections - 1);
        if (!closed && commits > answered) {
          answered = commits;
          await reply(200, 'you said something');
        }
      }
    })();
  }
  return {
    server,
    url: server.url,
    token,
    connections: () => server.connections,
    reply,
    userSpeaks: () => void server.userSpeech(),
    staleAudio(ms) {
      // Audio of the cut reply in the same message as its `interrupted` (never to be played).
      server.send({
        serverContent: {
          interrupted: true,
          modelTurn: { parts: [{ inlineData: { mimeType: 'audio/pcm;rate=24000', data: Buffer.from(tone(ms, 24000).buffer).toString('base64') } }] },
        },
      });
    },
    drop: () => server.dropTcp(),
    endSession: () => server.endConnection(2000),
    async toolCall(name, args) {
      return server.toolCall([{ name, args: args as never }])[0] as string;
    },
    async toolResult(callId) {
      const r = await server.conn().waitForToolResponse(callId, 3000);
      void reply(200, 'the result');
      const output = (r.response as { output?: unknown } | null)?.output;
      return typeof output === 'string' ? output : JSON.stringify(output);
    },
    malformed(count) {
      const junk = [
        '{not json',
        '[]',
        '{}',
        '{"serverContent":7}',
        '{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=24000","data":"!!"}}]}}}',
        '{"toolCall":{"functionCalls":[{"name":"x"}]}}',
        '{"goAway":{"timeLeft":"soon"}}',
      ];
      for (let i = 0; i < count; i++) server.sendRaw(junk[i % junk.length] as string);
    },
    micMs: () => ((server.audioReceived[server.connections - 1]?.length ?? 0) * 1000) / 16000,
    commits: () => activities(server, server.connections - 1).commits,
    clears: () => activities(server, server.connections - 1).clears,
    async close() {
      closed = true;
      await server.close();
    },
  };
}
