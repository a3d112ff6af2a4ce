/**
 * Structured logs for journald: one line per record on stdout, prefixed with the syslog priority
 * journald reads (`<3>` error … `<7>` debug), then `component: message key=value ...`.
 *
 *   <6>ai: connected url=wss://api.openai.com/v1/realtime dialect=ga
 *   <4>audio: device lost device=plughw:0 error="No such device"
 *
 * Repeated records (same component and message) are rate limited: after `burst` (5) within
 * `intervalMs` (10 s) the rest are counted, and one "… repeated N more times" line follows when the
 * interval ends. Writing never blocks the event loop and stops silently when stdout is gone (EPIPE).
 */

import { createFdSink, type LogSink } from './log-sink.js';
import { RateLimiter, type Suppressed } from './log-rate.js';

/** Log levels, most verbose first. */
export type LogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error';

/** Syslog priority of each level, as journald reads it from a `<N>` prefix. */
export const PRIORITIES: Readonly<Record<LogLevel, number>> = { error: 3, warning: 4, notice: 5, info: 6, debug: 7 };

/** Extra key=value pairs of a record; undefined values are left out. */
export type LogFields = Record<string, unknown>;

/** A logger for one component; children share the level, the output and the rate limiter. */
export interface Logger {
  /** Component named on each line. */
  readonly component: string;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  notice(message: string, fields?: LogFields): void;
  warning(message: string, fields?: LogFields): void;
  /** Same as warning() (so a Logger is also an AiLogger). */
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  log(level: LogLevel, message: string, fields?: LogFields): void;
  /**
   * An audit record (who was refused or did what): written at 'notice' priority whatever the level,
   * and never rate limited, so no flood of other lines and no repetition can hide one.
   */
  audit(message: string, fields?: LogFields): void;
  /** A logger for `component` (a child of a child is named `parent.component`). */
  child(component: string): Logger;
  /** Changes the level of this logger and of every logger sharing its root. */
  setLevel(level: LogLevel): void;
  /** The least severe level written. */
  getLevel(): LogLevel;
  /** Replaces every occurrence of `secret` in later lines by "<redacted>" (defence in depth). */
  redact(secret: string): void;
  /** Writes pending "repeated" lines and, for the default stdout sink, what is queued (call before exit). */
  flush(): void;
}

/** Options of `createLogger()`. */
export interface LoggerOptions {
  /** Least severe level written, default 'info'. */
  level?: LogLevel;
  /** Where each line goes (with its newline); default a non-blocking writer on stdout. */
  write?: (line: string) => unknown;
  /** Component of the root logger, default 'speakerd'. */
  component?: string;
  /** Rate limit of repeated records, default {burst: 5, intervalMs: 10000}; false = none. */
  rateLimit?: { burst?: number; intervalMs?: number } | false;
  /** Monotonic clock in ms for the rate limiter, default performance.now. */
  now?: () => number;
}

function checkLevel(level: unknown): LogLevel {
  if (typeof level !== 'string' || !(level in PRIORITIES)) {
    throw new RangeError(`level must be one of ${Object.keys(PRIORITIES).join(', ')}, got ${String(level)}`);
  }
  return level as LogLevel;
}

const CONTROL = /[\u0000-\u001f\u007f]/g;

function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => JSON.stringify(c).slice(1, -1));
}

