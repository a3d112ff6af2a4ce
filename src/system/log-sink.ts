/**
 * A log sink that never blocks the event loop: lines are queued (bounded) and written to a file
 * descriptor with asynchronous `fs.write`, one write at a time, in order. When stdout is a pipe whose
 * reader went away (EPIPE) or the descriptor is gone, the sink stops writing, silently.
 */

import { write as fsWrite, writeSync } from 'node:fs';

/** Where log lines go. */
export interface LogSink {
  /** Queues one line (with its newline); drops it when the queue is full or the sink has stopped. */
  write(line: string): void;
  /** Writes what is queued synchronously (at exit). A write already in flight may land after it. */
  flushSync(): void;
  /** Lines dropped because the queue was full. */
  readonly dropped: number;
  /** True once the descriptor failed (EPIPE, EBADF...); nothing is written after that. */
  readonly stopped: boolean;
}

/** Options of `createFdSink()`. */
export interface FdSinkOptions {
  /** Bytes queued at most while the reader is slow, default 1 MiB; further lines are dropped and counted. */
  maxQueuedBytes?: number;
}

const RETRY_MS = 10;

/** A non-blocking sink writing to `fd` (default 1, stdout). */
export function createFdSink(fd = 1, options: FdSinkOptions = {}): LogSink {
  const maxQueuedBytes = options.maxQueuedBytes ?? 1024 * 1024;
  let queue: Buffer[] = [];
  let queuedBytes = 0;
  let writing = false;
  let stopped = false;
  let dropped = 0;
  let reportedDrops = 0;

  const stop = (): void => {
    stopped = true;
    queue = [];
    queuedBytes = 0;
  };
  const kick = (): void => {
    if (writing || stopped || queue.length === 0) return;
    if (dropped > reportedDrops) {
      queue.push(Buffer.from(`<4>log: ${dropped - reportedDrops} log lines dropped (stdout too slow)\n`));
      reportedDrops = dropped;
    }
    const chunk = Buffer.concat(queue);
    queue = [];
    queuedBytes = 0;
    writing = true;
    fsWrite(fd, chunk, 0, chunk.length, null, (error, written) => {
      writing = false;
      if (error && error.code === 'EAGAIN') {
        requeue(chunk);
        setTimeout(kick, RETRY_MS).unref();
        return;
      }
      if (error) return stop();
      if (written < chunk.length) requeue(chunk.subarray(written));
      kick();
    });
  };
  const requeue = (rest: Buffer): void => {
    if (stopped) return;
    queue.unshift(rest);
    queuedBytes += rest.length;
  };

  return {
    write(line: string): void {
      if (stopped) return;
      const buffer = Buffer.from(line);
      if (queuedBytes + buffer.length > maxQueuedBytes) {
        dropped++;
        return;
      }
      queue.push(buffer);
      queuedBytes += buffer.length;
      kick();
    },
    flushSync(): void {
      if (stopped) return;
      const chunk = Buffer.concat(queue);
      queue = [];
      queuedBytes = 0;
      let offset = 0;
      try {
        while (offset < chunk.length) offset += writeSync(fd, chunk, offset);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') requeue(chunk.subarray(offset));
        else stop();
      }
    },
    get dropped(): number {
      return dropped;
    },
    get stopped(): boolean {
      return stopped;
    },
  };
}

/**
 * Makes a stream (default process.stdout) ignore EPIPE instead of crashing the process with an
 * unhandled 'error' event, for code that prints with console.log or stream.write (`--print-config |
 * head`). Other errors are rethrown as before. Returns a function that removes the handler.
 */
export function ignoreEpipe(stream: NodeJS.WritableStream = process.stdout): () => void {
  const onError = (error: NodeJS.ErrnoException): void => {
    if (error.code !== 'EPIPE') {
      stream.off('error', onError);
      stream.emit('error', error);
    }
  };
  stream.on('error', onError);
  return () => stream.off('error', onError);
}
