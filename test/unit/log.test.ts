import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, formatValue, type LoggerOptions } from '../../src/system/log.js';
import { createFdSink, ignoreEpipe } from '../../src/system/log-sink.js';
import { PassThrough } from 'node:stream';

function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const log = createLogger({ write: (line) => lines.push(line), ...options });
  return { log, lines };
}

describe('format', () => {
  it('prefixes each level with the syslog priority journald reads', () => {
    const { log, lines } = capture({ level: 'debug' });
    log.error('e');
    log.warning('w');
    log.warn('w2');
    log.notice('n');
    log.info('i');
    log.debug('d');
    log.log('info', 'via log');
    expect(lines).toEqual([
      '<3>speakerd: e\n',
      '<4>speakerd: w\n',
      '<4>speakerd: w2\n',
      '<5>speakerd: n\n',
      '<6>speakerd: i\n',
      '<7>speakerd: d\n',
      '<6>speakerd: via log\n',
    ]);
  });

  it('writes key=value fields, quoting values with spaces, quotes, = or control characters', () => {
    const { log, lines } = capture();
    const err = Object.assign(new Error('No such device'), { code: 'ERR_DEVICE_LOST' });
    log.info('device lost', {
      device: 'plughw:0',
      retry: 3,
      ok: false,
      reason: 'no such device',
      empty: '',
      eq: 'a=b',
      q: 'say "hi"',
      err,
      skip: undefined,
      n: null,
      obj: { a: 1 },
    });
    expect(lines).toEqual([
      '<6>speakerd: device lost device=plughw:0 retry=3 ok=false reason="no such device" empty="" eq="a=b" q="say \\"hi\\"" err="ERR_DEVICE_LOST: No such device" n=null obj="{\\"a\\":1}"\n',
    ]);
  });

  it('keeps each record on one line', () => {
    const { log, lines } = capture();
    log.error('first\nsecond', { text: 'a\nb', 'bad key': 1 });
    expect(lines).toEqual(['<3>speakerd: first\\nsecond text="a\\nb" bad_key=1\n']);
    expect(lines[0]?.split('\n')).toHaveLength(2);
  });

  it('formats single values', () => {
    expect(formatValue('plain')).toBe('plain');
    expect(formatValue('two words')).toBe('"two words"');
    expect(formatValue(1.5)).toBe('1.5');
    expect(formatValue(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe('components and levels', () => {
  it('names children by component, and a child of a child by both', () => {
    const { log, lines } = capture({ component: 'speakerd' });
    const ai = log.child('ai');
    ai.info('connected');
    ai.child('openai').warning('slow');
    expect(lines).toEqual(['<6>ai: connected\n', '<4>ai.openai: slow\n']);
    expect(ai.component).toBe('ai');
    expect(() => log.child('bad name')).toThrow(TypeError);
  });

  it('drops records below the level; setLevel on any logger changes all of them', () => {
    const { log, lines } = capture({ level: 'notice' });
    const audio = log.child('audio');
    audio.info('hidden');
    audio.debug('hidden');
    audio.notice('shown');
    audio.setLevel('debug');
    expect(log.getLevel()).toBe('debug');
    log.debug('now shown');
    log.setLevel('error');
    audio.warning('hidden');
    audio.error('shown');
    expect(lines).toEqual(['<5>audio: shown\n', '<7>speakerd: now shown\n', '<3>audio: shown\n']);
  });

  it('rejects unknown levels', () => {
    expect(() => createLogger({ level: 'verbose' as never, write: () => undefined })).toThrow(RangeError);
    const { log } = capture();
    expect(() => log.setLevel('trace' as never)).toThrow(RangeError);
  });

  it('redacts registered secrets from every later line', () => {
    const { log, lines } = capture();
    log.redact('sk-secret');
    log.child('ai').error('handshake failed for sk-secret', { header: 'Bearer sk-secret' });
    expect(lines).toEqual(['<3>ai: handshake failed for <redacted> header="Bearer <redacted>"\n']);
  });
});

describe('rate limiting', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('after 5 repeats within 10 s, suppresses the rest and later writes one "repeated" line', () => {
    const { log, lines } = capture({ now: () => Date.now() });
    const audio = log.child('audio');
    for (let i = 0; i < 42; i++) audio.warning('device lost', { attempt: i });
    audio.warning('another message');
    log.warning('device lost');
    expect(lines).toHaveLength(7);
    expect(lines.slice(0, 5).every((l) => l.startsWith('<4>audio: device lost attempt='))).toBe(true);
    vi.advanceTimersByTime(9999);
    expect(lines).toHaveLength(7);
    vi.advanceTimersByTime(1);
    expect(lines[7]).toBe('<4>audio: device lost … repeated 37 more times in 10 s\n');
    audio.warning('device lost', { attempt: 42 });
    expect(lines[8]).toBe('<4>audio: device lost attempt=42\n');
  });

  it('does not suppress records spread out over time', () => {
    const { log, lines } = capture({ now: () => Date.now() });
    for (let i = 0; i < 20; i++) {
      log.error('tick');
      vi.advanceTimersByTime(2500);
    }
    expect(lines.filter((l) => l === '<3>speakerd: tick\n').length).toBeGreaterThanOrEqual(16);
  });

  it('reports the most severe suppressed level, and flush() writes pending summaries at once', () => {
    const { log, lines } = capture({ now: () => Date.now(), rateLimit: { burst: 2, intervalMs: 1000 } });
    log.info('flap');
    log.info('flap');
    log.info('flap');
    log.error('flap');
    log.flush();
    expect(lines).toEqual(['<6>speakerd: flap\n', '<6>speakerd: flap\n', '<3>speakerd: flap … repeated 2 more times in 1 s\n']);
  });

  it('can be turned off', () => {
    const { log, lines } = capture({ rateLimit: false });
    for (let i = 0; i < 50; i++) log.info('same');
    expect(lines).toHaveLength(50);
  });
});

describe('broken output', () => {
  it('stops writing silently after EPIPE, and survives other write errors', () => {
    let calls = 0;
    const log = createLogger({
      write: () => {
        calls++;
        throw Object.assign(new Error(calls === 1 ? 'EIO' : 'EPIPE'), { code: calls === 1 ? 'EIO' : 'EPIPE' });
      },
    });
    expect(() => log.info('a')).not.toThrow();
    expect(() => log.info('b')).not.toThrow();
    expect(() => log.info('c')).not.toThrow();
    expect(calls).toBe(2);
  });
});

describe('ignoreEpipe', () => {
  it('swallows EPIPE on a stream and passes other errors on', () => {
    const stream = new PassThrough();
    const remove = ignoreEpipe(stream);
    expect(() => stream.emit('error', Object.assign(new Error('EPIPE'), { code: 'EPIPE' }))).not.toThrow();
    expect(() => stream.emit('error', Object.assign(new Error('EIO'), { code: 'EIO' }))).toThrow('EIO');
    remove();
    expect(stream.listenerCount('error')).toBe(0);
  });
});

describe('fd sink (a real pipe)', () => {
  let dir: string;
  let fifo: string;
  let reader: number;
  let writer: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'speakerd-log-'));
    fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    writer = openSync(fifo, constants.O_WRONLY);
  });
  afterEach(() => {
    for (const fd of [reader, writer]) {
      try {
        closeSync(fd);
      } catch {
        // already closed by the test
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const readAll = (): string => {
    const chunks: Buffer[] = [];
    const buffer = Buffer.alloc(65536);
    for (;;) {
      try {
        const n = readSync(reader, buffer);
        if (n === 0) break;
        chunks.push(Buffer.from(buffer.subarray(0, n)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw error;
      }
    }
    return Buffer.concat(chunks).toString();
  };
  const until = async (done: () => boolean): Promise<void> => {
    for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
  };

  it('writes lines in order without blocking while the reader is slow', async () => {
    const sink = createFdSink(writer);
    const line = `<6>test: ${'x'.repeat(100)}\n`;
    const started = performance.now();
    for (let i = 0; i < 3000; i++) sink.write(line.replace('x', String(i % 10)));
    expect(performance.now() - started).toBeLessThan(500);
    let received = '';
    await until(() => {
      received += readAll();
      return received.length >= line.length * 3000;
    });
    const lines = received.split('\n').slice(0, -1);
    expect(lines).toHaveLength(3000);
    expect(lines.every((l, i) => l.startsWith(`<6>test: ${i % 10}`))).toBe(true);
    expect(sink.dropped).toBe(0);
  });

  it('drops lines beyond its queue, and says so once the reader catches up', async () => {
    const sink = createFdSink(writer, { maxQueuedBytes: 4096 });
    for (let i = 0; i < 2000; i++) sink.write(`<6>test: line ${i} ${'y'.repeat(100)}\n`);
    expect(sink.dropped).toBeGreaterThan(0);
    let received = '';
    await until(() => {
      received += readAll();
      return received.includes('log lines dropped');
    });
    expect(received).toContain(`<4>log: ${sink.dropped} log lines dropped (stdout too slow)\n`);
  });

  it('stops silently when the reader goes away (EPIPE)', async () => {
    const sink = createFdSink(writer);
    closeSync(reader);
    const log = createLogger({ write: (l) => sink.write(l) });
    log.info('into a broken pipe');
    await until(() => sink.stopped);
    expect(sink.stopped).toBe(true);
    expect(() => log.info('more')).not.toThrow();
    expect(() => sink.flushSync()).not.toThrow();
  });

  it('flushSync writes what is queued at once', () => {
    const sink = createFdSink(writer);
    sink.write('<6>a: one\n');
    sink.write('<6>a: two\n');
    sink.flushSync();
    expect(readAll()).toContain('<6>a: two\n');
  });
});

describe('audit records', () => {
  it('are written whatever the level, never rate limited, and still redacted', () => {
    const { log, lines } = capture({ level: 'error', rateLimit: { burst: 2, intervalMs: 60000 } });
    const audit = log.child('audit');
    log.redact('sk-secret');
    for (let i = 0; i < 50; i++) audit.audit("control: refused 'config_set' key=ai.url from uid=1001", { note: i === 0 ? 'sk-secret' : undefined });
    for (let i = 0; i < 50; i++) log.info('ordinary');
    expect(lines).toHaveLength(50);
    expect(lines[0]).toBe("<5>audit: control: refused 'config_set' key=ai.url from uid=1001 note=<redacted>\n");
    expect(lines.every((l) => l.startsWith('<5>audit: control: refused'))).toBe(true);
  });
});