function valueText(value: unknown): string {
  if (value instanceof Error) {
    const code = (value as NodeJS.ErrnoException).code;
    return code ? `${code}: ${value.message}` : value.message;
  }
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/** Formats a value for `key=value`: quoted (JSON string syntax) when empty or holding spaces, quotes, `=` or control characters. */
export function formatValue(value: unknown): string {
  const text = valueText(value);
  const plain = typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint';
  return plain || (text !== '' && !/[\s"=\\\u0000-\u001f\u007f]/.test(text)) ? text : JSON.stringify(text);
}

/** Formats one record as its line (with the newline). */
export function formatRecord(level: LogLevel, component: string, message: string, fields?: LogFields): string {
  let line = `<${PRIORITIES[level]}>${component}: ${escapeControl(message)}`;
  for (const [key, value] of Object.entries(fields ?? {})) {
    if (value === undefined) continue;
    line += ` ${key.replace(/[^A-Za-z0-9_.-]/g, '_') || '_'}=${formatValue(value)}`;
  }
  return `${line}\n`;
}

/** What the loggers of one root share. */
class LogCore {
  threshold: number;
  private readonly limiter: RateLimiter | null;
  private readonly secrets = new Set<string>();
  private stopped = false;

  constructor(
    level: LogLevel,
    private readonly output: (line: string) => unknown,
    private readonly sink: LogSink | null,
    limits: { burst: number; intervalMs: number; now: () => number } | null,
  ) {
    this.threshold = PRIORITIES[level];
    this.limiter = limits && new RateLimiter(limits.burst, limits.intervalMs, limits.now, (s) => this.suppressed(s));
  }

  emit(level: LogLevel, component: string, message: string, fields?: LogFields): void {
    if (PRIORITIES[level] > this.threshold || this.stopped) return;
    if (this.limiter && !this.limiter.admit(component, message, level)) return;
    this.send(formatRecord(level, component, message, fields));
  }

  /** Writes an audit record: past the level threshold and the rate limiter (see Logger.audit). */
  emitAudit(component: string, message: string, fields?: LogFields): void {
    if (this.stopped) return;
    this.send(formatRecord('notice', component, message, fields));
  }

  private suppressed(s: Suppressed): void {
    if (this.stopped) return;
    const seconds = Math.round(s.intervalMs / 1000);
    this.send(formatRecord(s.level, s.component, `${s.message} … repeated ${s.count} more times in ${seconds} s`));
  }

  redact(secret: string): void {
    if (secret.length > 0) this.secrets.add(secret);
  }

  flush(): void {
    this.limiter?.flush();
    this.sink?.flushSync();
  }

  private send(line: string): void {
    for (const secret of this.secrets) line = line.split(secret).join('<redacted>');
    try {
      this.output(line);
    } catch (error) {
      // A broken pipe (the reader of stdout went away) stops logging for good; other failures drop the line.
      if ((error as NodeJS.ErrnoException).code === 'EPIPE') this.stopped = true;
    }
  }
}

class ComponentLogger implements Logger {
  constructor(
    private readonly core: LogCore,
    readonly component: string,
    private readonly isRoot: boolean,
  ) {}

  debug(message: string, fields?: LogFields): void {
    this.core.emit('debug', this.component, message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.core.emit('info', this.component, message, fields);
  }
  notice(message: string, fields?: LogFields): void {
    this.core.emit('notice', this.component, message, fields);
  }
  warning(message: string, fields?: LogFields): void {
    this.core.emit('warning', this.component, message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.core.emit('warning', this.component, message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.core.emit('error', this.component, message, fields);
  }
  log(level: LogLevel, message: string, fields?: LogFields): void {
    this.core.emit(checkLevel(level), this.component, message, fields);
  }
  audit(message: string, fields?: LogFields): void {
    this.core.emitAudit(this.component, message, fields);
  }
  child(component: string): Logger {
    if (typeof component !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(component)) {
      throw new TypeError('component must be 1-64 letters, digits, _ . or -');
    }
    return new ComponentLogger(this.core, this.isRoot ? component : `${this.component}.${component}`, false);
  }
  setLevel(level: LogLevel): void {
    this.core.threshold = PRIORITIES[checkLevel(level)];
  }
  getLevel(): LogLevel {
    return (Object.keys(PRIORITIES) as LogLevel[]).find((l) => PRIORITIES[l] === this.core.threshold) as LogLevel;
  }
  redact(secret: string): void {
    this.core.redact(secret);
  }
  flush(): void {
    this.core.flush();
  }
}

/** Creates a root logger (see the module comment for the line format and the rate limit). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = checkLevel(options.level ?? 'info');
  const sink = options.write ? null : createFdSink(1);
  const output = options.write ?? ((line: string) => sink?.write(line));
  const now = options.now ?? (() => performance.now());
  const limits = options.rateLimit === false ? null : { burst: 5, intervalMs: 10000, ...options.rateLimit, now };
  return new ComponentLogger(new LogCore(level, output, sink, limits), options.component ?? 'speakerd', true);
}
