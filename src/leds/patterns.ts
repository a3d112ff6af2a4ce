/**
 * Patterns as pure functions of time: a frame (3 bytes R, G, B per LED) for a look at `t` ms after the
 * layer began, and when the frame will next change, so that the compositor wakes only when needed.
 */
import type { LedLook } from './spec.js';

/** Share of the ring lit behind the head of a spin (the tail fades out). */
const SPIN_TAIL = 0.4;
/** Lowest intensity of a breathe, so that the LED never looks off. */
const BREATHE_FLOOR = 0.08;

/** True when the look changes over time (needs frames); false for off, solid and a steady level. */
export function isAnimated(look: LedLook): boolean {
  return look.pattern === 'blink' || look.pattern === 'breathe' || look.pattern === 'spin' || look.pattern === 'level';
}

/** Ms until a blink next toggles, at `t` ms into the pattern. */
export function untilBlinkToggle(look: LedLook, t: number): number {
  const half = look.periodMs / 2;
  return half - (t % half);
}

function put(out: Uint8Array, led: number, look: LedLook, intensity: number): void {
  const k = Math.max(0, Math.min(1, intensity));
  out[led * 3] = Math.round(look.color[0] * k);
  out[led * 3 + 1] = Math.round(look.color[1] * k);
  out[led * 3 + 2] = Math.round(look.color[2] * k);
}

/**
 * Fills `out` (count × 3 bytes) with the look at `t` ms. `level` (0..1) drives the 'level' pattern:
 * on a ring, that share of the LEDs is lit; on fewer than three LEDs, it is their intensity.
 * `scale` (0..1) is the brightness applied to every channel.
 */
export function renderLook(look: LedLook, count: number, t: number, level: number, scale: number, out: Uint8Array): void {
  for (let led = 0; led < count; led++) put(out, led, look, scale * intensityOf(look, led, count, t, level));
}

function intensityOf(look: LedLook, led: number, count: number, t: number, level: number): number {
  switch (look.pattern) {
    case 'off':
      return 0;
    case 'solid':
      return 1;
    case 'blink':
      return t % look.periodMs < look.periodMs / 2 ? 1 : 0;
    case 'breathe':
      return breathe(look.periodMs, t);
    case 'spin':
      return count < 3 ? breathe(look.periodMs, t) : spin(look.periodMs, led, count, t);
    case 'level': {
      const l = Math.max(0, Math.min(1, level));
      if (count < 3) return l;
      return led < Math.round(l * count) ? 1 : 0;
    }
  }
}

function breathe(periodMs: number, t: number): number {
  const wave = 0.5 - 0.5 * Math.cos((2 * Math.PI * (t % periodMs)) / periodMs);
  return BREATHE_FLOOR + (1 - BREATHE_FLOOR) * wave;
}

function spin(periodMs: number, led: number, count: number, t: number): number {
  const head = ((t % periodMs) / periodMs) * count;
  const behind = (head - led + count) % count;
  const tail = Math.max(1, count * SPIN_TAIL);
  return behind < 1 ? 1 : Math.max(0, 1 - behind / tail);
}
