/** Options of the control server, their defaults, and their validation. */
import type { Socket } from 'node:net';
import { peerLevel, type AccessLevel, type KeyAccessLevel } from './access.js';
import type { ControlTarget } from './target.js';

/** Credentials of the process at the other end of a connection (SO_PEERCRED). */
export interface PeerCredentials {
  uid: number;
  gid: number;
  pid: number;
}

/** Where the control server reports; `audit` is the trail of changes and refusals (never rate limited). */
export interface ControlLogger {
  info(message: string): void;
  warn(message: string): void;
  /** Default: info(). */
  audit?(message: string): void;
}

/** Options of ControlServer.start(). */
export interface ControlServerOptions {
  /** Path of the socket file (`control.socket`, default `/run/speakerd/control.sock` in the daemon). */
  path: string;
  /** What the socket drives. */
  target: ControlTarget;
  /** Permission bits of the socket file. Default 0o660. */
  mode?: number;
  /** Group of the socket file, a gid or a name from /etc/group. Default: left as created. */
  group?: number | string;
  /** Clients connected at once; one more gets ERR_TOO_MANY_CLIENTS and is closed. Default 64. */
  maxClients?: number;
  /** Longest request line in bytes, newline excluded. Default 65536. */
  maxLineBytes?: number;
  /** Requests of one client awaiting their reply; more get ERR_TOO_MANY_PENDING. Default 32. */
  maxPendingPerClient?: number;
  /** Unsent output a client may have before it is dropped (a stalled subscriber). Default 1 MiB. */
  subscriberBufferBytes?: number;
  /** Time an asynchronous command (config_set, reload) may take before ERR_TIMEOUT. Default 30000 ms. */
  commandTimeoutMs?: number;
  /**
   * Uids given the 'control' level (docs/security.md); others get 'read'. Omitted (with `allowGids`) =
   * everyone who can open the socket has 'control'.
   */
  allowUids?: number[];
  /** Gids given the 'control' level, like `allowUids` (either list admits). */
  allowGids?: number[];
  /** Uids given the 'admin' level besides uid 0 and `daemonUid`. Default []. */
  adminUids?: number[];
  /** The daemon's own uid, an admin. Default process.getuid(). */
  daemonUid?: number;
  /** Who may set a configuration key at run time; undefined = an unknown key. Default: every key 'admin'. */
  keyAccess?: (key: string) => KeyAccessLevel | undefined;
  /** A client that sends nothing for this long and is not subscribed is closed (ERR_IDLE). Default 60000 ms. */
  idleTimeoutMs?: number;
  /** Clients one uid may have connected at once (admins excepted). Default a quarter of maxClients, at least 1. */
  maxClientsPerUid?: number;
  /** Slots of maxClients kept for admins. Default 2 (0 when maxClients < 4). */
  adminReservedSlots?: number;
  /** Refused requests (ERR_FORBIDDEN) after which a client is dropped. Default 16. */
  maxRefusals?: number;
  /** Expensive commands (devices, reload) one uid may run in a burst; then one per `expensiveRefillMs`. Default 3. */
  expensiveBurst?: number;
  /** Time for one more expensive command to be allowed, in ms. Default 2000. */
  expensiveRefillMs?: number;
  /** Mutating commands one (non-admin) uid may run in a burst; then one per `mutatingRefillMs`. Default 40. */
  mutatingBurst?: number;
  /** Time for one more mutating command to be allowed, in ms. Default 50 (20 a second). */
  mutatingRefillMs?: number;
  /** After a client of a (non-admin) uid was dropped for refusals, that uid may not connect for this long, in ms. Default 10000. */
  penaltyMs?: number;
  /*
   * ┌──────────────────────────────────────────────────────────────────────────────────────────┐
   * │ Workaround: Node has no API for SO_PEERCRED                                              │
   * │ (https://man7.org/linux/man-pages/man7/unix.7.html), so peer credentials come from this  │
   * │ hook, and the default one knows nothing (returns null).                                  │
   * └──────────────────────────────────────────────────────────────────────────────────────────┘
   */
  /**
   * Reads the peer's credentials ({uid, gid, pid}) once per connection. Default: returns null, so the
   * peer is unknown and may only read (status, events). The daemon plugs in the addon's
   * getsockopt(SO_PEERCRED).
   */
  peerCredentials?: (socket: Socket) => PeerCredentials | null;
  /** Listen on the socket systemd hands over (LISTEN_PID/LISTEN_FDS) when there is one. Default true. */
  socketActivation?: boolean;
  /** Environment read for socket activation. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default: warnings to stderr, info discarded. */
  logger?: ControlLogger;
}

/** Options with every default applied. */
export type ResolvedOptions = Required<Omit<ControlServerOptions, 'group' | 'allowUids' | 'allowGids'>> &
  Pick<ControlServerOptions, 'group' | 'allowUids' | 'allowGids'> & { logger: Required<ControlLogger> };

