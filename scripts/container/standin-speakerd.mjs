// A stand-in for dist/src/cli/speakerd.js, only for developing the container harness before the daemon
// exists (scripts/container/up.sh RUNDIR --entry scripts/container/standin-speakerd.mjs). The tests
// never use it. It behaves as the daemon promises to towards systemd: READY=1 once its control socket
// listens, WATCHDOG=1 every WATCHDOG_USEC/2, RELOADING=1/READY=1 around SIGHUP, a 30 s watchdog stall on
// SIGUSR2, STOPPING=1 and exit 0 on SIGTERM, exit 78 when /etc/speakerd/speakerd.json is invalid.
import { createRequire } from 'node:module';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';

const require = createRequire(import.meta.url);
const addon = require(new URL('../../../build/Release/speakerd.node', import.meta.url).pathname);
const notify = (state) => addon.notify(state);

function configError() {
  const file = '/etc/speakerd/speakerd.json';
  if (!existsSync(file)) return null;
  try {
    const config = JSON.parse(readFileSync(file, 'utf8'));
    const device = config?.audio?.device;
    if (device !== undefined && device !== 'null' && device !== 'alsa') return `audio.device: ${device}`;
    return null;
  } catch (error) {
    return String(error);
  }
}

const problem = configError();
if (problem) {
  console.error(`<3>invalid configuration: ${problem}`);
  process.exit(78);
}

const socketPath = process.env.SPEAKERD_CONTROL_SOCKET ?? '/run/speakerd/control.sock';
const activated = process.env.LISTEN_FDS === '1' && process.env.LISTEN_PID === String(process.pid);
if (!activated) rmSync(socketPath, { force: true });
const server = createServer((c) => c.once('data', (line) => c.end(JSON.stringify({ id: JSON.parse(String(line)).id, ok: true, result: {} }) + '\n')));
let stalledUntil = 0;
server.listen(activated ? { fd: 3 } : socketPath, () => {
  if (!activated) chmodSync(socketPath, 0o660);
  notify('READY=1\nSTATUS=listening');
  const usec = Number(process.env.WATCHDOG_USEC ?? 0);
  if (usec > 0) {
    setInterval(() => {
      if (Date.now() >= stalledUntil) notify('WATCHDOG=1');
    }, usec / 2000);
  }
});
process.on('SIGHUP', () => {
  const now = process.hrtime.bigint() / 1000n;
  notify(`RELOADING=1\nMONOTONIC_USEC=${now}\nSTATUS=reloading`);
  setTimeout(() => notify('READY=1\nSTATUS=listening'), 100);
});
process.on('SIGUSR2', () => {
  stalledUntil = Date.now() + 30000;
  console.log('<4>test hook: watchdog pings stalled for 30 s');
});
process.on('SIGTERM', () => {
  notify('STOPPING=1');
  server.close(() => process.exit(0));
});
