import { afterEach, describe, expect, it, vi } from 'vitest';
import { StatePersister } from '../../../src/service/persistence.js';

afterEach(() => {
  vi.useRealTimers();
});

function log() {
  const lines: string[] = [];
  return {
    lines,
    log: { info: (m: string) => lines.push(`info ${m}`), warning: (m: string) => lines.push(`warning ${m}`), error: (m: string) => lines.push(`error ${m}`) },
  };
}

describe('StatePersister', () => {
  it('retries a failed save until it lands, logging the failure once and the recovery once', async () => {
    vi.useFakeTimers();
    let failures = 3;
    const saved: number[] = [];
    let volume = 10;
    const { lines, log: l } = log();
    const p = new StatePersister(
      async (s) => {
        if (failures-- > 0) throw new Error('ENOSPC');
        saved.push(s.volume);
      },
      () => ({ volume, muted: false }),
      l,
      1000,
    );
    p.persist();
    volume = 20;
    for (let i = 0; i < 5; i++) await vi.advanceTimersByTimeAsync(1000);
    expect(saved).toEqual([20]);
    expect(lines).toEqual(['error cannot save the state (will try again): ENOSPC', 'info the state file is written again']);
  });

  it('does not retry after the final save, and reports that one failing', async () => {
    vi.useFakeTimers();
    const { lines, log: l } = log();
    let calls = 0;
    const p = new StatePersister(
      async () => {
        calls++;
        throw new Error('EROFS');
      },
      () => ({ volume: 1, muted: true }),
      l,
      100,
    );
    await p.final();
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(1);
    expect(lines).toEqual(['error cannot save the state: EROFS']);
  });
});
