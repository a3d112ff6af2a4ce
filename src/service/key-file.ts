/**
 * The API key provisioned over the control socket (`config_set ai.apiKey`), kept in a file beside the
 * state file. It is replaced atomically (a private temp file in the same directory, written, synced,
 * renamed over the old one, then the directory synced), so a power cut leaves the old key or the new
 * one, never half of one, and a reader never sees a file readable by others.
 */
import { unlink } from 'node:fs/promises';
import { MAX_KEY_BYTES } from '../config/secrets.js';
import { writeFileAtomic } from '../system/atomic-file.js';
import { ConfigFileError, readConfiguredFile } from '../system/safe-file.js';

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

  /** The current content, null when there is none; any other failure aborts before anything is written. */
  private async readPrevious(): Promise<string | null> {
    try {
      return (await readConfiguredFile(this.path, { key: 'ai.apiKey', maxBytes: MAX_KEY_BYTES })).toString('utf8');
    } catch (error) {
      if (error instanceof ConfigFileError && error.reason === 'missing') return null;
      throw Object.assign(new Error(`cannot replace the API key file: ${(error as Error).message}`), { code: 'ERR_STATE_WRITE' });
    }
  }

  private async write(content: string): Promise<void> {
    try {
      await writeFileAtomic(this.path, content, 0o600);
    } catch (error) {
      throw Object.assign(new Error(`cannot write the API key file ${this.path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`), {
        code: 'ERR_STATE_WRITE',
      });
    }
  }
}
