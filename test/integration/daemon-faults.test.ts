/**
 * Faults that used to take the daemon down or leave it wrong: a SIGHUP in its first instant, a key
 * file replaced on disk, an unwritable state directory, a notify socket that went away, a second
 * instance, a socket path that cannot work.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeRealtimeServer } from '../fakes/openai-realtime-server.js';
import { DAEMON, DaemonUnderTest } from '../helpers/daemon.js';
import { waitFor } from '../helpers/signal.js';

let daemons: DaemonUnderTest[] = [];
let server: FakeRealtimeServer | undefined;
afterEach(async () => {
  for (const d of daemons) await d.remove();
  daemons = [];
  await server?.close();
  server = undefined;
});

function daemon(): DaemonUnderTest {
  const d = new DaemonUnderTest();
  daemons.push(d);
  return d;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether process `pid` has a handler for SIGHUP (bit 0 of SigCgt in /proc/<pid>/status). */
function catchesSighup(pid: number): boolean {
  try {
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0';
    return (BigInt(`0x${mask}`) & 1n) === 1n;
  } catch {
    return false;
  }
}

describe('signals', () => {
  it('survives a SIGHUP while it is still loading (the first moment it can catch one), and reloads once up', async () => {
    const d = daemon();
    d.start();
    await waitFor(() => d.child?.pid !== undefined && catchesSighup(d.child.pid), 5000, 'a SIGHUP handler');
    // The handler is there before the daemon has even made its socket: nothing comes before it.
    expect(existsSync(d.socket)).toBe(false);
    expect(d.notices.some((n) => /READY=1/.test(n.message))).toBe(false);
    d.child?.kill('SIGHUP');
    await d.notice(/READY=1/);
    await sleep(300);
    expect(d.exitCode).toBeNull();
    expect(d.child?.signalCode).toBeNull();
    expect(await d.request({ cmd: 'ping' })).toMatchObject({ ok: true });
  });
});

describe('the API key', () => {
  it('is read again on SIGHUP: the next connection uses the new key, which is never logged', async () => {
    server = await FakeRealtimeServer.start();
    const d = daemon();
    const keyFile = join(d.dir, 'key');
    writeFileSync(keyFile, 'sk-old-key-1111\n', { mode: 0o600 });
    d.writeConfig({ ai: { backend: 'openai', url: server.url, apiKeyFile: keyFile } });
    d.start();
    await d.notice(/READY=1/);
    await waitFor(() => server!.handshakes.length >= 1, 5000, 'first handshake');
    expect(server.handshakes[0]?.headers.authorization).toBe('Bearer sk-old-key-1111');
    writeFileSync(keyFile, 'sk-new-key-2222\n', { mode: 0o600 });
    const mark = d.notices.length;
    d.child?.kill('SIGHUP');
    await d.notice(/READY=1/, mark);
    await waitFor(() => server!.handshakes.length >= 2, 5000, 'second handshake');
    expect(server.handshakes.at(-1)?.headers.authorization).toBe('Bearer sk-new-key-2222');
    expect(d.output).not.toMatch(/sk-old-key|sk-new-key/);
  });
});

describe('state that cannot be written', () => {
  it('starts, serves and stops with an unwritable state directory, logging the failure once and trying again', async () => {
    const d = daemon();
    const blocker = join(d.dir, 'not-a-dir');
    writeFileSync(blocker, 'x');
    d.start([], { SPEAKERD_STATE_FILE: join(blocker, 'state.json') });
    await d.notice(/READY=1/);
    for (let v = 10; v < 16; v++) expect(await d.request({ cmd: 'volume', value: v })).toMatchObject({ ok: true });
    expect(await d.request({ cmd: 'config_set', key: 'ai.voice', value: 'ash' })).toMatchObject({ ok: false, error: { code: 'ERR_STATE_WRITE' } });
    expect(await d.request({ cmd: 'config_get', key: 'ai.voice' })).toMatchObject({ ok: true, result: { value: '' } });
    await waitFor(() => /cannot save the state \(will try again\)/.test(d.output), 3000, 'state error logged');
    expect(d.output.match(/cannot save the state \(will try again\)/g)).toHaveLength(1);
    d.child?.kill('SIGTERM');
    expect(await d.exited()).toBe(0);
  });
});

