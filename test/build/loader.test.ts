/**
 * The addon loader picks the build for the running CPU: build/Release (or Debug) when its ELF header
 * matches, else prebuilds/linux-<arch>/speakerd.node, and fails naming the architecture otherwise
 * (a .node for another CPU would fail with a misleading "cannot open shared object file").
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { elfArch, findNativeAddon, prebuildDir } from '../../src/media/native-binding.js';

/** The first 20 bytes of an ELF shared object for `machine` (e_machine), 64- or 32-bit little-endian. */
function elfHeader(machine: number, is64: boolean): Buffer {
  const b = Buffer.alloc(64);
  b.write('\x7fELF', 0, 'latin1');
  b[4] = is64 ? 2 : 1; // EI_CLASS
  b[5] = 1; // EI_DATA: little-endian
  b[6] = 1; // EI_VERSION
  b.writeUInt16LE(3, 16); // ET_DYN
  b.writeUInt16LE(machine, 18);
  return b;
}
const ELF = { x64: elfHeader(0x3e, true), arm64: elfHeader(0xb7, true), arm: elfHeader(0x28, false), ia32: elfHeader(0x03, false) };

let root = '';
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = '';
});

function tree(files: Record<string, Buffer>): string {
  root = mkdtempSync(join(tmpdir(), 'speakerd-loader-'));
  writeFileSync(join(root, 'package.json'), '{}');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

describe('elfArch', () => {
  it('reads the CPU of an ELF file as a Node.js process.arch name', () => {
    const dir = tree({ a: ELF.x64, b: ELF.arm64, c: ELF.arm, d: ELF.ia32, e: Buffer.from('not an elf file at all, really') });
    expect(elfArch(join(dir, 'a'))).toBe('x64');
    expect(elfArch(join(dir, 'b'))).toBe('arm64');
    expect(elfArch(join(dir, 'c'))).toBe('arm');
    expect(elfArch(join(dir, 'd'))).toBe('ia32');
    expect(elfArch(join(dir, 'e'))).toBeUndefined();
    expect(elfArch(join(dir, 'missing'))).toBeUndefined();
  });
});

describe('prebuildDir', () => {
  it('names prebuilds after the Debian architecture for 32-bit ARM and after process.arch otherwise', () => {
    expect(prebuildDir('x64')).toBe('prebuilds/linux-x64');
    expect(prebuildDir('arm64')).toBe('prebuilds/linux-arm64');
    expect(prebuildDir('arm')).toBe('prebuilds/linux-armhf');
  });
});

describe('findNativeAddon', () => {
  it('prefers build/Release when it was built for the running CPU', () => {
    const dir = tree({ 'build/Release/speakerd.node': ELF.arm64, 'prebuilds/linux-arm64/speakerd.node': ELF.arm64 });
    expect(findNativeAddon(dir, 'arm64', {})).toBe(join(dir, 'build/Release/speakerd.node'));
  });

  it('skips a build/Release made for another CPU and takes the prebuild of the running one', () => {
    const dir = tree({
      'build/Release/speakerd.node': ELF.x64,
      'prebuilds/linux-arm64/speakerd.node': ELF.arm64,
      'prebuilds/linux-armhf/speakerd.node': ELF.arm,
    });
    expect(findNativeAddon(dir, 'arm64', {})).toBe(join(dir, 'prebuilds/linux-arm64/speakerd.node'));
    expect(findNativeAddon(dir, 'arm', {})).toBe(join(dir, 'prebuilds/linux-armhf/speakerd.node'));
    expect(findNativeAddon(dir, 'x64', {})).toBe(join(dir, 'build/Release/speakerd.node'));
  });

  it('takes build/Debug for the running CPU when there is no Release build', () => {
    const dir = tree({ 'build/Debug/speakerd.node': ELF.x64 });
    expect(findNativeAddon(dir, 'x64', {})).toBe(join(dir, 'build/Debug/speakerd.node'));
  });

  it('fails naming the architecture, what was found for which CPU, and what to build', () => {
    const dir = tree({ 'build/Release/speakerd.node': ELF.x64, 'prebuilds/linux-armhf/speakerd.node': ELF.arm });
    let error: (Error & { code?: string }) | undefined;
    try {
      findNativeAddon(dir, 'arm64', {});
    } catch (e) {
      error = e as Error & { code?: string };
    }
    expect(error?.code).toBe('ERR_ADDON_LOAD');
    expect(error?.message).toMatch(/linux-arm64/);
    expect(error?.message).toMatch(/build\/Release\/speakerd\.node is for x64/);
    expect(error?.message).toMatch(/prebuilds\/linux-arm64\/speakerd\.node/);
    expect(error?.message).toMatch(/npm run build:cross -- arm64/);
  });

  it('refuses a prebuild whose ELF header names another CPU (a file copied into the wrong folder)', () => {
    const dir = tree({ 'prebuilds/linux-arm64/speakerd.node': ELF.arm });
    expect(() => findNativeAddon(dir, 'arm64', {})).toThrow(/prebuilds\/linux-arm64\/speakerd\.node is for arm/);
  });

  it('honours SPEAKERD_ADDON as it is, and says when it does not exist', () => {
    const dir = tree({ 'x/asan.node': ELF.x64 });
    expect(findNativeAddon(dir, 'x64', { SPEAKERD_ADDON: join(dir, 'x/asan.node') })).toBe(join(dir, 'x/asan.node'));
    expect(() => findNativeAddon(dir, 'x64', { SPEAKERD_ADDON: join(dir, 'nope.node') })).toThrow(/SPEAKERD_ADDON.*nope\.node/);
  });
});
