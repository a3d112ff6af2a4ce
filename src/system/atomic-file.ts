/**
 * Replacing a file atomically: a temp file beside it (`.<name>.tmp-<pid>-<random>`, created exclusively
 * with the final mode), written and fsynced, renamed over the file, then the directory fsynced. A power
 * cut leaves the old file or the new one, never half of one, and a reader never sees laxer permissions.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The prefix of the temp files `writeFileAtomic` leaves if it dies midway (for clean-up at start). */
export function tempPrefix(file: string): string {
  return `.${basename(file)}.tmp-`;
}

/** fsync of a directory, so a rename inside it survives a power cut. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems cannot fsync a directory (EINVAL); the rename is then as durable as they allow.
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
  } finally {
    await handle.close();
  }
}

/** Writes `content` to `file` atomically with `mode` (see the module comment); creates the directory (0750). */
export async function writeFileAtomic(file: string, content: string, mode: number): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const temp = join(dir, `${tempPrefix(file)}${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.chmod(mode);
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
}