/** Defaults of the limits (documented in docs/control-protocol.md). */
export const CONTROL_DEFAULTS = {
  mode: 0o660,
  maxClients: 64,
  maxLineBytes: 65536,
  maxPendingPerClient: 32,
  subscriberBufferBytes: 1024 * 1024,
  commandTimeoutMs: 30000,
  idleTimeoutMs: 60000,
  maxRefusals: 16,
  expensiveBurst: 3,
  expensiveRefillMs: 2000,
  mutatingBurst: 40,
  mutatingRefillMs: 50,
  penaltyMs: 10000,
} as const;

const defaultLogger: ControlLogger = {
  info: () => {},
  warn: (m) => process.stderr.write(`speakerd control: ${m}\n`),
};

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer`);
  return v;
}

function idList(name: string, list: number[] | undefined): void {
  if (list === undefined) return;
  if (!Array.isArray(list) || list.some((id) => !Number.isSafeInteger(id) || id < 0)) {
    throw new TypeError(`${name} must be an array of non-negative integers`);
  }
}

/** Checks the options and applies the defaults; throws TypeError/RangeError naming the bad option. */
export function resolveOptions(options: ControlServerOptions): ResolvedOptions {
  if (typeof options.path !== 'string' || options.path.length === 0) throw new TypeError('path must be a non-empty string');
  if (options.target === null || typeof options.target !== 'object') throw new TypeError('target is required');
  const mode = options.mode ?? CONTROL_DEFAULTS.mode;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) throw new RangeError('mode must be from 0 to 0o777');
  const group = options.group;
  if (group !== undefined && !(typeof group === 'string' ? group.length > 0 : Number.isSafeInteger(group) && group >= 0)) {
    throw new TypeError('group must be a gid or a group name');
  }
  idList('allowUids', options.allowUids);
  idList('allowGids', options.allowGids);
  idList('adminUids', options.adminUids);
  const maxClients = positiveInt('maxClients', options.maxClients, CONTROL_DEFAULTS.maxClients);
  const reserved = options.adminReservedSlots ?? (maxClients < 4 ? 0 : 2);
  if (!Number.isSafeInteger(reserved) || reserved < 0 || reserved >= maxClients) throw new RangeError('adminReservedSlots must be from 0 to maxClients - 1');
  const logger = options.logger ?? defaultLogger;
  return {
    ...options,
    mode,
    maxClients,
    adminReservedSlots: reserved,
    maxClientsPerUid: positiveInt('maxClientsPerUid', options.maxClientsPerUid, Math.max(1, Math.floor(maxClients / 4))),
    adminUids: options.adminUids ?? [],
    daemonUid: options.daemonUid ?? process.getuid?.() ?? 0,
    keyAccess: options.keyAccess ?? (() => 'admin'),
    idleTimeoutMs: positiveInt('idleTimeoutMs', options.idleTimeoutMs, CONTROL_DEFAULTS.idleTimeoutMs),
    maxRefusals: positiveInt('maxRefusals', options.maxRefusals, CONTROL_DEFAULTS.maxRefusals),
    expensiveBurst: positiveInt('expensiveBurst', options.expensiveBurst, CONTROL_DEFAULTS.expensiveBurst),
    expensiveRefillMs: positiveInt('expensiveRefillMs', options.expensiveRefillMs, CONTROL_DEFAULTS.expensiveRefillMs),
    mutatingBurst: positiveInt('mutatingBurst', options.mutatingBurst, CONTROL_DEFAULTS.mutatingBurst),
    mutatingRefillMs: positiveInt('mutatingRefillMs', options.mutatingRefillMs, CONTROL_DEFAULTS.mutatingRefillMs),
    penaltyMs: positiveInt('penaltyMs', options.penaltyMs, CONTROL_DEFAULTS.penaltyMs),
    maxLineBytes: positiveInt('maxLineBytes', options.maxLineBytes, CONTROL_DEFAULTS.maxLineBytes),
    maxPendingPerClient: positiveInt('maxPendingPerClient', options.maxPendingPerClient, CONTROL_DEFAULTS.maxPendingPerClient),
    subscriberBufferBytes: positiveInt('subscriberBufferBytes', options.subscriberBufferBytes, CONTROL_DEFAULTS.subscriberBufferBytes),
    commandTimeoutMs: positiveInt('commandTimeoutMs', options.commandTimeoutMs, CONTROL_DEFAULTS.commandTimeoutMs),
    peerCredentials: options.peerCredentials ?? (() => null),
    socketActivation: options.socketActivation ?? true,
    env: options.env ?? process.env,
    logger: { info: logger.info.bind(logger), warn: logger.warn.bind(logger), audit: (logger.audit ?? logger.info).bind(logger) },
  };
}

/** The access level of a peer under these options (see access.ts). */
export function levelOf(options: ResolvedOptions, peer: PeerCredentials | null): AccessLevel {
  return peerLevel(options, peer);
}
