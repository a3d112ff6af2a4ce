import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseArgv, UsageError, type Invocation } from '../../../src/cli/ctl/args.js';
import { main } from '../../../src/cli/ctl/main.js';
import { startHarness, waitUntil, type Harness } from './helpers.js';

/** Collects what speakerctl writes. */
class Out {
  text = '';
  constructor(
    readonly isTTY = false,
    readonly columns = 80,
  ) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
  get lines(): string[] {
    return this.text.split('\n').filter((l) => l !== '');
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  out: Out;
}

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  await h.close();
});

async function ctl(argv: string[], options: { signal?: AbortSignal; stdout?: Out; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const stdout = options.stdout ?? new Out();
  const stderr = new Out();
  const code = await main(argv, { stdout, stderr, env: options.env ?? { SPEAKERD_CONTROL_SOCKET: h.path }, signal: options.signal });
  return { code, stdout: stdout.text, stderr: stderr.text, out: stdout };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('speakerctl commands', () => {
  it('status prints a readable summary', async () => {
    const r = await ctl(['status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^state:\s+listening$/m);
    expect(r.stdout).toMatch(/^muted:\s+no$/m);
    expect(r.stdout).toMatch(/^uptime:\s+1h 02m 03s$/m);
    expect(r.stdout).toMatch(/1 underruns, 2 dropped/);
    expect(r.stderr).toBe('');
  });

  it('--json prints the raw reply as one JSON line', async () => {
    const r = await ctl(['--json', 'status']);
    expect(r.code).toBe(0);
    expect(r.out.lines).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toEqual({ id: 1, ok: true, result: h.target.status() });
  });

  it.each<[string[], string, () => unknown, unknown]>([
    [['volume'], 'volume 50', () => h.target.volume, 50],
    [['volume', '80'], 'volume 80', () => h.target.volume, 80],
    [['volume', '+10'], 'volume 60', () => h.target.volume, 60],
    [['volume', '-100'], 'volume 0', () => h.target.volume, 0],
    [['mute'], 'muted', () => h.target.muted, true],
    [['toggle-mute'], 'muted', () => h.target.muted, true],
    [['unmute'], 'unmuted', () => h.target.muted, false],
    [['say', 'hello', 'there'], '', () => h.target.calls.at(-1), { method: 'say', args: ['hello there'] }],
    [['interrupt'], '', () => h.target.calls.at(-1)?.method, 'interrupt'],
    [['disconnect'], '', () => h.target.state, 'offline'],
    [['connect'], '', () => h.target.calls.at(-1)?.method, 'connect'],
    [['reload'], '', () => h.target.calls.at(-1)?.method, 'reload'],
    [['config', 'get', 'ai.voice'], 'alloy', () => null, null],
    [['config', 'set', 'ai.voice', 'marin'], '', () => h.target.config['ai.voice'], 'marin'],
    [['config', 'set', 'ai.voice', '"42"'], '', () => h.target.config['ai.voice'], '42'],
    [['tool-result', 'call_3', '{"temp":21}'], '', () => h.target.calls.at(-1), { method: 'toolResult', args: ['call_3', { temp: 21 }] }],
    [['tool-result', 'call_4', 'plain words'], '', () => h.target.calls.at(-1), { method: 'toolResult', args: ['call_4', 'plain words'] }],
  ])('%j', async (argv, output, read, expected) => {
    const r = await ctl(argv);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(output === '' ? '' : `${output}\n`);
    expect(read()).toEqual(expected);
  });

  it('config get without a key prints the whole non-secret configuration as JSON', async () => {
    const r = await ctl(['config', 'get']);
    expect(JSON.parse(r.stdout)).toMatchObject({ 'ai.voice': 'alloy' });
    expect(r.stdout).not.toContain('apiKeyFile');
  });

  it('devices, version and ping', async () => {
    expect((await ctl(['devices'])).stdout).toMatch(/^hw:CARD=seeed2micvoicec,DEV=0\s+duplex\s+seeed-2mic-voicecard$/m);
    expect((await ctl(['version'])).stdout).toBe(`speakerd 0.1.0 (node ${process.version}, addon fake, protocol 1)\n`);
    expect((await ctl(['ping'])).stdout).toMatch(/^pong from speakerd in \d+\.\d ms\n$/);
  });

  it('an error reply exits 1 with the code and message on stderr', async () => {
    h.target.connected = false;
    const r = await ctl(['say', 'hi']);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'speakerctl: ERR_AI_NOT_CONNECTED: the AI service is not connected\n' });
    const j = await ctl(['--json', 'config', 'set', 'ai.voice', '3']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, error: { code: 'ERR_CONFIG_INVALID' } });
    expect(j.stderr).toContain('ERR_CONFIG_INVALID');
  });

  it('exits 3 with a clear message when speakerd is not running', async () => {
    const path = join(h.dir, 'absent.sock');
    const r = await ctl(['--socket', path, 'status']);
    expect(r).toMatchObject({ code: 3, stdout: '', stderr: `speakerctl: speakerd is not running (no socket at ${path})\n` });
  });

  it('takes the socket from --socket=PATH over the environment', async () => {
    const r = await ctl([`--socket=${h.path}`, 'ping'], { env: { SPEAKERD_CONTROL_SOCKET: '/nonexistent/x.sock' } });
    expect(r.code).toBe(0);
  });

  it('defaults to /run/speakerd/control.sock', () => {
    expect(parseArgv(['ping'], {}).options.socket).toBe('/run/speakerd/control.sock');
  });

  it('exits 4 when no reply comes in time', async () => {
    h.target.configSetGate = new Promise(() => {});
    const r = await ctl(['--timeout', '100', 'config', 'set', 'ai.voice', 'x']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/no reply to 'config_set' within 100 ms/);
  });

  it('exits 1 with ERR_TOO_MANY_CLIENTS when the daemon is full', async () => {
    await h.close();
    h = await startHarness({ maxClients: 1 });
    const ac = new AbortController();
    const holder = ctl(['events'], { signal: ac.signal });
    await waitUntil(() => h.server.subscriberCount === 1);
    const r = await ctl(['ping']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_TOO_MANY_CLIENTS');
    ac.abort();
    expect((await holder).code).toBe(0);
  });

  it('exits 130 when interrupted while waiting for a reply', async () => {
    h.target.configSetGate = new Promise(() => {});
    const ac = new AbortController();
    const run = ctl(['config', 'set', 'ai.voice', 'x'], { signal: ac.signal });
    await sleep(50);
    ac.abort();
    expect((await run).code).toBe(130);
  });
});

describe('speakerctl usage errors (exit 2)', () => {
  it.each([
    [[]],
    [['frobnicate']],
    [['--bogus', 'status']],
    [['--timeout', 'soon', 'status']],
    [['--socket']],
    [['status', 'now']],
    [['volume', 'loud']],
    [['volume', '101']],
    [['volume', '+101']],
    [['say']],
    [['config']],
    [['config', 'set', 'ai.voice']],
    [['config', 'get', 'bad key']],
    [['tool-result', 'call_1']],
    [['events', '--levels', '100']],
    [['events', 'weather']],
    [['watch', '--levels', '0']],
    [['watch', 'extra']],
  ])('%j', async (argv) => {
    const r = await ctl(argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^speakerctl: .+\n$/);
    expect(h.target.calls).toEqual([]);
  });

  it('--help prints the usage with the exit codes', async () => {
    const r = await ctl(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: speakerctl');
    expect(r.stdout).toContain('3 speakerd not running');
  });
});

describe('parseArgv', () => {
  it.each<[string[], Invocation]>([
    [['volume', '-5'], { kind: 'request', cmd: 'volume', args: { delta: -5 } }],
    [['--json', '--', 'ping'], { kind: 'request', cmd: 'ping', args: {} }],
    [['say', '--not-an-option'], { kind: 'request', cmd: 'say', args: { text: '--not-an-option' } }],
    [['config', 'set', 'leds.brightness', '0.5'], { kind: 'request', cmd: 'config_set', args: { key: 'leds.brightness', value: 0.5 } }],
    [['config', 'set', 'ai.voice', 'true'], { kind: 'request', cmd: 'config_set', args: { key: 'ai.voice', value: true } }],
    [['events'], { kind: 'events', args: {} }],
    [['events', '--levels=5', 'state', 'levels'], { kind: 'events', args: { events: ['state', 'levels'], levels: 5 } }],
    [['watch'], { kind: 'watch', levelsHz: 10 }],
    [['watch', '--levels', '25'], { kind: 'watch', levelsHz: 25 }],
  ])('%j', (argv, invocation) => {
    expect(parseArgv(argv, {}).invocation).toEqual(invocation);
  });

  it('reads --timeout', () => {
    expect(parseArgv(['--timeout', '250', 'ping'], {}).options).toMatchObject({ timeoutMs: 250, json: false });
    expect(() => parseArgv(['--timeout', '0', 'ping'], {})).toThrow(UsageError);
  });
});

describe('speakerctl events', () => {
  it('prints the snapshot and then each event as one JSON line until interrupted', async () => {
    const ac = new AbortController();
    const stdout = new Out();
    const run = ctl(['events'], { signal: ac.signal, stdout });
    await waitUntil(() => stdout.lines.length === 3);
    h.target.emit('transcript', { role: 'user', text: 'hi\nthere', final: true });
    h.target.setState('thinking');
    await waitUntil(() => stdout.lines.length === 5);
    ac.abort();
    const r = await run;
    expect(r.code).toBe(0);
    expect(stdout.lines.map((l) => JSON.parse(l))).toEqual([
      { event: 'state', data: { state: 'listening' } },
      { event: 'mute', data: { muted: false } },
      { event: 'volume', data: { volume: 50 } },
      { event: 'transcript', data: { role: 'user', text: 'hi\nthere', final: true } },
      { event: 'state', data: { state: 'thinking' } },
    ]);
  });

  it('filters events and adds levels at the asked rate', async () => {
    const ac = new AbortController();
    const stdout = new Out();
    const run = ctl(['events', '--levels', '50', 'state', 'levels'], { signal: ac.signal, stdout });
    await waitUntil(() => stdout.lines.filter((l) => l.includes('"levels"')).length >= 5);
    h.target.setVolume(3);
    h.target.setState('speaking');
    await waitUntil(() => stdout.text.includes('speaking'));
    ac.abort();
    expect((await run).code).toBe(0);
    const events = new Set(stdout.lines.map((l) => (JSON.parse(l) as { event: string }).event));
    expect([...events].sort()).toEqual(['levels', 'state']);
  });

  it('exits 4 when speakerd goes away', async () => {
    const run = ctl(['events']);
    await waitUntil(() => h.server.subscriberCount === 1);
    await h.server.close();
    const r = await run;
    expect(r.code).toBe(4);
    expect(r.stderr).toBe('speakerctl: speakerd closed the connection\n');
  });
});

describe('speakerctl watch', () => {
  it('prints plain lines when stdout is not a terminal', async () => {
    const ac = new AbortController();
    const stdout = new Out(false);
    const run = ctl(['watch', '--levels', '20'], { signal: ac.signal, stdout });
    await waitUntil(() => stdout.text.includes('volume 50'));
    h.target.emit('transcript', { role: 'user', text: 'turn on the lights', final: true });
    h.target.setMuted(true);
    await waitUntil(() => stdout.text.includes('muted\n') && stdout.text.includes('levels mic'));
    ac.abort();
    expect((await run).code).toBe(0);
    expect(stdout.text).not.toContain('\x1b');
    expect(stdout.lines).toEqual(
      expect.arrayContaining(['state listening', 'unmuted', 'volume 50', 'user: turn on the lights', 'muted', 'levels mic 12 speaker 200']),
    );
    expect(stdout.lines.filter((l) => l.startsWith('levels')).length).toBeLessThanOrEqual(2);
  });

  it('redraws in place on a terminal and restores the cursor at the end', async () => {
    const ac = new AbortController();
    const stdout = new Out(true, 60);
    const run = ctl(['watch', '--levels', '50'], { signal: ac.signal, stdout });
    await waitUntil(() => stdout.text.includes('\x1b[?25l'));
    h.target.emit('transcript', { role: 'assistant', text: 'Lights are on.', final: true });
    await sleep(120);
    ac.abort();
    expect((await run).code).toBe(0);
    expect(stdout.text.startsWith('\x1b[?25l')).toBe(true);
    expect(stdout.text.endsWith('\x1b[?25h')).toBe(true);
    expect(stdout.text).toMatch(/\x1b\[\d+F/);
    expect(stdout.text).toContain('Lights are on.');
    expect(stdout.text).toContain('speakerd  listening');
    expect(stdout.text).toContain('[###');
    const frames = stdout.text.split('\x1b[J');
    expect(frames.length).toBeGreaterThan(3);
    for (const line of stdout.text.split('\n')) expect(line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').length).toBeLessThanOrEqual(60);
  });
});
