/**
 * speakerctl's command line: global options, then a command that maps 1:1 to a control request
 * (checked with the protocol's own validators, so a bad value is a usage error before any connection).
 */
import { LEVELS_HZ, type ControlRequest } from '../../control/protocol.js';
import { validateRequest } from '../../control/validate.js';

/** Where the daemon listens when neither --socket nor $SPEAKERD_CONTROL_SOCKET says otherwise. */
export const DEFAULT_SOCKET = '/run/speakerd/control.sock';

/** Default time to wait for a reply (--timeout). */
export const DEFAULT_TIMEOUT_MS = 5000;

/** Options that come before the command. */
export interface GlobalOptions {
  socket: string;
  json: boolean;
  timeoutMs: number;
}

/** What to do. */
export type Invocation =
  | { kind: 'help' }
  | { kind: 'request'; cmd: string; args: Record<string, unknown> }
  | { kind: 'events'; args: { events?: string[]; levels?: number } }
  | { kind: 'watch'; levelsHz: number };

/** A command line that cannot be run (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The usage text (`speakerctl --help`). */
export const USAGE = `usage: speakerctl [--socket PATH] [--json] [--timeout MS] COMMAND [ARGS]

commands:
  status                      state, mute, volume, connection, audio counters, last error
  mute | unmute | toggle-mute
  volume [N | +N | -N]        get, set (0-100) or change the volume
  say TEXT...                 have the assistant say something
  interrupt                   stop the current reply
  talk-start | talk-end       push-to-talk: open the user's turn, close (commit) it
  connect | disconnect        connect to or leave the AI service
  tool-result CALL_ID OUTPUT  answer a tool call (OUTPUT: JSON, else a string)
  config get [KEY]            a configuration value (or all non-secret values)
  config set KEY VALUE        set and persist a value (VALUE: JSON, else a string)
  reload                      re-read the configuration files
  devices                     list the sound devices
  version                     versions of speakerd, Node.js and the addon
  ping                        check that speakerd answers
  events [--levels HZ] [EVENT...]   print events as NDJSON until interrupted
  watch [--levels HZ]         live view of state, transcripts and levels

options:
  --socket PATH   control socket (default: $SPEAKERD_CONTROL_SOCKET or ${DEFAULT_SOCKET})
  --json          print each reply as one JSON line
  --timeout MS    time to wait for a reply (default ${DEFAULT_TIMEOUT_MS})
  -h, --help      this text

exit codes: 0 ok, 1 error reply, 2 usage error, 3 speakerd not running, 4 no usable reply`;

const PLAIN: Record<string, string> = {
  status: 'status',
  mute: 'mute',
  unmute: 'unmute',
  'toggle-mute': 'toggle_mute',
  toggle_mute: 'toggle_mute',
  connect: 'connect',
  disconnect: 'disconnect',
  interrupt: 'interrupt',
  'talk-start': 'talk_start',
  talk_start: 'talk_start',
  'talk-end': 'talk_end',
  talk_end: 'talk_end',
  reload: 'reload',
  devices: 'devices',
  version: 'version',
  ping: 'ping',
};

