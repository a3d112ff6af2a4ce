import { readConfiguredFile } from '../system/safe-file.js';
import type { TlsSettings } from './types.js';

/** The contents of the TLS files a connection presents or trusts. */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** $NODE_EXTRA_CA_CERTS, which Node's own sockets trust besides its roots (read for the addon's sockets). */
  extraCa?: Buffer;
}

/** Largest TLS file accepted (a CA bundle is a few hundred KiB). */
export const TLS_FILE_MAX_BYTES = 1024 * 1024;

/**
 * Reads `tls.caFile`, `tls.certFile` and `tls.keyFile` off the event loop, never blocking on a FIFO or
 * a device. Rejects with a ConfigFileError (code ERR_CONFIG_FILE) naming the key, e.g. 'ai.tls.caFile'.
 * `extraCa` (without a caFile) is read the same way, and left out with `onError` when it cannot be.
 */
export async function readTlsFiles(tls: TlsSettings | undefined, extraCa?: ExtraCaFile): Promise<TlsMaterial> {
  const read = (file: string | undefined, key: string): Promise<Buffer | undefined> =>
    file === undefined ? Promise.resolve(undefined) : readConfiguredFile(file, { key, maxBytes: TLS_FILE_MAX_BYTES });
  const ca = await read(tls?.caFile, 'ai.tls.caFile');
  const cert = await read(tls?.certFile, 'ai.tls.certFile');
  const key = await read(tls?.keyFile, 'ai.tls.keyFile');
  // As Node does with $NODE_EXTRA_CA_CERTS: a file that cannot be read is reported and left out.
  const extra = ca || !extraCa ? undefined : await read(extraCa.file, 'NODE_EXTRA_CA_CERTS').catch((error: Error) => void extraCa.onError(error));
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(extra ? { extraCa: extra } : {}) };
}

/** $NODE_EXTRA_CA_CERTS for the addon's sockets, and what to do when it cannot be read. */
export interface ExtraCaFile {
  file: string;
  onError: (error: Error) => void;
}
