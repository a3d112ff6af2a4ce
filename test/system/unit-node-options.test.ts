import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseUnit, systemdDir, values } from './unit-file.js';

// The Node and V8 settings of the unit for a 512 MB board (issue 13, docs/performance.md): they are
// set, and a real Node 20 takes them (a bad NODE_OPTIONS stops the start with status 9).
const service = parseUnit(readFileSync(join(systemdDir, 'speakerd.service'), 'utf8'));

/** The unit's Environment= assignments (quoted ones unquoted). */
function environment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of values(service, 'Service', 'Environment')) {
    const assignment = raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
    const at = assignment.indexOf('=');
    env[assignment.slice(0, at)] = assignment.slice(at + 1);
  }
  return env;
}

describe('the unit sizes Node for a small board', () => {
  it('sets a 1 MiB young generation, a 64 MiB old generation, two malloc arenas and two libuv threads', () => {
    const env = environment();
    expect(env.NODE_OPTIONS?.split(' ')).toEqual(['--max-semi-space-size=1', '--max-old-space-size=64']);
    expect(env.MALLOC_ARENA_MAX).toBe('2');
    expect(env.UV_THREADPOOL_SIZE).toBe('2');
  });

  it('Node accepts them, and V8 applies them', () => {
    const env = environment();
    const script = "const v8 = require('v8'); const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space'); console.log(JSON.stringify({ limit: v8.getHeapStatistics().heap_size_limit, newSpace: s.space_size }))";
    const result = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(result.status).toBe(0);
    const { limit, newSpace } = JSON.parse(result.stdout) as { limit: number; newSpace: number };
    // The heap limit is the old generation plus the young one (a few semi-spaces).
    expect(limit / 1048576).toBeGreaterThanOrEqual(64);
    expect(limit / 1048576).toBeLessThan(72);
    expect(newSpace).toBeLessThanOrEqual(1048576);
    const without = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8' });
    expect((JSON.parse(without.stdout) as { limit: number }).limit).toBeGreaterThan(limit * 4);
  });
});