describe('a full disk', () => {
  it('loses no change: a failed state write is retried and lands once space is free', async (ctx) => {
    const d = daemon();
    const mountPoint = join(d.dir, 'statefs');
    mkdirSync(mountPoint);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint]);
    if (mounted.status !== 0) {
      ctx.skip(); // mounting a tmpfs needs CAP_SYS_ADMIN, which this machine does not give
      return;
    }
    try {
      const stateFile = join(mountPoint, 'state.json');
      d.start([], { SPEAKERD_STATE_FILE: stateFile, SPEAKERD_TEST_HOOKS: '1' });
      await d.notice(/READY=1/);
      writeFileSync(join(mountPoint, 'filler'), Buffer.alloc(0));
      spawnSync('dd', ['if=/dev/zero', `of=${join(mountPoint, 'filler')}`, 'bs=4k', 'count=64']);
      expect(await d.request({ cmd: 'volume', value: 42 })).toMatchObject({ ok: true });
      await waitFor(() => /cannot save the state \(will try again\).*ENOSPC/.test(d.output), 3000, 'ENOSPC logged');
      await sleep(700);
      expect(d.exitCode).toBeNull();
      rmSync(join(mountPoint, 'filler'));
      await waitFor(() => existsSync(stateFile) && (JSON.parse(readFileSync(stateFile, 'utf8')) as { volume: number }).volume === 42, 3000, 'retried write');
      await waitFor(() => /the state file is written again/.test(d.output), 3000, 'recovery logged');
      expect(d.output.split('\n').filter((l) => l.includes('cannot save the state'))).toHaveLength(1);
    } finally {
      if (d.exitCode === null) {
        d.child?.kill('SIGKILL');
        await d.exited().catch(() => null);
      }
      spawnSync('umount', ['--lazy', mountPoint]);
    }
  });
});

describe('the notify socket', () => {
  it('going away is logged once and survived', async () => {
    const d = daemon();
    d.start();
    await d.notice(/READY=1/);
    rmSync(d.notifyPath);
    expect(await d.request({ cmd: 'mute' })).toMatchObject({ ok: true });
    d.child?.kill('SIGHUP');
    await waitFor(() => /sd_notify failed/.test(d.output), 3000, 'notify failure logged');
    expect(await d.request({ cmd: 'unmute' })).toMatchObject({ ok: true });
    await sleep(200);
    expect(d.exitCode).toBeNull();
    expect(d.output.split('\n').filter((l) => l.includes('sd_notify failed'))).toHaveLength(1);
  });
});

describe('a second instance', () => {
  it("stops at the socket in use, before it opens audio or touches the first one's files", async () => {
    const first = daemon();
    first.start();
    await first.notice(/READY=1/);
    expect(await first.request({ cmd: 'volume', value: 33 })).toMatchObject({ ok: true });
    await waitFor(() => existsSync(first.stateFile) && readFileSync(first.stateFile, 'utf8').includes('33'), 3000, 'state saved');
    // A temp file of the first instance's next save, which a starting instance used to delete.
    const temp = join(first.stateFile, '..', `.state.json.tmp-${first.child?.pid}-abcd`);
    writeFileSync(temp, '{}');
    const before = statSync(first.stateFile).mtimeMs;
    const second = spawnSync(process.execPath, [DAEMON, '--etc-dir', first.etc], {
      env: { ...process.env, SPEAKERD_CONTROL_SOCKET: first.socket, SPEAKERD_STATE_FILE: first.stateFile, NOTIFY_SOCKET: '' },
      encoding: 'utf8',
      timeout: 10000,
    });
    expect(second.status).toBe(1);
    expect(second.stderr + second.stdout).toMatch(/ERR_SOCKET_IN_USE/);
    expect(second.stdout).not.toMatch(/sound device|started/);
    expect(readdirSync(join(first.stateFile, '..'))).toContain(`.state.json.tmp-${first.child?.pid}-abcd`);
    expect(statSync(first.stateFile).mtimeMs).toBe(before);
    expect(await first.request({ cmd: 'status' })).toMatchObject({ ok: true });
  });
});

