import { readConfiguredFile } from '../system/safe-file.js';
import type { TlsSettings } from './types.js';

/** The contents of the TLS files a connection presents or trusts. */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Largest TLS file accepted (a CA bundle is a few hundred KiB). */
export const TLS_FILE_MAX_BYTES = 1024 * 1024;

/**
 * Reads `tls.caFile`, `tls.certFile` and `tls.keyFile` off the event loop, never blocking on a FIFO or
 * a device. Rejects with a ConfigFileError (code ERR_CONFIG_FILE) naming the key, e.g. 'ai.tls.caFile'.
 */
export async function readTlsFiles(tls: TlsSettings | undefined): Promise<TlsMaterial> {
  const read = (file: string | undefined, name: string): Promise<Buffer | undefined> =>
    file === undefined ? Promise.resolve(undefined) : readConfiguredFile(file, { key: `ai.tls.${name}`, maxBytes: TLS_FILE_MAX_BYTES });
  const ca = await read(tls?.caFile, 'caFile');
  const cert = await read(tls?.certFile, 'certFile');
  const key = await read(tls?.keyFile, 'keyFile');
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}
