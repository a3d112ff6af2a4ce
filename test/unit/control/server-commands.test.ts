import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlClient } from '../../../src/control/client.js';
import { CodedError, FakeTarget } from './fake-target.js';
import { LineClient, startHarness, type Harness } from './helpers.js';

let h: Harness;
let client: ControlClient;

beforeEach(async () => {
  h = await startHarness();
  client = await ControlClient.connect(h.path);
});

afterEach(async () => {
  client.close();
  await h.close();
});

async function ok(cmd: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const reply = await client.request(cmd, args);
  if (!reply.ok) throw new Error(`${cmd} failed: ${reply.error.code} ${reply.error.message}`);
  return reply.result;
}

async function fails(cmd: string, args: Record<string, unknown> = {}): Promise<{ code: string; message: string }> {
  const reply = await client.request(cmd, args);
  if (reply.ok) throw new Error(`${cmd} succeeded`);
  return reply.error;
}

describe('commands', () => {
  it('status reports every field of the target', async () => {
    const result = await ok('status');
    expect(result).toEqual(h.target.status());
    expect(result).toMatchObject({ state: 'listening', muted: false, volume: 50, audio: { underruns: 1, xruns: 0, dropped: 2 } });
  });

  it('mute, unmute and toggle_mute set and report the mute', async () => {
    expect(await ok('mute')).toEqual({ muted: true });
    expect(h.target.muted).toBe(true);
    expect(await ok('toggle_mute')).toEqual({ muted: false });
    expect(await ok('toggle_mute')).toEqual({ muted: true });
    expect(await ok('unmute')).toEqual({ muted: false });
    expect(h.target.calls.filter((c) => c.method === 'setMuted').map((c) => c.args[0])).toEqual([true, false, true, false]);
  });

  it('volume gets, sets absolutely and relatively, clamped to 0..100', async () => {
    expect(await ok('volume')).toEqual({ volume: 50 });
    expect(await ok('volume', { value: 80 })).toEqual({ volume: 80 });
    expect(await ok('volume', { delta: 30 })).toEqual({ volume: 100 });
    expect(await ok('volume', { delta: -45 })).toEqual({ volume: 55 });
    expect(await ok('volume', { delta: -100 })).toEqual({ volume: 0 });
    expect((await fails('volume', { value: 101 })).code).toBe('ERR_OUT_OF_RANGE');
    expect(h.target.volume).toBe(0);
  });

  it('talk_start and talk_end reach the target as a push-to-talk turn', async () => {
    expect(await ok('talk_start')).toEqual({ talking: true });
    expect(await ok('talk_end')).toEqual({ talking: false });
    expect(h.target.calls.map((c) => [c.method, ...c.args])).toEqual([
      ['talk', true],
      ['talk', false],
    ]);
  });

  it('connect, disconnect and interrupt reach the target', async () => {
    expect(await ok('disconnect')).toEqual({});
    expect(h.target.state).toBe('offline');
    expect(await ok('connect')).toEqual({});
    expect(h.target.state).toBe('listening');
    expect(await ok('interrupt')).toEqual({});
    expect(h.target.calls.map((c) => c.method)).toEqual(['disconnect', 'connect', 'interrupt']);
  });

  it('say passes the text, and the target’s error code when it refuses', async () => {
    expect(await ok('say', { text: 'hello there' })).toEqual({});
    expect(h.target.calls.at(-1)).toEqual({ method: 'say', args: ['hello there'] });
    h.target.connected = false;
    expect(await fails('say', { text: 'hi' })).toEqual({ code: 'ERR_AI_NOT_CONNECTED', message: 'the AI service is not connected' });
  });

  it('tool_result passes call id and output', async () => {
    expect(await ok('tool_result', { call_id: 'call_7', output: { temperature: 21 } })).toEqual({});
    expect(h.target.calls.at(-1)).toEqual({ method: 'toolResult', args: ['call_7', { temperature: 21 }] });
    expect((await fails('tool_result', { call_id: 'x', output: 'late' })).code).toBe('ERR_UNKNOWN_CALL');
  });

  it('config_get returns one key or every non-secret key; secrets are not readable', async () => {
    expect(await ok('config_get', { key: 'ai.voice' })).toEqual({ key: 'ai.voice', value: 'alloy' });
    const all = await ok('config_get');
    expect(all.key).toBeNull();
    expect(all.value).toMatchObject({ 'ai.voice': 'alloy' });
    expect(all.value).not.toHaveProperty('ai.apiKeyFile');
    expect((await fails('config_get', { key: 'ai.apiKeyFile' })).code).toBe('ERR_CONFIG_SECRET');
    expect((await fails('config_get', { key: 'no.such' })).code).toBe('ERR_CONFIG_UNKNOWN_KEY');
  });

  it('config_set is awaited and its validation errors passed on', async () => {
    expect(await ok('config_set', { key: 'ai.voice', value: 'marin' })).toEqual({ key: 'ai.voice' });
    expect(h.target.config['ai.voice']).toBe('marin');
    expect(await fails('config_set', { key: 'ai.voice', value: 3 })).toEqual({ code: 'ERR_CONFIG_INVALID', message: 'ai.voice must be a string' });
  });

  it('reload, devices, version and ping', async () => {
    expect(await ok('reload')).toEqual({});
    expect((await ok('devices')).devices).toEqual(h.target.devices());
    expect(await ok('version')).toEqual({ version: '0.1.0', node: process.version, addon: 'fake', protocol: 1 });
    const ping = await ok('ping');
    expect(ping.pong).toBe(true);
    expect(Math.abs(Date.parse(String(ping.time)) - Date.now())).toBeLessThan(5000);
  });

  it('a target error without a usable code becomes ERR_INTERNAL with no detail, and is logged', async () => {
    h.target.failNext = { method: 'status', error: new Error('ENOENT /secret/path\n    at Object.<anonymous>') };
    const error = await fails('status');
    expect(error).toEqual({ code: 'ERR_INTERNAL', message: 'internal error' });
    expect(h.warnings.join('\n')).toContain('/secret/path');
    h.target.failNext = { method: 'setVolume', error: Object.assign(new Error('x'), { code: 'EIO' }) };
    expect(await fails('volume', { value: 3 })).toEqual({ code: 'ERR_INTERNAL', message: 'internal error' });
    h.target.failNext = { method: 'connect', error: new CodedError('ERR_AI_HANDSHAKE', 'HTTP 401') };
    expect(await fails('connect')).toEqual({ code: 'ERR_AI_HANDSHAKE', message: 'HTTP 401' });
    expect(await ok('ping')).toMatchObject({ pong: true });
  });
});

