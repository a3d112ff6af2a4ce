/**
 * scripts/lint.sh (`npm run lint`, `npm run format`, the lint stage of .ci/run) on a small tree built in a
 * temporary folder with the repository's configs: each of ESLint, Prettier and clang-format fails on what
 * it should, the last line counts the checks as .ci/run reads them, and --fix repairs the formatting.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = process.cwd();
const CONFIGS = ['scripts/lint.sh', 'eslint.config.js', '.prettierrc.json', '.prettierignore', '.clang-format', 'package.json'];
const CLEAN_TS = "/** Twice `n`. */\nexport function twice(n: number): number {\n  return 2 * n;\n}\n";
const CLEAN_CC = '#pragma once\n\nnamespace speakerd {\n\ninline int Twice(int n) { return 2 * n; }\n\n}  // namespace speakerd\n';

let tree = '';
afterEach(() => {
  if (tree) rmSync(tree, { recursive: true, force: true });
  tree = '';
});

/** A tree with the repository's lint configs, one TS and one C++ file (overridable), and node_modules. */
function makeTree(files: Record<string, string> = {}): string {
  tree = mkdtempSync(join(tmpdir(), 'speakerd-lint-'));
  for (const f of CONFIGS) {
    mkdirSync(dirname(join(tree, f)), { recursive: true });
    copyFileSync(join(ROOT, f), join(tree, f));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
  for (const [f, text] of Object.entries({ 'src/twice.ts': CLEAN_TS, 'native/twice.h': CLEAN_CC, ...files })) {
    mkdirSync(dirname(join(tree, f)), { recursive: true });
    writeFileSync(join(tree, f), text);
  }
  return tree;
}

function lint(dir: string, ...args: string[]): { status: number | null; out: string; counts: string } {
  const r = spawnSync('bash', [join(dir, 'scripts/lint.sh'), ...args], { encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  return { status: r.status, out, counts: /Tests +(\d+ passed \| \d+ failed)/.exec(out)?.[1] ?? 'no count line' };
}

describe('npm run lint (scripts/lint.sh)', () => {
  it('has clang-format to run', () => {
    const r = spawnSync('clang-format', ['--version'], { encoding: 'utf8' });
    expect(r.error, 'clang-format is missing: apt-get install clang-format (scripts/setup.sh does)').toBeUndefined();
  });

  it('passes a clean tree and counts its three checks', () => {
    const r = lint(makeTree());
    expect(r.counts, r.out).toBe('3 passed | 0 failed');
    expect(r.status).toBe(0);
  });

  it('fails on each kind of finding alone: an ESLint rule, Prettier formatting, clang-format formatting', () => {
    const cases: [Record<string, string>, string][] = [
      [{ 'src/unused.ts': "const unused = 1;\nexport const used = 'x';\n" }, 'eslint FAILED'],
      [{ 'src/twice.ts': CLEAN_TS.replace('2 * n', '2*n') }, 'prettier --check FAILED'],
      [{ 'native/twice.h': CLEAN_CC.replace('2 * n', '2*n') }, 'clang-format (1 files) FAILED'],
    ];
    for (const [files, failure] of cases) {
      const r = lint(makeTree(files));
      expect(r.counts, r.out).toBe('2 passed | 1 failed');
      expect(r.out).toContain(`::: lint: ${failure}`);
      expect(r.status).toBe(1);
      rmSync(tree, { recursive: true, force: true });
    }
  }, 90_000);

  it('--fix (npm run format) rewrites the formatting and leaves ESLint findings alone', () => {
    const dir = makeTree({
      'src/twice.ts': CLEAN_TS.replace('2 * n', '2*n'),
      'native/twice.h': CLEAN_CC.replace('2 * n', '2*n'),
      'src/unused.ts': "const unused = 1;\nexport const used = 'x';\n",
    });
    expect(lint(dir, '--fix').status).toBe(0);
    expect(readFileSync(join(dir, 'src/twice.ts'), 'utf8')).toBe(CLEAN_TS);
    expect(readFileSync(join(dir, 'native/twice.h'), 'utf8')).toBe(CLEAN_CC);
    const r = lint(dir);
    expect(r.counts, r.out).toBe('2 passed | 1 failed');
    expect(r.out).toContain('::: lint: eslint FAILED');
  }, 60_000);
});
