import type { Frame } from './backend.js';
import type { MicAgePolicy } from './mic-age.js';

/** What the queue needs of a socket (a `ws` WebSocket, or AiConnection). */
export interface QueueSocket {
  readonly bufferedAmount: number;
  /** Age in ms of the oldest message the peer has not been proven to have read (absent: unknown, 0). */
  readonly uplinkLagMs?: number;
  /** `asText`: bytes that go out as a text frame (UTF-8 JSON framed natively), not a binary one. */
  send(data: Frame, callback: (error?: Error) => void, asText?: boolean): void;
}

/** Limits of the send queue. */
export interface SendQueueOptions {
  /** Audio messages kept waiting at most; older ones are dropped first. Default 50 (2 s of 40 ms batches). */
  maxAudioMessages: number;
  /** Bytes the socket may hold unsent before the queue stops handing it more. Default 256 KiB. */
  highWaterBytes: number;
  /** How old audio may be when it leaves (default: no limit). */
  micAge?: MicAgePolicy;
}

/** What comes with an audio message. */
export interface AudioMeta {
  /** When its last sample was captured, on the policy's clock (ms); without it the age is not checked. */
  capturedMs?: number;
  /** Runs once the socket has written it. */
  onSent?: () => void;
  /** The data is bytes of a text frame (see QueueSocket.send). */
  asText?: boolean;
}

interface Entry {
  data: Frame;
  audio: boolean;
  samples: number;
  capturedMs?: number;
  onSent?: () => void;
  asText?: boolean;
}

/**
 * One bounded queue in front of the socket. Messages go out in order while the socket's own buffer
 * (`bufferedAmount`) is below the high-water mark. Under back-pressure the oldest audio is dropped and
 * counted; with a MicAgePolicy, stale audio never leaves (dropped and counted as stale) and no audio
 * is handed over while the peer lags behind in reading. Control messages are
 * never dropped and keep their place in the order. Each message is handed to the socket whole, once.
 */
export class SendQueue {
  private entries: Entry[] = [];
  private audioCount = 0;
  private socket: QueueSocket | null = null;
  /** Audio messages dropped (back-pressure and stale), and the samples they held. */
  droppedMessages = 0;
  droppedSamples = 0;
  /** The part of the drops that was stale. */
  staleMessages = 0;
  staleSamples = 0;

  constructor(private readonly options: SendQueueOptions) {}

  /** Attaches the socket to send on (null when there is none); nothing queued is kept across sockets. */
  attach(socket: QueueSocket | null): void {
    this.socket = socket;
    this.entries = [];
    this.audioCount = 0;
  }

  /**
   * Queues one audio message holding `samples` samples, dropping the oldest audio when over the
   * limit; `meta.onSent` runs once the socket has written it.
   */
  pushAudio(data: Frame, samples: number, meta: AudioMeta = {}): void {
    this.entries.push({ data, audio: true, samples, ...meta });
    this.audioCount++;
    while (this.audioCount > this.options.maxAudioMessages) this.dropOldestAudio();
    this.pump();
  }

  /** Queues a control message (never dropped). */
  pushControl(data: Frame): void {
    this.entries.push({ data, audio: false, samples: 0 });
    this.pump();
  }

  /** Messages waiting. */
  get length(): number {
    return this.entries.length;
  }

  /** Hands the socket as much as it will take. */
  pump(): void {
    const socket = this.socket;
    if (!socket) return;
    this.dropStale();
    const policy = this.options.micAge;
    while (this.entries.length > 0 && socket.bufferedAmount < this.options.highWaterBytes) {
      const head = this.entries[0] as Entry;
      if (head.audio && policy?.mustHold(socket.uplinkLagMs ?? 0)) return;
      this.entries.shift();
      if (head.audio) this.audioCount--;
      socket.send(
        head.data,
        (error) => {
          if (!error) head.onSent?.();
          if (this.socket === socket) this.pump();
        },
        head.asText,
      );
    }
  }

  private dropStale(): void {
    const policy = this.options.micAge;
    if (!policy || this.audioCount === 0) return;
    const kept = this.entries.filter((e) => {
      if (!e.audio || e.capturedMs === undefined || !policy.isStale(e.capturedMs)) return true;
      this.audioCount--;
      this.droppedMessages++;
      this.droppedSamples += e.samples;
      this.staleMessages++;
      this.staleSamples += e.samples;
      return false;
    });
    if (kept.length !== this.entries.length) this.entries = kept;
  }

  private dropOldestAudio(): void {
    const index = this.entries.findIndex((e) => e.audio);
    if (index < 0) return;
    const [dropped] = this.entries.splice(index, 1);
    this.audioCount--;
    this.droppedMessages++;
    this.droppedSamples += dropped?.samples ?? 0;
  }
}
