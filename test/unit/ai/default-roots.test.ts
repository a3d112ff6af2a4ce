import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { nodeDefaultRoots, type NodeTrustSource } from '../../../src/ai/default-roots.js';

const source = (over: Partial<NodeTrustSource>): NodeTrustSource => ({
  env: {},
  execArgv: [],
  builtForOpenSslStore: false,
  readFile: () => {
    throw new Error('no file');
  },
  ...over,
});

describe('nodeDefaultRoots', () => {
  it("is Node's bundled roots for a Node that uses them", () => {
    expect(nodeDefaultRoots(source({}))).toEqual({ ca: [...rootCertificates], systemRoots: false });
  });

  it("is OpenSSL's default store for a Node built for it or started with --use-openssl-ca, unless --use-bundled-ca", () => {
    expect(nodeDefaultRoots(source({ builtForOpenSslStore: true }))).toEqual({ ca: [], systemRoots: true });
    expect(nodeDefaultRoots(source({ execArgv: ['--use-openssl-ca'] }))).toEqual({ ca: [], systemRoots: true });
    expect(nodeDefaultRoots(source({ env: { NODE_OPTIONS: '--max-old-space-size=64 --use-openssl-ca' } }))).toEqual({ ca: [], systemRoots: true });
    expect(nodeDefaultRoots(source({ builtForOpenSslStore: true, execArgv: ['--use-bundled-ca'] })).systemRoots).toBe(false);
  });

  it('adds the file NODE_EXTRA_CA_CERTS names, read once, and ignores one that cannot be read', () => {
    let reads = 0;
    const readFile = (path: string): string => {
      reads++;
      if (path === '/extra.pem') return 'EXTRA PEM';
      throw new Error('ENOENT');
    };
    const first = nodeDefaultRoots(source({ env: { NODE_EXTRA_CA_CERTS: '/extra.pem' }, readFile }));
    expect(first.ca.at(-1)).toBe('EXTRA PEM');
    expect(first.ca).toHaveLength(rootCertificates.length + 1);
    expect(nodeDefaultRoots(source({ env: { NODE_EXTRA_CA_CERTS: '/extra.pem' }, readFile, builtForOpenSslStore: true }))).toEqual({
      ca: ['EXTRA PEM'],
      systemRoots: true,
    });
    expect(reads).toBe(1);
    expect(nodeDefaultRoots(source({ env: { NODE_EXTRA_CA_CERTS: '/missing.pem' }, readFile })).ca).toHaveLength(rootCertificates.length);
  });
});
