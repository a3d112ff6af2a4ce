import { describe, expect, it, vi, afterEach } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLook, parseClock, boardFormat } from '../../../src/leds/spec.js';
import { isNight, msUntilNightChange } from '../../../src/leds/night.js';
import { renderLook } from '../../../src/leds/patterns.js';
import { loadBoardProfile, boardsDir } from '../../../src/leds/board.js';
import { readdirSync } from 'node:fs';
import { LedCompositor } from '../../../src/leds/compositor.js';
import type { LedOutput } from '../../../src/leds/output.js';

afterEach(() => vi.useRealTimers());

describe('looks, times and patterns', () => {
  it('parses looks and says what is wrong', () => {
    expect(parseLook('#00a0ff spin 1500')).toEqual({ color: [0, 160, 255], pattern: 'spin', periodMs: 1500 });
    expect(parseLook('red blink')).toEqual({ color: [255, 0, 0], pattern: 'blink', periodMs: 1000 });
    expect(parseLook('off').pattern).toBe('off');
    expect(() => parseLook('#12 solid')).toThrow(/not a colour/);
    expect(() => parseLook('red wobble')).toThrow(/not a pattern/);
    expect(() => parseLook('red blink 5')).toThrow(/100 to 60000/);
    expect(parseClock('22:30')).toBe(1350);
    expect(() => parseClock('24:00')).toThrow(/HH:MM/);
    expect(() => boardFormat('../x')).toThrow();
    expect(() => boardFormat('respeaker-2mic')).not.toThrow();
  });

  it('night windows wrap midnight and say when they next change', () => {
    const night = { mode: 'schedule' as const, start: 22 * 60, end: 7 * 60, brightness: 0.2 };
    expect(isNight(night, new Date(2026, 0, 1, 23, 0))).toBe(true);
    expect(isNight(night, new Date(2026, 0, 1, 6, 59))).toBe(true);
    expect(isNight(night, new Date(2026, 0, 1, 12, 0))).toBe(false);
    expect(msUntilNightChange(night, new Date(2026, 0, 1, 21, 0))).toBe(3600000);
    expect(msUntilNightChange({ ...night, mode: 'on' }, new Date())).toBeNull();
  });

  it('spins a head with a fading tail around a ring, and fills a level gauge', () => {
    const out = new Uint8Array(12 * 3);
    renderLook(parseLook('#ff0000 spin 1200'), 12, 300, 0, 1, out);
    expect(out[3 * 3]).toBe(255); // the head is at LED 3 after a quarter turn
    expect(out[2 * 3]).toBeGreaterThan(out[0] ?? 0);
    expect(out[4 * 3]).toBe(0);
    renderLook(parseLook('#ffffff level'), 12, 0, 0.5, 1, out);
    expect([...Array(12).keys()].map((i) => out[i * 3])).toEqual([255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0]);
  });

  it('wakes only for animations: nothing runs for a solid look, one timer per toggle for a blink', () => {
    vi.useFakeTimers();
    let t = 0;
    const writes: number[][] = [];
    const out: LedOutput = { driver: 'test', count: 1, kind: 'single', write: (f) => writes.push([...f]), close: async () => undefined };
    const solid = parseLook('#ffffff solid');
    const looks = {
      starting: solid,
      listening: solid,
      userSpeaking: solid,
      thinking: solid,
      speaking: solid,
      offline: solid,
      volume: solid,
      muted: solid,
      error: parseLook('#ff0000 blink 1000'),
    };
    const c = new LedCompositor(out, { looks, brightness: 1, fps: 30, night: { mode: 'off', start: 0, end: 0, brightness: 1 } }, { now: () => t });
    expect(vi.getTimerCount()).toBe(0);
    expect(writes).toHaveLength(1);
    c.setState('error');
    expect(vi.getTimerCount()).toBe(1);
    for (let i = 0; i < 4; i++) {
      t += 500;
      vi.advanceTimersByTime(500);
    }
    expect(writes.map((w) => w[0])).toEqual([255, 255, 0, 255, 0, 255]);
    c.setState('listening');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('board profiles', () => {
  it('loads every shipped profile', async () => {
    const names = readdirSync(boardsDir()).map((f) => f.replace(/\.json$/, ''));
    expect(names.sort()).toEqual(['gpio-leds', 'respeaker-2mic', 'respeaker-4mic', 'sysfs-rgb']);
    for (const name of names) expect((await loadBoardProfile(name)).leds).not.toBeNull();
    const p = await loadBoardProfile('respeaker-4mic');
    expect(p.leds).toMatchObject({ driver: 'apa102', device: '/dev/spidev0.1', count: 12, order: 'bgr', power: { line: 5 } });
  });

  it('names the field of a broken profile, and refuses an unknown name and a FIFO', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'speakerd-board-'));
    try {
      const write = (name: string, value: unknown): string => (writeFileSync(join(dir, name), JSON.stringify(value)), join(dir, name));
      await expect(loadBoardProfile(write('a.json', { name: 'x', leds: { driver: 'apa102', device: '/dev/spidev0.0', count: 0 } }))).rejects.toMatchObject({
        code: 'ERR_BOARD_PROFILE',
        message: expect.stringContaining('leds.count must be an integer from 1 to 256'),
      });
      await expect(
        loadBoardProfile(write('b.json', { name: 'x', buttons: { gpio: { chip: '/dev/gpiochip0', buttons: [{ line: 3, press: 'explode' }] } } })),
      ).rejects.toMatchObject({ message: expect.stringContaining('buttons.gpio.buttons[0].press must be one of') });
      await expect(loadBoardProfile(write('c.json', { name: 'x', leds: { driver: 'sysfs', leds: [{ name: '../../etc' }] } }))).rejects.toMatchObject({
        message: expect.stringContaining('leds.leds[0].name'),
      });
      writeFileSync(join(dir, 'd.json'), '{"name": ');
      await expect(loadBoardProfile(join(dir, 'd.json'))).rejects.toMatchObject({ code: 'ERR_BOARD_PROFILE', message: expect.stringContaining('JSON') });
      await expect(loadBoardProfile('no-such-board')).rejects.toMatchObject({
        code: 'ERR_BOARD_PROFILE',
        message: expect.stringContaining("no board profile 'no-such-board'"),
      });
      execFileSync('mkfifo', [join(dir, 'fifo.json')]);
      await expect(loadBoardProfile(join(dir, 'fifo.json'))).rejects.toMatchObject({ code: 'ERR_CONFIG_FILE', message: expect.stringContaining('is a FIFO') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
