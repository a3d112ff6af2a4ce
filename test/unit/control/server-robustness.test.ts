import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LineClient, startHarness, waitUntil, type Harness } from './helpers.js';

let h: Harness | null = null;

afterEach(async () => {
  await h?.close();
  h = null;
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  h = await startHarness(options);
  return h;
}

function errorCode(line: Record<string, unknown>): string {
  expect(line.ok).toBe(false);
  return (line.error as { code: string }).code;
}

describe('bad input gets an error reply and changes nothing', () => {
  it.each<[string, string, unknown, string]>([
    ['invalid JSON', '{"id":1,"cmd":', null, 'ERR_INVALID_JSON'],
    ['a bare word', 'status', null, 'ERR_INVALID_JSON'],
    ['an array', '[{"cmd":"mute"}]', null, 'ERR_NOT_OBJECT'],
    ['a number', '42', null, 'ERR_NOT_OBJECT'],
    ['a string', '"mute"', null, 'ERR_NOT_OBJECT'],
    ['null', 'null', null, 'ERR_NOT_OBJECT'],
    ['an unknown command', '{"id":2,"cmd":"shutdown"}', 2, 'ERR_UNKNOWN_COMMAND'],
    ['a missing cmd', '{"id":3}', 3, 'ERR_MISSING_ARGUMENT'],
    ['a missing argument', '{"id":4,"cmd":"say"}', 4, 'ERR_MISSING_ARGUMENT'],
    ['a wrong-typed argument', '{"id":5,"cmd":"volume","value":"loud"}', 5, 'ERR_BAD_ARGUMENT'],
    ['an out-of-range value', '{"id":6,"cmd":"volume","value":1000}', 6, 'ERR_OUT_OF_RANGE'],
    ['an out-of-range rate', '{"id":7,"cmd":"subscribe","levels":100}', 7, 'ERR_OUT_OF_RANGE'],
    ['an unknown argument', '{"id":8,"cmd":"mute","forever":true}', 8, 'ERR_UNKNOWN_ARGUMENT'],
    ['NUL bytes', '\u0000\u0000\u0000', null, 'ERR_INVALID_JSON'],
  ])('%s', async (_name, line, id, code) => {
    const { path, target } = await harness();
    const c = await LineClient.connect(path);
    c.send(`${line}\n`);
    const got = await c.next();
    expect(got.id).toBe(id);
    expect(errorCode(got)).toBe(code);
    expect(typeof (got.error as { message: string }).message).toBe('string');
    expect(target.calls).toEqual([]);
    expect(await c.call({ id: 99, cmd: 'ping' })).toMatchObject({ id: 99, ok: true });
    c.close();
  });

  it('invalid UTF-8 is ERR_BAD_UTF8', async () => {
    const { path } = await harness();
    const c = await LineClient.connect(path);
    c.send(Buffer.concat([Buffer.from('{"id":1,"cmd":"say","text":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}\n')]));
    expect(await c.next()).toMatchObject({ id: null, ok: false, error: { code: 'ERR_BAD_UTF8' } });
    expect(await c.call({ id: 2, cmd: 'ping' })).toMatchObject({ id: 2, ok: true });
    c.close();
  });

  it('binary garbage: one error per line, nothing executed, the connection still works', async () => {
    const { path, target } = await harness();
    const c = await LineClient.connect(path);
    const garbage = randomBytes(200_000);
    const lines = garbage
      .toString('latin1')
      .split('\n')
      .filter((l) => l.replace(/[\r\t ]/g, '').length > 0).length;
    c.send(garbage);
    c.send('\n{"id":"after","cmd":"ping"}\n');
    await waitUntil(() => c.lines.some((l) => l.id === 'after'), 5000);
    const errors = c.lines.filter((l) => l.id !== 'after');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.length).toBeLessThanOrEqual(lines + 1);
    for (const e of errors) expect(['ERR_BAD_UTF8', 'ERR_INVALID_JSON', 'ERR_NOT_OBJECT', 'ERR_LINE_TOO_LONG']).toContain(errorCode(e));
    expect(target.calls).toEqual([]);
    c.close();
  });

  it('an oversize line is refused as soon as it passes the limit, the rest of it skipped', async () => {
    const { path, server } = await harness({ maxLineBytes: 1024 });
    const c = await LineClient.connect(path);
    c.send(`{"id":1,"cmd":"say","text":"${'a'.repeat(2000)}`);
    expect(await c.next()).toEqual({ id: null, ok: false, error: { code: 'ERR_LINE_TOO_LONG', message: 'a line may be at most 1024 bytes' } });
    for (let i = 0; i < 50; i++) c.send('b'.repeat(100_000)); // 5 MB more of the same line: skipped, not kept
    c.send('"}\n{"id":2,"cmd":"ping"}\n');
    expect(await c.next(5000)).toMatchObject({ id: 2, ok: true });
    expect(c.lines).toHaveLength(2);
    expect(server.clientCount).toBe(1);
    c.close();
  });

  it('accepts a line of the default 64 KiB limit', async () => {
    const { path } = await harness();
    const c = await LineClient.connect(path);
    const base = '{"id":1,"cmd":"config_get","key":"ai.voice","pad":""}';
    const padded = `${base.slice(0, -2)}${'x'.repeat(65536 - base.length)}"}`;
    expect(Buffer.byteLength(padded)).toBe(65536);
    c.send(`${padded}\n`);
    expect(errorCode(await c.next())).toBe('ERR_UNKNOWN_ARGUMENT');
    c.send(`${padded.slice(0, -2)}x"}\n`);
    expect(errorCode(await c.next())).toBe('ERR_LINE_TOO_LONG');
    c.close();
  });

  it('half a line then disconnect: nothing runs, the client is forgotten', async () => {
    const { path, target, server } = await harness();
    const c = await LineClient.connect(path);
    c.send('{"id":1,"cmd":"mu');
    await sleep(20);
    c.close();
    await waitUntil(() => server.clientCount === 0);
    expect(target.calls).toEqual([]);
    expect(target.muted).toBe(false);
  });

  it('half a line then half-close: the unfinished line is answered, then the connection closes', async () => {
    const { path, target } = await harness();
    const c = await LineClient.connect(path);
    c.socket.end('{"id":1,"cmd":"mu');
    await c.waitClosed();
    expect(c.lines).toEqual([{ id: null, ok: false, error: { code: 'ERR_INVALID_JSON', message: 'the line is not valid JSON' } }]);
    expect(target.muted).toBe(false);
  });

  it('a request without a newline is run when the client half-closes', async () => {
    const { path, target } = await harness();
    const c = await LineClient.connect(path);
    c.socket.end('{"id":1,"cmd":"mute"}');
    await c.waitClosed();
    expect(c.lines).toEqual([{ id: 1, ok: true, result: { muted: true } }]);
    expect(target.muted).toBe(true);
  });
});

