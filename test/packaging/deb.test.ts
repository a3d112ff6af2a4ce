/**
 * `npm run package:deb -- amd64`: the package's contents, control fields and maintainer scripts
 * (installing it into a fresh Debian root is scripts/deb/install-test.sh, run by .ci/run as root).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = process.cwd();
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
let out = '';
let deb = '';
let files: { mode: string; owner: string; path: string; link?: string }[] = [];
let control = '';

function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'speakerd-deb-'));
  const built = run('bash', ['scripts/deb/build.sh', 'amd64', out]);
  expect(built.stderr).toBe('');
  expect(built.status).toBe(0);
  deb = built.stdout.trim();
  files = run('dpkg-deb', ['-c', deb])
    .stdout.trim()
    .split('\n')
    .map((line) => {
      const [mode = '', owner = '', , , , path = '', , link] = line.split(/\s+/);
      return { mode, owner, path: path.replace(/^\./, ''), ...(link ? { link } : {}) };
    });
  control = run('dpkg-deb', ['-f', deb]).stdout;
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

const field = (name: string): string => new RegExp(`^${name}: (.*)$`, 'm').exec(control)?.[1] ?? '';
const has = (path: string): boolean => files.some((f) => f.path === path);

describe('speakerd .deb', () => {
  it('is named speakerd_<version>_<arch>.deb and says so in its control file', () => {
    expect(deb).toBe(join(out, `speakerd_${version}_amd64.deb`));
    expect(field('Package')).toBe('speakerd');
    expect(field('Version')).toBe(version);
    expect(field('Architecture')).toBe('amd64');
  });

  it('holds the daemon under /usr/lib/speakerd with production npm packages only, and both commands', () => {
    for (const path of [
      '/usr/lib/speakerd/package.json',
      '/usr/lib/speakerd/dist/src/cli/speakerd.js',
      '/usr/lib/speakerd/dist/src/cli/speakerctl.js',
      '/usr/lib/speakerd/build/Release/speakerd.node',
      '/usr/lib/speakerd/node_modules/convict/package.json',
      '/usr/lib/speakerd/node_modules/ws/package.json',
      '/usr/bin/speakerd',
      '/usr/bin/speakerctl',
    ]) {
      expect(has(path), path).toBe(true);
    }
    const modules = new Set(files.map((f) => /^\/usr\/lib\/speakerd\/node_modules\/((@[^/]+\/)?[^/]+)\//.exec(f.path)?.[1]).filter(Boolean));
    const production = run('npm', ['ls', '--omit=dev', '--all', '--parseable'])
      .stdout.trim()
      .split('\n')
      .slice(1)
      .map((dir) => dir.slice(dir.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect([...modules].sort()).toEqual(production.filter((m) => m !== 'node-addon-api').sort());
    for (const dev of ['vitest', 'typescript', 'node-gyp', '@types/node']) expect(modules.has(dev), dev).toBe(false);
    expect(files.some((f) => f.path.endsWith('.map') || f.path.endsWith('.ts'))).toBe(false);
    expect(
      files.every((f) => f.owner === 'root/root'),
      'every file belongs to root',
    ).toBe(true);
    const wrapper = run('sh', ['-c', `dpkg-deb --fsys-tarfile "${deb}" | tar -xO ./usr/bin/speakerd`]).stdout;
    expect(wrapper).toBe('#!/bin/sh\nexec /usr/bin/node /usr/lib/speakerd/dist/src/cli/speakerd.js "$@"\n');
    expect(files.find((f) => f.path === '/usr/bin/speakerctl')?.mode).toBe('-rwxr-xr-x');
  });

  it('installs the unit, sysusers, tmpfiles and udev files from systemd/ and the default config as a conffile', () => {
    const pairs: [string, string][] = [
      ['systemd/speakerd.service', '/usr/lib/systemd/system/speakerd.service'],
      ['systemd/speakerd.sysusers', '/usr/lib/sysusers.d/speakerd.conf'],
      ['systemd/speakerd.tmpfiles', '/usr/lib/tmpfiles.d/speakerd.conf'],
      ['systemd/60-speakerd.rules', '/usr/lib/udev/rules.d/60-speakerd.rules'],
      ['scripts/package/speakerd.json', '/etc/speakerd/speakerd.json'],
    ];
    for (const [source, path] of pairs) {
      const content = run('sh', ['-c', `dpkg-deb --fsys-tarfile "${deb}" | tar -xO ".${path}"`]).stdout;
      expect(content, path).toBe(readFileSync(join(ROOT, source), 'utf8'));
    }
    expect(run('sh', ['-c', `dpkg-deb --ctrl-tarfile "${deb}" | tar -xO ./conffiles`]).stdout).toBe('/etc/speakerd/speakerd.json\n');
    const check = run(process.execPath, ['dist/src/cli/speakerd.js', '--config', join(ROOT, 'scripts/package/speakerd.json'), '--check-config']);
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('depends on Node.js 20 and on the packages of exactly the shared libraries the addon links', () => {
    const depends = field('Depends').split(/,\s*/);
    expect(depends[0]).toBe('nodejs (>= 20)');
    const needed = run('objdump', ['-p', join(ROOT, 'build/Release/speakerd.node')])
      .stdout.split('\n')
      .filter((l) => /^\s+NEEDED/.test(l))
      .map((l) => l.trim().split(/\s+/)[1] ?? '');
    expect(needed).toEqual(expect.arrayContaining(['libasound.so.2', 'libspeexdsp.so.1']));
    const packages = depends.slice(1).map((d) => d.split(' ')[0]);
    const owners = new Set(
      needed
        .filter((so) => !so.startsWith('ld-linux'))
        .map((so) => {
          const path = run('sh', ['-c', `ldconfig -p | awk -v so="${so}" '$1 == so && /x86-64/ { print $NF; exit }'`]).stdout.trim();
          const owner = run('sh', ['-c', `dpkg -S "${path}" 2>/dev/null || dpkg -S "$(readlink -f "${path}")" 2>/dev/null || dpkg -S "/usr${path}"`]).stdout;
          return owner.split(':')[0] ?? '';
        }),
    );
    expect(new Set(packages)).toEqual(owners);
    for (const d of depends.slice(1)) expect(d).toMatch(/^[a-z0-9+.-]+( \(>= [0-9][^)]*\))?$/);
  });

  it("links no OpenSSL of its own: the AI socket's TLS takes the symbols Node exports, so Depends names no libssl", () => {
    const addon = join(ROOT, 'build/Release/speakerd.node');
    const needed = run('objdump', ['-p', addon]).stdout;
    expect(needed).not.toMatch(/NEEDED\s+lib(ssl|crypto)\./);
    expect(field('Depends')).not.toMatch(/libssl/);
    // Every OpenSSL function the addon calls is exported by this Node, or by the libssl/libcrypto it links
    // (a distribution's nodejs built with shared OpenSSL): lazy binding would only fail on the first call.
    const symbols = (file: string, flag: string): string[] =>
      run('nm', ['-D', flag, file])
        .stdout.split('\n')
        .map((l) => l.trim().split(/\s+/).pop() ?? '');
    const openssl = symbols(addon, '--undefined-only').filter((n) => /^(SSL|X509|PEM|BIO|ERR|EVP)_/.test(n));
    expect(openssl).toEqual(expect.arrayContaining(['SSL_connect', 'SSL_set1_host', 'X509_STORE_add_cert']));
    const sharedOpenssl = run('ldd', [process.execPath])
      .stdout.split('\n')
      .map((l) => /^\s*lib(?:ssl|crypto)\.so\S* => (\S+)/.exec(l)?.[1])
      .filter((path): path is string => path !== undefined);
    const exported = new Set([process.execPath, ...sharedOpenssl].flatMap((file) => symbols(file, '--defined-only')));
    expect(openssl.filter((n) => !exported.has(n))).toEqual([]);
  });

  it('has maintainer scripts that create the user, enable the service, purge cleanly, and pass shellcheck -s sh', () => {
    const scripts = run('sh', ['-c', `dpkg-deb --ctrl-tarfile "${deb}" | tar -t`]).stdout;
    for (const name of ['postinst', 'prerm', 'postrm']) expect(scripts).toContain(`./${name}`);
    const postinst = readFileSync(join(ROOT, 'scripts/deb/postinst'), 'utf8');
    expect(postinst).toContain('systemd-sysusers speakerd.conf');
    expect(postinst).toMatch(/useradd --system/);
    expect(postinst).toContain("deb-systemd-helper enable 'speakerd.service'");
    const postrm = readFileSync(join(ROOT, 'scripts/deb/postrm'), 'utf8');
    expect(postrm).toContain("deb-systemd-helper purge 'speakerd.service'");
    expect(postrm).toMatch(/rm -rf \/etc\/speakerd \/var\/lib\/speakerd/);
    const sc = run('shellcheck', ['-s', 'sh', ...['postinst', 'prerm', 'postrm', 'install-test-inside.sh'].map((f) => join(ROOT, 'scripts/deb', f))]);
    expect(sc.stdout).toBe('');
    expect(sc.status).toBe(0);
  });

  const lintian = run('sh', ['-c', 'command -v lintian']).status === 0;
  it.skipIf(!lintian)('passes lintian without errors (lintian installed: .ci/run installs it)', () => {
    const r = run('lintian', ['--fail-on', 'error', deb]);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('E:'))).toEqual([]);
    expect(r.status).toBe(0);
  });
});
