import { describe, expect, it } from 'vitest';
import { classifyConnectError, targetOf } from '../../../src/ai/connect-failure.js';
import { LinkTimers } from '../../../src/ai/link-timers.js';
import { MicAgePolicy } from '../../../src/ai/mic-age.js';
import { SendQueue, type QueueSocket } from '../../../src/ai/send-queue.js';
import { UplinkProbe } from '../../../src/ai/uplink-probe.js';

/** A socket that takes everything; its peer's reading lag is set by the test. */
class LaggingSocket implements QueueSocket {
  bufferedAmount = 0;
  uplinkLagMs = 0;
  sent: string[] = [];
  send(data: string, callback: () => void): void {
    this.sent.push(data);
    callback();
  }
}

describe('SendQueue with a MicAgePolicy', () => {
  it('never hands over audio older than the limit, counts it as stale, and keeps control messages', () => {
    let now = 0;
    const socket = new LaggingSocket();
    socket.bufferedAmount = 1000;
    const q = new SendQueue({ maxAudioMessages: 100, highWaterBytes: 10, micAge: new MicAgePolicy(500, () => now) });
    q.attach(socket);
    for (let i = 0; i < 25; i++) {
      now = i * 40;
      q.pushAudio(`a${i}`, 960, { capturedMs: now });
    }
    q.pushControl('commit');
    now = 1000;
    socket.bufferedAmount = 0;
    q.pump();
    expect(socket.sent[0]).toBe('a13');
    expect(socket.sent).toEqual([...Array.from({ length: 12 }, (_, k) => `a${k + 13}`), 'commit']);
    expect(q.staleMessages).toBe(13);
    expect(q.staleSamples).toBe(13 * 960);
    expect(q.droppedSamples).toBe(13 * 960);
  });

  it('holds audio (in order, control behind it) while the peer lags beyond the limit', () => {
    let now = 0;
    const socket = new LaggingSocket();
    const q = new SendQueue({ maxAudioMessages: 100, highWaterBytes: 1 << 20, micAge: new MicAgePolicy(500, () => now) });
    q.attach(socket);
    socket.uplinkLagMs = 600;
    q.pushAudio('a0', 960, { capturedMs: 0 });
    q.pushControl('truncate');
    expect(socket.sent).toEqual([]);
    socket.uplinkLagMs = 0;
    now = 200;
    q.pump();
    expect(socket.sent).toEqual(['a0', 'truncate']);
    socket.uplinkLagMs = 700;
    q.pushAudio('a1', 960, { capturedMs: 200 });
    now = 800;
    socket.uplinkLagMs = 0;
    q.pump();
    expect(socket.sent).toEqual(['a0', 'truncate']);
    expect(q.staleMessages).toBe(1);
  });
});

describe('UplinkProbe', () => {
  it('measures how long the oldest unread write has waited, and probes again only when one is due', () => {
    let now = 0;
    const pings: string[] = [];
    const probe = new UplinkProbe(
      (p) => pings.push(p),
      () => now,
      100,
    );
    expect(probe.lagMs()).toBe(0);
    probe.wrote();
    expect(pings).toEqual(['u1']);
    now = 40;
    probe.wrote();
    expect(pings).toEqual(['u1']);
    now = 80;
    expect(probe.lagMs()).toBe(80);
    expect(probe.pong('u1')).toBe(true);
    // The write at 40 is not covered yet, but the next probe is not due before 100.
    expect(pings).toEqual(['u1']);
    expect(probe.lagMs()).toBe(40);
    expect(probe.pong('k')).toBe(false);
    now = 100;
    expect(probe.lagMs()).toBe(60);
    expect(pings).toEqual(['u1', 'u2']);
    probe.pong('u2');
    expect(probe.lagMs()).toBe(0);
    // A stalled peer: the lag grows, at most one ping per interval.
    for (let t = 120; t <= 1000; t += 40) {
      now = t;
      probe.wrote();
    }
    expect(probe.lagMs()).toBe(880);
    expect(pings.length).toBeLessThanOrEqual(2 + 10);
  });

  it('a peer that answers at once costs one ping per interval, not one per write', () => {
    let now = 0;
    const pings: string[] = [];
    const probe = new UplinkProbe(
      (p) => pings.push(p),
      () => now,
      125,
    );
    for (let t = 0; t < 10000; t += 40) {
      now = t;
      probe.wrote();
      now = t + 1;
      const last = pings.at(-1);
      if (last) probe.pong(last);
      expect(probe.lagMs()).toBeLessThanOrEqual(125 + 40);
    }
    // 10 s of 40 ms batches: 250 writes, one probe per 125 ms at most.
    expect(pings.length).toBeLessThanOrEqual(81);
    expect(pings.length).toBeGreaterThanOrEqual(60);
  });
});

describe('LinkTimers', () => {
  it('a cleared owner never runs a timer, even one already due', async () => {
    const timers = new LinkTimers<'a' | 'b'>();
    let ran = 0;
    timers.set('a', 1, () => ran++);
    timers.set('b', 1, () => ran++);
    await new Promise((r) => setTimeout(r, 5));
    expect(ran).toBe(2);
    timers.set('a', 1, () => ran++);
    timers.clear();
    timers.set('b', 1, () => ran++);
    await new Promise((r) => setTimeout(r, 5));
    expect(ran).toBe(2);
  });
});

describe('classifyConnectError', () => {
  const target = targetOf('wss://api.example.com/v1/realtime');
  it.each([
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 1.2.3.4:443' }, 'ERR_AI_CONNECT_REFUSED', false],
    [{ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND api.example.com' }, 'ERR_AI_DNS', false],
    [{ code: 'EAI_AGAIN', message: 'getaddrinfo EAI_AGAIN api.example.com' }, 'ERR_AI_DNS', false],
    [{ code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' }, 'ERR_AI_TLS', true],
    [{ code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: "Hostname/IP does not match certificate's altnames" }, 'ERR_AI_TLS', true],
    [{ code: 'ERR_SSL_WRONG_VERSION_NUMBER', message: 'wrong version number' }, 'ERR_AI_TLS', false],
    [{ code: 'HPE_INVALID_CONSTANT', message: 'Parse Error: Expected HTTP/' }, 'ERR_AI_PROTOCOL', false],
    [{ message: 'Invalid Sec-WebSocket-Accept header' }, 'ERR_AI_PROTOCOL', false],
    [{ code: 'ECONNRESET', message: 'socket hang up' }, 'ERR_AI_NETWORK', false],
  ])('%o is %s', (error, code, fatal) => {
    const f = classifyConnectError(error, target);
    expect(f).toMatchObject({ code, fatal });
    expect(f.message).toContain('api.example.com');
  });

  it('says a certificate failure is a verification failure, and keys causes stably', () => {
    const a = classifyConnectError({ code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' }, target);
    expect(a.message).toMatch(/certificate verification failed for api\.example\.com:443/);
    expect(classifyConnectError({ code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' }, target).causeKey).toBe(a.causeKey);
  });
});
