/** What speakerctl writes to and reads from, injectable for tests; and its exit codes. */

/** Exit codes of speakerctl (documented in docs/control-protocol.md). */
export const EXIT = {
  /** The command succeeded (or events/watch ended by a signal). */
  ok: 0,
  /** speakerd replied with an error (its code and message go to stderr). */
  errorReply: 1,
  /** The command line is wrong. */
  usage: 2,
  /** speakerd is not running: no socket at the path, or nobody listening on it. */
  notRunning: 3,
  /** No usable reply: timeout, permission denied, connection closed or dropped, malformed reply. */
  noReply: 4,
  /** A one-shot command was interrupted (SIGINT/SIGTERM) before its reply. */
  interrupted: 130,
} as const;

/** A writable text stream (process.stdout or a test's collector). */
export interface CtlOutput {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** The environment speakerctl runs in. */
export interface CtlIo {
  stdout: CtlOutput;
  stderr: CtlOutput;
  env: NodeJS.ProcessEnv;
  /** Aborting ends `events`/`watch` (exit 0) and interrupts a waiting command (exit 130). */
  signal?: AbortSignal;
}

/** Resolves when `signal` aborts (never when there is none). */
export function aborted(signal: AbortSignal | undefined): Promise<'aborted'> {
  return new Promise((resolve) => {
    if (signal === undefined) return;
    if (signal.aborted) resolve('aborted');
    else signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
}
