import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { DAEMON, DaemonUnderTest } from '../helpers/daemon.js';
import { waitFor } from '../helpers/signal.js';
import { FakeRealtimeServer, tone } from '../fakes/openai-realtime-server.js';

// The built daemon as systemd runs it: a child process with NOTIFY_SOCKET, a control socket, its own
// /etc and state directory; on the null device.

let d: DaemonUnderTest | undefined;
let server: FakeRealtimeServer | undefined;
afterEach(async () => {
  await d?.remove();
  d = undefined;
  await server?.close();
  server = undefined;
});

function run(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [DAEMON, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('speakerd command line', () => {
  it('checks and prints the configuration without opening anything; exits 78 listing every problem', async () => {
    d = new DaemonUnderTest();
    d.writeConfig({ audio: { volume: 40 }, ai: { voice: 'marin' } });
    const ok = run(['--etc-dir', d.etc, '--check-config']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/configuration OK \(.*speakerd\.json\)/);
    const printed = JSON.parse(run(['--etc-dir', d.etc, '--print-config']).stdout) as { audio: { volume: number }; ai: { voice: string } };
    expect(printed.audio.volume).toBe(40);
    expect(printed.ai.voice).toBe('marin');
    d.writeConfig({ audio: { volume: 400, device: 'pulse' }, nonsense: true });
    const bad = run(['--etc-dir', d.etc, '--check-config']);
    expect(bad.status).toBe(78);
    expect(bad.stderr).toMatch(/audio\.volume/);
    expect(bad.stderr).toMatch(/audio\.device/);
    expect(bad.stderr).toMatch(/nonsense/);
    const started = run(['--etc-dir', d.etc], { SPEAKERD_CONTROL_SOCKET: d.socket });
    expect(started.status).toBe(78);
  });

  it('never prints the API key, and refuses a key file others can read', async () => {
    d = new DaemonUnderTest();
    const keyFile = join(d.dir, 'key');
    writeFileSync(keyFile, 'sk-very-secret-key-123456\n');
    chmodSync(keyFile, 0o644);
    d.writeConfig({ ai: { backend: 'openai', apiKeyFile: keyFile } });
    const loose = run(['--etc-dir', d.etc, '--check-config']);
    expect(loose.status).toBe(78);
    expect(loose.stderr).toMatch(/chmod 600/);
    chmodSync(keyFile, 0o600);
    const printed = run(['--etc-dir', d.etc, '--print-config']);
    expect(printed.status).toBe(0);
    expect(printed.stdout + loose.stderr).not.toContain('very-secret');
  });
});

describe('speakerd under a notify socket', () => {
  it('is READY within 2 s on the built-in defaults (parrot, null device) and answers on its socket', async () => {
    d = new DaemonUnderTest();
    const t0 = performance.now();
    d.start();
    const ready = await d.notice(/READY=1/);
    expect(ready.at - t0).toBeLessThan(2000);
    expect(ready.pid).toBe(d.child?.pid);
    const status = (await d.request({ cmd: 'status' })).result as { state: string; backend: string };
    expect(status.backend).toBe('parrot');
    await waitFor(() => d!.notices.some((n) => /STATUS=listening/.test(n.message)), 3000, 'listening');
  });

  it('feeds the watchdog at half its interval, and stops when the audio clock stalls', async () => {
    d = new DaemonUnderTest();
    d.start([], { WATCHDOG_USEC: '400000', SPEAKERD_TEST_HOOKS: '1' });
    await d.notice(/READY=1/);
    await new Promise((r) => setTimeout(r, 1100));
    const pings = d.notices.filter((n) => n.message === 'WATCHDOG=1');
    expect(pings.length).toBeGreaterThanOrEqual(4);
    const gaps = pings.slice(1).map((p, i) => p.at - (pings[i]?.at ?? 0));
    expect(Math.max(...gaps)).toBeLessThan(350);
    expect(Math.min(...gaps)).toBeGreaterThan(120);
    d.child?.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 300));
    const after = d.notices.filter((n) => n.message === 'WATCHDOG=1').length;
    await new Promise((r) => setTimeout(r, 800));
    expect(d.notices.filter((n) => n.message === 'WATCHDOG=1').length).toBe(after);
    expect(d.output).toMatch(/not feeding the watchdog: the audio clock has stopped/);
  });

  it('reloads on SIGHUP (RELOADING then READY), keeps running on an invalid new config, stops cleanly on SIGTERM', async () => {
    d = new DaemonUnderTest();
    d.writeConfig({ ai: { instructions: 'one' } });
    d.start();
    await d.notice(/READY=1/);
    d.writeConfig({ ai: { instructions: 'two' } });
    const mark = d.notices.length;
    d.child?.kill('SIGHUP');
    await d.notice(/RELOADING=1\nMONOTONIC_USEC=\d+/, mark);
    await d.notice(/READY=1/, mark + 1);
    expect((await d.request({ cmd: 'config_get', key: 'ai.instructions' })).result).toMatchObject({ key: 'ai.instructions', value: 'two' });
    // A key that needs the sound device reopened: the engine is rebuilt and the audio clock goes on.
    d.writeConfig({ ai: { instructions: 'two' }, audio: { bridgeRate: 24000 } });
    const framesBefore = ((await d.request({ cmd: 'status' })).result as { audio: { frames: number } }).audio.frames;
    d.child?.kill('SIGHUP');
    await waitFor(() => (d!.output.match(/configuration reloaded/g) ?? []).length >= 2, 5000, 'second reload');
    await waitFor(() => d!.notices.filter((n) => /STATUS=listening/.test(n.message)).length >= 2, 5000, 'listening after reopen');
    const after = (await d.request({ cmd: 'status' })).result as { audio: { frames: number }; state: string };
    expect(after.audio.frames).toBeLessThan(framesBefore + 1000);
    await new Promise((r) => setTimeout(r, 300));
    expect(((await d.request({ cmd: 'status' })).result as { audio: { frames: number } }).audio.frames).toBeGreaterThan(after.audio.frames);
    expect((await d.request({ cmd: 'config_get', key: 'audio.bridgeRate' })).result).toMatchObject({ value: 24000 });
    d.writeConfig({ ai: { instructions: 3 } });
    d.child?.kill('SIGHUP');
    await waitFor(() => /reload refused/.test(d!.output), 3000, 'refused reload');
    expect((await d.request({ cmd: 'config_get', key: 'ai.instructions' })).result).toMatchObject({ key: 'ai.instructions', value: 'two' });
    await d.request({ cmd: 'volume', value: 33 });
    const stopAt = performance.now();
    d.child?.kill('SIGTERM');
    expect(await d.exited(3000)).toBe(0);
    expect(performance.now() - stopAt).toBeLessThan(2000);
    expect(d.notices.some((n) => n.message === 'STOPPING=1')).toBe(true);
    expect(JSON.parse(readFileSync(d.stateFile, 'utf8'))).toMatchObject({ volume: 33, muted: false });
  });

  it('starts and stays up without its sound card, reporting the ALSA error in status', async () => {
    d = new DaemonUnderTest();
    const alsa = join(d.dir, 'asound.conf');
    writeFileSync(alsa, 'pcm.absent { type hw card 9 device 0 }\n');
    d.writeConfig({ audio: { device: 'alsa', capture: 'absent', playback: 'absent', alsaConfig: alsa } });
    d.start();
    await d.notice(/READY=1/);
    const status = (await d.request({ cmd: 'status' })).result as {
      audio: { deviceState: string; frames: number; deviceRate: number; devicePeriodMs: number };
      lastError: { code: string; message: string };
    };
    expect(status.audio).toMatchObject({ deviceState: 'retrying', deviceRate: 0, devicePeriodMs: 0 });
    expect(status.lastError).toMatchObject({ code: 'ERR_DEVICE_OPEN', message: expect.stringMatching(/absent/) });
    await new Promise((r) => setTimeout(r, 300));
    const later = (await d.request({ cmd: 'status' })).result as { audio: { frames: number } };
    expect(later.audio.frames).toBeGreaterThan(status.audio.frames);
    expect(d.exitCode).toBeNull();
  });

  it('audits who changed what, with uid, gid and pid', async () => {
    d = new DaemonUnderTest();
    d.writeConfig({ control: { allowUids: [process.getuid?.() ?? 0] } });
    d.start();
    await d.notice(/READY=1/);
    expect(await d.request({ cmd: 'volume', value: 10 })).toMatchObject({ ok: true });
    await waitFor(() => new RegExp(`'volume' from uid=${process.getuid?.()} gid=\\d+ pid=${process.pid}`).test(d!.output), 2000, 'audit line');
  });

  it('converses with the OpenAI backend, survives the service being killed and restarted', async () => {
    server = await FakeRealtimeServer.start();
    const port = Number(new URL(server.url).port);
    d = new DaemonUnderTest();
    d.writeConfig({ ai: { backend: 'openai', url: server.url } });
    d.start();
    await d.notice(/READY=1/);
    await d.notice(/STATUS=listening/);
    await server.waitFor('input_audio_buffer.append');
    void server.sendResponse({ audio: tone(800), chunkMs: 100, interval: 50, transcript: 'hello from the fake' });
    await d.notice(/STATUS=speaking/);
    const mark = d.notices.length;
    await d.notice(/STATUS=listening/, mark);
    await server.close();
    await d.notice(/STATUS=offline/, mark);
    server = await FakeRealtimeServer.start({ port });
    await d.notice(/STATUS=listening/, d.notices.length - 1, 10000);
    const status = (await d.request({ cmd: 'status' })).result as { connection: { reconnects: number } };
    expect(status.connection.reconnects).toBeGreaterThanOrEqual(1);
  }, 30000);
});