describe('many clients', () => {
  it('serves 50 clients at once, each with 40 pipelined requests', async () => {
    const { path, target } = await harness();
    const clients = await Promise.all(Array.from({ length: 50 }, () => LineClient.connect(path)));
    clients.forEach((c, n) => {
      const batch: string[] = [];
      for (let i = 0; i < 40; i++) {
        const cmd = i % 4 === 0 ? { cmd: 'volume', delta: 1 } : i % 4 === 1 ? { cmd: 'volume', delta: -1 } : i % 4 === 2 ? { cmd: 'status' } : { cmd: 'ping' };
        batch.push(JSON.stringify({ id: `${n}:${i}`, ...cmd }));
      }
      c.send(`${batch.join('\n')}\n`);
    });
    await Promise.all(
      clients.map(async (c, n) => {
        const replies = await c.take(40, 10000);
        expect(replies.map((r) => r.id)).toEqual(Array.from({ length: 40 }, (_, i) => `${n}:${i}`));
        expect(replies.every((r) => r.ok === true)).toBe(true);
        c.close();
      }),
    );
    expect(target.volume).toBe(50);
  });

  it('survives 2000 connects and disconnects, some mid-line, and is unchanged', async () => {
    const { path, server, target, warnings } = await harness();
    for (let round = 0; round < 20; round++) {
      await Promise.all(
        Array.from(
          { length: 100 },
          (_, i) =>
            new Promise<void>((resolve) => {
              const s = connect(path);
              s.on('error', () => resolve());
              s.on('connect', () => {
                if (i % 3 === 0) s.write('{"id":1,"cmd":"sta');
                if (i % 3 === 1) s.write('{"id":1,"cmd":"ping"}\n');
                s.destroy();
                resolve();
              });
            }),
        ),
      );
    }
    await waitUntil(() => server.clientCount === 0, 5000, 'all clients gone');
    const c = await LineClient.connect(path);
    expect(await c.call({ id: 1, cmd: 'status' })).toMatchObject({ id: 1, ok: true, result: { state: 'listening', muted: false } });
    expect(target.calls.filter((x) => x.method !== 'status')).toEqual([]);
    expect(warnings).toEqual([]);
    c.close();
  });

  it('refuses a client over the limit with one error line, and accepts again when one leaves', async () => {
    const { path, server } = await harness({ maxClients: 3 });
    const held = await Promise.all([1, 2, 3].map(() => LineClient.connect(path)));
    await waitUntil(() => server.clientCount === 3);
    const extra = await LineClient.connect(path);
    extra.request({ id: 1, cmd: 'ping' });
    await extra.waitClosed();
    expect(extra.lines).toEqual([{ id: null, ok: false, error: { code: 'ERR_TOO_MANY_CLIENTS', message: 'too many clients (at most 3)' } }]);
    for (const c of held) expect(await c.call({ id: 2, cmd: 'ping' })).toMatchObject({ ok: true });
    held[0]!.close();
    await waitUntil(() => server.clientCount === 2);
    const again = await LineClient.connect(path);
    expect(await again.call({ id: 3, cmd: 'ping' })).toMatchObject({ id: 3, ok: true });
    for (const c of [...held, again]) c.close();
  });
});

