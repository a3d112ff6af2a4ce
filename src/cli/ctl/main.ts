/**
 * speakerctl: a thin client of the control socket (docs/control-protocol.md).
 *
 *   speakerctl [--socket PATH] [--json] [--timeout MS] COMMAND [ARGS]
 *
 * Exit codes: 0 ok, 1 error reply, 2 usage error, 3 speakerd not running, 4 no usable reply,
 * 130 interrupted while waiting.
 */
import { ControlClient, ControlClientError } from '../../control/client.js';
import { parseArgv, USAGE, UsageError, type GlobalOptions, type Invocation } from './args.js';
import { formatResult } from './format.js';
import { aborted, EXIT, type CtlIo } from './io.js';
import { runEvents, runWatch } from './stream.js';

export { EXIT, type CtlIo, type CtlOutput } from './io.js';

function clientFailure(error: unknown, io: CtlIo): number {
  if (!(error instanceof ControlClientError)) throw error;
  io.stderr.write(`speakerctl: ${error.message}\n`);
  return error.code === 'ERR_NOT_RUNNING' ? EXIT.notRunning : EXIT.noReply;
}

async function runRequest(client: ControlClient, options: GlobalOptions, inv: Extract<Invocation, { kind: 'request' }>, io: CtlIo): Promise<number> {
  const started = performance.now();
  const reply = await Promise.race([client.request(inv.cmd, inv.args, options.timeoutMs), aborted(io.signal)]);
  if (reply === 'aborted') return EXIT.interrupted;
  const rttMs = performance.now() - started;
  if (options.json) io.stdout.write(`${JSON.stringify(reply)}\n`);
  if (!reply.ok) {
    io.stderr.write(`speakerctl: ${reply.error.code}: ${reply.error.message}\n`);
    return EXIT.errorReply;
  }
  if (!options.json) {
    const text = formatResult(inv.cmd, reply.result, rttMs);
    if (text !== '') io.stdout.write(`${text}\n`);
  }
  return EXIT.ok;
}

async function run(client: ControlClient, options: GlobalOptions, inv: Invocation, io: CtlIo): Promise<number> {
  switch (inv.kind) {
    case 'request':
      return runRequest(client, options, inv, io);
    case 'events':
      return runEvents(client, inv.args, io);
    case 'watch':
      return runWatch(client, inv.levelsHz, io);
    case 'help':
      return EXIT.ok;
  }
}

/**
 * Runs speakerctl with `argv` (the arguments after the script) and returns the exit code. Nothing is
 * written to the real process streams unless `io` says so; `io.signal` ends `events`/`watch`.
 */
export async function main(argv: string[], io: Partial<CtlIo> = {}): Promise<number> {
  const ctl: CtlIo = { stdout: io.stdout ?? process.stdout, stderr: io.stderr ?? process.stderr, env: io.env ?? process.env, signal: io.signal };
  let parsed: ReturnType<typeof parseArgv>;
  try {
    parsed = parseArgv(argv, ctl.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    ctl.stderr.write(`speakerctl: ${error.message}\n`);
    return EXIT.usage;
  }
  const { options, invocation } = parsed;
  if (invocation.kind === 'help') {
    ctl.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  let client: ControlClient;
  try {
    const connecting = ControlClient.connect(options.socket, { timeoutMs: options.timeoutMs });
    const first = await Promise.race([connecting, aborted(ctl.signal)]);
    if (first === 'aborted') {
      void connecting.then(
        (c) => c.close(),
        () => {},
      );
      return EXIT.interrupted;
    }
    client = first;
  } catch (error) {
    return clientFailure(error, ctl);
  }
  try {
    return await run(client, options, invocation, ctl);
  } catch (error) {
    return clientFailure(error, ctl);
  } finally {
    client.close();
  }
}
