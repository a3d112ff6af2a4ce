import { createRequire } from 'node:module';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeBinding } from './binding.js';

/**
 * Where the addon is searched, relative to the package root, in order: a local build (only when its
 * ELF header names the running CPU: a tree built on x86_64 and copied to a board, or shared with an
 * emulated ARM run, keeps its x86_64 build/), then the prebuild for the running CPU
 * (`npm run build:cross -- arm64|armhf` writes prebuilds/linux-<arch>/speakerd.node).
 */
const LOCAL_BUILDS = ['build/Release/speakerd.node', 'build/Debug/speakerd.node'];

/** ELF e_machine values of the CPUs Node.js runs on, by process.arch name. */
const ELF_MACHINES: Record<number, string> = {
  0x03: 'ia32',
  0x28: 'arm',
  0x3e: 'x64',
  0xb7: 'arm64',
  0x08: 'mips',
  0x14: 'ppc',
  0x15: 'ppc64',
  0x16: 's390x',
  0xf3: 'riscv64',
  0x102: 'loong64',
};

/** The prebuild folder of a CPU: Debian's name for 32-bit ARM (hard float), process.arch otherwise. */
export function prebuildDir(arch: string = process.arch): string {
  return `prebuilds/linux-${arch === 'arm' ? 'armhf' : arch}`;
}

/** The CPU an ELF file was built for, as a process.arch name; undefined if unreadable or not ELF. */
export function elfArch(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const header = Buffer.alloc(20);
    if (readSync(fd, header, 0, 20, 0) < 20) return undefined;
    if (header.toString('latin1', 0, 4) !== '\x7fELF') return undefined;
    const machine = header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18);
    const arch = ELF_MACHINES[machine];
    if (arch === 'ppc64' && header[5] === 1) return 'ppc64'; // ppc64le reports ppc64 in Node.js too
    return arch ?? `elf-machine-${machine}`;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function addonError(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_ADDON_LOAD' });
}

/**
 * The path of the addon to load for `arch` under the package `root`. SPEAKERD_ADDON overrides the
 * search (sanitizer builds, a cross build elsewhere) and is taken as it is. Throws an Error with code
 * 'ERR_ADDON_LOAD' naming the architecture, what was found (and for which CPU) and what to build.
 */
export function findNativeAddon(root: string, arch: string = process.arch, env: NodeJS.ProcessEnv = process.env): string {
  const override = env.SPEAKERD_ADDON;
  if (override) {
    if (!existsSync(override)) throw addonError(`speakerd native addon: SPEAKERD_ADDON=${override} does not exist`);
    return override;
  }
  const platform = `linux-${arch === 'arm' ? 'armhf' : arch}`;
  const candidates = [...LOCAL_BUILDS, `${prebuildDir(arch)}/speakerd.node`];
  const seen: string[] = [];
  for (const relative of candidates) {
    const path = join(root, relative);
    if (!existsSync(path)) continue;
    const built = elfArch(path);
    if (built === arch) return path;
    seen.push(`${relative} is for ${built ?? 'an unknown CPU (not an ELF file)'}`);
  }
  const found = seen.length ? `found: ${seen.join('; ')}` : 'found none';
  throw addonError(
    `speakerd native addon: no build for this CPU, ${platform} (process.arch ${arch}); ` +
      `looked for ${candidates.join(', ')} under ${root}, ${found}. ` +
      `Run 'npm run build' on this machine, or 'npm run build:cross -- ${arch === 'arm' ? 'armhf' : arch}' on a build host ` +
      `and copy ${prebuildDir(arch)}/speakerd.node here.`,
  );
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('speakerd: package.json not found above ' + dirname(fileURLToPath(import.meta.url)));
    dir = parent;
  }
  return dir;
}

let cached: NativeBinding | undefined;

/**
 * Loads the native addon once: the local build for the running CPU, else its prebuild (see
 * findNativeAddon). Throws an Error with code 'ERR_ADDON_LOAD' naming the architecture when none
 * fits, or when the chosen file fails to load (a missing libasound2/libspeexdsp1, say).
 */
export function loadNativeBinding(): NativeBinding {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const path = findNativeAddon(packageRoot());
  try {
    cached = require(path) as NativeBinding;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const wrapped = addonError(`speakerd native addon: cannot load ${path} on linux-${process.arch}: ${reason}`);
    throw Object.assign(wrapped, { cause: error });
  }
  return cached;
}
