import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERR_STATE_WRITE, MAX_STATE_BYTES, StateStore } from '../../../src/config/state.js';
import { TempEtc } from './helpers.js';

let dir: TempEtc;
let file: string;
beforeEach(() => {
  dir = new TempEtc();
  file = dir.path('state.json');
});
afterEach(() => dir.remove());

const fixed = () => new Date('2025-01-02T03:04:05.678Z');

describe('StateStore.load', () => {
  it('returns the defaults when there is no file', async () => {
    expect(await new StateStore(file).load()).toEqual({ state: { volume: 70, muted: false }, warnings: [] });
    expect(await new StateStore(file, { defaults: { volume: 40 } }).load()).toEqual({ state: { volume: 40, muted: false }, warnings: [] });
  });

  it('returns what was saved, keeping fields it does not know', async () => {
    writeFileSync(file, JSON.stringify({ volume: 12, muted: true, future: { x: 1 } }));
    expect(await new StateStore(file).load()).toEqual({ state: { volume: 12, muted: true, future: { x: 1 } }, warnings: [] });
  });

  it.each([
    ['not JSON', '{"volume": 1', 'not valid JSON'],
    ['an empty file', '', 'not valid JSON'],
    ['an array', '[1]', 'does not hold a JSON object'],
    ['a huge file', `{"x": "${'a'.repeat(MAX_STATE_BYTES)}"}`, 'larger than'],
  ])('moves %s aside and reports it, never throwing', async (_what, content, why) => {
    writeFileSync(file, content);
    const result = await new StateStore(file, { now: fixed }).load();
    const aside = `${file}.corrupt-2025-01-02T03-04-05.678Z`;
    expect(result.state).toEqual({ volume: 70, muted: false });
    expect(result.warnings).toEqual([expect.stringContaining(why)]);
    expect(result.warnings[0]).toContain(aside);
    expect(readdirSync(dir.dir).sort()).toEqual(['state.json.corrupt-2025-01-02T03-04-05.678Z']);
    expect(readFileSync(aside, 'utf8')).toBe(content);
  });

  it('resets a field of the wrong type and reports it, without moving the file', async () => {
    writeFileSync(file, JSON.stringify({ volume: 150, muted: 'yes', other: 1 }));
    const result = await new StateStore(file).load();
    expect(result.state).toEqual({ volume: 70, muted: false, other: 1 });
    expect(result.warnings).toHaveLength(2);
    expect(readdirSync(dir.dir)).toEqual(['state.json']);
  });

  it('reports a file it cannot read or move aside, using defaults', async () => {
    mkdirSync(file);
    const result = await new StateStore(file).load();
    expect(result.state).toEqual({ volume: 70, muted: false });
    expect(result.warnings[0]).toContain('is a directory; a regular file is needed');
  });

  it('never blocks on a FIFO as the state file', async () => {
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [file]);
    const started = performance.now();
    const result = await new StateStore(file).load();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(result.state).toEqual({ volume: 70, muted: false });
    expect(result.warnings[0]).toContain('is a FIFO');
  });

  it('removes temp files a crash left behind', async () => {
    writeFileSync(dir.path('.state.json.tmp-999999-abcd'), '{"volume": 1');
    await new StateStore(file).load();
    expect(readdirSync(dir.dir)).toEqual([]);
  });
});

describe('StateStore.save', () => {
  it('writes atomically and leaves no temp file', async () => {
    const store = new StateStore(file);
    await store.save({ volume: 33, muted: true });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ volume: 33, muted: true });
    expect(readdirSync(dir.dir)).toEqual(['state.json']);
    expect((await new StateStore(file).load()).state).toEqual({ volume: 33, muted: true });
  });

  it('creates the directory when missing', async () => {
    const nested = dir.path('lib/speakerd/state.json');
    await new StateStore(nested).save({ volume: 1, muted: false });
    expect(JSON.parse(readFileSync(nested, 'utf8'))).toEqual({ volume: 1, muted: false });
  });

  it('serialises concurrent saves: the last one wins, fewer writes than saves, no temp left', async () => {
    const store = new StateStore(file);
    const saves = Array.from({ length: 25 }, (_, i) => store.save({ volume: i, muted: i % 2 === 0 }));
    await Promise.all(saves);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ volume: 24, muted: true });
    expect(store.writes).toBeLessThanOrEqual(2);
    expect(readdirSync(dir.dir)).toEqual(['state.json']);
    await store.save({ volume: 5, muted: false });
    await store.flush();
    expect(store.writes).toBeLessThanOrEqual(3);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ volume: 5, muted: false });
  });

  it('never leaves a half-written file to a reader during many saves', async () => {
    const store = new StateStore(file);
    await store.save({ volume: 0, muted: false, note: 'x'.repeat(20000) });
    let reads = 0;
    const reader = (async () => {
      for (; reads < 200; reads++) {
        const parsed = JSON.parse(readFileSync(file, 'utf8')) as { volume: number };
        expect(parsed.volume).toBeGreaterThanOrEqual(0);
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 1; i <= 50; i++) await store.save({ volume: i % 100, muted: false, note: 'y'.repeat(20000 + i) });
    await reader;
    expect(readdirSync(dir.dir)).toEqual(['state.json']);
  });

  it('rejects with ERR_STATE_WRITE when the directory cannot be written, and keeps going afterwards', async () => {
    const blocked = dir.path('blocked');
    writeFileSync(blocked, 'a file, not a directory');
    const store = new StateStore(`${blocked}/state.json`);
    await expect(store.save({ volume: 1, muted: false })).rejects.toMatchObject({ code: ERR_STATE_WRITE });
    await expect(store.save({ volume: 2, muted: false })).rejects.toMatchObject({ code: ERR_STATE_WRITE });
  });

  it('removes its temp file when the rename fails', async () => {
    mkdirSync(file);
    writeFileSync(`${file}/occupied`, 'x');
    await expect(new StateStore(file).save({ volume: 1, muted: false })).rejects.toMatchObject({ code: ERR_STATE_WRITE });
    expect(readdirSync(dir.dir)).toEqual(['state.json']);
  });
});
