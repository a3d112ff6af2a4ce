import { accessSync, constants, cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseUnit, run, systemdDir, value, values } from './unit-file.js';

// Static checks of the files in systemd/, with the host's systemd tools (systemd 252 on Debian 12).
// `systemd-analyze verify` exits 0 on unknown keys and bad values (it only warns), so any output at all
// is a failure here. The container test (container.test.ts) runs the same files under a real systemd.

const serviceText = readFileSync(join(systemdDir, 'speakerd.service'), 'utf8');
const socketText = readFileSync(join(systemdDir, 'speakerd.socket'), 'utf8');
const dropInName = 'speakerd.service.d/socket-activation.conf';
const sysusersPath = join(systemdDir, 'speakerd.sysusers');
const tmpfilesPath = join(systemdDir, 'speakerd.tmpfiles');
const service = parseUnit(serviceText);
const socket = parseUnit(socketText);

const scratch = mkdtempSync(join(tmpdir(), 'speakerd-units-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Copies the unit files into a fresh directory for systemd-analyze. `verify` checks that ExecStart's
 * binary exists: the unit names /usr/bin/node (the install layout). When that is missing here, the
 * copy names the node running these tests instead; nothing else changes. The socket and the drop-in
 * are copied when asked for.
 */
function unitDir(name: string, options: { socket?: boolean; dropIn?: boolean; extra?: string } = {}): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  let text = serviceText;
  if (!executable('/usr/bin/node')) {
    text = text.replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${realpathSync(process.execPath)} `);
  }
  writeFileSync(join(dir, 'speakerd.service'), text + (options.extra ?? ''));
  if (options.socket) writeFileSync(join(dir, 'speakerd.socket'), socketText);
  if (options.dropIn) cpSync(join(systemdDir, dropInName), join(dir, dropInName));
  return dir;
}

describe('systemd-analyze verify', () => {
  it('prints nothing at all for the service alone', async () => {
    const dir = unitDir('verify-service');
    const result = await run('systemd-analyze', ['verify', join(dir, 'speakerd.service')]);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('prints nothing at all for the socket, the service and the socket-activation drop-in', async () => {
    const dir = unitDir('verify-socket', { socket: true, dropIn: true });
    const result = await run('systemd-analyze', ['verify', join(dir, 'speakerd.socket'), join(dir, 'speakerd.service')]);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('does report a bad key (so that silence above means something)', async () => {
    const dir = unitDir('verify-negative', { extra: '[Service]\nNoSuchKey=1\nRestart=sometimes\n' });
    const result = await run('systemd-analyze', ['verify', join(dir, 'speakerd.service')]);
    expect(result.stderr).toMatch(/Unknown key 'NoSuchKey'/);
    expect(result.stderr).toMatch(/restart specifier.*sometimes/);
  });
});

describe('systemd-analyze security --offline', () => {
  it('passes --threshold=20 (0-100 scale) and reports an exposure of at most 2.0', async () => {
    const dir = unitDir('security');
    const args = ['security', '--offline=yes', '--no-pager', '--threshold=20', join(dir, 'speakerd.service')];
    const result = await run('systemd-analyze', args);
    const exposure = /Overall exposure level for speakerd\.service: (\d+(?:\.\d+)?)/.exec(result.stdout + result.stderr);
    expect(exposure, result.stdout + result.stderr).not.toBeNull();
    const level = Number(exposure![1]);
    console.log(`systemd-analyze security --offline=yes: exposure ${level}`);
    expect(level).toBeLessThanOrEqual(2.0);
    expect(result.code, result.stderr).toBe(0);
  });

  it('fails a threshold below the exposure (the threshold is on the 0-100 scale)', async () => {
    const dir = unitDir('security-negative');
    const result = await run('systemd-analyze', ['security', '--offline=yes', '--no-pager', '--threshold=5', join(dir, 'speakerd.service')]);
    expect(result.code).not.toBe(0);
  });
});

describe('speakerd.sysusers', () => {
  it('parses cleanly (systemd-sysusers --dry-run on an empty root)', async () => {
    const root = join(scratch, 'sysusers-dry');
    mkdirSync(join(root, 'etc'), { recursive: true });
    const result = await run('systemd-sysusers', ['--dry-run', `--root=${root}`, sysusersPath]);
    expect(result.code, result.stderr).toBe(0);
    const lines = (result.stdout + result.stderr).split('\n').filter((line) => line !== '');
    for (const line of lines) expect(line).toMatch(/^(Creating (user|group) '|Would write )/);
  });

  it('creates the user, its group, audio membership, and the optional groups only when missing', async () => {
    const root = join(scratch, 'sysusers-real');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    // A board image that already has audio and gpio (with its own gid): both must be kept as they are.
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\naudio:x:29:\ngpio:x:990:\n');
    const result = await run('systemd-sysusers', [`--root=${root}`, sysusersPath]);
    expect(result.code, result.stderr).toBe(0);
    const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
    const group = readFileSync(join(root, 'etc/group'), 'utf8');
    const user = /^speakerd:x:(\d+):(\d+):[^:]*:[^:]*:(.*)$/m.exec(passwd);
    expect(user, passwd).not.toBeNull();
    expect(Number(user![1])).toBeLessThan(1000); // a system user
    expect(user![3]).toMatch(/nologin$/);
    expect(group).toMatch(new RegExp(`^speakerd:x:${user![2]}:$`, 'm'));
    expect(group).toMatch(/^audio:x:29:speakerd$/m);
    expect(group).toMatch(/^gpio:x:990:$/m);
    expect(group).toMatch(/^spi:x:\d+:$/m);
    expect(group).toMatch(/^input:x:\d+:$/m);
  });

  it('creates every group the service names (a missing SupplementaryGroups= group fails with 216/GROUP)', () => {
    const lines = readFileSync(sysusersPath, 'utf8')
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[0] !== undefined && !fields[0].startsWith('#') && fields[0] !== '');
    const groups = new Set(lines.flatMap((f) => (f[0] === 'g' || f[0] === 'u' ? [f[1]] : f[0] === 'm' ? [f[2]] : [])));
    const users = new Set(lines.filter((f) => f[0] === 'u').map((f) => f[1]));
    expect(users).toContain(value(service, 'Service', 'User'));
    expect(groups).toContain(value(service, 'Service', 'Group'));
    const supplementary = values(service, 'Service', 'SupplementaryGroups').flatMap((v) => v.split(/\s+/));
    expect(supplementary).toEqual(expect.arrayContaining(['audio', 'gpio', 'spi', 'input']));
    for (const name of supplementary) expect(groups, `group ${name}`).toContain(name);
    expect(groups).toContain(value(socket, 'Socket', 'SocketGroup'));
  });
});

describe('speakerd.tmpfiles', () => {
  it('applies cleanly to an empty root', async () => {
    const root = join(scratch, 'tmpfiles');
    mkdirSync(root);
    const result = await run('systemd-tmpfiles', [`--root=${root}`, '--create', tmpfilesPath]);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(statSync(join(root, 'etc/speakerd/conf.d')).mode & 0o7777).toBe(0o755);
  });
});

describe('speakerd.service names what the issue requires', () => {
  const table: Array<[string, string]> = [
    ['Type', 'notify'],
    ['NotifyAccess', 'main'],
    ['WatchdogSec', '10'],
    ['Restart', 'on-failure'],
    ['RestartSec', '2'],
    ['RestartPreventExitStatus', '78'],
    ['ExecStart', '/usr/bin/node /usr/lib/speakerd/dist/src/cli/speakerd.js'],
    ['User', 'speakerd'],
    ['Group', 'speakerd'],
    ['RuntimeDirectory', 'speakerd'],
    ['RuntimeDirectoryMode', '0750'],
    ['StateDirectory', 'speakerd'],
    ['ConfigurationDirectory', 'speakerd'],
    ['LoadCredential', 'ai-api-key:/etc/speakerd/ai-api-key'],
    ['RestrictRealtime', 'no'],
    ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'],
    ['PrivateTmp', 'yes'],
    ['NoNewPrivileges', 'yes'],
    ['DevicePolicy', 'closed'],
    ['RestrictAddressFamilies', 'AF_UNIX AF_INET AF_INET6'],
    ['SystemCallArchitectures', 'native'],
    ['ProtectKernelTunables', 'yes'],
    ['ProtectKernelModules', 'yes'],
    ['ProtectKernelLogs', 'yes'],
    ['ProtectControlGroups', 'yes'],
    ['ProtectClock', 'yes'],
    ['ProtectHostname', 'yes'],
    ['RestrictNamespaces', 'yes'],
    ['LockPersonality', 'yes'],
    ['UMask', '0027'],
  ];
  it.each(table)('%s=%s', (key, expected) => {
    expect(value(service, 'Service', key)).toBe(expected);
  });

  it('reloads with SIGHUP to the main process', () => {
    expect(value(service, 'Service', 'ExecReload')).toMatch(/kill -HUP "?\$MAINPID"?/);
  });

  it('keeps the start working without a key file (SetCredential= fallback for the same credential)', () => {
    expect(value(service, 'Service', 'SetCredential')).toMatch(/^ai-api-key:/);
  });

  it('grants a real-time priority limit and keeps the capability bounding set empty', () => {
    expect(Number(value(service, 'Service', 'LimitRTPRIO'))).toBeGreaterThanOrEqual(1);
    expect(values(service, 'Service', 'CapabilityBoundingSet')).toEqual([]);
    expect(service.get('Service')?.has('CapabilityBoundingSet')).toBe(true);
  });

  it('allows sound, GPIO, spidev and input devices and nothing else', () => {
    expect(values(service, 'Service', 'DeviceAllow').sort()).toEqual(
      ['char-alsa rw', 'char-gpiochip rw', 'char-input r', 'char-spi rw'].sort(),
    );
  });

  it('filters system calls to @system-service plus the pkey calls V8 needs', () => {
    const allowed = values(service, 'Service', 'SystemCallFilter')
      .filter((v) => !v.startsWith('~'))
      .flatMap((v) => v.split(/\s+/));
    expect(allowed).toEqual(expect.arrayContaining(['@system-service', 'pkey_alloc', 'pkey_free', 'pkey_mprotect']));
  });

  it('never denies writable executable memory (the V8 JIT needs it)', () => {
    expect(['no', undefined]).toContain(value(service, 'Service', 'MemoryDenyWriteExecute'));
  });

  it('the socket listens where the daemon expects it, for the group speakerd', () => {
    expect(value(socket, 'Socket', 'ListenStream')).toBe('/run/speakerd/control.sock');
    expect(value(socket, 'Socket', 'SocketMode')).toBe('0660');
    expect(value(socket, 'Socket', 'SocketGroup')).toBe('speakerd');
    expect(value(socket, 'Socket', 'Service')).toBe('speakerd.service');
    const dropIn = parseUnit(readFileSync(join(systemdDir, dropInName), 'utf8'));
    expect(value(dropIn, 'Service', 'RuntimeDirectoryPreserve')).toBe('yes');
  });
});