describe('ids and ordering', () => {
  it('echoes number and string ids, null when missing or unusable', async () => {
    const raw = await LineClient.connect(h.path);
    expect(await raw.call({ id: 'a-1', cmd: 'ping' })).toMatchObject({ id: 'a-1', ok: true });
    expect(await raw.call({ id: 0, cmd: 'volume' })).toEqual({ id: 0, ok: true, result: { volume: 50 } });
    expect(await raw.call({ cmd: 'volume' })).toEqual({ id: null, ok: true, result: { volume: 50 } });
    expect(await raw.call({ id: { x: 1 }, cmd: 'mute' })).toMatchObject({ id: null, ok: false, error: { code: 'ERR_BAD_ARGUMENT' } });
    expect(h.target.muted).toBe(false);
    raw.close();
  });

  it('answers pipelined synchronous requests in order', async () => {
    const raw = await LineClient.connect(h.path);
    raw.send(Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: i, cmd: i % 2 ? 'ping' : 'volume' })).join('\n') + '\n');
    const replies = await raw.take(200);
    expect(replies.map((r) => r.id)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    raw.close();
  });

  it('limits the requests awaiting a reply per client (ERR_TOO_MANY_PENDING)', async () => {
    await h.close();
    h = await startHarness({ maxPendingPerClient: 3 });
    let open!: () => void;
    h.target.configSetGate = new Promise((r) => (open = r));
    const raw = await LineClient.connect(h.path);
    for (let i = 1; i <= 5; i++) raw.request({ id: i, cmd: 'config_set', key: 'ai.voice', value: `v${i}` });
    const refused = await raw.take(2);
    expect(refused).toEqual([
      { id: 4, ok: false, error: { code: 'ERR_TOO_MANY_PENDING', message: 'at most 3 requests may await a reply' } },
      { id: 5, ok: false, error: { code: 'ERR_TOO_MANY_PENDING', message: 'at most 3 requests may await a reply' } },
    ]);
    open();
    const done = await raw.take(3);
    expect(done.map((r) => [r.id, r.ok])).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
    expect(await raw.call({ id: 6, cmd: 'ping' })).toMatchObject({ id: 6, ok: true });
    raw.close();
  });

  it('answers ERR_TIMEOUT when an asynchronous command takes too long', async () => {
    await h.close();
    h = await startHarness({ commandTimeoutMs: 50 });
    h.target.configSetGate = new Promise(() => {});
    const raw = await LineClient.connect(h.path);
    expect(await raw.call({ id: 1, cmd: 'config_set', key: 'ai.voice', value: 'x' })).toMatchObject({ id: 1, ok: false, error: { code: 'ERR_TIMEOUT' } });
    raw.close();
  });

  it('sends every reply before closing a client that half-closed', async () => {
    const raw = await LineClient.connect(h.path);
    raw.socket.end('{"id":1,"cmd":"reload"}\n{"id":2,"cmd":"ping"}');
    await raw.waitClosed();
    expect(raw.lines.map((l) => [l.id, l.ok]).sort()).toEqual([
      [1, true],
      [2, true],
    ]);
  });
});

