import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ControlClient } from '../../src/control/client.js';
import { DaemonUnderTest } from '../helpers/daemon.js';
import { loadNativeBinding } from '../../src/media/native-binding.js';
import { waitFor } from '../helpers/signal.js';
import { FakeRealtimeServer, tone } from '../fakes/openai-realtime-server.js';

// The control socket of a running daemon (null device) talking to the fake OpenAI service.

let d: DaemonUnderTest;
let server: FakeRealtimeServer;
let client: ControlClient;
const events: { event: string; data: Record<string, unknown> }[] = [];

beforeAll(async () => {
  server = await FakeRealtimeServer.start();
  d = new DaemonUnderTest();
  d.writeConfig({ ai: { backend: 'openai', url: server.url, instructions: 'first' }, earcons: { enabled: false } });
  d.start();
  await d.notice(/READY=1/);
  client = await ControlClient.connect(d.socket);
  client.on('event', (e: { event: string; data: Record<string, unknown> }) => events.push(e));
}, 20000);

afterAll(async () => {
  client?.close();
  await d?.remove();
  await server?.close();
});

const ok = async (cmd: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> => {
  const reply = (await client.request(cmd, args)) as { ok: boolean; result?: Record<string, unknown>; error?: unknown };
  expect(reply, `${cmd} ${JSON.stringify(reply)}`).toMatchObject({ ok: true });
  return reply.result ?? {};
};
const fails = async (cmd: string, args: Record<string, unknown>, code: string): Promise<void> => {
  expect(await client.request(cmd, args)).toMatchObject({ ok: false, error: { code } });
};
const ctl = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [join(process.cwd(), 'dist/src/cli/speakerctl.js'), '--socket', d.socket, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('control socket of a running daemon', () => {
  it('creates the socket with mode 0660', () => {
    expect(statSync(d.socket).mode & 0o777).toBe(0o660);
    expect(statSync(d.socket).isSocket()).toBe(true);
  });

  it('subscribes with a snapshot first, then changes in order', async () => {
    const result = await ok('subscribe');
    expect(result).toMatchObject({ subscribed: true });
    await waitFor(() => events.length >= 3, 2000, 'snapshot');
    expect(events.slice(0, 3).map((e) => e.event)).toEqual(['state', 'volume', 'mute']);
    await ok('volume', { value: 40 });
    await ok('volume', { delta: 5 });
    expect(await ok('volume')).toEqual({ volume: 45 });
    await waitFor(() => events.filter((e) => e.event === 'volume').length >= 3, 2000, 'volume events');
    expect(events.filter((e) => e.event === 'volume').map((e) => e.data.volume)).toEqual([70, 40, 45]);
  });

  it('mutes (digital silence to the service), unmutes and toggles', async () => {
    await ok('mute');
    expect(((await ok('status')) as { muted: boolean }).muted).toBe(true);
    const from = server.audioReceived[0]?.length ?? 0;
    await new Promise((r) => setTimeout(r, 300));
    const audio = server.audioReceived[0] ?? new Int16Array();
    expect(audio.length - from).toBeGreaterThan(2400);
    expect(audio.slice(from + 2000).every((v) => v === 0)).toBe(true);
    await ok('unmute');
    await ok('toggle_mute');
    expect(((await ok('status')) as { muted: boolean }).muted).toBe(true);
    await ok('toggle_mute');
    expect(events.filter((e) => e.event === 'mute').map((e) => e.data.muted)).toEqual([false, true, false, true, false]);
  });

  it('says, forwards transcripts and state, interrupts', async () => {
    server.onResponseCreate = (conn) => void conn.sendResponse({ audio: tone(3000), chunkMs: 100, interval: 100, transcript: 'a long story' });
    await ok('say', { text: 'tell me a story' });
    const item = await server.waitFor('conversation.item.create');
    expect(JSON.stringify(item.event)).toContain('tell me a story');
    await waitFor(() => events.some((e) => e.event === 'state' && e.data.state === 'speaking'), 5000, 'speaking');
    await ok('interrupt');
    await server.waitFor('conversation.item.truncate');
    await waitFor(() => events.some((e) => e.event === 'response_done' && e.data.status === 'cancelled'), 5000, 'cancelled');
    await waitFor(() => events.some((e) => e.event === 'transcript' && e.data.role === 'assistant'), 3000, 'transcript');
  });

  it('forwards tool calls to subscribers and takes the result', async () => {
    server.onResponseCreate = (conn) => void conn.sendResponse({ audio: tone(200) });
    const { callId } = server.toolCall({ name: 'lights', arguments: { on: true } });
    await waitFor(() => events.some((e) => e.event === 'tool_call'), 3000, 'tool_call event');
    expect(events.find((e) => e.event === 'tool_call')?.data).toEqual({ call_id: callId, name: 'lights', arguments: '{"on":true}' });
    await ok('tool_result', { call_id: callId, output: { done: true } });
    const out = await server.waitFor('conversation.item.create', { match: (m) => JSON.stringify(m.event).includes('function_call_output') });
    expect(JSON.stringify(out.event)).toContain('{\\"done\\":true}');
  });

  it('gets and sets configuration: live keys apply, secrets are write-only, bad values are refused', async () => {
    expect(await ok('config_get', { key: 'ai.instructions' })).toMatchObject({ value: 'first' });
    await ok('config_set', { key: 'ai.instructions', value: 'second' });
    await server.waitFor('session.update', { match: (m) => JSON.stringify(m.event).includes('second') });
    await fails('config_set', { key: 'audio.volume', value: 500 }, 'ERR_CONFIG_INVALID');
    await fails('config_set', { key: 'no.such.key', value: 1 }, 'ERR_UNKNOWN_KEY');
    await ok('config_set', { key: 'ai.apiKey', value: 'sk-written-through-the-socket' });
    await fails('config_get', { key: 'ai.apiKey' }, 'ERR_SECRET');
    const everything = JSON.stringify(await ok('config_get'));
    expect(everything).not.toContain('sk-written');
    await waitFor(() => events.some((e) => e.event === 'config_reloaded'), 3000, 'config_reloaded');
  });

  it('answers ping, version, devices, status with numeric audio counters, reload, disconnect and connect', async () => {
    expect(await ok('ping')).toMatchObject({ pong: true });
    expect(await ok('version')).toMatchObject({ version: '0.1.0', node: process.version });
    expect(Array.isArray((await ok('devices')).devices ?? (await ok('devices')))).toBe(true);
    const status = (await ok('status')) as { audio: Record<string, unknown>; backend: string; connection: { connected: boolean } };
    for (const key of ['frames', 'xruns', 'underruns', 'dropped']) expect(typeof status.audio[key]).toBe('number');
    expect(status.backend).toBe('openai');
    await ok('reload');
    await ok('disconnect');
    await waitFor(() => events.some((e) => e.event === 'state' && e.data.state === 'offline'), 3000, 'offline');
    await ok('connect');
    await waitFor(() => events.filter((e) => e.event === 'state' && e.data.state === 'listening').length >= 1, 5000, 'listening again');
  });

  it('answers bad input with stable codes and keeps serving', async () => {
    const raw = (line: string): Promise<string> =>
      new Promise((resolve) => {
        const s = connect(d.socket);
        let got = '';
        s.on('data', (b) => {
          got += b.toString();
          if (got.includes('\n')) {
            s.destroy();
            resolve(got.trim());
          }
        });
        s.write(line);
      });
    expect(JSON.parse(await raw('{not json\n'))).toMatchObject({ ok: false, error: { code: 'ERR_INVALID_JSON' } });
    expect(JSON.parse(await raw('{"id":5,"cmd":"fly"}\n'))).toMatchObject({ id: 5, ok: false, error: { code: 'ERR_UNKNOWN_COMMAND' } });
    expect(JSON.parse(await raw('{"id":6,"cmd":"volume","value":"loud"}\n'))).toMatchObject({ id: 6, error: { code: 'ERR_BAD_ARGUMENT' } });
    expect(JSON.parse(await raw(`${'x'.repeat(70000)}\n`))).toMatchObject({ error: { code: 'ERR_LINE_TOO_LONG' } });
    const clients = await Promise.all(Array.from({ length: 30 }, () => ControlClient.connect(d.socket)));
    const replies = await Promise.all(clients.map((c) => c.request('ping')));
    clients.forEach((c) => c.close());
    expect(replies.every((r) => (r as { ok: boolean }).ok)).toBe(true);
    expect(await ok('ping')).toMatchObject({ pong: true });
  });

  it('drives speakerctl: human output, --json, exit codes', () => {
    const status = ctl('status');
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/state:\s+\w+/);
    const ping = ctl('--json', 'ping');
    expect(ping.status).toBe(0);
    expect(JSON.parse(ping.stdout)).toMatchObject({ ok: true, result: { pong: true } });
    const bad = ctl('volume', '250');
    expect(bad.status).not.toBe(0);
    const gone = spawnSync(process.execPath, [join(process.cwd(), 'dist/src/cli/speakerctl.js'), '--socket', join(d.dir, 'nope.sock'), 'status'], {
      encoding: 'utf8',
    });
    expect(gone.status).toBe(3);
    expect(gone.stderr).toMatch(/speakerd is not running/);
  });

  it('says which echo engines the build has, shows the echo canceller in status, and switches engine on config_set', async () => {
    const built = loadNativeBinding().buildInfo().echoEngines;
    const version = await ok('version');
    expect(version.echoEngines).toEqual(built);
    expect(String(version.addon)).toContain(`echo engines: ${built.join(', ')}`);
    expect(ctl('version').stdout).toContain(`echo engines: ${built.join(', ')}`);
    const aecOf = async () => ((await ok('status')) as { audio: { aec: Record<string, unknown> } }).audio.aec;
    const until = async (field: string, value: unknown): Promise<void> => {
      const deadline = Date.now() + 5000;
      while ((await aecOf())[field] !== value) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for aec.${field} = ${String(value)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    // The null device reports no delay and plays nothing to estimate one from.
    // aec.engine 'auto' (the default) runs webrtc where the build has it.
    const auto = loadNativeBinding().buildInfo().webrtcApm === '0.3' ? 'webrtc' : 'speex';
    expect(await aecOf()).toMatchObject({ engine: auto, delayMs: -1, delaySource: 'none', delayEstimateMs: -1, delayConfidence: 0 });
    expect(ctl('status').stdout).toMatch(new RegExp(`^echo canceller: ${auto}, ERLE .*; delay unknown, no estimate yet$`, 'm'));
    await fails('config_set', { key: 'aec.engine', value: 'pulse' }, 'ERR_CONFIG_INVALID');
    await ok('config_set', { key: 'aec.delayMs', value: 45 });
    await until('delaySource', 'config');
    expect(await aecOf()).toMatchObject({ delayMs: 45, delaySource: 'config' });
    await ok('config_set', { key: 'aec.engine', value: 'speex' });
    await until('engine', 'speex');
    if (built.includes('webrtc')) {
      await ok('config_set', { key: 'aec.engine', value: 'webrtc' });
      await until('engine', 'webrtc');
      await ok('config_set', { key: 'aec.engine', value: 'speex' });
      await until('engine', 'speex');
      await ok('config_set', { key: 'aec.engine', value: 'auto' });
      await until('engine', auto);
    }
  });
});
