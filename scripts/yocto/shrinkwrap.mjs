// Writes the npm-shrinkwrap.json that the Yocto recipe's npmsw:// fetcher reads, from package-lock.json:
//
//   node scripts/yocto/shrinkwrap.mjs            (writes yocto/meta-speakerd/.../speakerd/npm-shrinkwrap.json)
//   node scripts/yocto/shrinkwrap.mjs --check    (exits 1 when the committed file is out of date)
//
// It holds the production dependencies (installed on the target) and, marked "dev", only what the
// build needs on top: TypeScript and the type packages tsconfig.json uses (fetched with dev=1 and left
// out of the image by the recipe). bitbake skips lock entries without a "resolved" URL, and npm 11 no
// longer writes it for the default registry, so it is added here (the registry's fixed tarball URL);
// "integrity" (sha512) comes from the lock and is what bitbake verifies the download against.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const target = join(root, 'yocto/meta-speakerd/recipes-multimedia/speakerd/speakerd/npm-shrinkwrap.json');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const packages = lock.packages;

/** The lock entry a dependency `name` of the package at `from` resolves to (node's lookup order). */
function resolve(from, name) {
  for (let dir = from; ; dir = dir.includes('/node_modules/') ? dir.slice(0, dir.lastIndexOf('/node_modules/')) : '') {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!dir) throw new Error(`${name} (needed by ${from || 'the package'}) is not in package-lock.json`);
  }
}

/** Every lock location reached from `names`, with their dependencies (not optional peers). */
function closure(names, from = '') {
  const seen = new Set();
  const walk = (location) => {
    if (seen.has(location)) return;
    seen.add(location);
    for (const dep of Object.keys(packages[location].dependencies ?? {})) walk(resolve(location, dep));
  };
  for (const name of names) walk(resolve(from, name));
  return seen;
}

const production = closure(Object.keys(pkg.dependencies ?? {}));
// tsconfig.json: "types": ["node"], and the sources import ws and convict (typed by @types/*).
const buildOnly = [...closure(Object.keys(pkg.devDependencies ?? {}).filter((n) => n === 'typescript' || n.startsWith('@types/')))].filter(
  (l) => !production.has(l),
);

function entry(location, dev) {
  const { version, integrity, license, dependencies } = packages[location];
  const name = location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const base = name.includes('/') ? name.split('/')[1] : name;
  const resolved = packages[location].resolved ?? `https://registry.npmjs.org/${name}/-/${base}-${version}.tgz`;
  return { version, resolved, integrity, ...(dev ? { dev: true } : {}), license, ...(dependencies ? { dependencies } : {}) };
}

const out = {
  name: pkg.name,
  version: pkg.version,
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': { name: pkg.name, version: pkg.version, license: pkg.license, dependencies: pkg.dependencies },
    ...Object.fromEntries([...production].sort().map((l) => [l, entry(l, false)])),
    ...Object.fromEntries(buildOnly.sort().map((l) => [l, entry(l, true)])),
  },
};
const text = `${JSON.stringify(out, null, 2)}\n`;
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // no committed file yet: out of date like any other difference
  }
  if (current !== text) {
    console.error(`${target} is out of date: run node scripts/yocto/shrinkwrap.mjs`);
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
  console.log(`${target}: ${production.size} production, ${buildOnly.length} build-only packages`);
}
