/** What the queue needs of a socket (a `ws` WebSocket). */
export interface QueueSocket {
  readonly bufferedAmount: number;
  send(data: string, callback: (error?: Error) => void): void;
}

/** Limits of the send queue. */
export interface SendQueueOptions {
  /** Audio messages kept waiting at most; older ones are dropped first. Default 50 (2 s of 40 ms batches). */
  maxAudioMessages: number;
  /** Bytes the socket may hold unsent before the queue stops handing it more. Default 256 KiB. */
  highWaterBytes: number;
}

interface Entry {
  data: string;
  audio: boolean;
  samples: number;
  onSent?: () => void;
}

/**
 * One bounded queue in front of the socket. Messages go out in order while the socket's own buffer
 * (`bufferedAmount`) is below the high-water mark. Under back-pressure the oldest audio is dropped and
 * counted; control messages are never dropped. Each message is handed to the socket whole, once.
 */
export class SendQueue {
  private entries: Entry[] = [];
  private audioCount = 0;
  private socket: QueueSocket | null = null;
  /** Audio messages dropped under back-pressure, and the samples they held. */
  droppedMessages = 0;
  droppedSamples = 0;

  constructor(private readonly options: SendQueueOptions) {}

  /** Attaches the socket to send on (null when there is none); nothing queued is kept across sockets. */
  attach(socket: QueueSocket | null): void {
    this.socket = socket;
    this.entries = [];
    this.audioCount = 0;
  }

  /**
   * Queues one audio message holding `samples` samples, dropping the oldest audio when over the
   * limit; `onSent` runs once the socket has written it.
   */
  pushAudio(data: string, samples: number, onSent?: () => void): void {
    this.entries.push(onSent ? { data, audio: true, samples, onSent } : { data, audio: true, samples });
    this.audioCount++;
    while (this.audioCount > this.options.maxAudioMessages) this.dropOldestAudio();
    this.pump();
  }

  /** Queues a control message (never dropped). */
  pushControl(data: string): void {
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
    while (socket && this.entries.length > 0 && socket.bufferedAmount < this.options.highWaterBytes) {
      const entry = this.entries.shift() as Entry;
      if (entry.audio) this.audioCount--;
      socket.send(entry.data, (error) => {
        if (!error) entry.onSent?.();
        if (this.socket === socket) this.pump();
      });
    }
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
