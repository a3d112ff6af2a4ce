import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollStatus } from '../../../bench/room/session.js';

// The room bench's look at the daemon's echo canceller (`--dump`'s timeline): `status` asked every
// 50 ms over the control protocol until the run ends, each answer timed. Here a socket that answers
// as the daemon does, with the talk state changing from the fourth request on.

const dir = mkdtempSync(join(tmpdir(), 'speakerd-room-status-'));
let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

function statusServer(socket: string): Promise<number[]> {
  const seen: number[] = [];
  server = createServer((conn) => {
    let buffered = '';
    conn.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
        const request = JSON.parse(buffered.slice(0, at)) as { id: number; cmd: string };
        buffered = buffered.slice(at + 1);
        seen.push(request.id);
        const talk = seen.length > 3 ? 'double' : 'far';
        const aecPost = {
          talk,
          suppressionDb: talk === 'far' ? -30 : 0,
          agcGainDb: 3,
          agcAppliedDb: talk === 'far' ? 0 : 3,
          duckActive: talk !== 'far',
          limiterDb: 0,
        };
        const audio = seen.length === 1 ? { aec: null, aecPost: null } : { aec: { erleDb: 20, delayMs: 65, delaySource: 'estimate' }, aecPost };
        conn.write(`${JSON.stringify({ id: request.id, ok: request.cmd === 'status', result: { audio } })}\n`);
      }
    });
  });
  return new Promise((resolve) => server!.listen(socket, () => resolve(seen)));
}

describe('the room bench looks at the daemon while the reply plays', () => {
  it('asks status every 50 ms until the run ends and keeps what the echo canceller showed, timed', async () => {
    const socket = join(dir, 'control.sock');
    const seen = await statusServer(socket);
    const t0 = performance.now();
    const samples = await pollStatus(socket, t0, new Promise((r) => setTimeout(r, 600)));
    // About 12 requests in 600 ms; the first answer had no echo canceller yet and is left out.
    expect(seen.length).toBeGreaterThanOrEqual(6);
    expect(seen.length).toBeLessThanOrEqual(14);
    expect(samples).toHaveLength(seen.length - 1);
    expect(samples[0]).toMatchObject({ talk: 'far', delayMs: 65, delaySource: 'estimate', suppressionDb: -30, agcAppliedDb: 0, duckActive: false });
    expect(samples.at(-1)).toMatchObject({ talk: 'double', suppressionDb: 0, agcGainDb: 3, agcAppliedDb: 3, duckActive: true });
    for (let i = 1; i < samples.length; i++) expect(samples[i]!.ms).toBeGreaterThanOrEqual(samples[i - 1]!.ms + 45);
    expect(samples.at(-1)!.ms).toBeLessThanOrEqual(700);
    rmSync(dir, { recursive: true, force: true });
  });
});
