import { isIP } from 'node:net';
import { Duplex } from 'node:stream';
import { nodeDefaultRoots, type DefaultRoots } from './default-roots.js';
import type { NativeBinding, NativeNetEvent, NativeNetLink, NativeUplinkOptions, NativeUplinkStats } from '../media/binding.js';

/** TLS of a NativeSocket (wss://); the roots default to those Node's TLS trusts (default-roots.ts), as `ws` uses. */
export interface NativeTlsOptions {
  /** Trusted roots replacing Node's (PEM), as `ca` does for tls.connect. */
  ca?: Buffer | string;
  /** Trusted besides Node's default roots when `ca` is not given (what $NODE_EXTRA_CA_CERTS adds to Node's). */
  extraCa?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  verify: boolean;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

/** Where a NativeSocket connects. */
export interface NativeSocketOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** SNI name (ws passes '' for an IP address). */
  servername?: string;
  tls?: NativeTlsOptions;
}

type WriteCallback = (error?: Error | null) => void;

const text = (value: Buffer | string | undefined): string | undefined => (value === undefined ? undefined : value.toString());

/** Node's default roots with the extra certificates added. */
const withExtra = (roots: DefaultRoots, extra: Buffer | string | undefined): DefaultRoots =>
  extra === undefined ? roots : { ...roots, ca: [...roots.ca, extra.toString()] };

/**
 * A Duplex stream over the addon's NetLink: the AI service's TCP (and TLS) connection on a native
 * thread. `ws` uses it as its socket (ClientOptions.createConnection) and does the WebSocket as
 * always; the link adds what JS cannot do cheaply: it sends the microphone itself between ws's
 * frames (attachUplink), so that the JS thread wakes only for the service's messages.
 * A write's callback runs once its bytes are in the kernel, so ws's bufferedAmount keeps its meaning.
 */
export class NativeSocket extends Duplex {
  private link: NativeNetLink | null = null;
  private readonly callbacks: WriteCallback[] = [];
  /** A write made while the address is being looked up. */
  private early: { data: Buffer; callback: WriteCallback } | null = null;
  private framed = false;
  private ended = false;
  /** What the uplink had done when the link was destroyed (its totals outlive it). */
  private finalStats: NativeUplinkStats | null = null;

  constructor(
    private readonly binding: NativeBinding,
    private readonly options: NativeSocketOptions,
  ) {
    super({ allowHalfOpen: false });
    const host = options.host.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host)) {
      queueMicrotask(() => this.open(host));
      return;
    }
    // node:dns is loaded only when a name is to be resolved, as net.connect does: loading it starts
    // c-ares (about 0.5 MB resident), which a daemon talking to an IP address or local:// never needs.
    import('node:dns').then(
      ({ lookup }) =>
        lookup(host, (error, address) => {
          if (this.destroyed) return;
          if (error) this.destroy(error);
          else this.open(address);
        }),
      (error: Error) => this.destroy(error),
    );
  }

  /** The stream is WebSocket frames from here on (call when the upgrade is done). */
  markFrames(): void {
    this.framed = true;
    this.link?.markFrames();
  }

  /** Sends the microphone of ring `port` natively; false when the link is not up. */
  attachUplink(engine: unknown, port: number, options: NativeUplinkOptions): boolean {
    if (!this.link || !this.framed || this.destroyed) return false;
    this.link.attachUplink(engine, port, options);
    return true;
  }

  /** Stops the native uplink; the ring is JS's again when this returns. */
  detachUplink(): void {
    this.link?.detachUplink();
  }

  /** What the native uplink did on this link (null before it connected; kept after it is destroyed). */
  uplinkStats(): NativeUplinkStats | null {
    return this.link ? this.link.uplinkStats() : this.finalStats;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  setTimeout(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.send(chunk, callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: WriteCallback): void {
    this.send(chunks.length === 1 ? (chunks[0] as { chunk: Buffer }).chunk : Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  override _read(): void {
    this.link?.setReading(true);
  }

  override _final(callback: WriteCallback): void {
    this.link?.end();
    this.ended = true;
    callback();
  }

  override _destroy(error: Error | null, callback: WriteCallback): void {
    if (this.link) this.finalStats = { ...this.link.uplinkStats(), attached: false };
    this.link?.destroy();
    this.link = null;
    const pending = this.callbacks.splice(0);
    const early = this.early;
    this.early = null;
    const failure = error ?? new Error('socket destroyed');
    for (const cb of pending) cb(failure);
    early?.callback(failure);
    callback(error);
  }

  private send(data: Buffer, callback: WriteCallback): void {
    if (!this.link) {
      this.early = { data, callback };
      return;
    }
    this.callbacks.push(callback);
    this.link.write(data);
  }

  private open(address: string): void {
    if (this.destroyed) return;
    const NetLink = this.binding.NetLink;
    if (!NetLink) {
      this.destroy(new Error('this addon has no NetLink'));
      return;
    }
    const tls = this.options.tls;
    const host = this.options.host.replace(/^\[(.*)\]$/, '$1');
    try {
      this.link = new NetLink(
        {
          address,
          port: this.options.port,
          connectTimeoutMs: this.options.connectTimeoutMs,
          ...(tls
            ? {
                tls: {
                  servername: this.options.servername ?? (isIP(host) ? '' : host),
                  host,
                  ...(tls.ca !== undefined ? { ca: [tls.ca.toString()] } : withExtra(nodeDefaultRoots(), tls.extraCa)),
                  ...(tls.cert !== undefined ? { cert: text(tls.cert) as string } : {}),
                  ...(tls.key !== undefined ? { key: text(tls.key) as string } : {}),
                  verify: tls.verify,
                  minVersion: tls.minVersion,
                },
              }
            : {}),
        },
        (type, payload) => this.onEvent(type, payload),
      );
    } catch (error) {
      this.destroy(error as Error);
      return;
    }
    if (this.framed) this.link.markFrames();
    const early = this.early;
    this.early = null;
    if (early) this.send(early.data, early.callback);
    if (this.ended) this.link.end();
  }

  private onEvent(type: NativeNetEvent, payload: unknown): void {
    if (this.destroyed) return;
    switch (type) {
      case 'connect':
        this.emit('connect');
        if (this.options.tls) this.emit('secureConnect');
        return;
      case 'data':
        if (!this.push(payload as Buffer)) this.link?.setReading(false);
        return;
      case 'written':
        for (let n = payload as number; n > 0; n--) this.callbacks.shift()?.();
        return;
      case 'end':
        this.push(null);
        return;
      case 'error': {
        const { code, message } = payload as { code: string; message: string };
        this.destroy(Object.assign(new Error(message), { code }));
        return;
      }
    }
  }
}
