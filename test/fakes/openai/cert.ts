/** A self-signed certificate for the fake's wss:// mode, made with the system's `openssl`. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let cached: { key: string; cert: string } | undefined;

/**
 * A PEM key and certificate for CN and IP SAN 127.0.0.1, valid one day (RSA 2048). Generated once per
 * process with `openssl req -x509` in a temporary folder, which is then removed. A client trusts it
 * by passing the certificate as `ca`.
 */
export function makeSelfSignedCert(): { key: string; cert: string } {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'fake-realtime-cert-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-days',
        '1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'pipe' },
    );
    cached = { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A PEM key and self-signed certificate for CN `cn` with no subjectAltName (a client certificate, or a
 * server certificate for a name other than the one dialled), valid one day; made like the one above.
 */
export function makeNamedCert(cn: string): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fake-named-cert-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-days', '1', '-keyout', join(dir, 'k'), '-out', join(dir, 'c')],
      { stdio: 'pipe' },
    );
    return { key: readFileSync(join(dir, 'k'), 'utf8'), cert: readFileSync(join(dir, 'c'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
