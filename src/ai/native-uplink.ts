import type { AudioEngine } from '../media/engine.js';
import type { AudioMediaRing } from '../media/ring.js';
import type { AudioTemplate } from './backend.js';
import type { AiConnection } from './connection.js';
import type { LatencyWindow } from './latency.js';
import type { PortLimits } from './param.js';

/** How much later than its period a batch may reach the link and still carry a due probe (ms). */
const PROBE_SLACK_MS = 20;

/** What the native uplink sent and dropped, over every connection of the port. */
export interface NativeUplinkTotals {
  sentSamples: number;
  staleSamples: number;
  /** Capture-to-kernel latencies of the attached connection (ms), oldest first (earlier ones are in the port's window). */
  latencies: ArrayLike<number>;
}

/**
 * The AI port's microphone sent from the addon's thread (native/net/net_link.h): attached to a
 * connection the addon carries while the port would send every batch as it is (session ready,
 * server turn detection, the backend's audio template, no rate conversion), detached otherwise, so
 * that push-to-talk, rate-adapted audio and backends without a template keep the JS path. While
 * attached the JS thread neither reads the ring nor wakes per batch. What a detached link sent is
 * kept in the totals and its latencies in the port's window.
 */
export class NativeUplink {
  private connection: AiConnection | null = null;
  private readonly folded = { sentSamples: 0, staleSamples: 0 };

  constructor(
    private readonly engine: AudioEngine,
    private readonly ring: AudioMediaRing,
    private readonly template: AudioTemplate,
    private readonly limits: PortLimits,
    private readonly micToWire: LatencyWindow,
  ) {}

  /** Whether the addon sends the microphone now (the port must not read the ring then). */
  get active(): boolean {
    return this.connection !== null;
  }

  /** Attaches to `connection` when `wanted` (and it can), else detaches. */
  sync(connection: AiConnection | null, wanted: boolean): void {
    if (wanted && connection !== null && this.connection === connection) return;
    this.detach();
    if (!wanted || connection === null || this.ring.isDestroyed || this.engine.isClosed) return;
    const maxAgeMs = this.limits.maxMicAgeMs;
    const probeIntervalMs = Math.min(250, Math.max(10, maxAgeMs / 4));
    // Audio waits at most the interval for its probe, as on the JS path; in the last batch period (plus
    // scheduling slack) before that, the probe rides on a batch instead of waking the thread on its own.
    const batchMs = (this.ring.batchSamples * 1000) / this.ring.txRate;
    const probeGraceMs = Math.round(Math.min(batchMs + PROBE_SLACK_MS, probeIntervalMs));
    const attached = this.engine.call((native) =>
      connection.attachUplink(native, this.ring.portId, {
        prefix: this.template.prefix,
        suffix: this.template.suffix,
        batch: this.ring.batchSamples,
        maxAgeMs,
        highWaterBytes: this.limits.sendHighWaterBytes,
        probeIntervalMs,
        probeGraceMs,
      }),
    );
    if (attached) this.connection = connection;
  }

  /** Stops sending natively; what it sent goes into the totals. */
  detach(): void {
    const connection = this.connection;
    if (connection === null) return;
    this.connection = null;
    connection.detachUplink();
    const stats = connection.uplinkStats();
    if (!stats) return;
    this.folded.sentSamples += stats.sentSamples;
    this.folded.staleSamples += stats.staleSamples;
    for (const ms of stats.micToWireMs) this.micToWire.add(ms);
  }

  /** Totals so far, the attached connection's included (its figures read once). */
  totals(): NativeUplinkTotals {
    const current = this.connection?.uplinkStats() ?? null;
    return {
      sentSamples: this.folded.sentSamples + (current?.sentSamples ?? 0),
      staleSamples: this.folded.staleSamples + (current?.staleSamples ?? 0),
      latencies: current?.micToWireMs ?? [],
    };
  }
}