describe('allow-list for mutating commands', () => {
  it('forbids mutating commands to uids not listed, allows reads, and logs who did what', async () => {
    await h.close();
    h = await startHarness({ allowUids: [0], peerCredentials: () => ({ uid: 1234, gid: 1234, pid: 99 }) });
    const raw = await LineClient.connect(h.path);
    expect(await raw.call({ id: 1, cmd: 'mute' })).toMatchObject({ id: 1, ok: false, error: { code: 'ERR_FORBIDDEN', required: 'control' } });
    expect(h.audit.some((l) => l.includes("refused 'mute'") && l.includes('uid=1234') && l.includes('pid=99'))).toBe(true);
    expect(await raw.call({ id: 2, cmd: 'volume', value: 10 })).toMatchObject({ ok: false, error: { code: 'ERR_FORBIDDEN' } });
    expect(await raw.call({ id: 3, cmd: 'volume' })).toMatchObject({ ok: true, result: { volume: 50 } });
    expect(await raw.call({ id: 4, cmd: 'status' })).toMatchObject({ ok: true });
    expect(h.target.muted).toBe(false);
    raw.close();
  });

  it('admits a listed uid or gid and records its credentials', async () => {
    await h.close();
    h = await startHarness({ allowUids: [1], allowGids: [44], peerCredentials: () => ({ uid: 1000, gid: 44, pid: 321 }) });
    const raw = await LineClient.connect(h.path);
    expect(await raw.call({ id: 1, cmd: 'mute' })).toMatchObject({ ok: true });
    expect(h.audit.some((l) => l.includes("'mute'") && l.includes('uid=1000') && l.includes('pid=321'))).toBe(true);
    raw.close();
  });

  it('lets a peer whose credentials are unknown only read (access fails closed)', async () => {
    await h.close();
    h = await startHarness({ peerCredentials: () => null });
    const raw = await LineClient.connect(h.path);
    expect(await raw.call({ id: 1, cmd: 'status' })).toMatchObject({ ok: true });
    expect(await raw.call({ id: 2, cmd: 'mute' })).toMatchObject({ ok: false, error: { code: 'ERR_FORBIDDEN', required: 'control' } });
    expect(await raw.call({ id: 3, cmd: 'reload' })).toMatchObject({ ok: false, error: { code: 'ERR_FORBIDDEN', required: 'admin' } });
    expect(h.target.muted).toBe(false);
    raw.close();
  });

  it('survives a throwing credentials hook (peer unknown)', async () => {
    await h.close();
    h = await startHarness({
      allowUids: [0],
      peerCredentials: () => {
        throw new Error('no');
      },
    });
    const raw = await LineClient.connect(h.path);
    expect(await raw.call({ id: 1, cmd: 'ping' })).toMatchObject({ ok: true });
    raw.close();
  });
});

describe('options', () => {
  it('rejects bad options naming them', async () => {
    const target = new FakeTarget();
    const { ControlServer } = await import('../../../src/control/server.js');
    await expect(ControlServer.start({ path: '', target })).rejects.toThrow(/path/);
    await expect(ControlServer.start({ path: '/tmp/x.sock', target, maxClients: 0 })).rejects.toThrow(RangeError);
    await expect(ControlServer.start({ path: '/tmp/x.sock', target, mode: 0o1777 })).rejects.toThrow(/mode/);
    await expect(ControlServer.start({ path: '/tmp/x.sock', target, allowUids: [-1] })).rejects.toThrow(/allowUids/);
    await expect(ControlServer.start({ path: '/tmp/x.sock', target, group: '' })).rejects.toThrow(/group/);
  });
});
