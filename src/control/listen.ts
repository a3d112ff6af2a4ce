/**
 * Getting the control socket to listen: the socket systemd hands over (socket activation), or a socket
 * file created with tight permissions, after a stale file left by a crash has been removed safely.
 */
import { readFileSync } from 'node:fs';
import { chmod, chown, lstat, unlink } from 'node:fs/promises';
import { connect, type Server } from 'node:net';
import { ControlError } from './errors.js';

/** First file descriptor systemd passes (SD_LISTEN_FDS_START). */
export const LISTEN_FDS_START = 3;

/** How long a probe of an existing socket file may take before it counts as answered (in use). */
const PROBE_TIMEOUT_MS = 1000;

/**
 * The fd handed over by systemd socket activation, or null: LISTEN_PID must be this process and
 * LISTEN_FDS at least 1. With several fds the first is used (the unit should pass one).
 */
export function activationFd(env: NodeJS.ProcessEnv, pid: number): number | null {
  if (env.LISTEN_PID === undefined || env.LISTEN_FDS === undefined) return null;
  if (!/^\d+$/.test(env.LISTEN_PID) || Number(env.LISTEN_PID) !== pid) return null;
  if (!/^\d+$/.test(env.LISTEN_FDS) || Number(env.LISTEN_FDS) < 1) return null;
  return LISTEN_FDS_START;
}

/** Removes the activation variables so that children do not think the fds are theirs (sd_listen_fds(1)). */
export function forgetActivation(env: NodeJS.ProcessEnv): void {
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
}

type Probe = 'stale' | 'gone' | 'alive';

function probe(path: string): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const done = (result: Probe | Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const timer = setTimeout(() => done('alive'), PROBE_TIMEOUT_MS);
    socket.once('connect', () => done('alive'));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') done('stale');
      else if (error.code === 'ENOENT') done('gone');
      else if (error.code === 'EAGAIN') done('alive');
      else done(new ControlError('ERR_SOCKET_PATH', `cannot check the existing socket ${path}: ${error.message}`));
    });
  });
}

/**
 * Makes `path` free for a new socket: nothing there is fine; a socket nobody listens on (left by a
 * crash: connecting is refused) is removed; a socket something answers on, or any file that is not a
 * socket, is left alone and reported (ERR_SOCKET_IN_USE, ERR_SOCKET_PATH).
 */
export async function clearStaleSocket(path: string): Promise<'absent' | 'removed'> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw new ControlError('ERR_SOCKET_PATH', `cannot inspect ${path}: ${(error as Error).message}`);
  }
  if (!isSocket) throw new ControlError('ERR_SOCKET_PATH', `${path} exists and is not a socket; refusing to replace it`);
  const state = await probe(path);
  if (state === 'alive') {
    throw new ControlError('ERR_SOCKET_IN_USE', `another process is listening on ${path} (is speakerd already running?)`);
  }
  if (state === 'gone') return 'absent';
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw new ControlError('ERR_SOCKET_PATH', `cannot remove the stale socket ${path}: ${error.message}`);
  });
  return 'removed';
}

/** A group's gid: a number as is, a numeric string as a number, a name looked up in /etc/group. */
export function resolveGroup(group: number | string, groupFile = '/etc/group'): number {
  if (typeof group === 'number') return group;
  if (/^\d+$/.test(group)) return Number(group);
  let text: string;
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch (error) {
    throw new ControlError('ERR_SOCKET_PATH', `cannot read ${groupFile} to find group '${group}': ${(error as Error).message}`);
  }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new ControlError('ERR_SOCKET_PATH', `group '${group}' is not in ${groupFile}`);
}

/**
 * Listens and resolves once listening. `around` wraps the synchronous listen() call (Node binds a
 * Unix socket inside it), so a temporary umask never outlives the bind.
 */
function listenOn(server: Server, target: string | { fd: number }, around: (bind: () => void) => void = (b) => b()): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    around(() =>
      server.listen(target, () => {
        server.off('error', onError);
        resolve();
      }),
    );
  });
}

/*
 * ┌────────────────────────────────────────────────────────────────────────────────────────────┐
 * │ Workaround: Node cannot give a Unix socket its mode at bind() time, so the file would      │
 * │ exist with the umask's mode until chmod(). The umask is narrowed for the synchronous bind  │
 * │ only, the technique of docker/go-connections                                               │
 * │ (https://github.com/docker/go-connections/pull/75). A file that a libuv worker thread      │
 * │ creates in that instant gets owner-only bits: stricter, never laxer.                       │
 * └────────────────────────────────────────────────────────────────────────────────────────────┘
 */
function withUmask(mask: number): (bind: () => void) => void {
  return (bind) => {
    let previous: number | null = null;
    try {
      previous = process.umask(mask);
    } catch {
      previous = null; // process.umask cannot be set in worker threads: the chmod that follows still applies
    }
    try {
      bind();
    } finally {
      if (previous !== null) process.umask(previous);
    }
  };
}

/** Listens on the fd systemd passed; the unit's SocketMode/SocketGroup set the permissions. */
export function listenOnFd(server: Server, fd: number): Promise<void> {
  return listenOn(server, { fd });
}

/**
 * Creates the socket file at `path` (which must be free) and gives it `mode` and `group`. The file is
 * created owner-only (umask 0177) so it is never more open than asked, even for a moment.
 *
 * ┌────────────────────────────────────────────────────────────────────────────────────────────┐
 * │ Closing the server removes the file: libuv unlinks a bound pipe's path in                  │
 * │ uv__pipe_close (https://github.com/libuv/libuv/blob/v1.x/src/unix/pipe.c),                 │
 * │ unconditionally, so close() does not remove the file itself.                               │
 * └────────────────────────────────────────────────────────────────────────────────────────────┘
 */
export async function listenOnPath(server: Server, path: string, mode: number, group: number | string | undefined): Promise<void> {
  const gid = group === undefined ? undefined : resolveGroup(group);
  try {
    await listenOn(server, path, withUmask(0o177));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ControlError('ERR_SOCKET_IN_USE', `${path} was taken by another process while starting`);
    throw new ControlError('ERR_SOCKET_PATH', `cannot listen on ${path}: ${(error as Error).message}`);
  }
  try {
    await chmod(path, mode);
    if (gid !== undefined) await chown(path, -1, gid);
  } catch (error) {
    server.close(); // also removes the file
    throw new ControlError('ERR_SOCKET_PATH', `cannot set the permissions of ${path}: ${(error as Error).message}`);
  }
}
