/**
 * The JS thread's work while the microphone streams (issue 13): each 40 ms batch is one natively
 * framed text message, no timer is armed for it, and the uplink is probed once per interval (not
 * once per batch). Against the fake OpenAI service on loopback, with a real-time null device.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startHarness, type AiHarness } from '../helpers/ai-harness.js';

let h: AiHarness | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.close();
  h = undefined;
});

const realSetTimeout = globalThis.setTimeout;
const sleep = (ms: number): Promise<void> => new Promise((r) => realSetTimeout(r, ms));

describe('steady microphone streaming', () => {
  it('arms no timer, writes one text frame per batch from a reused buffer, and probes the uplink at most every 125 ms', async () => {
    h = await startHarness();
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
