import { accessSync, constants, cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseUdevRules, udevValue } from './udev-rules.js';
import { parseUnit, run, systemdDir, value, values } from './unit-file.js';

// Static checks of the files in systemd/, with the host's systemd tools (systemd 252 on Debian 12).
// `systemd-analyze verify` exits 0 on unknown keys and bad values (it only warns), so any output at all
// is a failure here. The container test (container.test.ts) runs the same files under a real systemd.

const serviceText = readFileSync(join(systemdDir, 'speakerd.service'), 'utf8');
const socketText = readFileSync(join(systemdDir, 'speakerd.socket'), 'utf8');
const dropInName = 'speakerd.service.d/socket-activation.conf';
const sysusersPath = join(systemdDir, 'speakerd.sysusers');
const tmpfilesPath = join(systemdDir, 'speakerd.tmpfiles');
const udevRulesPath = join(systemdDir, '60-speakerd.rules');
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
  it('passes --threshold=20 (0-100 scale) and reports an exposure of at most 1.7', async () => {
    const dir = unitDir('security');
    const args = ['security', '--offline=yes', '--no-pager', '--threshold=20', join(dir, 'speakerd.service')];
    const result = await run('systemd-analyze', args);
    const exposure = /Overall exposure level for speakerd\.service: (\d+(?:\.\d+)?)/.exec(result.stdout + result.stderr);
    expect(exposure, result.stdout + result.stderr).not.toBeNull();
    const level = Number(exposure![1]);
    console.log(`systemd-analyze security --offline=yes: exposure ${level}`);
    expect(level).toBeLessThanOrEqual(1.7); // what it was before NoExecPaths=, MemoryMax= & co: never worse
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
    expect(group).toMatch(/^gpio:x:990:speakerd$/m); // kept its gid, gained the member
    expect(group).toMatch(/^spi:x:\d+:speakerd$/m);
    expect(group).toMatch(/^input:x:\d+:speakerd$/m);
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
    ['TimeoutStartSec', '30'],
    ['LimitCORE', '0'],
    ['MemoryHigh', '160M'],
    ['MemoryMax', '200M'],
    ['ExecStart', '/usr/bin/node --max-semi-space-size=1 --max-old-space-size=64 --no-opt --optimize-for-size /usr/lib/speakerd/dist/src/cli/speakerd.js'],
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

  it('reloads with SIGHUP to the main process, outside the sandbox (no shell in ExecPaths=)', () => {
    expect(value(service, 'Service', 'ExecReload')).toMatch(/^\+\/bin\/sh -c 'kill -HUP "?\$MAINPID"?'$/);
  });

  it('never restarts on the exit statuses a restart cannot fix, and counts none of them as success', () => {
    const prevent = values(service, 'Service', 'RestartPreventExitStatus').flatMap((v) => v.split(/\s+/));
    // 78 EX_CONFIG (invalid configuration, unusable setup), 2 speakerd's usage error, 9 node's bad option.
    expect(prevent.sort()).toEqual(['2', '78', '9']);
    const success = values(service, 'Service', 'SuccessExitStatus').flatMap((v) => v.split(/\s+/));
    for (const status of prevent) expect(success).not.toContain(status);
    // Restart=on-failure restarts everything else (crash, watchdog, start timeout, OOM kill), boundedly.
    expect(value(service, 'Service', 'Restart')).toBe('on-failure');
    expect(Number(value(service, 'Unit', 'StartLimitBurst'))).toBeGreaterThan(0);
  });

  it("bounds the start: TimeoutStartSec= is well above a slow board's start and below the 90 s default", () => {
    const seconds = Number(value(service, 'Service', 'TimeoutStartSec'));
    expect(seconds).toBeGreaterThanOrEqual(15);
    expect(seconds).toBeLessThan(90);
  });

  it('sizes memory for a 512 MB board: steady RSS (~65 MB) < MemoryHigh= < MemoryMax= <= 40 % of the board', () => {
    const mib = (text: string | undefined): number => {
      const m = /^(\d+)([KMG])$/.exec(text ?? '');
      expect(m, `a size like 160M, not ${text}`).not.toBeNull();
      return Number(m![1]) * { K: 1 / 1024, M: 1, G: 1024 }[m![2] as 'K' | 'M' | 'G'];
    };
    const high = mib(value(service, 'Service', 'MemoryHigh'));
    const max = mib(value(service, 'Service', 'MemoryMax'));
    expect(high).toBeGreaterThanOrEqual(2 * 65); // room for start-up, reconnect and GC peaks
    expect(high).toBeLessThan(max); // throttled and reclaimed before the OOM killer
    expect(max - high).toBeGreaterThanOrEqual(32);
    expect(max).toBeLessThanOrEqual(0.4 * 512);
  });

  it('keeps /sys read-only: LED-class LEDs are granted one by one in a drop-in, never as a whole', () => {
    expect(values(service, 'Service', 'ProtectKernelTunables')).toEqual(['yes']);
    const writable = values(service, 'Service', 'ReadWritePaths').flatMap((v) => v.split(/\s+/));
    expect(writable.filter((p) => p.replace(/^-/, '').startsWith('/sys'))).toEqual([]);
  });

  it('turns core dumps off (LimitCORE=0: a core holds the API key)', () => {
    expect(values(service, 'Service', 'LimitCORE')).toEqual(['0']);
  });

  describe('NoExecPaths=/ with ExecPaths= for exactly what Node needs', () => {
    const noExec = values(service, 'Service', 'NoExecPaths').flatMap((v) => v.split(/\s+/));
    const exec = values(service, 'Service', 'ExecPaths').flatMap((v) => v.split(/\s+/));
    const bare = (p: string): string => p.replace(/^-/, '');
    const under = (path: string, dir: string): boolean => path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
    const execStart = value(service, 'Service', 'ExecStart')!.split(/\s+/);

    it('denies execution everywhere, naming the separately mounted writable trees too', () => {
      // systemd 252 does not carry NoExecPaths=/ over to /tmp (PrivateTmp=), /var/tmp, /dev/shm, /run
      // and the service's own directories: the container test saw them executable otherwise.
      expect(noExec).toEqual(
        expect.arrayContaining(['/', '/dev', '/dev/shm', '/run', '/run/speakerd', '/tmp', '/var/tmp', '/var/lib/speakerd', '/etc/speakerd']),
      );
    });

    it('allows the node binary of ExecStart=, its libraries and the addon, and nothing writable', () => {
      expect(exec).toContain(execStart[0]);
      const addon = `${dirname(dirname(dirname(dirname(execStart.at(-1)!))))}/build/Release/speakerd.node`;
      expect(addon).toBe('/usr/lib/speakerd/build/Release/speakerd.node');
      expect(
        exec.some((p) => under(addon, bare(p))),
        `${addon} under ExecPaths=`,
      ).toBe(true);
      for (const lib of ['/usr/lib', '/lib']) expect(exec).toContain(lib); // ld.so, libc, libstdc++, libasound
      const gpiod = ['/usr/bin/gpioset', '/usr/bin/gpioget', '/usr/bin/gpiomon']; // libgpiod's tools: GPIO LEDs and buttons
      for (const p of exec.filter((e) => e.startsWith('-'))) expect(['/lib64', '/usr/lib64', ...gpiod]).toContain(bare(p)); // optional only there
      expect(
        exec
          .filter((p) => p.startsWith('/usr/bin/') || p.startsWith('-/usr/bin/'))
          .map(bare)
          .sort(),
      ).toEqual(['/usr/bin/node', ...gpiod].sort());
      for (const p of exec.map(bare)) {
        for (const writable of ['/tmp', '/var', '/run', '/dev', '/etc', '/home', '/root', '/srv', '/opt']) {
          expect(under(p, writable) || under(writable, p), `${p} vs ${writable}`).toBe(false);
        }
        expect(['/', '/usr', '/bin', '/usr/bin', '/sbin', '/usr/sbin']).not.toContain(p); // no shell, no tools
      }
    });
  });

  it('keeps the start working without a key file (SetCredential= fallback for the same credential)', () => {
    expect(value(service, 'Service', 'SetCredential')).toMatch(/^ai-api-key:/);
  });

  it('grants a real-time priority limit and keeps the capability bounding set empty', () => {
    expect(Number(value(service, 'Service', 'LimitRTPRIO'))).toBeGreaterThanOrEqual(1);
    expect(values(service, 'Service', 'CapabilityBoundingSet')).toEqual([]);
    expect(service.get('Service')?.has('CapabilityBoundingSet')).toBe(true);
  });

  describe('device access that survives a driver loaded after the start', () => {
    const allowed = values(service, 'Service', 'DeviceAllow');
    // Character device classes as the kernel registers them in /proc/devices, with their fixed majors
    // (Documentation/admin-guide/devices.txt; gpiochip's is dynamic but gpiolib is always built in).
    const classes: Array<[name: string, major: number | null, access: string]> = [
      ['alsa', 116, 'rw'], // sound/core/sound.c: register_chrdev(major, "alsa", ...), CONFIG_SND_MAJOR
      ['gpiochip', null, 'rw'], // drivers/gpio/gpiolib-cdev: alloc_chrdev_region(..., "gpiochip")
      ['spi', 153, 'rw'], // drivers/spi/spidev.c: register_chrdev(SPIDEV_MAJOR, "spi", ...), not "spidev"
      ['input', 13, 'r'], // drivers/input/input.c: INPUT_MAJOR, "input"; buttons are only read
    ];

    it('uses DevicePolicy=closed and no PrivateDevices= (a private /dev is made once, at the start)', () => {
      expect(value(service, 'Service', 'DevicePolicy')).toBe('closed');
      expect(['no', undefined]).toContain(value(service, 'Service', 'PrivateDevices'));
    });

    it('allows exactly the sound, GPIO, spidev and input classes, by name and by fixed major', () => {
      const expected = classes.flatMap(([name, major, access]) => [`char-${name} ${access}`, ...(major === null ? [] : [`char-${major} ${access}`])]);
      expect([...allowed].sort()).toEqual(expected.sort());
    });

    it('names classes the way /proc/devices does, with the majors this kernel registered them at', () => {
      const proc = readFileSync('/proc/devices', 'utf8');
      const chars = proc.slice(proc.indexOf('Character devices:'), proc.indexOf('Block devices:'));
      const registered = new Map([...chars.matchAll(/^\s*(\d+) (\S+)$/gm)].map((m) => [m[2]!, Number(m[1])]));
      expect(registered.get('mem')).toBe(1); // the parse works
      for (const [name, major] of classes) {
        if (registered.has(name) && major !== null) expect(registered.get(name), name).toBe(major);
      }
      expect(allowed).not.toContain('char-spidev rw'); // never registered under that name
    });
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

describe('60-speakerd.rules (udev)', () => {
  const text = readFileSync(udevRulesPath, 'utf8');

  it('parses: every rule is comma-separated KEY==/KEY= pairs that udev knows, with quoted values', () => {
    const rules = parseUdevRules(text);
    expect(rules.length).toBe(4);
    for (const rule of rules.slice(0, 3)) {
      expect(rule.pairs.map((p) => p.key)).toEqual(['SUBSYSTEM', 'KERNEL', 'GROUP', 'MODE']);
    }
    expect(rules[3]!.pairs.map((p) => p.key)).toEqual(['SUBSYSTEM', 'ACTION', 'RUN', 'RUN']);
  });

  it('lets the gpio group write the brightness and trigger of LED class devices, and nothing else of them', () => {
    const led = parseUdevRules(text).find((r) => udevValue(r, 'SUBSYSTEM', ['==']) === 'leds')!;
    const runs = led.pairs.filter((p) => p.key === 'RUN').map((p) => p.value);
    expect(runs).toEqual(['/bin/chgrp gpio /sys%p/brightness /sys%p/trigger', '/bin/chmod g+w /sys%p/brightness /sys%p/trigger']);
  });

  it('gives gpiochip, spidev and evdev nodes to gpio, spi and input, mode 0660', () => {
    const rules = parseUdevRules(text);
    const bySubsystem = new Map(rules.map((r) => [udevValue(r, 'SUBSYSTEM', ['=='])!, r]));
    const expected: Array<[subsystem: string, kernel: string, group: string]> = [
      ['gpio', 'gpiochip[0-9]*', 'gpio'],
      ['spidev', 'spidev[0-9]*', 'spi'],
      ['input', 'event[0-9]*', 'input'],
    ];
    for (const [subsystem, kernel, group] of expected) {
      const rule = bySubsystem.get(subsystem);
      expect(rule, subsystem).toBeDefined();
      expect(udevValue(rule!, 'KERNEL', ['=='])).toBe(kernel);
      expect(udevValue(rule!, 'GROUP', ['='])).toBe(group);
      expect(udevValue(rule!, 'MODE', ['='])).toBe('0660');
    }
  });

  it('uses only groups that speakerd.sysusers creates, makes the user a member, and the unit joins them', () => {
    const sysusers = readFileSync(sysusersPath, 'utf8')
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[0] !== '' && !f[0]!.startsWith('#'));
    const created = new Set(sysusers.filter((f) => f[0] === 'g' || f[0] === 'm').map((f) => (f[0] === 'g' ? f[1] : f[2])));
    const member = new Set(sysusers.filter((f) => f[0] === 'm' && f[1] === value(service, 'Service', 'User')).map((f) => f[2]));
    const supplementary = values(service, 'Service', 'SupplementaryGroups').flatMap((v) => v.split(/\s+/));
    const groups = parseUdevRules(text).map(
      (rule) => udevValue(rule, 'GROUP', ['=']) ?? /chgrp (\S+)/.exec(rule.pairs.find((p) => p.key === 'RUN')?.value ?? '')?.[1],
    );
    for (const group of groups) {
      expect(group).toBeDefined();
      expect(created, group).toContain(group);
      expect(member, group).toContain(group);
      expect(supplementary, group).toContain(group);
    }
  });

  it('is installed where udev reads vendor rules, as the docs say', () => {
    expect(readFileSync(join(systemdDir, '..', 'docs', 'install.md'), 'utf8')).toContain('/usr/lib/udev/rules.d/60-speakerd.rules');
    expect(text).toContain('/usr/lib/udev/rules.d/60-speakerd.rules');
  });

  it.each([
    ['SUBSYSTEM="gpio", GROUP="gpio"', /SUBSYSTEM only matches/],
    ['SUBSYSTEM=="gpio", GROUP=="gpio"', /GROUP only assigns/],
    ['SUBSYSTEM=="gpio", GRUOP="gpio"', /unknown key GRUOP/],
    ['SUBSYSTEM=="gpio", GROUP=gpio', /expected KEY/],
    ['SUBSYSTEM=="gpio" GROUP="gpio"', /expected ', KEY/],
    ['SUBSYSTEM=="gpio", GROUP="gpio",', /expected ', KEY/],
    ['GROUP="gpio", MODE="0660"', /no match key/],
    ['ENV=="1", GROUP="gpio"', /ENV needs \{attribute\}/],
  ])('the parser rejects %s', (line, error) => {
    expect(() => parseUdevRules(`# comment\n\n${line}\n`)).toThrow(error);
  });
});
