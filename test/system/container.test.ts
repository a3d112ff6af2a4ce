import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Container, containerSkipReason } from './container-harness.js';
import { parseUnit, systemdDir, value } from './unit-file.js';

// speakerd.service under a real systemd 252: a Debian 12 container booted with systemd-nspawn
// (scripts/container/), the project installed at /usr/lib/speakerd as a package would install it, the
// real daemon (dist/src/cli/speakerd.js, so `npm run build` first) run by the unit from systemd/.
//
// What these tests assume of the daemon (beyond what design.md states):
// - READY=1 once audio and the control socket are up; STATUS= soon after; exit 0 on SIGTERM within 2 s.
// - TEST HOOK: with SPEAKERD_TEST_HOOKS=1 in its environment (a test-only drop-in sets it), SIGUSR2
//   stalls its audio clock for 30 s, so it stops its watchdog pings and systemd's watchdog
//   (WatchdogSec=10) kills and restarts it.
// - exit 78 when /etc/speakerd/speakerd.json holds an invalid value ({"audio":{"device":"no-such-device"}}),
//   naming the key (audio.device) in its message on stderr (the journal).
// - a whitespace-only $CREDENTIALS_DIRECTORY/ai-api-key means "no key": that is what the unit's
//   SetCredential= fallback hands over when /etc/speakerd/ai-api-key does not exist (systemd 252).
// - it chmods its control socket to 0660; with $LISTEN_FDS it serves the control protocol on fd 3.
// - the native audio thread is named "speakerd-audio" and asks for SCHED_FIFO by default.
//
// Skipped only when not root or when the container cannot be built (the reason is printed).

const skipReason = await containerSkipReason();
if (skipReason !== null) console.warn(`container tests skipped: ${skipReason}`);

