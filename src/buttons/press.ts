/**
 * Turns raw press/release of buttons into actions: a short press fires `press` on release; holding
 * past `longPressMs` fires `long` once (and the release fires nothing); a repeating button (volume)
 * fires `press` at once and then every `repeatMs` after `longPressMs` while held; 'talk' in
 * push-to-talk mode is a hold: start on press, end on release. Timers only run while a button is held.
 */
import type { ButtonAction, ButtonBinding } from './profile.js';

/** Timing of presses (`buttons.*`). */
export interface PressTiming {
  longPressMs: number;
  repeatMs: number;
  pushToTalk: boolean;
}

/** What the press logic reports: an action, or the start/end of a push-to-talk hold. */
export type ButtonOutcome = { kind: 'action'; action: ButtonAction; button: string; long: boolean } | { kind: 'talk'; held: boolean; button: string };

interface Held {
  binding: ButtonBinding;
  longFired: boolean;
  timer: NodeJS.Timeout | null;
}

/** Press logic for a set of buttons identified by any key (an evdev code, a GPIO line). */
export class PressDetector<K> {
  private readonly held = new Map<K, Held>();

  constructor(
    private timing: PressTiming,
    private readonly emit: (outcome: ButtonOutcome) => void,
  ) {}

  /** New timing (applies from the next press). */
  configure(timing: PressTiming): void {
    this.timing = timing;
  }

  /** A button went down (repeated downs while held are ignored). */
  down(key: K, binding: ButtonBinding): void {
    if (this.held.has(key)) return;
    const h: Held = { binding, longFired: false, timer: null };
    this.held.set(key, h);
    if (binding.press === 'talk' && this.timing.pushToTalk) return this.emit({ kind: 'talk', held: true, button: binding.name });
    if (binding.repeat) {
      this.fire(binding, binding.press, false);
      h.timer = this.after(this.timing.longPressMs, () => this.repeat(key, h));
      return;
    }
    if (binding.long) {
      const long = binding.long;
      h.timer = this.after(this.timing.longPressMs, () => {
        h.longFired = true;
        h.timer = null;
        this.fire(binding, long, true);
      });
    }
  }

  /** A button went up. */
  up(key: K): void {
    const h = this.held.get(key);
    if (!h) return;
    this.held.delete(key);
    if (h.timer) clearTimeout(h.timer);
    const b = h.binding;
    if (b.press === 'talk' && this.timing.pushToTalk) return this.emit({ kind: 'talk', held: false, button: b.name });
    if (b.repeat || h.longFired) return;
    this.fire(b, b.press, false);
  }

  /** Forgets every held button (device closed) without firing; ends a push-to-talk hold. */
  reset(): void {
    for (const [key, h] of this.held) {
      if (h.timer) clearTimeout(h.timer);
      if (h.binding.press === 'talk' && this.timing.pushToTalk) this.emit({ kind: 'talk', held: false, button: h.binding.name });
      this.held.delete(key);
    }
  }

  private repeat(key: K, h: Held): void {
    if (this.held.get(key) !== h) return;
    this.fire(h.binding, h.binding.press, false);
    h.timer = this.after(this.timing.repeatMs, () => this.repeat(key, h));
  }

  private fire(binding: ButtonBinding, action: ButtonAction, long: boolean): void {
    if (action !== 'none') this.emit({ kind: 'action', action, button: binding.name, long });
  }

  private after(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  }
}

/**
 * Debounces one input: a new level is accepted once it has held for `ms` without another edge
 * (contact bounce of a few ms is ignored). Calls `settled(value)` only when the accepted value changes.
 */
export class Debouncer {
  private timer: NodeJS.Timeout | null = null;
  private candidate: boolean;

  constructor(
    private value: boolean,
    private readonly ms: number,
    private readonly settled: (value: boolean) => void,
  ) {
    this.candidate = value;
  }

  /** An edge to `value`. */
  edge(value: boolean): void {
    this.candidate = value;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.ms <= 0) return this.accept();
    this.timer = setTimeout(() => this.accept(), this.ms);
    this.timer.unref();
  }

  /** Cancels a pending change. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private accept(): void {
    this.timer = null;
    if (this.candidate === this.value) return;
    this.value = this.candidate;
    this.settled(this.value);
  }
}
