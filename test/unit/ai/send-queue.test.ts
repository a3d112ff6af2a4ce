import { describe, expect, it } from 'vitest';
import { SendQueue, type QueueSocket } from '../../../src/ai/send-queue.js';
import { Backoff } from '../../../src/ai/backoff.js';

/** A socket whose buffer empties only when the test says so. */
class SlowSocket implements QueueSocket {
  bufferedAmount = 0;
  sent: string[] = [];
  private callbacks: (() => void)[] = [];
  send(data: string, callback: () => void): void {
    this.sent.push(data);
    this.bufferedAmount += data.length;
    this.callbacks.push(callback);
  }
  flush(): void {
    this.bufferedAmount = 0;
    for (const cb of this.callbacks.splice(0)) cb();
  }
}

describe('SendQueue', () => {
  it('sends in order while the socket is below the high-water mark', () => {
    const socket = new SlowSocket();
    const q = new SendQueue({ maxAudioMessages: 10, highWaterBytes: 1000 });
    q.attach(socket);
    q.pushControl('c1');
    q.pushAudio('a1', 960);
    expect(socket.sent).toEqual(['c1', 'a1']);
  });

  it('under back-pressure drops the oldest audio, never control, and counts it', () => {
    const socket = new SlowSocket();
    const q = new SendQueue({ maxAudioMessages: 2, highWaterBytes: 10 });
    q.attach(socket);
    q.pushAudio('x'.repeat(20), 960);
    q.pushControl('truncate');
    q.pushAudio('a2', 960);
    q.pushAudio('a3', 960);
    q.pushControl('cancel');
    q.pushAudio('a4', 960);
    expect(socket.sent).toHaveLength(1);
    expect(q.droppedMessages).toBe(1);
    expect(q.droppedSamples).toBe(960);
    socket.flush();
    socket.flush();
    socket.flush();
    expect(socket.sent.slice(1)).toEqual(['truncate', 'a3', 'cancel', 'a4']);
  });

  it('forgets what was queued for an old socket', () => {
    const old = new SlowSocket();
    const q = new SendQueue({ maxAudioMessages: 5, highWaterBytes: 1 });
    q.attach(old);
    q.pushAudio('aa', 1);
    q.pushAudio('bb', 1);
    const fresh = new SlowSocket();
    q.attach(fresh);
    old.flush();
    expect(fresh.sent).toEqual([]);
    expect(q.length).toBe(0);
  });
});

describe('Backoff', () => {
  it('doubles from min to max with jitter and resets', () => {
    const b = new Backoff({ minMs: 1000, maxMs: 30000, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6, 7].map(() => b.next())).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    b.reset();
    expect(b.next()).toBe(1000);
    const low = new Backoff({ minMs: 1000, maxMs: 30000, jitter: 0.2 }, () => 0);
    const high = new Backoff({ minMs: 1000, maxMs: 30000, jitter: 0.2 }, () => 0.999999);
    expect(low.next()).toBe(800);
    expect(high.next()).toBe(1200);
  });
});
