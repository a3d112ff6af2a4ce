/**
 * The JS thread's work while the microphone streams (issue 13). With the addon carrying the socket
 * (the default), the JS thread takes no part in sending the microphone: it neither reads the ring nor
 * sends nor probes, and the service still gets every batch. With Node's sockets (nativeSocket
 * false), each 40 ms batch is one natively framed text message, no timer is armed for it, and the
 * uplink is probed once per interval (not once per batch). Against the fake OpenAI service on
 * loopback, with a real-time null device.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { AudioMediaRing } from '../../src/media/index.js';
import { startHarness, type AiHarness } from '../helpers/ai-harness.js';

let h: AiHarness | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.close();
  h = undefined;
});

const realSetTimeout = globalThis.setTimeout;
const sleep = (ms: number): Promise<void> => new Promise((r) => realSetTimeout(r, ms));

const appendsOf = (harness: AiHarness, since: number): { audio: string }[] =>
  harness.server.received.filter((m) => m.conn === 0 && m.type === 'input_audio_buffer.append' && m.at >= since).map((m) => m.event as { audio: string });

describe('steady microphone streaming, the addon carrying the socket', () => {
  it('reads, frames, sends and probes nothing on the JS thread, arms no timer, and the service gets every 40 ms batch', async () => {
    h = await startHarness();
    await h.event('connected');
    await sleep(300);
    const reads = [vi.spyOn(AudioMediaRing.prototype, 'readBatchBase64'), vi.spyOn(AudioMediaRing.prototype, 'pullBatches')];
    const sends = vi.spyOn(WebSocket.prototype, 'send');
    const pings = vi.spyOn(WebSocket.prototype, 'ping');
    const timers = [vi.spyOn(globalThis, 'setTimeout'), vi.spyOn(globalThis, 'setInterval'), vi.spyOn(globalThis, 'setImmediate')];
    const since = Date.now();
    const sentBefore = h.ai.stats().sentMs;
    await sleep(2000);
    const sentMs = h.ai.stats().sentMs - sentBefore;
    for (const t of timers) t.mockRestore();
    await sleep(200);

    expect(sentMs).toBeGreaterThan(1500);
    // (The harness's own sink ring, which records what is played, is read as always.)
    const port = h.ai.portId;
    for (const spy of reads) expect(spy.mock.contexts.filter((ring) => (ring as AudioMediaRing).portId === port)).toHaveLength(0);
    expect(reads[1]?.mock.contexts.length).toBeGreaterThan(10);
    for (const spy of [sends, ...timers]) expect(spy).not.toHaveBeenCalled();
    // The harness's liveness ping (every 500 ms) stays in JS; no uplink probe does.
    expect(pings.mock.calls.filter(([payload]) => String(payload).startsWith('u'))).toHaveLength(0);
    // Every batch arrived whole, as the backend frames it: 40 ms at 24 kHz, 960 samples.
    const appends = appendsOf(h, since);
    expect(appends.length).toBeGreaterThanOrEqual(sentMs / 40 - 1);
    expect(appends.every((a) => Buffer.from(a.audio, 'base64').length === 1920)).toBe(true);
    const stats = h.ai.stats();
    expect(stats.micToWireMs.count).toBeGreaterThanOrEqual(sentMs / 40 - 1);
    expect(stats.micToWireMs.p95).toBeLessThan(100);
    expect(stats.staleSendMs).toBe(0);
  });
});

describe('the native uplink across connections', () => {
  it("keeps what a terminated connection's uplink sent in the port's counters", async () => {
    h = await startHarness({ param: { reconnect: { minMs: 50, maxMs: 100, jitter: 0 } } });
    await h.event('connected');
    await sleep(600);
    const before = h.ai.stats();
    expect(before.sentMs).toBeGreaterThan(400);
    // The service stops answering: the liveness ping times out and the port terminates the link (its
    // socket is destroyed before the port hears of the close), then reconnects.
    h.server.stall(true);
    await h.event('disconnected');
    h.server.stall(false);
    await h.event('connected', undefined, h.events.findIndex((e) => e.type === 'disconnected') + 1);
    const after = h.ai.stats();
    expect(after.sentMs).toBeGreaterThanOrEqual(before.sentMs);
    expect(after.micToWireMs.count).toBeGreaterThanOrEqual(before.micToWireMs.count);
  });
});

describe('steady microphone streaming through Node sockets', () => {
  it('arms no timer, writes one text frame per batch from a reused buffer, and probes the uplink at most every 125 ms', async () => {
    h = await startHarness({ param: { nativeSocket: false } });
    await h.event('connected');
    await sleep(300);
    const sends = vi.spyOn(WebSocket.prototype, 'send');
    const pings = vi.spyOn(WebSocket.prototype, 'ping');
    const timers = [vi.spyOn(globalThis, 'setTimeout'), vi.spyOn(globalThis, 'setInterval'), vi.spyOn(globalThis, 'setImmediate')];
    const timeoutsBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const sentBefore = h.ai.stats().sentMs;
    await sleep(2000);
    const sentMs = h.ai.stats().sentMs - sentBefore;
    const timeoutsAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    for (const t of timers) t.mockRestore();

    expect(sentMs).toBeGreaterThan(1500);
    const appends = sends.mock.calls.filter(([, options]) => (options as { binary?: boolean } | undefined)?.binary === false);
    expect(appends.length).toBe(sends.mock.calls.length);
    expect(appends.length).toBeGreaterThanOrEqual(sentMs / 40 - 1);
    expect(appends.every(([data]) => Buffer.isBuffer(data))).toBe(true);
    // The same few buffers carry every batch.
    expect(new Set(appends.map(([data]) => data)).size).toBeLessThanOrEqual(2);
    expect(JSON.parse((appends.at(-1)?.[0] as Buffer).toString())).toMatchObject({ type: 'input_audio_buffer.append' });
    // maxMicAgeMs 500: a probe every 125 ms at most (one per batch would be 50 in 2 s).
    const probes = pings.mock.calls.filter(([payload]) => String(payload).startsWith('u'));
    expect(probes.length).toBeGreaterThan(5);
    expect(probes.length).toBeLessThanOrEqual(2000 / 125 + 2);
    for (const t of timers) expect(t).not.toHaveBeenCalled();
    expect(timeoutsAfter).toBe(timeoutsBefore);
  });
});
