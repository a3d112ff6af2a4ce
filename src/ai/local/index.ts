import type { LocalPeer } from './connection.js';
import { ParrotPeer } from './parrot.js';

/** In-process services reachable as local://<name>. */
export const LOCAL_PEERS: Readonly<Record<string, () => LocalPeer>> = {
  parrot: () => new ParrotPeer(),
};
