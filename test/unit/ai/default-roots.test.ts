import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { nodeDefaultRoots, type NodeTrustSource } from '../../../src/ai/default-roots.js';

const source = (over: Partial<NodeTrustSource>): NodeTrustSource => ({
  env: {},
  execArgv: [],
  builtForOpenSslStore: false,
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
    expect(nodeDefaultRoots(source({ execArgv: ['--use-system-ca'] })).systemRoots).toBe(true);
    expect(nodeDefaultRoots(source({ env: { NODE_OPTIONS: '--use-openssl-ca-x' } })).systemRoots).toBe(false);
    expect(nodeDefaultRoots(source({ builtForOpenSslStore: true, execArgv: ['--use-bundled-ca'] })).systemRoots).toBe(false);
  });
});
