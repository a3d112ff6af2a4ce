/**
 * The compiled JavaScript as users run it: `node speakerctl.js` as a process, and a daemon-side server
 * taking over a socket passed by a systemd-style launcher. The control modules are compiled into a
 * temp directory first (what `npm run build` does for dist/), so this does not depend on a stale dist/.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlClient } from '../../../src/control/client.js';
import { startHarness, waitUntil, type Harness } from './helpers.js';

const root = resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);
let out: string;
let bin: string;
let h: Harness;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'spk-ctl-build-'));
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const files = ['src/cli/speakerctl.ts', 'src/control/index.ts', 'test/unit/control/fake-target.ts'];
  const flags = ['--outDir', out, '--rootDir', root, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'];
  await run(process.execPath, [tsc, ...flags, '--strict', '--skipLibCheck', '--types', 'node', ...files.map((f) => join(root, f))], { cwd: root });
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  bin = join(out, 'src/cli/speakerctl.js');
  h = await startHarness();
}, 60000);

afterAll(async () => {
  await h?.close();
  rmSync(out, { recursive: true, force: true });
});

function speakerctl(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('node speakerctl.js', () => {
  it('prints one JSON line with --json and exits 0', async () => {
    const r = await speakerctl(['--socket', h.path, '--json', 'ping']);
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: 1, ok: true, result: { pong: true } });
  });

  it('sets the volume from $SPEAKERD_CONTROL_SOCKET', async () => {
    const r = await speakerctl(['volume', '+5'], { SPEAKERD_CONTROL_SOCKET: h.path });
    expect(r).toMatchObject({ code: 0, stdout: 'volume 55\n', stderr: '' });
  });

  it('exits 3 when the daemon is not running', async () => {
    const r = await speakerctl(['status'], { SPEAKERD_CONTROL_SOCKET: join(h.dir, 'gone.sock') });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`speakerctl: speakerd is not running (no socket at ${join(h.dir, 'gone.sock')})\n`);
  });

  it('exits 2 on a usage error, 1 on an error reply', async () => {
    expect((await speakerctl(['volume', 'loud'])).code).toBe(2);
    h.target.connected = false;
    const r = await speakerctl(['--socket', h.path, 'say', 'hi']);
    h.target.connected = true;
    expect(r).toMatchObject({ code: 1, stderr: 'speakerctl: ERR_AI_NOT_CONNECTED: the AI service is not connected\n' });
  });

  it('events runs until SIGINT and then exits 0', async () => {
    const child = spawn(process.execPath, [bin, '--socket', h.path, 'events'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    await waitUntil(() => stdout.split('\n').length > 3, 5000);
    h.target.setState('thinking');
    await waitUntil(() => stdout.includes('thinking'), 5000);
    const code = new Promise((r) => child.on('close', r));
    child.kill('SIGINT');
    expect(await code).toBe(0);
    expect(
      stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).event),
    ).toEqual(['state', 'mute', 'volume', 'state']);
  });
});

const python = spawnSync('python3', ['--version']).status === 0;

describe('socket activation', () => {
  // A systemd-style launcher: bind and listen, fork, put the socket on fd 3, set LISTEN_PID to the
  // child's own pid and LISTEN_FDS=1, exec the daemon. Python does this in a few lines; Node cannot.
  it.skipIf(!python)('listens on the fd handed over and creates no socket file of its own (needs python3)', async () => {
    const path = join(h.dir, 'activated.sock');
    const configured = join(h.dir, 'configured.sock');
    const daemon = join(out, 'daemon.mjs');
    writeFileSync(
      daemon,
      `import { ControlServer } from './src/control/index.js';
import { FakeTarget } from './test/unit/control/fake-target.js';
const server = await ControlServer.start({ path: ${JSON.stringify(configured)}, target: new FakeTarget() });
console.log(JSON.stringify({ activated: server.socketActivated, env: process.env.LISTEN_FDS ?? null }));
process.stdin.on('data', () => {}).on('end', () => server.close().then(() => process.exit(0)));
`,
    );
    const launcher = `
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o660); s.listen(16)
pid = os.fork()
if pid == 0:
    os.dup2(s.fileno(), 3); os.set_inheritable(3, True)
    os.execve(sys.argv[3], [sys.argv[3], sys.argv[2]], dict(os.environ, LISTEN_PID=str(os.getpid()), LISTEN_FDS='1'))
s.close()
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
`;
    const child = spawn('python3', ['-c', launcher, path, daemon, process.execPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitUntil(() => stdout.includes('\n') || stderr !== '', 10000, 'the daemon to start');
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual({ activated: true, env: null });
    expect(existsSync(configured)).toBe(false);
    const client = await ControlClient.connect(path);
    expect(await client.request('status')).toMatchObject({ ok: true, result: { state: 'listening' } });
    client.close();
    const exited = new Promise((r) => child.on('close', r));
    child.stdin.end();
    expect(await exited).toBe(0);
    expect(lstatSync(path).isSocket()).toBe(true); // systemd's socket: not removed by the daemon
  });
});
