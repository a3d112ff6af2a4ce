/**
 * The API key provisioned over the control socket (`config_set ai.apiKey`), kept in a file beside the
 * state file. It is replaced atomically (a private temp file in the same directory, written, synced,
 * renamed over the old one, then the directory synced), so a power cut leaves the old key or the new
 * one, never half of one, and a reader never sees a file readable by others.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readConfiguredFile } from '../system/safe-file.js';
import { MAX_KEY_BYTES } from '../config/secrets.js';

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
  } finally {
    await handle.close();
  }
}

/** Atomic writer of one key file. */
export class KeyFileWriter {
  constructor(readonly path: string) {}

  /** Replaces the file with `key` (mode 0600); resolves to an undo that puts the previous content back. */
  async replace(key: string): Promise<() => Promise<void>> {
    const previous = await this.readPrevious();
    await this.write(`${key}\n`);
    return async () => {
      if (previous === null) await unlink(this.path).catch(() => undefined);
      else await this.write(previous).catch(() => undefined);
    };
  }

  private async readPrevious(): Promise<string | null> {
    try {
      return (await readConfiguredFile(this.path, { key: 'ai.apiKey', maxBytes: MAX_KEY_BYTES })).toString('utf8');
    } catch {
      return null;
    }
  }

  private async write(content: string): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o750 });
    const temp = `${this.path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.chmod(0o600);
        await handle.writeFile(content);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw Object.assign(new Error(`cannot write the API key file ${this.path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`), {
        code: 'ERR_STATE_WRITE',
      });
    }
    await syncDirectory(dir);
  }
}
