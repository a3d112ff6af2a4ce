/**
 * The certificates Node's own TLS trusts by default, for a socket that verifies outside Node
 * (native-socket.ts): Node's bundled roots, or OpenSSL's default store when Node is built or started
 * to use it (Debian's nodejs, --use-openssl-ca), plus the file NODE_EXTRA_CA_CERTS names.
 */
import { readFileSync } from 'node:fs';
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
  readFile: (path: string) => string;
}

const extraCache = new Map<string, string | null>();

function flagsOf(source: NodeTrustSource): string[] {
  return [...source.execArgv, ...(source.env.NODE_OPTIONS ?? '').split(/\s+/)].filter((f) => f !== '');
}

/** Node's default trust as `source` describes it; NODE_EXTRA_CA_CERTS is read once (as Node does), an unreadable file is ignored. */
export function nodeDefaultRoots(
  source: NodeTrustSource = {
    env: process.env,
    execArgv: process.execArgv,
    builtForOpenSslStore: [true, 'true'].includes((process.config.variables as Record<string, unknown>).openssl_use_def_ca_store as string),
    readFile: (path) => readFileSync(path, 'utf8'),
  },
): DefaultRoots {
  const flags = flagsOf(source);
  const systemRoots = !flags.includes('--use-bundled-ca') && (source.builtForOpenSslStore || flags.includes('--use-openssl-ca'));
  const ca = systemRoots ? [] : [...rootCertificates];
  const extraPath = source.env.NODE_EXTRA_CA_CERTS;
  if (extraPath) {
    if (!extraCache.has(extraPath)) {
      let text: string | null = null;
      try {
        text = source.readFile(extraPath);
      } catch {
        text = null;
      }
      extraCache.set(extraPath, text);
    }
    const extra = extraCache.get(extraPath);
    if (extra) ca.push(extra);
  }
  return { ca, systemRoots };
}
