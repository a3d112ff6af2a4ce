import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditTrail } from '../../../src/control/audit-trail.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('AuditTrail', () => {
  it('writes a burst per uid in full, then one summary per window that still names the uid, the commands and the counts', () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const trail = new AuditTrail({ write: (l) => lines.push(l), burst: 3, windowMs: 10000 });
    for (let i = 0; i < 1000; i++) trail.record('uid=1001', "refused 'mute'", `control: refused 'mute' from uid=1001 pid=${i}`);
    for (let i = 0; i < 5; i++) trail.record('uid=1001', "'volume'", `control: 'volume' from uid=1001 pid=9`);
    trail.record('uid=1002', "'mute'", "control: 'mute' from uid=1002 pid=7");
    expect(lines).toEqual([
      "control: refused 'mute' from uid=1001 pid=0",
      "control: refused 'mute' from uid=1001 pid=1",
      "control: refused 'mute' from uid=1001 pid=2",
      "control: 'mute' from uid=1002 pid=7",
    ]);
    vi.advanceTimersByTime(10000);
    expect(lines.at(-1)).toBe("control: uid=1001: 1002 more records in 10 s: refused 'mute' x997, 'volume' x5");
    // A new window starts afresh.
    trail.record('uid=1001', "'mute'", "control: 'mute' from uid=1001 pid=1");
    expect(lines.at(-1)).toBe("control: 'mute' from uid=1001 pid=1");
  });

  it('writes what it holds on flush (at shutdown)', () => {
    const lines: string[] = [];
    const trail = new AuditTrail({ write: (l) => lines.push(l), burst: 1 });
    trail.record('uid=5', 'a', 'first');
    trail.record('uid=5', 'a', 'second');
    trail.flush();
    expect(lines).toEqual(['first', 'control: uid=5: 1 more records in 10 s: a x1']);
  });
});