describe('a client that pipelines more replies than the output limit', () => {
  it('is served at its reading pace, not dropped', async () => {
    const { path, warnings } = await harness({ subscriberBufferBytes: 256 * 1024 });
    const c = await LineClient.connect(path);
    const n = 5000;
    c.send(Array.from({ length: n }, (_, i) => `{"id":${i},"cmd":"status"}\n`).join(''));
    await waitUntil(() => c.lines.length === n, 10000, 'every reply');
    expect(c.lines.map((l) => l.id)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(warnings).toEqual([]);
    expect(c.closed).toBe(false);
    c.close();
  });
});

describe('a slow subscriber', () => {
  it('is dropped with a reason while the others get every event, in order', async () => {
    const { path, target, server, warnings } = await harness({ subscriberBufferBytes: 256 * 1024 });
    const fast = await LineClient.connect(path);
    const slow = await LineClient.connect(path);
    await fast.call({ id: 1, cmd: 'subscribe', events: ['transcript'] });
    await slow.call({ id: 1, cmd: 'subscribe', events: ['transcript'] });
    slow.socket.pause(); // stops reading: the kernel buffer fills, then the server's
    const text = 'x'.repeat(1000);
    const total = 3000;
    const started = Date.now();
    let publishMs = 0;
    for (let i = 0; i < total; i += 25) {
      const t0 = performance.now();
      for (let j = i; j < i + 25; j++) target.emit('transcript', { role: 'assistant', text, n: j, final: true });
      publishMs = Math.max(publishMs, performance.now() - t0);
      await sleep(1);
    }
    await waitUntil(() => fast.lines.length === total + 1, 10000, 'every event at the fast subscriber');
    expect(fast.lines.slice(1).map((l) => (l.data as { n: number }).n)).toEqual(Array.from({ length: total }, (_, n) => n));
    await waitUntil(() => warnings.some((w) => w.includes('dropping')), 5000, 'the drop');
    expect(server.subscriberCount).toBe(1);
    expect(publishMs).toBeLessThan(100);
    expect(Date.now() - started).toBeLessThan(10000);
    slow.socket.resume();
    await slow.waitClosed(5000);
    const last = slow.lines.at(-1)!;
    expect(last.event).toBe('dropped');
    expect(String((last.data as { reason: string }).reason)).toMatch(/did not read/);
    expect(slow.lines.length).toBeLessThan(total);
    await waitUntil(() => server.clientCount === 1);
    target.emit('transcript', { role: 'user', text: 'still here', final: true });
    await waitUntil(() => fast.lines.length === total + 2);
    expect(fast.lines.at(-1)).toMatchObject({ event: 'transcript', data: { text: 'still here' } });
    fast.close();
  });

  it('is destroyed even when it never reads again', async () => {
    const { path, target, server } = await harness({ subscriberBufferBytes: 64 * 1024 });
    const slow = await LineClient.connect(path);
    await slow.call({ id: 1, cmd: 'subscribe', events: ['transcript'] });
    slow.socket.pause();
    for (let i = 0; i < 200; i++) {
      target.emit('transcript', { text: 'y'.repeat(10_000) });
      if (i % 10 === 0) await sleep(1);
    }
    await waitUntil(() => server.clientCount === 0, 5000, 'the stalled client to be destroyed');
    slow.close();
  });
});
