import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'speakerd-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs an ES module snippet in the consumer project; returns its standard output. */
function consumer(code: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('package exports, from the npm pack output', () => {
  it("'speakerd/media' and 'speakerd/ai' import as docs/ai.md shows; internals are not reachable", () => {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root });
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
    const tarball = join(dir, (JSON.parse(out) as Array<{ filename: string }>)[0]!.filename);
    const pkg = join(dir, 'node_modules', 'speakerd');
    mkdirSync(pkg, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', pkg, '--strip-components=1']);
    // Its runtime dependencies, as npm install would place them.
    for (const dep of ['ws', 'convict', 'node-addon-api']) symlinkSync(join(root, 'node_modules', dep), join(dir, 'node_modules', dep));
    writeFileSync(join(dir, 'package.json'), '{"name":"consumer","type":"module","private":true}');
    const names = JSON.parse(
      consumer(`const media = await import('speakerd/media'); const ai = await import('speakerd/ai'); const main = await import('speakerd');
        console.log(JSON.stringify({ media: typeof media.AudioEngine, ai: typeof ai.AudioMediaAiPort, backends: Object.keys(ai.BACKENDS), main: typeof main.AudioEngine }));`),
    );
    expect(names).toEqual({ media: 'function', ai: 'function', backends: expect.arrayContaining(['openai', 'azure', 'xai', 'parrot']), main: 'function' });
    expect(() => consumer(`await import('speakerd/dist/src/ai/ai-port.js')`)).toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
    expect(consumer(`import { createRequire } from 'node:module'; console.log(createRequire(import.meta.url)('speakerd/package.json').name)`).trim()).toBe(
      'speakerd',
    );
  }, 120000);
});
