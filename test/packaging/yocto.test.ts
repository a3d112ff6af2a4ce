/**
 * yocto/meta-speakerd checked without bitbake (not obtainable here): recipe syntax line by line,
 * new-style overrides only, LIC_FILES_CHKSUM recomputed from the files, DEPENDS against what
 * binding.gyp links, every file the recipe installs present in the repository, shell tasks clean
 * under `shellcheck -s sh`, the npm shrinkwrap in step with package-lock.json.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandShell, oldStyleOverrides, parseRecipe, valueOf } from './bitbake.js';

const ROOT = process.cwd();
const LAYER = join(ROOT, 'yocto/meta-speakerd');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string; dependencies: Record<string, string> };
const RECIPE_DIR = join(LAYER, 'recipes-multimedia/speakerd');
const RECIPE_FILE = join(RECIPE_DIR, `speakerd_${pkg.version}.bb`);
const SHRINKWRAP = join(RECIPE_DIR, 'speakerd/npm-shrinkwrap.json');
const text = existsSync(RECIPE_FILE) ? readFileSync(RECIPE_FILE, 'utf8') : '';
const recipe = parseRecipe(text);
const v = (name: string): string => valueOf(recipe, name) ?? '';
const words = (name: string): string[] => v(name).split(/\s+/).filter(Boolean);

interface ShrinkwrapEntry {
  version: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  license?: string;
}
const shrinkwrap = JSON.parse(readFileSync(SHRINKWRAP, 'utf8')) as { packages: Record<string, ShrinkwrapEntry> };
const modules = Object.entries(shrinkwrap.packages).filter(([location]) => location.startsWith('node_modules/'));
const moduleName = (location: string): string => location.slice('node_modules/'.length);

function layerFiles(dir = LAYER): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? layerFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

function md5(path: string): string {
  return createHash('md5').update(readFileSync(path)).digest('hex');
}

describe('meta-speakerd layer', () => {
  it('declares itself compatible with scarthgap and later, and depends on meta-oe for nodejs', () => {
    const conf = parseRecipe(readFileSync(join(LAYER, 'conf/layer.conf'), 'utf8'));
    expect(conf.errors).toEqual([]);
    expect(valueOf(conf, 'BBFILE_COLLECTIONS')).toContain('speakerd');
    expect(valueOf(conf, 'BBFILE_PATTERN_speakerd')).toBe('^${LAYERDIR}/');
    expect(valueOf(conf, 'BBFILES')).toContain('${LAYERDIR}/recipes-*/*/*.bb');
    const compat = (valueOf(conf, 'LAYERSERIES_COMPAT_speakerd') ?? '').split(' ');
    expect(compat[0]).toBe('scarthgap');
    for (const older of ['kirkstone', 'langdale', 'mickledore', 'nanbield']) expect(compat).not.toContain(older);
    expect(valueOf(conf, 'LAYERDEPENDS_speakerd')).toMatch(/\bopenembedded-layer\b/);
  });

  it('has only well-formed lines and new-style overrides in every recipe and configuration file', () => {
    const files = [...layerFiles().filter((f) => /\.(bb|bbappend|conf|inc)$/.test(f)), join(ROOT, 'yocto/local.conf.sample')];
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      const content = readFileSync(file, 'utf8');
      expect(parseRecipe(content).errors, file).toEqual([]);
      expect(oldStyleOverrides(content), file).toEqual([]);
    }
    // The reader itself sees old-style overrides and broken lines.
    expect(oldStyleOverrides('RDEPENDS_${PN} = "x"\ndo_install_append() {\n}\nIMAGE_INSTALL_append = " y"\nFOO_pn-bar = "1"')).toHaveLength(4);
    expect(oldStyleOverrides('RDEPENDS:${PN} = "x"\ndo_install:append() {\n}\nIMAGE_INSTALL:append = " y"')).toEqual([]);
    expect(parseRecipe('FOO = "a\nBAR = b\nthis is not bitbake').errors).toHaveLength(3);
  });

  it('has the recipe named after package.json version, with the variables a recipe needs', () => {
    expect(existsSync(RECIPE_FILE), RECIPE_FILE).toBe(true);
    expect(recipe.errors).toEqual([]);
    for (const name of ['SUMMARY', 'LICENSE', 'LIC_FILES_CHKSUM', 'SRC_URI', 'S', 'DEPENDS', 'RDEPENDS:${PN}', 'SYSTEMD_SERVICE:${PN}']) {
      expect(v(name), name).not.toBe('');
    }
    expect(v('PV')).toMatch(new RegExp(`^${pkg.version.replace(/\./g, '\\.')}(\\+git)?$`));
    expect(recipe.inherits).toEqual(expect.arrayContaining(['systemd', 'pkgconfig', 'python3native']));
    expect(words('RDEPENDS:${PN}')).toContain('nodejs');
    expect(recipe.shell.has('do_compile')).toBe(true);
    expect(recipe.shell.has('do_install')).toBe(true);
  });
});

describe('speakerd recipe: license', () => {
  it("matches package.json's license and the LICENSE file, md5 recomputed for every LIC_FILES_CHKSUM entry", () => {
    const licenses = v('LICENSE').split(/\s*&\s*/);
    expect(licenses[0]).toBe(pkg.license);
    expect(existsSync(join(ROOT, 'LICENSE'))).toBe(true);
    const entries = words('LIC_FILES_CHKSUM');
    expect(entries[0]).toMatch(/^file:\/\/LICENSE;md5=/);
    for (const entry of entries) {
      const m = /^file:\/\/([^;]+);md5=([0-9a-f]{32})$/.exec(entry);
      expect(m, entry).not.toBeNull();
      const path = join(ROOT, m![1]!);
      expect(existsSync(path), `${m![1]} (npm ci installs node_modules/)`).toBe(true);
      expect(md5(path), m![1]).toBe(m![2]);
    }
  });

  it('covers each npm package it ships or compiles in: its license is in LICENSE and its license file is checksummed, at the shrinkwrap version', () => {
    const licenses = new Set(v('LICENSE').split(/\s*&\s*/));
    const checksummed = words('LIC_FILES_CHKSUM').map((e) => /^file:\/\/([^;]+)/.exec(e)?.[1] ?? '');
    for (const [location, entry] of modules.filter(([, e]) => !e.dev)) {
      expect(licenses.has(entry.license ?? '?'), `${location} is ${entry.license}`).toBe(true);
      expect(
        checksummed.some((p) => p.startsWith(`${location}/`)),
        `no LIC_FILES_CHKSUM entry for ${location}`,
      ).toBe(true);
      const installed = JSON.parse(readFileSync(join(ROOT, location, 'package.json'), 'utf8')) as { version: string };
      expect(installed.version, `${location}: the checksummed file is from the version the recipe fetches`).toBe(entry.version);
    }
  });
});

