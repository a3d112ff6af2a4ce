import type { Socket } from 'node:net';
import { loadNativeBinding } from '../media/native-binding.js';

/** Who is at the other end of a Unix socket connection. */
export interface Peer {
  uid: number;
  gid: number;
  pid: number;
}

/**
 * The peer's credentials (SO_PEERCRED, through the addon), or null when they cannot be read. Node
 * exposes no API for it, so the descriptor is taken from the socket's handle.
 */
export function unixPeer(socket: Socket): Peer | null {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  const read = loadNativeBinding().peerCredentials;
  if (typeof fd !== 'number' || fd < 0 || !read) return null;
  return read(fd);
}
