import convict from 'convict';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEMA } from '../../../src/config/schema.js';
import type { SpeakerdConfig } from '../../../src/config/types.js';
import { LedCompositor, MUTE_MIN_BRIGHTNESS } from '../../../src/leds/compositor.js';
import type { LedOutput } from '../../../src/leds/output.js';
import { ledSettings } from '../../../src/service/leds-buttons.js';

const defaults = (): SpeakerdConfig => convict(SCHEMA, { env: {}, args: [] }).getProperties() as SpeakerdConfig;

/** A ring of `count` LEDs that keeps the last frame written. */
function ring(count: number): LedOutput & { last: Uint8Array } {
  const out = {
    driver: 'test',
    count,
    kind: 'ring' as const,
    last: new Uint8Array(count * 3),
    write(frame: Uint8Array) {
      out.last = Uint8Array.from(frame);
    },
    close: async () => undefined,
  };
  return out;
}

let compositor: LedCompositor | null = null;
afterEach(async () => {
  await compositor?.close();
  compositor = null;
});

describe('LED priority', () => {
  it('starting > error > offline > volume > conversation > idle, whatever the order of events', () => {
    let now = 1000;
    compositor = new LedCompositor(ring(4), ledSettings(defaults()), { now: () => now, muteLeds: [0] });
    const layer = (): string => compositor!.showing().layer;
    compositor.setState('starting');
    compositor.volumeChanged(50);
    expect(layer()).toBe('starting');
    compositor.setState('error');
    expect(layer()).toBe('error');
    compositor.setState('offline');
    expect(layer()).toBe('offline');
    compositor.setState('speaking');
    expect(layer()).toBe('volume');
    now += 2000; // the volume feedback lasts 1.5 s
    compositor.setState('thinking');
    expect(layer()).toBe('thinking');
    compositor.setState('user_speaking');
    expect(layer()).toBe('userSpeaking');
    compositor.setState('listening');
    expect(layer()).toBe('listening');
  });

  it('shows mute over every layer but error, and never dims it below the floor', () => {
    const out = ring(4);
    const config = defaults();
    config.leds.brightness = 0;
    compositor = new LedCompositor(out, ledSettings(config), { muteLeds: [0, 1] });
    compositor.setState('speaking');
    compositor.setMuted(true);
    const floor = Math.round(255 * MUTE_MIN_BRIGHTNESS);
    expect(out.last[0]).toBeGreaterThanOrEqual(floor - 1); // red, on a mute LED, despite brightness 0
    expect(out.last[3]).toBeGreaterThanOrEqual(floor - 1);
    expect([...out.last.subarray(6)]).toEqual([0, 0, 0, 0, 0, 0]); // brightness 0 elsewhere
    compositor.setState('error');
    expect(compositor.showing().layer).toBe('error');
    expect(out.last[3]).toBe(0); // error blinks at brightness 0: no overlay on it
  });
});
