import { afterEach, describe, expect, it } from 'vitest';
import { LineClient, startHarness, waitUntil, type Harness } from './helpers.js';
import type { KeyAccessLevel } from '../../../src/control/access.js';

let h: Harness | null = null;

afterEach(async () => {
  await h?.close();
  h = null;
});

type Peer = { uid: number; gid: number; pid: number };

/** A credentials hook that hands out the queued identities, one per connection, in order. */
function identities(queue: Peer[]): () => Peer {
  return () => queue.shift() ?? { uid: 0, gid: 0, pid: 1 };
}

const user = (uid: number): Peer => ({ uid, gid: uid, pid: 5000 + uid });
const keyAccess = (key: string): KeyAccessLevel | undefined =>
  ({ 'ai.voice': 'control', 'ai.backend': 'admin', 'ai.url': 'never' })[key] as KeyAccessLevel | undefined;

describe('levels over the socket', () => {
  it('lets a control user set control keys only, and audits every refusal with uid and pid', async () => {
    h = await startHarness({ keyAccess, peerCredentials: identities([user(1001)]) });
    const c = await LineClient.connect(h.path);
    expect(await c.call({ id: 1, cmd: 'config_set', key: 'ai.voice', value: 'marin' })).toMatchObject({ ok: true });
    expect(await c.call({ id: 2, cmd: 'config_set', key: 'ai.backend', value: 'openai' })).toMatchObject({
      ok: false,
      error: { code: 'ERR_FORBIDDEN', required: 'admin', key: 'ai.backend' },
    });
    expect(await c.call({ id: 3, cmd: 'config_set', key: 'ai.url', value: 'ws://evil' })).toMatchObject({
      ok: false,
      error: { code: 'ERR_FORBIDDEN', required: 'never', key: 'ai.url' },
    });
    expect(await c.call({ id: 4, cmd: 'reload' })).toMatchObject({ ok: false, error: { code: 'ERR_FORBIDDEN', required: 'admin' } });
    expect(h.target.config['ai.voice']).toBe('marin');
    expect(h.target.config['ai.backend']).toBe('parrot');
    const refused = h.audit.filter((l) => l.includes('refused'));
    expect(refused).toHaveLength(3);
    for (const line of refused) expect(line).toMatch(/uid=1001 gid=1001 pid=6001/);
    expect(refused.some((l) => l.includes('key=ai.url') && l.includes('required=never'))).toBe(true);
    c.close();
  });

  it('lets an admin set admin keys but not never keys', async () => {
    h = await startHarness({ keyAccess, adminUids: [1001], peerCredentials: identities([user(1001)]) });
    const c = await LineClient.connect(h.path);
    expect(await c.call({ id: 1, cmd: 'config_set', key: 'ai.backend', value: 'openai' })).toMatchObject({ ok: true });
    expect(await c.call({ id: 2, cmd: 'config_set', key: 'ai.url', value: 'ws://x' })).toMatchObject({ ok: false, error: { code: 'ERR_FORBIDDEN' } });
    c.close();
  });

  it('drops a client after too many refusals and keeps its uid out for a while', async () => {
    h = await startHarness({ keyAccess, maxRefusals: 3, penaltyMs: 300, peerCredentials: identities([user(1001), user(1001), user(1002), user(1001)]) });
    const c = await LineClient.connect(h.path);
    for (let i = 0; i < 3; i++) c.request({ id: i, cmd: 'config_set', key: 'ai.url', value: 'ws://x' });
    await c.waitClosed();
    expect(c.lines.filter((l) => l.ok === false)).toHaveLength(3);
    expect(c.lines.at(-1)).toMatchObject({ event: 'dropped' });
    expect(h.audit.filter((l) => l.includes('refused'))).toHaveLength(3);
    const again = await LineClient.connect(h.path);
    await again.waitClosed();
    expect(again.lines[0]).toMatchObject({
      error: { code: 'ERR_TOO_MANY_CLIENTS', message: expect.stringMatching(/uid 1001 was dropped .* again in \d+ ms/) },
    });
    // The log line is the same for every refused reconnect, so the log's rate limit can fold a loop.
    expect(h.warnings.filter((w) => w.startsWith('refused a control client'))).toEqual([
      'refused a control client: uid 1001 is kept out after refused requests',
    ]);
    const other = await LineClient.connect(h.path);
    expect(await other.call({ id: 1, cmd: 'ping' })).toMatchObject({ ok: true });
    other.close();
    await new Promise((r) => setTimeout(r, 350));
    const later = await LineClient.connect(h.path);
    expect(await later.call({ id: 1, cmd: 'ping' })).toMatchObject({ ok: true });
    later.close();
  });

  it('limits the mutating commands of a non-admin uid across its connections, not an admin', async () => {
    h = await startHarness({ mutatingBurst: 3, mutatingRefillMs: 10000, peerCredentials: identities([user(1001), user(1001), user(0)]) });
    const a = await LineClient.connect(h.path);
    const b = await LineClient.connect(h.path);
    expect(await a.call({ id: 1, cmd: 'mute' })).toMatchObject({ ok: true });
    expect(await b.call({ id: 2, cmd: 'unmute' })).toMatchObject({ ok: true });
    expect(await a.call({ id: 3, cmd: 'volume', value: 5 })).toMatchObject({ ok: true });
    expect(await b.call({ id: 4, cmd: 'volume', value: 6 })).toMatchObject({ ok: false, error: { code: 'ERR_RATE_LIMITED' } });
    expect(await b.call({ id: 5, cmd: 'status' })).toMatchObject({ ok: true });
    const root = await LineClient.connect(h.path);
    for (let i = 0; i < 10; i++) expect(await root.call({ id: i, cmd: 'volume', value: i })).toMatchObject({ ok: true });
    for (const x of [a, b, root]) x.close();
  });
});

