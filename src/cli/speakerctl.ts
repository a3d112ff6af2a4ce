#!/usr/bin/env node
/**
 * speakerctl: control a running speakerd over its control socket. See `speakerctl --help` and
 * docs/control-protocol.md. The work is done by main() in ./ctl/main.ts (importable for tests).
 */
import { main } from './ctl/main.js';

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => controller.abort());
}
// `speakerctl events | head -1`: a closed pipe ends the command quietly; any other output error ends it with 4.
let outputFailed = false;
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') {
    outputFailed = true;
    process.stderr.write(`speakerctl: cannot write the output: ${error.message}\n`);
  }
  controller.abort();
});

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal }).then(
  (code) => {
    process.exitCode = outputFailed ? 4 : code;
  },
  (error: unknown) => {
    process.stderr.write(`speakerctl: ${(error as Error).message}\n`);
    process.exitCode = 4;
  },
);
