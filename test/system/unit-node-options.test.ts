import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseUnit, systemdDir, value, values } from './unit-file.js';

// The Node and V8 settings of the unit for a 512 MB board (issue 13, docs/performance.md): they are
// set, and a real Node 20 takes them and applies them.
const service = parseUnit(readFileSync(join(systemdDir, 'speakerd.service'), 'utf8'));

/** The unit's Environment= assignments. */
function environment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const assignment of values(service, 'Service', 'Environment')) {
    const at = assignment.indexOf('=');
    env[assignment.slice(0, at)] = assignment.slice(at + 1);
  }
  return env;
}

/** The node options of ExecStart= (between the binary and the script). */
function nodeFlags(): string[] {
  return (value(service, 'Service', 'ExecStart') ?? '').split(/\s+/).slice(1, -1);
}

describe('the unit sizes Node for a small board', () => {
  it('runs V8 without its optimising compiler, with 1 MiB semi-spaces, 64 MiB of old generation and optimised for size; two malloc arenas, two libuv threads', () => {
    expect(nodeFlags()).toEqual(['--max-semi-space-size=1', '--max-old-space-size=64', '--no-opt', '--optimize-for-size']);
    const env = environment();
    expect(env.MALLOC_ARENA_MAX).toBe('2');
    expect(env.UV_THREADPOOL_SIZE).toBe('2');
    expect(env.NODE_OPTIONS).toBeUndefined();
  });

  it('Node accepts them, and V8 applies them', () => {
    const script =
      "const v8 = require('v8'); const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');" +
      'function f(x) { return x + 1; } for (let i = 0; i < 1e7; i++) f(i);' +
      'console.log(JSON.stringify({ limit: v8.getHeapStatistics().heap_size_limit, newSpace: s.space_size, optimized: %GetOptimizationStatus(f) }))';
    const probe = (flags: string[]): { limit: number; newSpace: number; optimized: number } => {
      const result = spawnSync(process.execPath, [...flags, '--allow-natives-syntax', '-e', script], {
        env: { ...process.env, ...environment() },
        encoding: 'utf8',
      });
      expect(result.status, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as never;
    };
    const unit = probe(nodeFlags());
    // The heap limit is the old generation plus the young one (a few semi-spaces).
    expect(unit.limit / 1048576).toBeGreaterThanOrEqual(64);
    expect(unit.limit / 1048576).toBeLessThan(72);
    expect(unit.newSpace).toBeLessThanOrEqual(1048576);
    // V8's optimisation status, bit 4 (16): optimised code. A hot function is optimised by default, never with --no-opt.
    expect(unit.optimized & 16).toBe(0);
    const plain = probe([]);
    expect(plain.optimized & 16).toBe(16);
    // --optimize-for-size keeps WebAssembly (fetch() runs undici's llhttp in it), which --lite-mode drops.
    const wasm = spawnSync(process.execPath, [...nodeFlags(), '-p', 'typeof WebAssembly.Module'], { encoding: 'utf8' });
    expect(wasm.stdout.trim()).toBe('function');
    expect(plain.limit).toBeGreaterThan(unit.limit * 4);
  });
});
