/**
 * Reading a file that the configuration names (a key file, an earcon, an ALSA configuration, a TLS
 * certificate, a board profile). Such a path may point anywhere: at a FIFO that nobody writes (a read
 * would block for ever), at /dev/zero (a read would never end), at a directory or a huge file. So the
 * file is opened with O_NONBLOCK (opening a FIFO returns at once), must then be a regular file no larger
 * than the limit, and is read on libuv's thread pool, never on the event loop. Every refusal names the
 * configuration key.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Code of every refusal: the file named by a key cannot be used. */
export const ERR_CONFIG_FILE = 'ERR_CONFIG_FILE';

/** A file named by a configuration key that cannot be used; `key` names the key, `reason` says why. */
export class ConfigFileError extends Error {
  readonly code = ERR_CONFIG_FILE;

  constructor(
    readonly key: string,
    readonly file: string,
    readonly reason: 'missing' | 'not_regular' | 'too_large' | 'unreadable' | 'insecure',
    message: string,
  ) {
    super(`${key}: ${message}`);
    this.name = 'ConfigFileError';
  }
}

/** What a read takes: the key that names the file (for messages) and the largest size accepted. */
export interface SafeReadOptions {
  key: string;
  maxBytes: number;
  /** Checks the permission bits (mode & 0o7777) before anything is read; returns why they are refused, or null. */
  checkMode?: (mode: number) => string | null;
}

/** What kind of thing a stat describes, in words for an error message. */
export function describeFileType(stat: {
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isDirectory(): boolean;
  isSocket(): boolean;
}): string {
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Flags of every open: read only, never blocking on a FIFO, never becoming our terminal. */
export const SAFE_OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

function fsReason(error: NodeJS.ErrnoException): string {
  const text = /^[A-Z]+: ([^,]+)/.exec(error.message ?? '')?.[1] ?? String(error.message ?? error);
  return error.code ? `${text} (${error.code})` : text;
}

/**
 * Reads a whole regular file of at most `maxBytes`, off the event loop. Rejects with ConfigFileError
 * (reason 'missing' for ENOENT) and never hangs on a FIFO or a device. A file that grows past the limit
 * while it is read is refused too.
 */
export async function readConfiguredFile(file: string, options: SafeReadOptions): Promise<Buffer> {
  const { key, maxBytes } = options;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, SAFE_OPEN_FLAGS);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new ConfigFileError(key, file, 'missing', `${file} does not exist`);
    throw new ConfigFileError(key, file, 'unreadable', `cannot open ${file}: ${fsReason(e)}`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new ConfigFileError(key, file, 'not_regular', `${file} is ${describeFileType(stat)}; a regular file is needed`);
    if (stat.size > maxBytes) throw new ConfigFileError(key, file, 'too_large', `${file} is larger than ${maxBytes} bytes`);
    const refused = options.checkMode?.(stat.mode & 0o7777) ?? null;
    if (refused !== null) throw new ConfigFileError(key, file, 'insecure', refused);
    // Room for what stat says plus one byte, so a file that grew since is noticed.
    const buffer = Buffer.alloc(Math.min(maxBytes, stat.size) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) {
        if (length > maxBytes) throw new ConfigFileError(key, file, 'too_large', `${file} is larger than ${maxBytes} bytes`);
        throw new ConfigFileError(key, file, 'unreadable', `${file} grew while it was read; try again`);
      }
    }
    return Buffer.from(buffer.subarray(0, length));
  } catch (error) {
    if (error instanceof ConfigFileError) throw error;
    throw new ConfigFileError(key, file, 'unreadable', `cannot read ${file}: ${fsReason(error as NodeJS.ErrnoException)}`);
  } finally {
    await handle.close().catch(() => undefined);
  }
}