describe('speakerd recipe: build', () => {
  it("DEPENDS covers every library binding.gyp links, node-addon-api's headers and the target's Node.js headers", () => {
    const gyp = JSON.parse(readFileSync(join(ROOT, 'binding.gyp'), 'utf8')) as { targets: { libraries?: string[]; include_dirs?: string[] }[] };
    const libraries = gyp.targets.flatMap((t) => t.libraries ?? []);
    // The Yocto recipe providing each pkg-config module or -l library binding.gyp names. A library
    // added to binding.gyp fails here until it is added to this table and to the recipe's DEPENDS.
    const providers: Record<string, string> = { alsa: 'alsa-lib', speexdsp: 'speexdsp', asound: 'alsa-lib', speexdsp_lib: 'speexdsp' };
    const needed = new Set<string>();
    for (const entry of libraries) {
      const pkgConfig = /pkg-config --libs ([^)]+)\)/.exec(entry);
      const names = pkgConfig ? (pkgConfig[1] ?? '').trim().split(/\s+/) : [...entry.matchAll(/-l([A-Za-z0-9_+-]+)/g)].map((m) => m[1] ?? '');
      for (const name of names) {
        expect(providers[name], `binding.gyp links ${name}: which recipe provides it?`).toBeDefined();
        needed.add(providers[name]!);
      }
    }
    expect(needed).toEqual(new Set(['alsa-lib', 'speexdsp']));
    const depends = words('DEPENDS');
    for (const recipeName of needed) expect(depends, recipeName).toContain(recipeName);
    // node-gyp and TypeScript run on the build host; the addon is compiled against the target's headers.
    expect(depends).toEqual(expect.arrayContaining(['nodejs', 'nodejs-native']));
    // The AI socket's TLS is compiled against OpenSSL's headers (and uses the OpenSSL Node.js has).
    expect(readFileSync(join(ROOT, 'native/net/net_link.h'), 'utf8')).toContain('#include <openssl/ssl.h>');
    expect(depends).toContain('openssl');
    expect(libraries.join(' ')).toContain('pkg-config');
    expect(recipe.inherits).toContain('pkgconfig');
    expect(JSON.stringify(gyp)).toContain("require('node-addon-api')");
    expect(shrinkwrap.packages['node_modules/node-addon-api']?.dev).toBeUndefined();
    const compile = recipe.shell.get('do_compile')?.body ?? '';
    expect(compile).toMatch(/node-gyp(\.js)?"? rebuild/);
    expect(compile).toContain('--nodedir="${STAGING_DIR_TARGET}${prefix}"');
    expect(compile).toContain('--arch="${SPEAKERD_GYP_ARCH}"');
    expect(recipe.python.has('speakerd_gyp_arch')).toBe(true);
  });

  it('builds each optional library of binding.gyp only as a PACKAGECONFIG option that adds it to DEPENDS, and tells gyp', () => {
    type Condition = [string, { libraries?: string[] }];
    const gyp = JSON.parse(readFileSync(join(ROOT, 'binding.gyp'), 'utf8')) as { variables: Record<string, string>; targets: { conditions?: Condition[] }[] };
    const optional = gyp.targets.flatMap((t) => t.conditions ?? []).filter(([, body]) => (body.libraries ?? []).length > 0);
    // The WebRTC echo engine: 0.3 (Debian) or 1.x (Yocto's webrtc-audio-processing-1), chosen by speakerd_webrtc.
    // gyp turns a value that reads as an integer ("1" from the pkg-config probe or -Dspeakerd_webrtc=1)
    // into the int 1, so the 1.x test compares with 1: =='1' never matched and the 1.x engine was never built.
    const modules = optional.map(([test, body]) => [test, /pkg-config --libs ([^)]+)\)/.exec(body.libraries?.join(' ') ?? '')?.[1]?.trim()]);
    expect(modules).toEqual([
      ["speakerd_webrtc=='0.3'", 'webrtc-audio-processing'],
      ['speakerd_webrtc==1', 'webrtc-audio-processing-1'],
    ]);
    expect(gyp.variables['speakerd_webrtc%']).toContain('pkg-config --exists webrtc-audio-processing-1');
    // The recipe: off by default, the option depends on the 1.x recipe, and do_compile passes the choice.
    expect(v('PACKAGECONFIG')).toBe('');
    expect(v('PACKAGECONFIG[webrtc]')).toBe(',,webrtc-audio-processing-1');
    expect(v('SPEAKERD_WEBRTC')).toBe("${@bb.utils.contains('PACKAGECONFIG', 'webrtc', '1', 'none', d)}");
    expect(recipe.shell.get('do_compile')?.body).toContain('-- -Dspeakerd_webrtc="${SPEAKERD_WEBRTC}"');
    expect(words('DEPENDS')).not.toContain('webrtc-audio-processing-1');
  });

  it('fetches npm packages through the shrinkwrap, which is in step with package-lock.json and pinned by integrity', () => {
    const check = spawnSync(process.execPath, ['scripts/yocto/shrinkwrap.mjs', '--check'], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(v('SRC_URI')).toContain('npmsw://${THISDIR}/${BPN}/npm-shrinkwrap.json;dev=1');
    for (const [location, entry] of modules) {
      expect(entry.resolved, location).toMatch(/^https:\/\/registry\.npmjs\.org\/.+\.tgz$/);
      expect(entry.integrity, location).toMatch(/^sha512-/);
    }
    // The image gets the production packages but node-addon-api (headers only); the "dev" ones
    // (TypeScript and types) only serve do_compile.
    const runtime = modules
      .filter(([, e]) => !e.dev)
      .map(([l]) => moduleName(l))
      .filter((n) => n !== 'node-addon-api');
    expect(words('SPEAKERD_RUNTIME_MODULES').sort()).toEqual(runtime.sort());
    const buildOnly = modules.filter(([, e]) => e.dev).map(([l]) => moduleName(l));
    expect(buildOnly).toContain('typescript');
    expect(buildOnly.every((n) => n === 'typescript' || n.startsWith('@types/') || n === 'undici-types')).toBe(true);
    expect(Object.keys(pkg.dependencies).every((d) => shrinkwrap.packages[`node_modules/${d}`])).toBe(true);
  });
});

