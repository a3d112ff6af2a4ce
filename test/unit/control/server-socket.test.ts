import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlClient } from '../../../src/control/client.js';
import { activationFd, clearStaleSocket, forgetActivation, resolveGroup } from '../../../src/control/listen.js';
import { ControlServer } from '../../../src/control/server.js';
import { FakeTarget } from './fake-target.js';
import { memoryLogger, tempDir, waitUntil } from './helpers.js';

let dir: string;
let cleanup: () => void;
const servers: ControlServer[] = [];

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  cleanup();
});

async function start(path: string, options: Partial<Parameters<typeof ControlServer.start>[0]> = {}): Promise<ControlServer> {
  const server = await ControlServer.start({ path, target: new FakeTarget(), socketActivation: false, logger: memoryLogger().logger, ...options });
  servers.push(server);
  return server;
}

async function ping(path: string): Promise<boolean> {
  const client = await ControlClient.connect(path, { timeoutMs: 2000 });
  const reply = await client.request('ping');
  client.close();
  return reply.ok;
}

/** A socket file nobody listens on, as a crashed daemon leaves it (the process is killed, no cleanup). */
function staleSocket(path: string): Promise<void> {
  const code = `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve());
  });
}

describe('the socket file', () => {
  it('is a socket with mode 0660 by default', async () => {
    const path = join(dir, 'control.sock');
    await start(path);
    const st = lstatSync(path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
    expect(await ping(path)).toBe(true);
  });

  it('takes the mode and the group it is given (gid or name)', async () => {
    const gid = process.getgid!();
    const path = join(dir, 'a.sock');
    await start(path, { mode: 0o600, group: gid });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(path).gid).toBe(gid);
    const name = readFileSync('/etc/group', 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f[2] === String(gid))?.[0];
    if (name !== undefined) {
      const other = join(dir, 'b.sock');
      await start(other, { group: name });
      expect(statSync(other).gid).toBe(gid);
    }
  });

  it('refuses an unknown group name and leaves no socket behind', async () => {
    const path = join(dir, 'c.sock');
    await expect(start(path, { group: 'no-such-group-speakerd' })).rejects.toMatchObject({ code: 'ERR_SOCKET_PATH' });
    expect(existsSync(path)).toBe(false);
  });

  it('replaces a stale socket left by a crash', async () => {
    const path = join(dir, 'control.sock');
    await staleSocket(path);
    expect(lstatSync(path).isSocket()).toBe(true);
    await expect(ControlClient.connect(path)).rejects.toMatchObject({ code: 'ERR_NOT_RUNNING' });
    await start(path);
    expect(await ping(path)).toBe(true);
  });

  it('never steals a live socket', async () => {
    const path = join(dir, 'control.sock');
    const first = await start(path);
    const ino = lstatSync(path).ino;
    await expect(start(path)).rejects.toMatchObject({ code: 'ERR_SOCKET_IN_USE', message: expect.stringContaining(path) });
    expect(lstatSync(path).ino).toBe(ino);
    expect(await ping(path)).toBe(true);
    await waitUntil(() => first.clientCount === 0);
  });

  it('never unlinks a file that is not a socket', async () => {
    const path = join(dir, 'control.sock');
    writeFileSync(path, 'precious');
    await expect(start(path)).rejects.toMatchObject({ code: 'ERR_SOCKET_PATH', message: expect.stringContaining('not a socket') });
    expect(readFileSync(path, 'utf8')).toBe('precious');
    await expect(clearStaleSocket(dir)).rejects.toMatchObject({ code: 'ERR_SOCKET_PATH' });
  });

  it('reports a missing directory clearly', async () => {
    await expect(start(join(dir, 'nope', 'control.sock'))).rejects.toMatchObject({ code: 'ERR_SOCKET_PATH' });
  });

  it('close() removes its own socket file, disconnects clients, and is idempotent', async () => {
    const path = join(dir, 'control.sock');
    const server = await start(path);
    const client = await ControlClient.connect(path);
    const closed = new Promise((r) => client.once('close', r));
    await server.close();
    await closed;
    expect(existsSync(path)).toBe(false);
    await server.close();
  });
});

describe('socket activation', () => {
  it.each<[string, Record<string, string>, number, number | null]>([
    ['this pid, one fd', { LISTEN_PID: '42', LISTEN_FDS: '1' }, 42, 3],
    ['this pid, two fds', { LISTEN_PID: '42', LISTEN_FDS: '2' }, 42, 3],
    ['another pid', { LISTEN_PID: '41', LISTEN_FDS: '1' }, 42, null],
    ['no fds', { LISTEN_PID: '42', LISTEN_FDS: '0' }, 42, null],
    ['garbage', { LISTEN_PID: '42x', LISTEN_FDS: '1' }, 42, null],
    ['no pid', { LISTEN_FDS: '1' }, 42, null],
    ['nothing', {}, 42, null],
  ])('%s', (_n, env, pid, fd) => {
    expect(activationFd(env, pid)).toBe(fd);
  });

  it('forgets the variables once used', () => {
    const env: NodeJS.ProcessEnv = { LISTEN_PID: '1', LISTEN_FDS: '1', LISTEN_FDNAMES: 'control', HOME: '/root' };
    forgetActivation(env);
    expect(env).toEqual({ HOME: '/root' });
  });

  it('is not used when LISTEN_PID names another process', async () => {
    const path = join(dir, 'control.sock');
    const server = await start(path, { socketActivation: true, env: { LISTEN_PID: '1', LISTEN_FDS: '1' } });
    expect(server.socketActivated).toBe(false);
    expect(await ping(path)).toBe(true);
  });
});

describe('resolveGroup', () => {
  it('reads names from a group file and takes numbers as they are', () => {
    const file = join(dir, 'group');
    writeFileSync(file, 'root:x:0:\naudio:x:29:pi\nspeakerd:x:987:\n');
    expect(resolveGroup('speakerd', file)).toBe(987);
    expect(resolveGroup('audio', file)).toBe(29);
    expect(resolveGroup('1000', file)).toBe(1000);
    expect(resolveGroup(5, file)).toBe(5);
    expect(() => resolveGroup('video', file)).toThrow(/video/);
  });
});
