/**
 * One whole-daemon start as on a board, for every CPU the firmware is built for (.ci/run runs this
 * file under qemu-user with an arm64 Node too): the built daemon on the null device reaches READY=1
 * over sd_notify, `speakerctl status` answers on the control socket, SIGTERM stops it with status 0.
 * Bounds are systemd's (TimeoutStartSec=30), not a PC's: under emulation Node starts 10-25x slower.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DaemonUnderTest } from '../helpers/daemon.js';

const SPEAKERCTL = join(process.cwd(), 'dist/src/cli/speakerctl.js');

let d: DaemonUnderTest | undefined;
afterEach(async () => {
  await d?.remove();
  d = undefined;
});

function speakerctl(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SPEAKERCTL, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

describe(`speakerd on ${process.arch}`, () => {
  it('starts on the null device, sends READY=1, answers speakerctl status, stops on SIGTERM', { timeout: 90_000 }, async () => {
    d = new DaemonUnderTest();
    d.writeConfig({ audio: { device: 'null' }, ai: { backend: 'parrot' } });
    const t0 = performance.now();
    d.start();
    const ready = await d.notice(/READY=1/, 0, 30_000);
    expect(ready.pid).toBe(d.child?.pid);
    const readyMs = Math.round(ready.at - t0);
    const ctl = await speakerctl(['--json', '--timeout', '20000', 'status'], { SPEAKERD_CONTROL_SOCKET: d.socket });
    expect(ctl.stderr).toBe('');
    expect(ctl.status).toBe(0);
    const reply = JSON.parse(ctl.stdout.trim().split('\n')[0] ?? '{}') as { ok: boolean; result: { state: string; backend: string } };
    expect(reply.ok).toBe(true);
    const result = reply.result;
    expect(result.backend).toBe('parrot');
    expect(['starting', 'connecting', 'listening']).toContain(result.state);
    console.log(`speakerd on ${process.arch}: READY=1 after ${readyMs} ms, state ${result.state}`);
    d.child?.kill('SIGTERM');
    expect(await d.exited(20_000)).toBe(0);
  });
});
