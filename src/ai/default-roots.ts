/**
 * The roots Node's own TLS trusts by default, for a socket that verifies outside Node
 * (native-socket.ts): Node's bundled roots, or OpenSSL's default store when Node is built or started
 * to use it (Debian's nodejs, --use-openssl-ca, --use-system-ca; --use-bundled-ca wins). The file
 * $NODE_EXTRA_CA_CERTS names is added by the caller: it is read like every file the daemon reads
 * (tls-files.ts: a regular file of bounded size, off the event loop).
 */
import { rootCertificates } from 'node:tls';

/** Roots to trust: PEM texts, and whether OpenSSL's default store is trusted as well. */
export interface DefaultRoots {
  ca: string[];
  systemRoots: boolean;
}

/** Where Node takes its default roots from (the running process by default). */
export interface NodeTrustSource {
  env: NodeJS.ProcessEnv;
  execArgv: readonly string[];
  /** process.config.variables.openssl_use_def_ca_store: Node built to use OpenSSL's store. */
  builtForOpenSslStore: boolean;
}

const running = (): NodeTrustSource => ({
  env: process.env,
  execArgv: process.execArgv,
  builtForOpenSslStore: [true, 'true'].includes((process.config.variables as Record<string, unknown>).openssl_use_def_ca_store as string),
});

/** Node's default roots as `source` describes it (the running process by default). */
export function nodeDefaultRoots(source: NodeTrustSource = running()): DefaultRoots {
  const flags = [...source.execArgv, ...(source.env.NODE_OPTIONS ?? '').split(/\s+/)].filter((f) => f !== '');
  const systemRoots =
    !flags.includes('--use-bundled-ca') && (source.builtForOpenSslStore || flags.includes('--use-openssl-ca') || flags.includes('--use-system-ca'));
  return { ca: systemRoots ? [] : [...rootCertificates], systemRoots };
}
