/**
 * The fake OpenAI Realtime server (test/fakes/openai-realtime-server.ts) behind the conformance
 * controls; used for the openai, azure and xai backends (and any other OpenAI-dialect service).
 */
import { FakeRealtimeServer, pcmToBase64, tone, type FakeRealtimeServerOptions } from '../fakes/openai-realtime-server.js';
import { waitFor } from '../helpers/signal.js';
import type { ConformanceFake } from './backend-conformance.js';

/** Starts the OpenAI fake and wraps it; `token` is the key the client must present. */
export async function openAiFake(
  options: FakeRealtimeServerOptions & { token?: string | null; pushToTalk?: boolean } = {},
): Promise<ConformanceFake & { server: FakeRealtimeServer }> {
  const token = options.token === undefined ? 'conformance-key' : options.token;
  const server = await FakeRealtimeServer.start({ ...options, ...(token ? { apiKey: token } : {}) });
  let cutItem: string | null = null;
  let lastReply: string | null = null;
  let replies = 0;
  const last = (type: string): number => {
    const conn = server.connections - 1;
    return server.received.filter((m) => m.conn === conn && m.type === type).length;
  };
  return {
    server,
    url: server.url,
    token,
    connections: () => server.connections,
    async reply(ms, transcript) {
      lastReply = `item_conformance_${replies++}`;
      await server.sendResponse({ audio: tone(ms), transcript, chunkMs: 100, itemId: lastReply }).catch(() => undefined);
    },
    userSpeaks() {
      cutItem = lastReply;
      server.speechStarted();
    },
    staleAudio(ms) {
      const conn = server.conn();
      const type = conn.dialect === 'beta' ? 'response.audio.delta' : 'response.output_audio.delta';
      conn.sendRaw(
        JSON.stringify({
          type,
          event_id: 'event_stale',
          response_id: 'resp_stale',
          item_id: cutItem ?? 'item_stale',
          output_index: 0,
          content_index: 0,
          delta: pcmToBase64(tone(ms)),
        }),
      );
    },
    drop: () => server.dropTcp(),
    endSession: () => server.expireSession(),
    async toolCall(name, args) {
      return server.toolCall({ name, arguments: JSON.stringify(args) }).callId;
    },
    async toolResult(callId) {
      const find = () =>
        server.received.find((m) => {
          const item = (m.event as { item?: { type?: string; call_id?: string } }).item;
          return m.type === 'conversation.item.create' && item?.type === 'function_call_output' && item.call_id === callId;
        });
      await waitFor(() => find() !== undefined, 3000, `tool result ${callId}`);
      return String((find()?.event as { item: { output: string } }).item.output);
    },
    malformed(count) {
      const junk = [
        '{not json',
        '[]',
        '{"no":"type"}',
        '{"type":"response.output_audio.delta"}',
        '{"type":"response.done","response":7}',
        '{"type":"error","error":"x"}',
      ];
      for (let i = 0; i < count; i++) server.sendRaw(junk[i % junk.length] as string);
    },
    micMs: () => ((server.audioReceived[server.connections - 1]?.length ?? 0) * 1000) / 24000,
    commits: () => last('input_audio_buffer.commit'),
    clears: () => last('input_audio_buffer.clear'),
    truncates: () => server.received.filter((m) => m.type === 'conversation.item.truncate').length,
    close: () => server.close(),
  };
}
