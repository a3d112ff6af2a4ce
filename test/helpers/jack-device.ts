import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real-time sound device without hardware: a JACK server with the dummy backend (48 kHz, 10 ms
 * periods) and an ALSA configuration reaching it through the jack plugin under `plug`. The server
 * can be killed and restarted, which is how the tests unplug the device.
 */
export class JackDevice {
  // One fixed name: JACK keeps a registry of at most 8 servers in /dev/shm, and a server killed with
  // SIGKILL (how the tests unplug the device) leaves its entry behind; reusing the name reuses it.
  readonly name: string;
  readonly dir = mkdtempSync(join(tmpdir(), 'speakerd-jack-'));
  readonly config = join(this.dir, 'asound.conf');
  private server: ChildProcess | null = null;

  /**
   * `name`: the JACK server's name (one per test file that runs at the same time). `realtime`: run
   * the server and its clients' process threads SCHED_FIFO where permitted (the bench, which must not
   * lose cycles to a loaded machine), instead of --no-realtime.
   */
  constructor(
    name = 'speakerd-test',
    extraConfig = '',
    private readonly realtime = false,
  ) {
    this.name = name;
    writeFileSync(
      this.config,
      [
        `pcm.jackraw { type jack playback_ports { 0 system:playback_1 } capture_ports { 0 system:capture_1 } }`,
        'pcm.jack { type plug slave.pcm "jackraw" }',
        extraConfig,
        '',
      ].join('\n'),
    );
    // The jack plugin and libjack find the server by this name.
    process.env.JACK_DEFAULT_SERVER = this.name;
  }

  /** Starts the server and resolves once it accepts clients. */
  async start(): Promise<void> {
    const scheduling = this.realtime ? ['--realtime', '-P', '70'] : ['--no-realtime'];
    const server = spawn('jackd', [...scheduling, '-n', this.name, '-d', 'dummy', '-r', '48000', '-p', '480'], {
      env: { ...process.env, JACK_NO_AUDIO_RESERVATION: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`jackd did not start: ${output}`)), 10000);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        // jackd prints no "ready" line; this is its last line before the driver starts.
        if (/self-connect-mode/.test(output)) {
          clearTimeout(timer);
          setTimeout(resolve, 500);
        }
      };
      server.stdout?.on('data', onData);
      server.stderr?.on('data', onData);
      server.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      server.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`jackd exited with ${code}: ${output}`));
      });
    });
  }

  /** Kills the server at once, like a device being unplugged. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server || server.exitCode !== null) return;
    const exited = new Promise((r) => server.once('exit', r));
    server.kill(signal);
    await exited;
  }

  /** Stops the server cleanly and removes the configuration. */
  async remove(): Promise<void> {
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
