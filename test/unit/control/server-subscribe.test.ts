import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LineClient, startHarness, waitUntil, type Harness } from './helpers.js';

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  await h.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('subscribe', () => {
  it('sends the reply, then the snapshot, then changes, in order', async () => {
    const c = await LineClient.connect(h.path);
    const snapshot_ = h.target.snapshot.bind(h.target);
    h.target.snapshot = () => {
      queueMicrotask(() => h.target.setState('user_speaking')); // a change right after the snapshot
      return snapshot_();
    };
    c.request({ id: 1, cmd: 'subscribe' });
    const [reply, ...snapshot] = await c.take(4);
    expect(reply).toEqual({
      id: 1,
      ok: true,
      result: { subscribed: true, events: expect.arrayContaining(['state', 'transcript', 'tool_call', 'error']), levels: null },
    });
    expect(snapshot).toEqual([
      { event: 'state', data: { state: 'listening' } },
      { event: 'mute', data: { muted: false } },
      { event: 'volume', data: { volume: 50 } },
    ]);
    expect(await c.next()).toEqual({ event: 'state', data: { state: 'user_speaking' } });
    h.target.emit('transcript', { role: 'user', text: 'what time is it', final: true });
    h.target.setState('thinking');
    h.target.emit('response_start', {});
    h.target.setState('speaking');
    h.target.emit('response_done', { status: 'completed' });
    expect((await c.take(5)).map((l) => l.event)).toEqual(['transcript', 'state', 'response_start', 'state', 'response_done']);
    c.close();
  });

  it('delivers every event to every subscriber in the same order', async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, () => LineClient.connect(h.path)));
    for (const c of clients) expect((await c.call({ id: 1, cmd: 'subscribe', events: ['volume'] })).ok).toBe(true);
    for (const c of clients) await c.take(1); // snapshot: volume only
    for (let v = 0; v <= 100; v++) h.target.setVolume(v);
    for (const c of clients) {
      const got = await c.take(101);
      expect(got.map((l) => (l.data as { volume: number }).volume)).toEqual(Array.from({ length: 101 }, (_, v) => v));
      c.close();
    }
  });

  it('filters events, the snapshot included', async () => {
    const c = await LineClient.connect(h.path);
    expect(await c.call({ id: 1, cmd: 'subscribe', events: ['mute', 'tool_call'] })).toEqual({
      id: 1,
      ok: true,
      result: { subscribed: true, events: ['tool_call', 'mute'], levels: null },
    });
    expect(await c.next()).toEqual({ event: 'mute', data: { muted: false } });
    h.target.setState('thinking');
    h.target.emit('tool_call', { call_id: 'call_1', name: 'get_weather', arguments: '{}' });
    h.target.setVolume(3);
    h.target.setMuted(true);
    expect(await c.take(2)).toEqual([
      { event: 'tool_call', data: { call_id: 'call_1', name: 'get_weather', arguments: '{}' } },
      { event: 'mute', data: { muted: true } },
    ]);
    await sleep(30);
    expect(c.lines).toHaveLength(4);
    c.close();
  });

  it('forwards a tool call to subscribers and takes its result from any client', async () => {
    const sub = await LineClient.connect(h.path);
    await sub.call({ id: 1, cmd: 'subscribe', events: ['tool_call'] });
    h.target.emit('tool_call', { call_id: 'call_9', name: 'lights', arguments: '{"on":true}' });
    const call = await sub.next();
    const other = await LineClient.connect(h.path);
    const data = call.data as { call_id: string };
    expect(await other.call({ id: 2, cmd: 'tool_result', call_id: data.call_id, output: { done: true } })).toMatchObject({ ok: true });
    expect(h.target.calls.at(-1)).toEqual({ method: 'toolResult', args: ['call_9', { done: true }] });
    sub.close();
    other.close();
  });

  it('sends levels at the chosen rate, clamped to integers 0..255', async () => {
    h.target.levelValues = { mic: 300.4, speaker: -3 };
    const c = await LineClient.connect(h.path);
    expect(await c.call({ id: 1, cmd: 'subscribe', events: ['levels'], levels: 20 })).toMatchObject({
      result: { events: ['levels'], levels: 20 },
    });
    const start = Date.now();
    await sleep(1000);
    const levels = c.lines.filter((l) => l.event === 'levels');
    const elapsed = (Date.now() - start) / 1000;
    expect(levels.length).toBeGreaterThanOrEqual(Math.floor(20 * elapsed * 0.75));
    expect(levels.length).toBeLessThanOrEqual(Math.ceil(20 * elapsed * 1.1) + 1);
    expect(levels[0]).toEqual({ event: 'levels', data: { mic: 255, speaker: 0 } });
    c.close();
  });

  it('sends levels at 50 Hz and at 1 Hz', async () => {
    const fast = await LineClient.connect(h.path);
    const slow = await LineClient.connect(h.path);
    await fast.call({ id: 1, cmd: 'subscribe', events: ['levels'], levels: 50 });
    await slow.call({ id: 1, cmd: 'subscribe', events: ['levels'], levels: 1 });
    await sleep(1100);
    const count = (c: LineClient): number => c.lines.filter((l) => l.event === 'levels').length;
    expect(count(fast)).toBeGreaterThanOrEqual(35);
    expect(count(fast)).toBeLessThanOrEqual(58);
    expect(count(slow)).toBe(1);
    fast.close();
    slow.close();
  });

  it('sends no levels unless asked', async () => {
    const c = await LineClient.connect(h.path);
    await c.call({ id: 1, cmd: 'subscribe' });
    await sleep(150);
    expect(c.lines.some((l) => l.event === 'levels')).toBe(false);
    expect(h.target.levelReads).toBe(0);
    c.close();
  });

  it('unsubscribe stops events and levels; subscribing again sends a fresh snapshot', async () => {
    const c = await LineClient.connect(h.path);
    await c.call({ id: 1, cmd: 'subscribe', levels: 50 });
    expect(h.server.subscriberCount).toBe(1);
    await sleep(50);
    c.request({ id: 2, cmd: 'unsubscribe' });
    await waitUntil(() => c.lines.some((l) => l.id === 2));
    expect(c.lines.find((l) => l.id === 2)).toEqual({ id: 2, ok: true, result: { subscribed: false } });
    expect(h.server.subscriberCount).toBe(0);
    const count = c.lines.length;
    h.target.setState('thinking');
    await sleep(80);
    expect(c.lines.length).toBe(count);
    c.request({ id: 3, cmd: 'subscribe', events: ['state'] });
    expect(await waitForLine(c, (l) => l.id === 3)).toMatchObject({ ok: true });
    expect(c.lines.at(-1)).toEqual({ event: 'state', data: { state: 'thinking' } });
    c.close();
  });

  it('replaces a subscription when subscribe comes again (one levels timer, the new filter)', async () => {
    const c = await LineClient.connect(h.path);
    await c.call({ id: 1, cmd: 'subscribe', levels: 50 });
    await c.call({ id: 2, cmd: 'subscribe', events: ['mute'] });
    await sleep(60);
    const reads = h.target.levelReads;
    await sleep(60);
    expect(h.target.levelReads).toBe(reads);
    expect(h.server.subscriberCount).toBe(1);
    c.close();
  });

  it('keeps sending events to a client that half-closed after subscribing', async () => {
    const c = await LineClient.connect(h.path);
    c.socket.end('{"cmd":"subscribe","events":["state"]}\n');
    await waitUntil(() => c.lines.length === 2);
    h.target.setState('speaking');
    await waitUntil(() => c.lines.length === 3);
    expect(c.lines[2]).toEqual({ event: 'state', data: { state: 'speaking' } });
    c.close();
  });

  it('stops sending to a closed subscriber and forgets it', async () => {
    const c = await LineClient.connect(h.path);
    await c.call({ id: 1, cmd: 'subscribe', levels: 50 });
    c.close();
    await waitUntil(() => h.server.clientCount === 0 && h.server.subscriberCount === 0);
    const reads = h.target.levelReads;
    h.target.setState('thinking');
    await sleep(60);
    expect(h.target.levelReads).toBe(reads);
  });

  it('answers a failing snapshot with the error and does not subscribe', async () => {
    const c = await LineClient.connect(h.path);
    h.target.failNext = { method: 'snapshot', error: Object.assign(new Error('x'), { code: 'ERR_NOT_READY' }) };
    expect(await c.call({ id: 1, cmd: 'subscribe' })).toMatchObject({ id: 1, ok: false, error: { code: 'ERR_NOT_READY' } });
    expect(h.server.subscriberCount).toBe(0);
    c.close();
  });

  it('skips an event that cannot be serialised and goes on', async () => {
    const c = await LineClient.connect(h.path);
    await c.call({ id: 1, cmd: 'subscribe', events: ['error'] });
    h.target.emit('error', { big: 10n });
    h.target.emit('error', { code: 'ERR_AI_SERVICE', message: 'x' });
    expect(await c.next()).toEqual({ event: 'error', data: { code: 'ERR_AI_SERVICE', message: 'x' } });
    expect(h.warnings.some((w) => w.includes("'error'"))).toBe(true);
    c.close();
  });
});

async function waitForLine(c: LineClient, match: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  await waitUntil(() => c.lines.some(match));
  await sleep(20);
  return c.lines.find(match)!;
}