describe('a socket path that cannot work', () => {
  it('exits 78 (not restarted by systemd) when the socket path is taken by a regular file', async () => {
    const d = daemon();
    mkdirSync(join(d.dir, 'run'), { recursive: true });
    writeFileSync(d.socket, 'not a socket');
    d.start();
    expect(await d.exited(5000)).toBe(78);
    expect(d.output).toMatch(/ERR_SOCKET_PATH/);
  });

  it('exits 78 when control.group does not exist', async () => {
    const d = daemon();
    d.writeConfig({ control: { group: 'no-such-group-xyz' } });
    d.start();
    expect(await d.exited(5000)).toBe(78);
    expect(d.output).toMatch(/no-such-group-xyz/);
  });
});

describe('the watchdog under load', () => {
  it('keeps its pace while 60 clients hammer devices and the event loop is blocked for 2 s', async () => {
    const d = daemon();
    // WatchdogSec=4: pings every 2 s; the loop may go 3.2 s without checking in.
    d.start([], { WATCHDOG_USEC: '4000000', SPEAKERD_TEST_HOOKS: '1' });
    await d.notice(/READY=1/);
    const { connect } = await import('node:net');
    let stop = false;
    let answered = 0;
    const hammer = Array.from({ length: 60 }, () => {
      const socket = connect(d.socket);
      socket.on('error', () => {});
      socket.on('data', (chunk) => {
        answered += chunk.toString().split('\n').length - 1;
        if (!stop) socket.write('{"cmd":"devices"}\n{"cmd":"status"}\n');
      });
      socket.on('connect', () => socket.write('{"cmd":"devices"}\n'));
      return socket;
    });
    // From the last ping before the load on: every gap counts, including the one still open at the end.
    let mark = d.notices.length;
    while (mark > 0 && d.notices[mark - 1]?.message !== 'WATCHDOG=1') mark--;
    mark = Math.max(0, mark - 1);
    await sleep(1500);
    d.child?.kill('SIGWINCH');
    await sleep(4500);
    const end = performance.now();
    stop = true;
    for (const s of hammer) s.destroy();
    const pings = d.notices.slice(mark).filter((n) => n.message === 'WATCHDOG=1');
    const gaps = [...pings.slice(1).map((p, i) => p.at - (pings[i]?.at ?? 0)), end - (pings.at(-1)?.at ?? 0)];
    expect(answered).toBeGreaterThan(1000);
    expect(pings.length).toBeGreaterThanOrEqual(3);
    // Times are taken when this (busy) test process reads the datagrams, so they carry its own jitter;
    // the bound is systemd's (WatchdogSec=4 s) with room for that, and a pinger stalled by the blocked
    // loop would show a gap of at least the block plus an interval (4 s).
    expect(Math.max(...gaps)).toBeLessThan(3500);
    expect(d.output).not.toMatch(/not feeding the watchdog/);
    expect(await d.request({ cmd: 'status' })).toMatchObject({ ok: true });
  });
});

describe('a service that cannot be reached', () => {
  it('shows the cause in status.lastError and logs it once, not once per retry', async () => {
    const { createServer } = await import('node:net');
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const d = daemon();
    d.writeConfig({ ai: { backend: 'openai', url: `ws://127.0.0.1:${port}/v1/realtime` } });
    d.start();
    await d.notice(/READY=1/);
    await waitFor(() => /ECONNREFUSED/.test(d.output), 5000, 'refusal logged');
    await sleep(2500);
    const status = (await d.request({ cmd: 'status' })) as {
      result: { lastError: { code: string; message: string } | null; connection: { reconnects: number } };
    };
    expect(status.result.lastError).toMatchObject({ code: 'ERR_AI_CONNECT_REFUSED', message: expect.stringContaining(`127.0.0.1:${port}`) });
    expect(d.output.split('\n').filter((l) => l.includes('ECONNREFUSED') && l.startsWith('<3>'))).toHaveLength(1);
    expect(status.result.connection.reconnects).toBeGreaterThanOrEqual(2);
  });
});

