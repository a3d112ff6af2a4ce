import { describe, expect, it } from 'vitest';
import { createServer, connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unixPeer } from '../../src/system/peer.js';

describe('peer credentials (SO_PEERCRED)', () => {
  it('names the process at the other end of a Unix socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'speakerd-peer-'));
    const path = join(dir, 's.sock');
    try {
      const accepted = new Promise<Socket>((resolve) => {
        const server = createServer((s) => {
          resolve(s);
          server.close();
        }).listen(path);
      });
      const client = connect(path);
      const socket = await accepted;
      expect(unixPeer(socket)).toEqual({ uid: process.getuid?.(), gid: process.getgid?.(), pid: process.pid });
      client.destroy();
      socket.destroy();
      expect(unixPeer(socket)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
