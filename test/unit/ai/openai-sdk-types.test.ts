import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPRECATED_MODELS, DEFAULT_OPENAI_MODEL } from '../../../src/ai/backends/openai-models.js';

const root = resolve(import.meta.dirname, '../../..');
const sdk = join(root, 'node_modules/openai/resources/realtime/realtime.d.ts');

/** Type-checks `source` (beside speakerd's SDK check) against the installed openai package; returns tsc's output. */
function typecheck(source: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'speakerd-sdk-'));
  try {
    writeFileSync(join(dir, 'probe.ts'), source);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          skipLibCheck: true,
          types: [],
          baseUrl: root,
          paths: { 'openai/*': [join(root, 'node_modules/openai/*')] },
        },
        files: [join(dir, 'probe.ts'), join(root, 'test/fakes/openai/sdk-types.ts')],
      }),
    );
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { encoding: 'utf8' });
    return { ok: true, output: '' };
  } catch (error) {
    return { ok: false, output: String((error as { stdout?: string }).stdout ?? error) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('OpenAI backend against the official openai package (devDependency, types only)', () => {
  it("speakerd's client events and session fit the SDK's GA types, and a wrong event does not", () => {
    const sdkTypes = join(root, 'node_modules/openai/resources/realtime/realtime');
    const good = typecheck(`export {};\n`);
    expect(good.output).toBe('');
    // The shape speakerd sent before: noise_reduction null, which the SDK does not allow.
    const bad = typecheck(
      `import type { RealtimeClientEvent } from '${sdkTypes}';\nexport const e: RealtimeClientEvent = { type: 'session.update', session: { type: 'realtime', audio: { input: { noise_reduction: null } } } };\n`,
    );
    expect(bad.ok).toBe(false);
    expect(bad.output).toMatch(/NoiseReduction/);
  }, 60000);

  it('lists the deprecated models the SDK names, and the default is not one of them', () => {
    const text = readFileSync(sdk, 'utf8');
    const notes = [...text.matchAll(/Deprecated values:([\s\S]*?)Announced shutdown date/g)].map((m) => m[1] ?? '');
    const named = new Set<string>();
    for (const note of notes) for (const m of note.matchAll(/"([a-z0-9.-]+)"/g)) named.add(m[1] as string);
    const ours = Object.keys(DEPRECATED_MODELS).filter((m) => m.startsWith('gpt-realtime') || m.startsWith('gpt-audio'));
    for (const m of ours) expect(named, m).toContain(m);
    for (const m of [...named].filter((x) => x.startsWith('gpt-realtime'))) expect(Object.keys(DEPRECATED_MODELS), m).toContain(m);
    expect(named).not.toContain(DEFAULT_OPENAI_MODEL);
    expect(text).toContain(`'${DEFAULT_OPENAI_MODEL}'`);
  });
});