describe('what every socket user may read', () => {
  it('never shows the path of a key file in status or error events, while the log keeps it', async () => {
    const d = daemon();
    const cert = join(d.dir, 'client.crt');
    const key = join(d.dir, 'client-secret-name.key');
    writeFileSync(cert, 'not a certificate');
    writeFileSync(key, 'not a key', { mode: 0o600 });
    d.writeConfig({ ai: { backend: 'openai', url: 'wss://127.0.0.1:9/v1/realtime', tls: { certFile: cert, keyFile: key } } });
    d.start();
    await d.notice(/READY=1/);
    // The key file is swapped for a FIFO in one rename (a moment without the file would be another
    // refusal, retried only after ai's fatal retry delay): the next attempt refuses it, naming it.
    const fifo = join(d.dir, 'fifo.tmp');
    spawnSync('mkfifo', [fifo]);
    renameSync(fifo, key);
    await waitFor(() => /client-secret-name\.key is a FIFO/.test(d.output), 8000, 'the refusal logged');
    const status = (await d.request({ cmd: 'status' })) as { result: { lastError: { code: string; message: string } } };
    expect(status.result.lastError.code).toBe('ERR_CONFIG_FILE');
    expect(status.result.lastError.message).toContain('ai.tls.keyFile: <hidden> is a FIFO');
    expect(JSON.stringify(status)).not.toContain('client-secret-name');
  });
});

describe('log.level', () => {
  it('applies at once when set at run time', async () => {
    const d = daemon();
    d.start();
    await d.notice(/READY=1/);
    expect(await d.request({ cmd: 'config_set', key: 'log.level', value: 'error' })).toMatchObject({ ok: true });
    const mark = d.notices.length;
    d.child?.kill('SIGHUP');
    await d.notice(/READY=1/, mark);
    await sleep(200);
    expect(d.output).not.toMatch(/configuration reloaded/);
    expect(await d.request({ cmd: 'config_set', key: 'log.level', value: 'info' })).toMatchObject({ ok: true });
    const again = d.notices.length;
    d.child?.kill('SIGHUP');
    await d.notice(/READY=1/, again);
    await waitFor(() => /configuration reloaded/.test(d.output), 2000, 'info logged again');
  });
});

describe('push-to-talk over the socket', () => {
  it('talk_start opens a turn (the microphone goes out), talk_end commits it and a reply is asked for', async () => {
    server = await FakeRealtimeServer.start();
    const d = daemon();
    d.writeConfig({ ai: { backend: 'openai', url: server.url, turnDetection: 'none' } });
    d.start();
    await d.notice(/READY=1/);
    await d.notice(/STATUS=listening/, 0, 8000);
    await sleep(300);
    // No turn open: nothing of the microphone leaves.
    expect(server.received.filter((m) => m.type === 'input_audio_buffer.append')).toHaveLength(0);
    expect(await d.request({ cmd: 'talk_start' })).toMatchObject({ ok: true, result: { talking: true } });
    await server.waitFor('input_audio_buffer.append', { timeoutMs: 3000 });
    await sleep(300);
    expect(await d.request({ cmd: 'talk_end' })).toMatchObject({ ok: true, result: { talking: false } });
    await server.waitFor('input_audio_buffer.commit', { timeoutMs: 3000 });
    await server.waitFor('response.create', { timeoutMs: 3000 });
    const appended = server.received.filter((m) => m.type === 'input_audio_buffer.append').length;
    await sleep(300);
    expect(server.received.filter((m) => m.type === 'input_audio_buffer.append').length).toBe(appended);
  });
});