describe('speakerd recipe: compile', () => {
  /** Every package a file imports, type-only imports included (tsc needs those too). */
  function importsOf(dir: string): Map<string, string> {
    const found = new Map<string, string>();
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const path = join(d, e.name);
        if (e.isDirectory()) walk(path);
        else if (e.name.endsWith('.ts')) {
          for (const m of readFileSync(path, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"\n;]*?from\s+'([^']+)'/g)) {
            const spec = m[1] as string;
            if (spec.startsWith('.') || spec.startsWith('node:')) continue;
            const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string);
            found.set(name, path);
          }
        }
      }
    };
    walk(dir);
    return found;
  }

  it('compiles only src/ (tsconfig.build.json), whose every import the shrinkwrap provides', () => {
    expect(text).toMatch(/tsc -p tsconfig\.build\.json/);
    const build = JSON.parse(readFileSync('tsconfig.build.json', 'utf8')) as { extends: string; include: string[] };
    expect(build.include).toEqual(['src/**/*.ts']);
    const provided = new Set(modules.map(([location]) => moduleName(location)));
    const imports = importsOf('src');
    expect(imports.size).toBeGreaterThan(0);
    for (const [name, file] of imports) expect(provided, `${name} (imported by ${file})`).toContain(name);
    // The tests' fakes import development-only packages: compiling them in the recipe would fail.
    expect([...importsOf('test/fakes').keys()].some((name) => !provided.has(name))).toBe(true);
  });
});

