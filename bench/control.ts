import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../src/control/client.js';

const here = dirname(fileURLToPath(import.meta.url));

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

async function connectWhenUp(path: string): Promise<ControlClient> {
  const deadline = Date.now() + 10000;
  for (;;) {
    try {
      return await ControlClient.connect(path);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function roundTrips(client: ControlClient, cmd: string, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await client.request(cmd);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

/**
 * The control socket of a running daemon (parrot on the null device, audio running): round-trip
 * times of ping and status, and requests per second with 8 clients while replies play, checking that
 * no audio underrun or xrun is caused.
 */
export async function benchControl(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'speakerd-bench-ctl-'));
  const socket = join(dir, 'control.sock');
  const daemon = spawn(process.execPath, [join(here, '..', 'src', 'cli', 'speakerd.js'), '--etc-dir', join(dir, 'etc')], {
    env: { ...process.env, SPEAKERD_CONTROL_SOCKET: socket, SPEAKERD_STATE_FILE: join(dir, 'state.json'), SPEAKERD_EARCONS_ENABLED: 'false' },
    stdio: 'ignore',
  });
  try {
    const client = await connectWhenUp(socket);
    await roundTrips(client, 'ping', 200);
    const before = (await client.request('status')) as unknown as { result: { audio: { underruns: number; xruns: number } } };
    const ping = await roundTrips(client, 'ping', 2000);
    const status = await roundTrips(client, 'status', 1000);
    const clients = await Promise.all(Array.from({ length: 8 }, () => ControlClient.connect(socket)));
    let served = 0;
    const until = performance.now() + 3000;
    const t0 = performance.now();
    // Keep replies playing during the load (the parrot answers each text turn with 300 ms of audio),
    // so an event loop too busy to feed the playout ring would show up as underruns.
    const speaker = setInterval(() => void client.request('say', { text: 'load' }).catch(() => undefined), 400);
    await Promise.all(
      clients.map(async (c) => {
        while (performance.now() < until) {
          await Promise.all(Array.from({ length: 16 }, () => c.request('status')));
          served += 16;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(speaker);
    await new Promise((r) => setTimeout(r, 500));
    const after = (await client.request('status')) as unknown as { result: { audio: { underruns: number; xruns: number } } };
    clients.forEach((c) => c.close());
    client.close();
    return {
      'ping round trip p50 (ms)': percentile(ping, 0.5),
      'ping round trip p99 (ms)': percentile(ping, 0.99),
      'status round trip p50 (ms)': percentile(status, 0.5),
      'status round trip p99 (ms)': percentile(status, 0.99),
      'status requests per second, 8 clients pipelining 16 each': served / seconds,
      'audio underruns + xruns caused during the load':
        after.result.audio.underruns + after.result.audio.xruns - before.result.audio.underruns - before.result.audio.xruns,
    };
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