/** A value from the command line: JSON when it parses as JSON, else the string itself. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function takeValue(argv: string[], i: number, name: string): string {
  const value = argv[i + 1];
  if (value === undefined) throw new UsageError(`${name} needs a value`);
  return value;
}

function parseGlobals(argv: string[], env: NodeJS.ProcessEnv): { options: GlobalOptions; rest: string[] } {
  const options: GlobalOptions = { socket: env.SPEAKERD_CONTROL_SOCKET || DEFAULT_SOCKET, json: false, timeoutMs: DEFAULT_TIMEOUT_MS };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (name === '--') return { options, rest: argv.slice(i + 1) };
    if (!name.startsWith('-') || name === '-') break;
    if (name === '--json') options.json = true;
    else if (name === '-h' || name === '--help') return { options, rest: ['help'] };
    else if (name === '--socket') options.socket = inline ?? takeValue(argv, i++, name);
    else if (name === '--timeout') options.timeoutMs = timeout(inline ?? takeValue(argv, i++, name));
    else throw new UsageError(`unknown option ${name}`);
  }
  if (options.socket === '') throw new UsageError('--socket needs a path');
  return { options, rest: argv.slice(i) };
}

function timeout(text: string): number {
  const ms = Number(text);
  if (!/^\d+$/.test(text) || ms < 1 || ms > 3_600_000) throw new UsageError('--timeout must be a number of milliseconds from 1 to 3600000');
  return ms;
}

function levelsOption(words: string[]): { levels?: number; rest: string[] } {
  const rest: string[] = [];
  let levels: number | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--levels') levels = Number(takeValue(words, i++, '--levels'));
    else if (w.startsWith('--levels=')) levels = Number(w.slice('--levels='.length));
    else if (w.startsWith('-')) throw new UsageError(`unknown option ${w}`);
    else rest.push(w);
  }
  return levels === undefined ? { rest } : { levels, rest };
}

function expectArgs(cmd: string, words: string[], min: number, max: number): void {
  if (words.length < min || words.length > max) throw new UsageError(`wrong number of arguments for '${cmd}' (see speakerctl --help)`);
}

function volumeArgs(words: string[]): Record<string, unknown> {
  expectArgs('volume', words, 0, 1);
  const w = words[0];
  if (w === undefined) return {};
  if (/^[+-]\d+$/.test(w)) return { delta: Number(w) };
  if (/^\d+$/.test(w)) return { value: Number(w) };
  throw new UsageError(`volume takes N, +N or -N (0 to 100), not '${w}'`);
}

function configArgs(words: string[]): { cmd: string; args: Record<string, unknown> } {
  const [sub, ...rest] = words;
  if (sub === 'get') {
    expectArgs('config get', rest, 0, 1);
    return { cmd: 'config_get', args: rest[0] === undefined ? {} : { key: rest[0] } };
  }
  if (sub === 'set') {
    expectArgs('config set', rest, 2, 2);
    return { cmd: 'config_set', args: { key: rest[0], value: parseValue(rest[1]!) } };
  }
  throw new UsageError(`config takes 'get [KEY]' or 'set KEY VALUE'`);
}

function toRequest(cmd: string, words: string[]): { cmd: string; args: Record<string, unknown> } {
  const plain = PLAIN[cmd];
  if (plain !== undefined) {
    expectArgs(cmd, words, 0, 0);
    return { cmd: plain, args: {} };
  }
  switch (cmd) {
    case 'volume':
      return { cmd, args: volumeArgs(words) };
    case 'say':
      if (words.length === 0) throw new UsageError('say needs some text');
      return { cmd, args: { text: words.join(' ') } };
    case 'config':
      return configArgs(words);
    case 'tool-result':
    case 'tool_result':
      expectArgs(cmd, words, 2, 2);
      return { cmd: 'tool_result', args: { call_id: words[0], output: parseValue(words[1]!) } };
    default:
      throw new UsageError(`unknown command '${cmd}' (see speakerctl --help)`);
  }
}

/** Checks a request with the protocol's validators; a rejected one is a usage error. */
function checked(cmd: string, args: Record<string, unknown>): ControlRequest {
  const v = validateRequest({ ...args, cmd });
  if (!v.ok) throw new UsageError(v.error.message);
  return v.request;
}

/** Parses speakerctl's arguments (without `node` and the script); throws UsageError. */
export function parseArgv(argv: string[], env: NodeJS.ProcessEnv): { options: GlobalOptions; invocation: Invocation } {
  const { options, rest } = parseGlobals(argv, env);
  const [cmd, ...words] = rest;
  if (cmd === undefined) throw new UsageError('a command is needed (see speakerctl --help)');
  if (cmd === 'help') return { options, invocation: { kind: 'help' } };
  if (cmd === 'events') {
    const { levels, rest: names } = levelsOption(words);
    const args = { ...(names.length > 0 ? { events: names } : {}), ...(levels !== undefined ? { levels } : {}) };
    checked('subscribe', args);
    return { options, invocation: { kind: 'events', args } };
  }
  if (cmd === 'watch') {
    const { levels, rest: extra } = levelsOption(words);
    expectArgs('watch', extra, 0, 0);
    const levelsHz = levels ?? LEVELS_HZ.default;
    checked('subscribe', { levels: levelsHz });
    return { options, invocation: { kind: 'watch', levelsHz } };
  }
  const request = toRequest(cmd, words);
  checked(request.cmd, request.args);
  return { options, invocation: { kind: 'request', ...request } };
}
