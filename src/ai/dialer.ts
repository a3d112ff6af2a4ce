/**
 * Making one connection to the service: the backend's connection plan (possibly asynchronous: a signed
 * URL, an ephemeral token), the TLS files read anew for each connection (certificates get renewed) off
 * the event loop, then the socket, or the in-process peer of a local:// URL.
 */
import type { NativeBinding } from '../media/binding.js';
import type { AiBackend, ConnectionPlan } from './backend.js';
import { AiConnection } from './connection.js';
import { LocalConnection } from './local/connection.js';
import { LOCAL_PEERS } from './local/index.js';
import type { PortLimits } from './param.js';
import { readTlsFiles, type TlsMaterial } from './tls-files.js';
import type { AiLogger, TlsSettings } from './types.js';

/** A connection being opened (its 'open', 'message', 'uplink' and 'close' events follow). */
export type Link = AiConnection | LocalConnection;

/** Why no connection could be started, by step: each is reported and retried differently. */
export type DialFailure =
  /** prepareConnection() threw: the backend cannot connect with these parameters at all. */
  | { step: 'plan'; error: Error }
  /** An asynchronous connect step failed (a signed URL, a token): retried on the backoff. */
  | { step: 'prepare'; error: Error }
  /** A TLS file cannot be used: a configuration problem, retried slowly. */
  | { step: 'tls'; error: Error & { code?: string } };

/** What a dial needs besides the URL and key. */
export interface DialerOptions {
  limits: PortLimits;
  logger: AiLogger;
  /** The addon, whose NetLink carries the sockets when `limits.nativeSocket` (absent: Node's). */
  binding?: NativeBinding;
}

/** Starts connections for one port. */
export class Dialer {
  constructor(private readonly options: DialerOptions) {}

  /**
   * Starts a connection to `url` with `token`; `isCurrent` is asked after each asynchronous step, and
   * a dial no longer current settles with null (nothing is left open). `onStarted` receives the link
   * the moment it exists; `onFailed` a failure. Synchronous when every step is.
   */
  dial(
    backend: AiBackend,
    target: { url: string; token: string | null; tls: TlsSettings | undefined; signal: AbortSignal },
    isCurrent: () => boolean,
    onStarted: (link: Link) => void,
    onFailed: (failure: DialFailure) => void,
  ): void {
    let planned: ConnectionPlan | Promise<ConnectionPlan>;
    try {
      planned = backend.prepareConnection({ url: target.url, token: target.token, signal: target.signal });
    } catch (error) {
      onFailed({ step: 'plan', error: error as Error });
      return;
    }
    const withPlan = (plan: ConnectionPlan): void => this.withTls(plan, target.tls, isCurrent, onStarted, onFailed);
    if (!(planned instanceof Promise)) {
      withPlan(planned);
      return;
    }
    planned.then(
      (plan) => isCurrent() && withPlan(plan),
      (error: Error) => isCurrent() && onFailed({ step: 'prepare', error }),
    );
  }

  private withTls(
    plan: ConnectionPlan,
    tls: TlsSettings | undefined,
    isCurrent: () => boolean,
    onStarted: (link: Link) => void,
    onFailed: (failure: DialFailure) => void,
  ): void {
    // The addon's socket does not see Node's extra roots: it is given them from $NODE_EXTRA_CA_CERTS.
    const extraCaFile = this.options.limits.nativeSocket && this.options.binding?.NetLink ? process.env.NODE_EXTRA_CA_CERTS || undefined : undefined;
    if (!plan.url.startsWith('wss:') || !(tls?.caFile || tls?.certFile || tls?.keyFile || extraCaFile)) {
      onStarted(this.start(plan, tls, undefined));
      return;
    }
    const extraCa = extraCaFile
      ? { file: extraCaFile, onError: (error: Error) => this.options.logger.warn(`ignoring NODE_EXTRA_CA_CERTS: ${error.message}`) }
      : undefined;
    readTlsFiles(tls, extraCa).then(
      (material) => isCurrent() && onStarted(this.start(plan, tls, material)),
      (error: Error & { code?: string }) => isCurrent() && onFailed({ step: 'tls', error }),
    );
  }

  private start(plan: ConnectionPlan, tls: TlsSettings | undefined, tlsMaterial: TlsMaterial | undefined): Link {
    const local = plan.url.startsWith('local://') ? LOCAL_PEERS[new URL(plan.url).hostname] : undefined;
    if (local) return new LocalConnection(local());
    const binding = this.options.limits.nativeSocket ? this.options.binding : undefined;
    return new AiConnection(plan, {
      ...this.options.limits,
      tls,
      ...(tlsMaterial ? { tlsMaterial } : {}),
      ...(binding ? { binding } : {}),
      logger: this.options.logger,
    });
  }
}