describe('speakerd recipe: install', () => {
  const install = recipe.shell.get('do_install')?.body ?? '';

  it('installs only files that exist in the repository or that do_compile builds', () => {
    const sources = [...install.matchAll(/"\$\{S\}\/([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(sources.length).toBeGreaterThan(5);
    const built = ['dist/src']; // tsc (tsconfig.json: outDir dist, rootDir .)
    for (const source of sources) {
      if (source.startsWith('node_modules/${module}')) continue; // checked below, per module
      if (built.includes(source)) continue;
      expect(existsSync(join(ROOT, source)), `do_install copies ${source}`).toBe(true);
    }
    const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: { outDir: string; rootDir: string } };
    expect(tsconfig.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
    expect(install).toContain('"${B}/build/Release/speakerd.node"');
    const gyp = readFileSync(join(ROOT, 'binding.gyp'), 'utf8');
    expect(gyp).toContain('"target_name": "speakerd"');
    for (const module of words('SPEAKERD_RUNTIME_MODULES')) expect(existsSync(join(ROOT, 'node_modules', module, 'package.json')), module).toBe(true);
  });

  it('installs the unit it enables, the sysusers, tmpfiles and udev files, the default config as a conffile, and both commands', () => {
    const units = words('SYSTEMD_SERVICE:${PN}');
    expect(units).toEqual(['speakerd.service']);
    expect(install).toContain('"${S}/systemd/speakerd.service" "${D}${systemd_system_unitdir}/speakerd.service"');
    expect(install).toContain('"${S}/systemd/speakerd.sysusers" "${D}${nonarch_libdir}/sysusers.d/speakerd.conf"');
    expect(install).toContain('"${S}/systemd/speakerd.tmpfiles" "${D}${nonarch_libdir}/tmpfiles.d/speakerd.conf"');
    expect(install).toContain('"${S}/systemd/60-speakerd.rules" "${D}${nonarch_base_libdir}/udev/rules.d/60-speakerd.rules"');
    expect(install).toMatch(/"\$\{S\}\/[^"]+\.json" "\$\{D\}\$\{sysconfdir\}\/speakerd\/speakerd\.json"/);
    expect(words('CONFFILES:${PN}')).toEqual(['${sysconfdir}/speakerd/speakerd.json']);
    expect(install).toMatch(/for cmd in speakerd speakerctl/);
    // The unit runs /usr/bin/node on /usr/lib/speakerd: the recipe installs there (nonarch_libdir is /usr/lib).
    const unit = readFileSync(join(ROOT, 'systemd/speakerd.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node (--\S+ )*\/usr\/lib\/speakerd\/dist\/src\/cli\/speakerd\.js$/m);
    expect(install).toContain('dest="${D}${nonarch_libdir}/speakerd"');
    const files = v('FILES:${PN}');
    for (const path of ['${nonarch_libdir}/speakerd', '${nonarch_libdir}/sysusers.d', '${nonarch_libdir}/tmpfiles.d', '${nonarch_base_libdir}/udev/rules.d']) {
      expect(files).toContain(path);
    }
    // The same user and groups as speakerd.sysusers, at image build time.
    const sysusers = readFileSync(join(ROOT, 'systemd/speakerd.sysusers'), 'utf8');
    for (const group of ['gpio', 'spi', 'input']) {
      expect(sysusers).toMatch(new RegExp(`^g ${group} `, 'm'));
      expect(v('GROUPADD_PARAM:${PN}')).toContain(`--system ${group}`);
      expect(v('USERADD_PARAM:${PN}')).toMatch(new RegExp(`--groups [a-z,]*\\b${group}\\b`));
    }
    expect(v('USERADD_PARAM:${PN}')).toMatch(/--groups [a-z,]*\baudio\b/);
    expect(recipe.inherits).toContain('useradd');
  });

  it('has shell tasks that pass shellcheck -s sh after BitBake expansion', () => {
    const which = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
    expect(which.status, 'shellcheck is missing: apt-get install shellcheck (scripts/setup.sh does)').toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'speakerd-yocto-'));
    try {
      expect(recipe.shell.size).toBeGreaterThanOrEqual(2);
      for (const [name, { body }] of recipe.shell) {
        const file = join(dir, `${name}.sh`);
        // BitBake runs tasks with `set -e` under /bin/sh.
        writeFileSync(file, `#!/bin/sh\nset -e\n${expandShell(recipe, body)}\n`);
        const r = spawnSync('shellcheck', ['-s', 'sh', '-S', 'style', file], { encoding: 'utf8' });
        expect(r.stdout, `${name}:\n${readFileSync(file, 'utf8')}`).toBe('');
        expect(r.status, name).toBe(0);
      }
      // The expansion keeps the body's own shell variables and substitutes BitBake's.
      expect(expandShell(recipe, 'for module in ${SPEAKERD_RUNTIME_MODULES}; do x="${D}/${module}"; done')).toBe(
        `for module in ${v('SPEAKERD_RUNTIME_MODULES')}; do x="/bitbake/D/\${module}"; done`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('example image and README', () => {
  it('has an image recipe and a local.conf fragment that install speakerd under systemd', () => {
    const image = readFileSync(join(LAYER, 'recipes-core/images/speakerd-image.bb'), 'utf8');
    const parsed = parseRecipe(image);
    expect(parsed.errors).toEqual([]);
    expect(valueOf(parsed, 'IMAGE_INSTALL:append')).toMatch(/\bspeakerd\b/);
    expect(valueOf(parsed, 'LICENSE')).toBe('MIT');
    const fragment = parseRecipe(readFileSync(join(ROOT, 'yocto/local.conf.sample'), 'utf8'));
    expect(valueOf(fragment, 'INIT_MANAGER')).toBe('systemd');
    expect(valueOf(fragment, 'IMAGE_INSTALL:append')).toMatch(/\bspeakerd\b/);
  });

  it('takes a device maker from a Yocto build to a running speaker', () => {
    const readme = readFileSync(join(ROOT, 'yocto/README.md'), 'utf8');
    for (const topic of [
      'bitbake-layers add-layer',
      'meta-oe',
      'SRCREV',
      'bitbake speakerd',
      'aplay -l',
      'ai-api-key',
      'LoadCredential',
      'journalctl -u speakerd',
      'speakerctl status',
      'conf.d',
    ]) {
      expect(readme, topic).toContain(topic);
    }
  });
});
