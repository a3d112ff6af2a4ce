/**
 * Who may do what over the control socket (docs/security.md). Opening the socket at all is governed by
 * its mode and group; past that a peer, known by its SO_PEERCRED credentials, holds one level:
 *
 *   read     status, events, config_get, devices, version, ping
 *   control  + mute, volume, say, interrupt, talk_start/talk_end, connect/disconnect, tool results, config_set of 'control' keys
 *   admin    + config_set of 'admin' keys and the API key, reload
 *
 * Keys whose access is 'never' (files, devices, URLs, sockets, permissions, limits) are refused to
 * everybody: only the configuration files set them. Pure functions, table-tested.
 */
import { ControlError } from './errors.js';
import type { ControlRequest } from './protocol.js';

/** A peer's level, from least to most powerful. */
export type AccessLevel = 'read' | 'control' | 'admin';

/** Who may set a configuration key at run time (the schema's `access`). */
export type KeyAccessLevel = 'control' | 'admin' | 'never';

/** The pseudo-key that provisions the API key (admin only, write only). */
export const API_KEY_PSEUDO_KEY = 'ai.apiKey';

const RANK: Readonly<Record<AccessLevel, number>> = { read: 0, control: 1, admin: 2 };

/** Credentials of a peer (SO_PEERCRED). */
export interface PeerIdentity {
  uid: number;
  gid: number;
  pid: number;
}

/** What decides a peer's level. */
export interface AccessPolicy {
  /** Uids given 'admin' besides uid 0 and `daemonUid`. */
  adminUids: readonly number[];
  /** Uids allowed 'control'; undefined (with allowGids) = everyone who can open the socket. */
  allowUids?: readonly number[];
  /** Gids allowed 'control', like allowUids (either list admits). */
  allowGids?: readonly number[];
  /** The daemon's own uid (a process running as it can already write the daemon's files). */
  daemonUid: number;
}

/** The level of a peer. An unknown peer (credentials unreadable) may only read: access fails closed. */
export function peerLevel(policy: AccessPolicy, peer: PeerIdentity | null): AccessLevel {
  const listed = policy.allowUids !== undefined || policy.allowGids !== undefined;
  if (peer === null) return 'read';
  if (peer.uid === 0 || peer.uid === policy.daemonUid || policy.adminUids.includes(peer.uid)) return 'admin';
  if (!listed) return 'control';
  const allowed = (policy.allowUids?.includes(peer.uid) ?? false) || (policy.allowGids?.includes(peer.gid) ?? false);
  return allowed ? 'control' : 'read';
}

/** What a request needs: a level, or 'never' for a key no peer may set at run time. */
export type Requirement = { level: AccessLevel; key?: string } | { never: true; key: string };

/**
 * The level a request needs. `keyAccess` gives a configuration key's access (undefined for a key the
 * schema does not know: it needs 'control', and the target then answers ERR_UNKNOWN_KEY).
 */
export function requirementOf(request: ControlRequest, keyAccess: (key: string) => KeyAccessLevel | undefined): Requirement {
  switch (request.cmd) {
    case 'status':
    case 'subscribe':
    case 'unsubscribe':
    case 'config_get':
    case 'devices':
    case 'version':
    case 'ping':
      return { level: 'read' };
    case 'volume':
      return { level: request.value === undefined && request.delta === undefined ? 'read' : 'control' };
    case 'talk_start':
    case 'talk_end':
      return { level: 'control' };
    case 'reload':
      return { level: 'admin' };
    case 'config_set': {
      if (request.key === API_KEY_PSEUDO_KEY) return { level: 'admin', key: request.key };
      const access: unknown = keyAccess(request.key);
      if (access === 'never') return { never: true, key: request.key };
      return { level: access === 'admin' ? 'admin' : 'control', key: request.key };
    }
    default:
      return { level: 'control' };
  }
}

/** The ERR_FORBIDDEN refusal of a request, or null when `level` suffices. */
export function refusalOf(request: ControlRequest, requirement: Requirement, level: AccessLevel, peer: PeerIdentity | null): ForbiddenError | null {
  const who = peer === null ? 'an unidentified peer' : `uid ${peer.uid}`;
  if ('never' in requirement) {
    return new ForbiddenError(
      `'${requirement.key}' is never settable at run time: it names a file, device, URL, socket, permission or limit; set it in /etc/speakerd`,
      'never',
      requirement.key,
    );
  }
  if (RANK[level] >= RANK[requirement.level]) return null;
  const what = requirement.key === undefined ? `'${request.cmd}'` : `setting '${requirement.key}'`;
  return new ForbiddenError(`${what} needs the '${requirement.level}' level; ${who} has '${level}'`, requirement.level, requirement.key);
}

/** ERR_FORBIDDEN, carrying the key (if any) and the level it needs ('never' for keys nobody may set). */
export class ForbiddenError extends ControlError {
  constructor(
    message: string,
    readonly required: AccessLevel | 'never',
    readonly key?: string,
  ) {
    super('ERR_FORBIDDEN', message);
  }

  /** The wire form: `{code, message, required, key?}`. */
  override toWire(): { code: string; message: string; required: string; key?: string } {
    return { code: this.code, message: this.message, required: this.required, ...(this.key === undefined ? {} : { key: this.key }) };
  }
}
