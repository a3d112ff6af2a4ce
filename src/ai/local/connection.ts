import { EventEmitter } from 'node:events';
import type { Frame } from '../backend.js';

/** An in-process peer that speaks a backend's protocol (no network). */
export interface LocalPeer {
  /** Called once when the link opens; `send` delivers a message to the port. */
  start(send: (message: string) => void): void;
  /** A message from the port. */
  receive(message: string): void;
  stop(): void;
}

/**
 * A link to an in-process peer with the same surface as a WebSocket connection ('open', 'message',
 * 'close', send(), bufferedAmount), so the port's policy runs unchanged for local backends.
 * Messages cross asynchronously in both directions, as they would over a socket.
 */
export class LocalConnection extends EventEmitter {
  private open = false;
  private closed = false;

  constructor(private readonly peer: LocalPeer) {
    super();
    setImmediate(() => {
      if (this.closed) return;
      this.open = true;
      this.emit('open');
      peer.start((message) => setImmediate(() => this.open && this.emit('message', message)));
    });
  }

  /** Nothing is ever buffered. */
  get bufferedAmount(): number {
    return 0;
  }

  /** Whether the link is open. */
  get isOpen(): boolean {
    return this.open;
  }

  /** Hands one message to the peer. */
  send(frame: Frame, callback: (error?: Error) => void): void {
    const data = typeof frame === 'string' ? frame : Buffer.from(frame).toString('utf8');
    if (!this.open) {
      callback(new Error('link not open'));
      return;
    }
    setImmediate(() => {
      if (this.open) this.peer.receive(data);
      callback();
    });
  }

  /** Closes the link. */
  close(code = 1000, reason = ''): void {
    this.finish(code, reason);
  }

  /** Closes the link at once. */
  terminate(): void {
    this.finish(1006, 'terminated');
  }

  private finish(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.open = false;
    this.peer.stop();
    setImmediate(() => this.emit('close', { code, reason }));
  }
}
