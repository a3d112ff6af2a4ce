/**
 * The fake Deepgram Voice Agent server (test/fakes/deepgram-agent-server.ts) behind the conformance
 * controls. Like the service, it speaks by itself after the user's turn ends (`ForceEndTurn` in
 * push-to-talk) and after a client-side function's result; the fake leaves that to its scripts, so
 * this wrapper plays the agent's part.
 */
import { FakeDeepgramAgentServer, pcmToBytes, tone, type FakeDeepgramAgentServerOptions } from '../fakes/deepgram-agent-server.js';
import type { ConformanceFake } from './backend-conformance.js';

/** Reply rate the backend asks for in Settings. */
const OUTPUT_RATE = 24000;

/** Starts the Deepgram fake and wraps it; `token` is the key the client must present. */
export async function deepgramFake(
  options: FakeDeepgramAgentServerOptions & { token?: string } = {},
): Promise<ConformanceFake & { server: FakeDeepgramAgentServer }> {
  const token = options.token ?? 'conformance-key';
  const server = await FakeDeepgramAgentServer.start({ clientMessageTimeoutMs: 1500, ...options, apiKey: token });
  const ofLast = (type: string): number => {
    const conn = server.connections - 1;
    return server.received.filter((m) => m.conn === conn && m.type === type).length;
  };
  // The agent's own turn-taking: a reply after the user's forced end of turn and after a function result.
  let cursor = 0;
  const agent = setInterval(() => {
    for (; cursor < server.received.length; cursor++) {
      const m = server.received[cursor];
      if (!m || (m.type !== 'ForceEndTurn' && m.type !== 'FunctionCallResponse')) continue;
      const conn = server.conn(m.conn);
      if (conn.isOpen && !conn.speaking) void conn.sendReply({ audio: tone(300, OUTPUT_RATE), text: 'done', chunkMs: 100 }).catch(() => undefined);
    }
  }, 10);
  return {
    server,
    url: server.url,
    token,
    connections: () => server.connections,
    async reply(ms, transcript) {
      await server.sendReply({ audio: tone(ms, OUTPUT_RATE), text: transcript, chunkMs: 100 }).catch(() => undefined);
    },
    userSpeaks: () => void server.userStartedSpeaking(),
    // No ids on the wire: audio after UserStartedSpeaking and before the next AgentStartedSpeaking is the cut reply's.
    staleAudio: (ms) => server.sendRaw(pcmToBytes(tone(ms, OUTPUT_RATE))),
    drop: () => server.dropTcp(),
    endSession: () => server.error(server.options.sessionCapError.code, server.options.sessionCapError.description),
    async toolCall(name, args) {
      return server.functionCallRequest([{ name, arguments: args as Record<string, never> }])[0] as string;
    },
    async toolResult(callId) {
      return (await server.conn().waitForFunctionResponse(callId, 3000)).content;
    },
    malformed(count) {
      const junk = [
        '{not json',
        '[]',
        '{"no":"type"}',
        '{"type":"ConversationText","role":7,"content":"x"}',
        '{"type":"FunctionCallRequest","functions":"x"}',
        '{"type":"FunctionCallCancelled","functions":[{}]}',
      ];
      for (let i = 0; i < count; i++) server.sendRaw(junk[i % junk.length] as string);
    },
    micMs: () => {
      const conn = server.connections - 1;
      return ((server.audioReceived[conn]?.length ?? 0) * 1000) / (server.conn(conn).input.sampleRate || 1);
    },
    commits: () => ofLast('ForceEndTurn'),
    close: async () => {
      clearInterval(agent);
      await server.close();
    },
  };
}
