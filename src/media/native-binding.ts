import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeBinding } from './binding.js';

/** Where the addon is searched, relative to the package root (the build's first). */
const CANDIDATES = ['build/Release/speakerd.node', 'build/Debug/speakerd.node'];

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
 * Loads the native addon once. SPEAKERD_ADDON overrides the path (cross builds, sanitizer builds).
 * Throws an Error with code 'ERR_ADDON_LOAD' saying what to build when it is missing.
 */
export function loadNativeBinding(): NativeBinding {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const root = packageRoot();
  const paths = process.env.SPEAKERD_ADDON ? [process.env.SPEAKERD_ADDON] : CANDIDATES.map((p) => join(root, p));
  const found = paths.find((p) => existsSync(p));
  if (!found) {
    const error = new Error(`speakerd native addon not found (looked for ${paths.join(', ')}); run 'npm run build'`);
    Object.assign(error, { code: 'ERR_ADDON_LOAD' });
    throw error;
  }
  cached = require(found) as NativeBinding;
  return cached;
}
