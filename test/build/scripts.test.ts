/**
 * The build, ARM and packaging scripts pass shellcheck (bash scripts as bash, maintainer scripts and
 * what runs inside a Debian root as POSIX sh), the entry points package.json names exist, and the
 * cross builds get every library binding.gyp builds against on Debian 12.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = process.cwd();

describe('firmware build scripts', () => {
  it('pass shellcheck', () => {
    const bash = ['scripts/build-cross.sh', 'scripts/arm/node.sh', 'scripts/arm/qemu.sh', 'scripts/arm/test.sh', 'scripts/arm/bench.sh',
      'scripts/deb/build.sh', 'scripts/deb/deps.sh', 'scripts/deb/node-deb.sh', 'scripts/deb/install-test.sh', 'scripts/package/ci.sh', 'scripts/lint.sh', 'scripts/test-webrtc1.sh'];
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

  it('install for the ARM cross builds the -dev package of every pkg-config module binding.gyp uses on Debian 12 (webrtc too)', () => {
    type Condition = [string, { libraries?: string[] }];
    const gyp = JSON.parse(readFileSync(join(ROOT, 'binding.gyp'), 'utf8')) as { targets: { libraries?: string[]; conditions?: Condition[] }[] };
    // Debian 12 ships webrtc-audio-processing 0.3: binding.gyp's speakerd_webrtc=='0.3' branch; the 1.x
    // branch is Yocto's (meta-multimedia), not built here.
    const libraries = gyp.targets.flatMap((t) => [
      ...(t.libraries ?? []),
      ...(t.conditions ?? []).filter(([test]) => test === "speakerd_webrtc=='0.3'").flatMap(([, body]) => body.libraries ?? []),
    ]);
    const modules = libraries.flatMap((entry) => (/pkg-config --libs ([^)]+)\)/.exec(entry)?.[1] ?? '').trim().split(/\s+/).filter(Boolean));
    // The Debian package shipping each module's .pc file. A module added to binding.gyp fails here
    // until it is added to this table and to the scripts below.
    const devPackages: Record<string, string> = { alsa: 'libasound2-dev', speexdsp: 'libspeexdsp-dev', 'webrtc-audio-processing': 'libwebrtc-audio-processing-dev' };
    expect(modules).toEqual(['alsa', 'speexdsp', 'webrtc-audio-processing']);
    const cross = readFileSync(join(ROOT, 'scripts/build-cross.sh'), 'utf8');
    const arm64Install = /apt_install (g\+\+-aarch64-linux-gnu .*)$/m.exec(cross)?.[1]?.split(/\s+/) ?? [];
    const armhfInclude = /^\s*include=(\S+)$/m.exec(cross)?.[1]?.split(',') ?? [];
    const armTest = /local libraries=\(([^)]*)\)/.exec(readFileSync(join(ROOT, 'scripts/arm/test.sh'), 'utf8'))?.[1]?.split(/\s+/) ?? [];
    const setup = /^packages=\(([^)]*)\)/m.exec(readFileSync(join(ROOT, 'scripts/setup.sh'), 'utf8'))?.[1]?.split(/\s+/) ?? [];
    for (const module of modules) {
      const dev = devPackages[module] ?? '';
      expect(dev, `binding.gyp uses ${module}: which Debian package ships ${module}.pc?`).not.toBe('');
      expect(arm64Install, `build-cross.sh, arm64 (multiarch): ${dev}:arm64`).toContain(`${dev}:arm64`);
      expect(cross, `build-cross.sh installs when ${module}.pc for arm64 is missing`).toContain(`/usr/lib/aarch64-linux-gnu/pkgconfig/${module}.pc`);
      expect(armhfInclude, `build-cross.sh, armhf sysroot: ${dev}`).toContain(dev);
      expect(armTest, `scripts/arm/test.sh, arm64 libraries: ${dev}:arm64`).toContain(`${dev}:arm64`);
      expect(setup, `scripts/setup.sh (the host build): ${dev}`).toContain(dev);
    }
  });
});