const unit = parseUnit(readFileSync(join(systemdDir, 'speakerd.service'), 'utf8'));
const EXITS = '/run/speakerd-test.exits';
const timings: string[] = [];

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe.skipIf(skipReason !== null)('speakerd.service under a real systemd (nspawn container)', () => {
  let box: Container;

  beforeAll(async () => {
    const started = Date.now();
    box = await Container.boot();
    timings.push(`boot: ${Date.now() - started} ms (${box.bootLog.split('\n').join('; ')})`);
    // Test-only runtime drop-in, nothing else is added to the unit: SPEAKERD_TEST_HOOKS=1 enables the
    // daemon's SIGUSR2 stall hook, and every stop records how the main process ended (systemd unloads
    // an inactive unit, and `systemctl show` then no longer knows).
    await box.write(
      '/run/systemd/system/speakerd.service.d/90-test.conf',
      ['[Service]', 'Environment=SPEAKERD_TEST_HOOKS=1', `ExecStopPost=+/bin/sh -c 'echo "$$SERVICE_RESULT $$EXIT_CODE $$EXIT_STATUS" >>${EXITS}'`, ''].join(
        '\n',
      ),
    );
    await box.check(['systemctl', 'daemon-reload']);
  }, 300000);

  afterAll(async () => {
    if (box !== undefined) {
      const started = Date.now();
      await box.down();
      timings.push(`teardown: ${Date.now() - started} ms`);
    }
    console.log(`container timings:\n  ${timings.join('\n  ')}`);
  }, 60000);

  /** How the main process ended, one line per stop: "<result> <exit code> <status>". */
  async function exits(): Promise<string[]> {
    const out = await box.exec(['cat', EXITS]);
    return out.stdout.split('\n').filter((line) => line !== '');
  }

  async function diagnostics(): Promise<string> {
    const status = await box.exec(['systemctl', 'status', '--no-pager', '-l', 'speakerd']);
    return `${status.stdout}\n--- journal ---\n${await box.journal('speakerd')}`;
  }

  it('is installed as a package would install it (sysusers and tmpfiles applied at boot)', async () => {
    expect(await box.check(['getent', 'passwd', 'speakerd'])).toMatch(/^speakerd:x:\d+:\d+:.*nologin$/m);
    for (const group of ['speakerd', 'audio', 'gpio', 'spi', 'input']) {
      expect((await box.exec(['getent', 'group', group])).code, `group ${group}`).toBe(0);
    }
    expect(await box.check(['getent', 'group', 'audio'])).toMatch(/speakerd/);
    expect((await box.exec(['test', '-d', '/etc/speakerd/conf.d'])).code).toBe(0);
    expect((await box.exec(['test', '-e', '/etc/speakerd/ai-api-key'])).code).not.toBe(0); // no key: default run
  });

  it('starts and becomes active only on READY=1 (Type=notify), sandboxed as speakerd', async () => {
    const start = await box.exec(['systemctl', 'start', 'speakerd'], { timeoutMs: 40000 });
    timings.push(`systemctl start (until READY=1): ${start.ms} ms`);
    expect(start.code, `systemctl start failed:\n${start.stderr}\n${await diagnostics()}`).toBe(0);
    const state = await box.show('speakerd', ['ActiveState', 'SubState', 'Type', 'MainPID', 'NRestarts']);
    expect(state).toMatchObject({ ActiveState: 'active', SubState: 'running', Type: 'notify', NRestarts: '0' });
    const status = await box.waitFor('STATUS= from the daemon', 3000, async () => {
      const text = (await box.show('speakerd', ['StatusText'])).StatusText;
      return text ? text : undefined;
    });
    timings.push(`STATUS after start: "${status}"`);

    const pid = state.MainPID!;
    const proc = await box.check(['cat', `/proc/${pid}/status`]);
    const uid = (await box.check(['id', '-u', 'speakerd'])).trim();
    const audio = (await box.check(['getent', 'group', 'audio'])).split(':')[2];
    expect(proc).toMatch(new RegExp(`^Uid:\\s+${uid}\\s`, 'm'));
    expect(proc).toMatch(new RegExp(`^Groups:.*\\b${audio}\\b`, 'm'));
    expect(proc).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(proc).toMatch(/^CapEff:\s+0+$/m);
    expect(proc).toMatch(/^Seccomp:\s+2$/m); // the system-call filter is on, and node survived it

    // READY=1 promises the control socket is up.
    expect(await box.check(['stat', '-c', '%F %a', '/run/speakerd/control.sock'])).toBe('socket 660\n');
    // No key file: LoadCredential= skipped it in favour of the SetCredential= fallback (whitespace only).
    const key = await box.check(['cat', '/run/credentials/speakerd.service/ai-api-key']);
    expect(key.trim()).toBe('');
  }, 60000);

  it('runs under the limits of the unit: MemoryHigh=/MemoryMax=, LimitCORE=0, TimeoutStartSec=, restart-prevented statuses', async () => {
    const bytes = (size: string): string => String(Number(size.slice(0, -1)) * 1024 ** { K: 1, M: 2, G: 3 }[size.slice(-1) as 'K' | 'M' | 'G']);
    const shown = await box.show('speakerd', [
      'MainPID',
      'MemoryHigh',
      'MemoryMax',
      'LimitCORE',
      'LimitCORESoft',
      'TimeoutStartUSec',
      'RestartPreventExitStatus',
      'DevicePolicy',
    ]);
    expect(shown).toMatchObject({
      MemoryHigh: bytes(value(unit, 'Service', 'MemoryHigh')!), // 160M
      MemoryMax: bytes(value(unit, 'Service', 'MemoryMax')!), // 200M
      LimitCORE: '0',
      LimitCORESoft: '0',
      TimeoutStartUSec: `${value(unit, 'Service', 'TimeoutStartSec')}s`,
      RestartPreventExitStatus: '2 9 78',
      DevicePolicy: 'closed',
    });
    const limits = await box.check(['cat', `/proc/${shown.MainPID}/limits`]);
    expect(limits).toMatch(/^Max core file size\s+0\s+0\s/m);
    // systemd parsed every device class, including the numeric majors (char-116, char-153, char-13).
    const devices = await box.check(['systemctl', 'show', '--property=DeviceAllow', 'speakerd']);
    for (const entry of ['char-alsa rw', 'char-116 rw', 'char-gpiochip rw', 'char-spi rw', 'char-153 rw', 'char-input r', 'char-13 r']) {
      expect(devices).toContain(`DeviceAllow=${entry}\n`);
    }
    // The kernel enforces the memory limit only where the memory controller reaches the unit (on a
    // device, cgroup v2); this container may not have it delegated: then only the configuration shows.
    const cgroup = /^0::(.*)$/m.exec(await box.check(['cat', `/proc/${shown.MainPID}/cgroup`]))?.[1];
    const memoryMax = await box.exec(['cat', `/sys/fs/cgroup${cgroup}/memory.max`]);
    if (memoryMax.code === 0) expect(memoryMax.stdout.trim()).toBe(shown.MemoryMax);
    else timings.push('memory.max: no memory controller for the unit in this container (limit configured, not enforced here)');
  });

  it('cannot execute anything but node and its libraries (NoExecPaths=/, ExecPaths=), not even from its own directories', async () => {
    // A root process in the daemon's own mount namespace (nsenter -m), so exactly the daemon's mounts:
    // noexec is a mount flag, it binds root too. Only /usr/bin/node may be started there (ExecPaths=).
    const pid = (await box.show('speakerd', ['MainPID'])).MainPID!;
    const probe = `
      const fs = require('fs'), cp = require('child_process');
      const addon = '/usr/lib/speakerd/build/Release/speakerd.node';
      const result = {};
      const exec = (file, args = []) => { const r = cp.spawnSync(file, args); return r.error ? r.error.code : r.status; };
      const load = (file) => { try { process.dlopen({ exports: {} }, file); return 'loaded'; } catch (e) { return e.message; } };
      for (const dir of ['/tmp', '/var/tmp', '/dev/shm', '/run/speakerd', '/var/lib/speakerd']) {
        const copy = dir + '/speakerd-exec-probe';
        fs.copyFileSync('/usr/bin/true', copy);
        fs.chmodSync(copy, 0o755);
        fs.copyFileSync(addon, copy + '.node');
        result[dir] = { exec: exec(copy), dlopen: load(copy + '.node') };
        fs.rmSync(copy);
        fs.rmSync(copy + '.node');
      }
      result.node = exec('/usr/bin/node', ['-e', 'process.exit(3)']);
      result.sh = exec('/bin/sh', ['-c', 'exit 3']);
      result.true = exec('/usr/bin/true');
      result.addon = load(addon);
      console.log(JSON.stringify(result));`;
    const out = await box.check(['nsenter', '-t', pid, '-m', '/usr/bin/node', '-e', probe]);
    const result = JSON.parse(out) as Record<string, unknown>;
    for (const dir of ['/tmp', '/var/tmp', '/dev/shm', '/run/speakerd', '/var/lib/speakerd']) {
      expect(result[dir], dir).toEqual({ exec: 'EACCES', dlopen: expect.stringMatching(/failed to map segment from shared object/) });
    }
    expect(result).toMatchObject({ node: 3, sh: 'EACCES', true: 'EACCES', addon: 'loaded' });
    // The same two settings in a transient unit (what a drop-in author would try): /tmp is refused too.
    const props = ['NoExecPaths', 'ExecPaths'].map((key) => `${key}=${value(unit, 'Service', key)}`);
    await box.check(['cp', '/usr/bin/true', '/tmp/speakerd-exec-probe']);
    try {
      const transient = await box.exec(['systemd-run', '--wait', '--pipe', '--quiet', ...props.flatMap((p) => ['-p', p]), '/tmp/speakerd-exec-probe']);
      expect(transient.code).toBe(203); // 203/EXEC
      const node = await box.exec(['systemd-run', '--wait', '--pipe', '--quiet', ...props.flatMap((p) => ['-p', p]), '/usr/bin/node', '-e', 'process.exit(0)']);
      expect(node.code, node.stderr).toBe(0);
    } finally {
      await box.exec(['rm', '-f', '/tmp/speakerd-exec-probe']);
    }
    // systemd 252: an ExecPaths= bind mount drops ProtectSystem='s read-only flag; the daemon's user
    // still cannot write there (root's directory, no capabilities).
    const uid = (await box.check(['id', '-u', 'speakerd'])).trim();
    const gid = (await box.check(['id', '-g', 'speakerd'])).trim();
    const write = await box.exec([
      'nsenter',
      '-t',
      pid,
      '-m',
      `--setuid=${uid}`,
      `--setgid=${gid}`,
      '/usr/bin/node',
      '-e',
      "try { require('fs').writeFileSync('/usr/lib/speakerd-write-probe', 'x'); console.log('written') } catch (e) { console.log(e.code) }",
    ]);
    expect(write.stdout.trim()).toMatch(/^(EACCES|EROFS)$/);
  }, 30000);

  it('lets the audio thread run SCHED_FIFO under LimitRTPRIO= (RestrictRealtime=no, no capability)', async (ctx) => {
    const pid = (await box.show('speakerd', ['MainPID'])).MainPID!;
    const limits = await box.check(['cat', `/proc/${pid}/limits`]);
    const rtprio = Number(/^Max realtime priority\s+(\d+)/m.exec(limits)?.[1] ?? 0);
    const wanted = Number(value(unit, 'Service', 'LimitRTPRIO'));
    if (rtprio < wanted) {
      const reason =
        `RLIMIT_RTPRIO is ${rtprio}, not ${wanted}: this host gives the container no CAP_SYS_RESOURCE, ` +
        'so its systemd cannot raise the limit (on a device PID 1 can)';
      console.warn(`skipped: ${reason}`);
      ctx.skip(reason);
    }
    const tasks = (await box.check(['sh', '-c', `grep -l '^speakerd-audio$' /proc/${pid}/task/*/comm`])).trim();
    expect(tasks, 'no thread named speakerd-audio').not.toBe('');
    const stat = await box.check(['cat', tasks.split('\n')[0]!.replace(/comm$/, 'stat')]);
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
    expect(Number(fields[41 - 3])).toBe(1); // policy: SCHED_FIFO
    expect(Number(fields[40 - 3])).toBeGreaterThanOrEqual(1); // rt_priority
    expect(Number(fields[40 - 3])).toBeLessThanOrEqual(wanted);
  });

  it('LoadCredential= reads the key file when it exists and does not fail the start when it does not', async () => {
    // The unit's own credential lines, in transient units (the daemon is not involved).
    const load = `LoadCredential=${value(unit, 'Service', 'LoadCredential')}`;
    const fallback = `SetCredential=${value(unit, 'Service', 'SetCredential')}`;
    const read = ['sh', '-c', 'cat "$CREDENTIALS_DIRECTORY/ai-api-key"'];
    const systemdRun = (props: string[]) =>
      box.exec(['systemd-run', '--wait', '--pipe', '--quiet', '-p', 'User=speakerd', ...props.flatMap((p) => ['-p', p]), ...read]);

    const missing = await systemdRun([load, fallback]);
    expect(missing.code, missing.stderr).toBe(0);
    expect(missing.stdout.trim()).toBe('');

    const withoutFallback = await systemdRun([load]);
    expect(withoutFallback.code).toBe(243); // 243/CREDENTIALS: why the fallback is there

    await box.write('/etc/speakerd/ai-api-key', 'sk-test-not-a-real-key\n', '0600');
    try {
      const present = await systemdRun([load, fallback]);
      expect(present.code, present.stderr).toBe(0);
      expect(present.stdout).toBe('sk-test-not-a-real-key\n');
    } finally {
      await box.check(['rm', '-f', '/etc/speakerd/ai-api-key']);
    }
  }, 30000);

  it('reloads on systemctl reload (SIGHUP, RELOADING=1 ... READY=1) and stays active', async () => {
    const before = await box.show('speakerd', ['MainPID', 'NRestarts']);
    const reload = await box.exec(['systemctl', 'reload', 'speakerd'], { timeoutMs: 30000 });
    timings.push(`systemctl reload: ${reload.ms} ms`);
    expect(reload.code, `systemctl reload failed:\n${reload.stderr}\n${await diagnostics()}`).toBe(0);
    const after = await box.show('speakerd', ['ActiveState', 'SubState', 'MainPID', 'NRestarts']);
    expect(after).toMatchObject({ ActiveState: 'active', SubState: 'running', MainPID: before.MainPID, NRestarts: before.NRestarts });
    expect(await box.journal('speakerd')).toMatch(/Reloaded speakerd\.service/);
  }, 40000);

  it('is killed and restarted by the watchdog when its pings stall (test hook: SIGUSR2 stalls them for 30 s)', async () => {
    const before = await box.show('speakerd', ['MainPID', 'NRestarts']);
    const timeoutsBefore = count(await box.journal('speakerd'), 'Watchdog timeout');
    await box.check(['systemctl', 'kill', '--kill-whom=main', '--signal=SIGUSR2', 'speakerd']);
    const stalled = Date.now();
    const restarted = await box.waitFor('a watchdog restart (is the SIGUSR2 stall hook implemented?)', 40000, async () => {
      const now = await box.show('speakerd', ['ActiveState', 'MainPID', 'NRestarts']);
      return now.NRestarts !== before.NRestarts && now.ActiveState === 'active' ? now : undefined;
    });
    const elapsed = Date.now() - stalled;
    timings.push(`watchdog: stall (SIGUSR2) to active again: ${elapsed} ms`);
    const journal = await box.journal('speakerd');
    expect(count(journal, 'Watchdog timeout'), journal).toBe(timeoutsBefore + 1);
    expect(journal).toMatch(/Failed with result 'watchdog'/);
    expect((await exits()).at(-1)).toMatch(/^watchdog killed ABRT$/);
    expect(restarted.MainPID).not.toBe(before.MainPID);
    expect(Number(restarted.NRestarts)).toBe(Number(before.NRestarts) + 1);
    // Pings every 5 s (half of WatchdogSec=10): the timeout comes 5-10 s after the stall, then RestartSec=2.
    expect(elapsed).toBeGreaterThan(4000);
  }, 60000);

  it('stops cleanly within 2 s with exit status 0', async () => {
    const journalBefore = await box.journal('speakerd');
    const stop = await box.exec(['systemctl', 'stop', 'speakerd'], { timeoutMs: 30000 });
    timings.push(`systemctl stop: ${stop.ms} ms`);
    expect(stop.code, stop.stderr).toBe(0);
    expect((await exits()).at(-1), await diagnostics()).toBe('success exited 0');
    expect(stop.ms).toBeLessThan(2000);
    expect((await box.show('speakerd', ['ActiveState'])).ActiveState).toBe('inactive');
    const journal = (await box.journal('speakerd')).slice(journalBefore.length);
    expect(journal).not.toMatch(/State 'stop-sigterm' timed out|Killing process/);
    expect((await box.exec(['test', '-e', '/run/speakerd'])).code).not.toBe(0); // RuntimeDirectory= removed
  }, 40000);

  it('exits 78 on an invalid configuration and is not restarted (RestartPreventExitStatus=78)', async () => {
    const journalBefore = await box.journal('speakerd');
    const scheduled = count(journalBefore, 'Scheduled restart job');
    await box.write('/etc/speakerd/speakerd.json', '{"audio":{"device":"no-such-device"}}\n');
    try {
      const start = await box.exec(['systemctl', 'start', 'speakerd'], { timeoutMs: 30000 });
      expect(start.code).not.toBe(0);
      expect((await exits()).at(-1), await diagnostics()).toBe('exit-code exited 78');
      // ... because of this configuration (every problem is reported with its key path).
      expect((await box.journal('speakerd')).slice(journalBefore.length)).toMatch(/audio\.device/);
      const first = await box.show('speakerd', ['NRestarts']);
      const runs = (await exits()).length;
      await new Promise((resolve) => setTimeout(resolve, 2 * 2000 + 500)); // twice RestartSec=2
      const later = await box.show('speakerd', ['ActiveState', 'Result', 'ExecMainStatus', 'NRestarts']);
      expect(later).toMatchObject({ ActiveState: 'failed', Result: 'exit-code', ExecMainStatus: '78', NRestarts: first.NRestarts });
      expect(await exits()).toHaveLength(runs); // no further run ended meanwhile
      expect(count(await box.journal('speakerd'), 'Scheduled restart job')).toBe(scheduled);
    } finally {
      await box.check(['rm', '-f', '/etc/speakerd/speakerd.json']);
      await box.exec(['systemctl', 'reset-failed', 'speakerd']);
    }
  }, 40000);

  it('socket activation: speakerd.socket starts the daemon on the first connection, and survives its stop', async () => {
    const dropIn = readFileSync(join(systemdDir, 'speakerd.service.d', 'socket-activation.conf'), 'utf8');
    await box.write('/etc/systemd/system/speakerd.service.d/socket-activation.conf', dropIn);
    await box.check(['systemctl', 'daemon-reload']);
    const client = [
      'node',
      '-e',
      `const c = require('net').connect('/run/speakerd/control.sock'); let buf = '';
       c.on('connect', () => c.write(JSON.stringify({ id: 1, cmd: 'status' }) + '\\n'));
       c.on('data', (d) => { buf += d; const i = buf.indexOf('\\n'); if (i >= 0) { console.log(buf.slice(0, i)); process.exit(0); } });
       c.on('error', (e) => { console.error(e.code); process.exit(2); });
       setTimeout(() => { console.error('no reply within 15 s'); process.exit(3); }, 15000);`,
    ];
    try {
      await box.check(['systemctl', 'start', 'speakerd.socket']);
      expect(await box.check(['stat', '-c', '%F %a %U %G', '/run/speakerd/control.sock'])).toBe('socket 660 root speakerd\n');
      expect((await box.show('speakerd', ['ActiveState'])).ActiveState).toBe('inactive');
      // The first client is not root but a member of the group speakerd (SocketGroup=, SocketMode=0660,
      // DirectoryMode=0755 let it in before the daemon ever ran); the second is root.
      const gid = (await box.check(['getent', 'group', 'speakerd'])).split(':')[2]!;
      const member = ['setpriv', '--reuid=65534', `--regid=${gid}`, '--clear-groups'];
      for (const round of ['first connection', 'after the service was stopped']) {
        const reply = await box.exec(round === 'first connection' ? [...member, ...client] : client, { timeoutMs: 20000 });
        expect(reply.code, `${round}: ${reply.stderr}\n${await diagnostics()}`).toBe(0);
        expect(JSON.parse(reply.stdout), round).toMatchObject({ id: 1, ok: true });
        expect((await box.show('speakerd', ['ActiveState'])).ActiveState).toBe('active');
        await box.check(['systemctl', 'stop', 'speakerd.service']);
        expect((await box.show('speakerd.socket', ['ActiveState'])).ActiveState).toBe('active');
        expect((await box.exec(['test', '-S', '/run/speakerd/control.sock'])).code, `${round}: socket file gone`).toBe(0);
      }
    } finally {
      await box.exec(['systemctl', 'stop', 'speakerd.socket', 'speakerd.service']);
      await box.exec(['rm', '-f', '/etc/systemd/system/speakerd.service.d/socket-activation.conf']);
      await box.exec(['systemctl', 'daemon-reload']);
    }
  }, 60000);
});
