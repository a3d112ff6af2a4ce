import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Debouncer, PressDetector, type ButtonOutcome } from '../../../src/buttons/press.js';
import { openButtons } from '../../../src/buttons/buttons.js';
import { FakeGpioChip } from '../../../src/buttons/gpio/fake.js';
import { parseButtonsProfile } from '../../../src/buttons/profile.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const timing = { longPressMs: 1000, repeatMs: 250, pushToTalk: false, debounceMs: 30 };

describe('press logic', () => {
  it('short press fires on release, long press once at the threshold, release after it nothing', () => {
    const out: ButtonOutcome[] = [];
    const p = new PressDetector<string>(timing, (o) => out.push(o));
    const b = { name: 'talk', press: 'interrupt' as const, long: 'reconnect' as const };
    p.down('a', b);
    vi.advanceTimersByTime(999);
    p.up('a');
    expect(out).toEqual([{ kind: 'action', action: 'interrupt', button: 'talk', long: false }]);
    p.down('a', b);
    vi.advanceTimersByTime(1000);
    expect(out[1]).toEqual({ kind: 'action', action: 'reconnect', button: 'talk', long: true });
    vi.advanceTimersByTime(5000);
    p.up('a');
    expect(out).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a volume button fires at once and repeats while held', () => {
    const out: ButtonOutcome[] = [];
    const p = new PressDetector<string>(timing, (o) => out.push(o));
    p.down('v', { name: 'KEY_VOLUMEUP', press: 'volume_up', repeat: true });
    expect(out).toHaveLength(1);
    vi.advanceTimersByTime(1000 + 250 * 3);
    p.up('v');
    expect(out).toHaveLength(5);
    vi.advanceTimersByTime(2000);
    expect(out).toHaveLength(5);
  });

  it('push-to-talk: hold and release', () => {
    const out: ButtonOutcome[] = [];
    const p = new PressDetector<string>({ ...timing, pushToTalk: true }, (o) => out.push(o));
    p.down('t', { name: 'talk', press: 'talk', long: 'reconnect' });
    vi.advanceTimersByTime(3000);
    p.up('t');
    expect(out).toEqual([
      { kind: 'talk', held: true, button: 'talk' },
      { kind: 'talk', held: false, button: 'talk' },
    ]);
  });

  it('debounce ignores contact bounce shorter than the window', () => {
    const seen: boolean[] = [];
    const d = new Debouncer(false, 30, (v) => seen.push(v));
    for (let i = 0; i < 5; i++) {
      d.edge(true);
      vi.advanceTimersByTime(3);
      d.edge(false);
      vi.advanceTimersByTime(3);
    }
    d.edge(true);
    vi.advanceTimersByTime(29);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([true]);
    d.edge(false);
    vi.advanceTimersByTime(10);
    d.edge(true);
    vi.advanceTimersByTime(100);
    expect(seen).toEqual([true]);
  });
});

describe('GPIO buttons on a fake chip', () => {
  it('debounced presses, a long press, and the mute switch read at start and on change', async () => {
    const chip = new FakeGpioChip();
    chip.levels.set(26, false); // active low: switch closed to ground = muted
    const profile = parseButtonsProfile({
      gpio: {
        chip: '/dev/gpiochip0',
        buttons: [{ line: 17, activeLow: true, bias: 'pull-up', press: 'talk', long: 'reconnect' }],
        muteSwitch: { line: 26, activeLow: true },
      },
    });
    chip.levels.set(17, true);
    const outcomes: ButtonOutcome[] = [];
    const switches: boolean[] = [];
    const errors: Error[] = [];
    const buttons = await openButtons(
      profile,
      timing,
      { outcome: (o) => outcomes.push(o), muteSwitch: (m) => switches.push(m), error: (e) => errors.push(e) },
      () => chip,
    );
    expect(buttons.sources).toEqual(['gpio /dev/gpiochip0']);
    expect(switches).toEqual([true]);
    chip.drive(17, false); // pressed (active low), with bounce
    vi.advanceTimersByTime(2);
    chip.drive(17, true);
    vi.advanceTimersByTime(2);
    chip.drive(17, false);
    vi.advanceTimersByTime(30);
    vi.advanceTimersByTime(200);
    chip.drive(17, true);
    vi.advanceTimersByTime(30);
    expect(outcomes).toEqual([{ kind: 'action', action: 'talk', button: 'line 17', long: false }]);
    chip.drive(17, false);
    vi.advanceTimersByTime(30 + 1000);
    expect(outcomes[1]).toMatchObject({ action: 'reconnect', long: true });
    chip.drive(26, true);
    vi.advanceTimersByTime(30);
    expect(switches).toEqual([true, false]);
    await buttons.close();
    expect(chip.held.size).toBe(0);
    expect(errors).toEqual([]);
  });

  it('a missing chip is reported once and nothing opens', async () => {
    const chip = new FakeGpioChip();
    chip.missing = true;
    const errors: Error[] = [];
    const profile = parseButtonsProfile({ gpio: { chip: '/dev/gpiochip9', buttons: [{ line: 1, press: 'mute' }] } });
    const buttons = await openButtons(profile, timing, { outcome: () => undefined, muteSwitch: () => undefined, error: (e) => errors.push(e) }, () => chip);
    expect(buttons.sources).toEqual([]);
    expect(errors.map((e) => (e as Error & { code: string }).code)).toEqual(['ERR_GPIO']);
  });
});