describe('idle clients', () => {
  it('are closed even when they trickle a byte now and then: only whole requests count', async () => {
    h = await startHarness({ idleTimeoutMs: 200 });
    const c = await LineClient.connect(h.path);
    const trickle = setInterval(() => c.send('{'), 50);
    try {
      await c.waitClosed(2000);
    } finally {
      clearInterval(trickle);
    }
    expect(c.lines.at(-1)).toMatchObject({ error: { code: 'ERR_IDLE' } });
  });
});

describe('slots', () => {
  it('closes an idle client that is not subscribed, and keeps a subscribed one', async () => {
    h = await startHarness({ idleTimeoutMs: 150 });
    const idle = await LineClient.connect(h.path);
    const sub = await LineClient.connect(h.path);
    expect(await sub.call({ id: 1, cmd: 'subscribe' })).toMatchObject({ ok: true });
    await idle.waitClosed(2000);
    expect(idle.lines.at(-1)).toMatchObject({ ok: false, error: { code: 'ERR_IDLE' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(sub.closed).toBe(false);
    sub.request({ id: 2, cmd: 'ping' });
    await waitUntil(() => sub.lines.some((l) => l.id === 2 && l.ok === true));
    sub.close();
  });

  it('gives each user a share of the slots and keeps some for admins', async () => {
    const queue = [user(1001), user(1001), user(1001), user(1002), user(1003), user(0), user(0)];
    h = await startHarness({ maxClients: 5, maxClientsPerUid: 2, adminReservedSlots: 2, peerCredentials: identities(queue) });
    const a1 = await LineClient.connect(h.path);
    const a2 = await LineClient.connect(h.path);
    const a3 = await LineClient.connect(h.path);
    await a3.waitClosed();
    expect(a3.lines[0]).toMatchObject({ ok: false, error: { code: 'ERR_TOO_MANY_CLIENTS', message: expect.stringMatching(/uid 1001/) } });
    const b = await LineClient.connect(h.path);
    const c = await LineClient.connect(h.path);
    await c.waitClosed();
    expect(c.lines[0]).toMatchObject({ error: { code: 'ERR_TOO_MANY_CLIENTS', message: expect.stringMatching(/kept for admins/) } });
    const root1 = await LineClient.connect(h.path);
    const root2 = await LineClient.connect(h.path);
    expect(await root1.call({ id: 1, cmd: 'ping' })).toMatchObject({ ok: true });
    expect(await root2.call({ id: 1, cmd: 'ping' })).toMatchObject({ ok: true });
    await waitUntil(() => h!.server.clientCount === 5);
    for (const x of [a1, a2, b, root1, root2]) x.close();
  });
});

describe('expensive commands', () => {
  it('limits devices per client and says when to try again', async () => {
    h = await startHarness({ expensiveBurst: 2, expensiveRefillMs: 200 });
    const c = await LineClient.connect(h.path);
    expect(await c.call({ id: 1, cmd: 'devices' })).toMatchObject({ ok: true });
    expect(await c.call({ id: 2, cmd: 'devices' })).toMatchObject({ ok: true });
    const limited = await c.call({ id: 3, cmd: 'devices' });
    expect(limited).toMatchObject({ ok: false, error: { code: 'ERR_RATE_LIMITED', message: expect.stringMatching(/try again in \d+ ms/) } });
    expect(await c.call({ id: 4, cmd: 'status' })).toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 250));
    expect(await c.call({ id: 5, cmd: 'devices' })).toMatchObject({ ok: true });
    c.close();
  });
});
