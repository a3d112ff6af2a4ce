/**
 * The build, ARM and packaging scripts pass shellcheck (bash scripts as bash, maintainer scripts and
 * what runs inside a Debian root as POSIX sh), and the entry points package.json names exist.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = process.cwd();

describe('firmware build scripts', () => {
  it('pass shellcheck', () => {
    const bash = ['scripts/build-cross.sh', 'scripts/arm/node.sh', 'scripts/arm/qemu.sh', 'scripts/arm/test.sh', 'scripts/arm/bench.sh',
      'scripts/deb/build.sh', 'scripts/deb/deps.sh', 'scripts/deb/node-deb.sh', 'scripts/deb/install-test.sh', 'scripts/package/ci.sh', 'scripts/lint.sh'];
    const sh = ['scripts/deb/postinst', 'scripts/deb/prerm', 'scripts/deb/postrm', 'scripts/deb/install-test-inside.sh'];
    for (const f of [...bash, ...sh]) expect(existsSync(join(ROOT, f)), f).toBe(true);
    const r1 = spawnSync('shellcheck', bash, { encoding: 'utf8' });
    expect(r1.error, 'shellcheck is missing: apt-get install shellcheck (scripts/setup.sh does)').toBeUndefined();
    expect(r1.stdout).toBe('');
    const r2 = spawnSync('shellcheck', ['-s', 'sh', ...sh], { encoding: 'utf8' });
    expect(r2.stdout).toBe('');
  });

  it('are what package.json runs: build:cross and package:deb', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; files: string[] };
    expect(pkg.scripts['build:cross']).toBe('bash scripts/build-cross.sh');
    expect(pkg.scripts['package:deb']).toBe('bash scripts/deb/build.sh');
    expect(pkg.files).toEqual(expect.arrayContaining(['LICENSE', 'yocto', 'scripts/package']));
  });
});
