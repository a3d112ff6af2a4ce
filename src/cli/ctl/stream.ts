/**
 * The long-running speakerctl commands: `events` (NDJSON until interrupted) and `watch` (a live view,
 * redrawn in place on a terminal, plain lines otherwise).
 */
import type { ControlClient } from '../../control/client.js';
import type { EventMessage, Reply } from '../../control/protocol.js';
import { aborted, EXIT, type CtlIo } from './io.js';
import { redraw, WatchView } from './watch-view.js';

/** How often `watch` asks for the status to follow the echo canceller (delay estimate, ERLE). */
const AEC_POLL_MS = 1000;

/** Minimum time between two plain `levels` lines of a non-terminal `watch`. */
const PLAIN_LEVELS_INTERVAL_MS = 1000;

function closed(client: ControlClient): Promise<'closed'> {
  return new Promise((resolve) => {
    if (client.closed) resolve('closed');
    else client.once('close', () => resolve('closed'));
  });
}

function errorReply(reply: Reply, io: CtlIo): number {
  if (reply.ok) return EXIT.ok;
  io.stderr.write(`speakerctl: ${reply.error.code}: ${reply.error.message}\n`);
  return EXIT.errorReply;
}

/** Waits for the end: a signal (exit 0) or the daemon closing the connection (exit 4). */
async function untilEnd(client: ControlClient, io: CtlIo, dropped: () => string | null): Promise<number> {
  const end = await Promise.race([aborted(io.signal), closed(client)]);
  if (end === 'aborted') return EXIT.ok;
  const reason = dropped();
  io.stderr.write(`speakerctl: ${reason === null ? 'speakerd closed the connection' : `dropped by speakerd: ${reason}`}\n`);
  return EXIT.noReply;
}

function droppedReason(e: EventMessage): string {
  return String(e.data.reason ?? 'no reason given');
}

/** `speakerctl events`: subscribes with `args` and prints each event as one JSON line. */
export async function runEvents(client: ControlClient, args: Record<string, unknown>, io: CtlIo): Promise<number> {
  let dropped: string | null = null;
  client.on('event', (e: EventMessage) => {
    if (e.event === 'dropped') dropped = droppedReason(e);
    io.stdout.write(`${JSON.stringify(e)}\n`);
  });
  const code = errorReply(await client.request('subscribe', args), io);
  if (code !== EXIT.ok) return code;
  return untilEnd(client, io, () => dropped);
}

/** `speakerctl watch`: a live view of state, mute, volume, transcripts and levels. */
export async function runWatch(client: ControlClient, levelsHz: number, io: CtlIo): Promise<number> {
  const view = new WatchView();
  const tty = io.stdout.isTTY === true;
  let dropped: string | null = null;
  let lastPlainLevels = 0;
  client.on('event', (e: EventMessage) => {
    if (e.event === 'dropped') dropped = droppedReason(e);
    const line = view.apply(e);
    if (tty) return;
    if (line !== null) io.stdout.write(`${line}\n`);
    else if (e.event === 'levels' && Date.now() - lastPlainLevels >= PLAIN_LEVELS_INTERVAL_MS) {
      lastPlainLevels = Date.now();
      io.stdout.write(`${view.levelsLine()}\n`);
    }
  });
  const status = await client.request('status');
  if (status.ok) view.applyStatus(status.result);
  const code = errorReply(await client.request('subscribe', { levels: levelsHz }), io);
  if (code !== EXIT.ok) return code;
  if (!tty && view.aec !== null) io.stdout.write(`echo canceller ${view.aec}\n`);
  // The echo canceller's delay estimate and ERLE have no event: they are polled.
  const poll = setInterval(() => {
    client.request('status').then(
      (r) => {
        if (!r.ok) return;
        const line = view.applyAecStatus(r.result);
        if (!tty && line !== null) io.stdout.write(`${line}\n`);
      },
      () => undefined,
    );
  }, AEC_POLL_MS);
  try {
    return await watchUntilEnd(client, io, tty, view, levelsHz, () => dropped);
  } finally {
    clearInterval(poll);
  }
}

async function watchUntilEnd(client: ControlClient, io: CtlIo, tty: boolean, view: WatchView, levelsHz: number, dropped: () => string | null): Promise<number> {
  if (!tty) return untilEnd(client, io, dropped);
  let drawn = 0;
  const draw = (): void => {
    const lines = view.render(io.stdout.columns || 80);
    io.stdout.write(redraw(lines, drawn));
    drawn = lines.length;
  };
  io.stdout.write('\x1b[?25l');
  draw();
  const timer = setInterval(draw, 1000 / levelsHz);
  try {
    return await untilEnd(client, io, dropped);
  } finally {
    clearInterval(timer);
    draw();
    io.stdout.write('\x1b[?25h');
  }
}
