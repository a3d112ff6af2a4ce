import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigFileError, readConfiguredFile } from '../../src/system/safe-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'speakerd-safe-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function refusal(file: string, maxBytes = 100, checkMode?: (mode: number) => string | null): Promise<ConfigFileError> {
  const error = await readConfiguredFile(file, { key: 'x.file', maxBytes, ...(checkMode ? { checkMode } : {}) }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigFileError);
  return error as ConfigFileError;
}

describe('readConfiguredFile', () => {
  it('reads a regular file whole, up to the limit', async () => {
    writeFileSync(join(dir, 'ok'), 'x'.repeat(100));
    expect((await readConfiguredFile(join(dir, 'ok'), { key: 'x.file', maxBytes: 100 })).toString()).toBe('x'.repeat(100));
    writeFileSync(join(dir, 'empty'), '');
    expect((await readConfiguredFile(join(dir, 'empty'), { key: 'x.file', maxBytes: 100 })).length).toBe(0);
  });

  it.each([
    [
      'a FIFO nobody writes',
      () => {
        execFileSync('mkfifo', [join(dir, 'fifo')]);
        return join(dir, 'fifo');
      },
      'not_regular',
      /is a FIFO; a regular file is needed/,
    ],
    ['a device', () => '/dev/zero', 'not_regular', /is a device/],
    ['a directory', () => dir, 'not_regular', /is a directory/],
    [
      'a file over the limit',
      () => {
        writeFileSync(join(dir, 'big'), 'x'.repeat(101));
        return join(dir, 'big');
      },
      'too_large',
      /larger than 100 bytes/,
    ],
    ['a missing file', () => join(dir, 'nothing'), 'missing', /does not exist/],
  ])('refuses %s at once, naming the key', async (_, make, reason, message) => {
    const started = performance.now();
    const e = await refusal(make());
    expect(performance.now() - started).toBeLessThan(2000);
    expect(e.reason).toBe(reason);
    expect(e.code).toBe('ERR_CONFIG_FILE');
    expect(e.message).toMatch(/^x\.file: /);
    expect(e.message).toMatch(message);
  });

  it('refuses permission bits the caller does not accept, before reading', async () => {
    writeFileSync(join(dir, 'key'), 'secret');
    chmodSync(join(dir, 'key'), 0o644);
    const e = await refusal(join(dir, 'key'), 100, (mode) => ((mode & 0o077) !== 0 ? 'readable by others' : null));
    expect(e.reason).toBe('insecure');
    expect(e.message).toBe('x.file: readable by others');
  });
});
