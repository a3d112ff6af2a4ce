import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedCompositor } from '../../../src/leds/compositor.js';
import { openSysfsLeds } from '../../../src/leds/drivers/sysfs.js';
import type { LedOutput } from '../../../src/leds/output.js';
import { ledSettings } from '../../../src/service/leds-buttons.js';
import { parseLook } from '../../../src/leds/spec.js';
import { SCHEMA } from '../../../src/config/schema.js';
import convict from 'convict';
import type { SpeakerdConfig } from '../../../src/config/types.js';

// A fake LED class tree in a temp dir: status:red/green/blue (max 255) and a plain LED (max 1).

let root: string;
const defaults = (): SpeakerdConfig => convict(SCHEMA, { env: {}, args: [] }).getProperties() as SpeakerdConfig;
const attr = (led: string, name: string): string => readFileSync(join(root, led, name), 'utf8').trim();
const rgb = (): string[] => ['status:red', 'status:green', 'status:blue'].map((l) => String(Number(attr(l, 'brightness')))); // written zero-padded ('064')
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 2));
};

function fakeLed(name: string, max: number): void {
  mkdirSync(join(root, name), { recursive: true });
  writeFileSync(join(root, name, 'max_brightness'), `${max}\n`);
  for (const f of ['brightness', 'delay_on', 'delay_off']) writeFileSync(join(root, name, f), '0\n');
  writeFileSync(join(root, name, 'trigger'), '[none] timer heartbeat\n');
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'speakerd-leds-'));
  for (const c of ['red', 'green', 'blue']) fakeLed(`status:${c}`, 255);
  fakeLed('power', 1);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('sysfs LED class driver under the compositor', () => {
  it('writes the files through a sequence of state events', async () => {
    const errors: Error[] = [];
    const out = await openSysfsLeds([{ red: 'status:red', green: 'status:green', blue: 'status:blue' }], (e) => errors.push(e), root);
    const c = new LedCompositor(out, ledSettings(defaults()));
    c.setState('listening');
    await settle();
    expect(rgb()).toEqual(['0', '64', '255']); // #0040ff solid
    expect(attr('status:red', 'trigger')).toBe('none');
    c.setState('error'); // #ff0000 blink 1000: the kernel's timer trigger blinks it
    await settle();
    expect(['status:red', 'status:green', 'status:blue'].map((l) => attr(l, 'trigger'))).toEqual(['timer', 'none', 'none']);
    // 500/500 is the timer trigger's own default: its root-owned delay files are left alone.
    expect([attr('status:red', 'delay_on'), attr('status:red', 'delay_off'), attr('status:red', 'brightness')]).toEqual(['0', '0', '255']);
    // Another period would need the timer trigger's delay files, which the kernel creates root's:
    // the compositor blinks it (the trigger is released, the delay files are never written).
    c.configure({ ...ledSettings(defaults()), looks: { ...ledSettings(defaults()).looks, error: parseLook('#ff0000 blink 600') } });
    await settle();
    expect([attr('status:red', 'trigger'), attr('status:red', 'delay_on'), attr('status:red', 'delay_off')]).toEqual(['none', '0', '0']);
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      seen.add(attr('status:red', 'brightness'));
      await new Promise((r) => setTimeout(r, 25));
    }
    expect([...seen].sort()).toEqual(['000', '255']);
    c.setState('listening');
    c.setMuted(true); // the mute overlay (#ff0000 solid) covers the only LED
    await settle();
    expect(attr('status:red', 'trigger')).toBe('none');
    expect(rgb()).toEqual(['255', '0', '0']);
    c.setMuted(false);
    c.configure({ ...ledSettings(defaults()), brightness: 0.5 });
    await settle();
    expect(rgb()).toEqual(['0', '32', '128']);
    c.setState('stopping');
    await settle();
    expect(rgb()).toEqual(['0', '0', '0']);
    await c.close();
    expect(errors).toEqual([]);
    expect(c.showing().layer).toBe('off');
  });

  it('drives a single LED by its brightest channel, scaled to max_brightness', async () => {
    const out = await openSysfsLeds([{ name: 'power' }], () => undefined, root);
    out.write(Uint8Array.from([0, 200, 0]));
    await settle();
    expect(attr('power', 'brightness')).toBe('1');
    out.write(Uint8Array.from([0, 0, 0]));
    await settle();
    expect(attr('power', 'brightness')).toBe('0');
  });

  it('refuses a missing LED with a clear error', async () => {
    await expect(openSysfsLeds([{ name: 'nope' }], () => undefined, root)).rejects.toMatchObject({
      code: 'ERR_LED_DEVICE',
      message: expect.stringContaining("no LED 'nope'"),
    });
    await expect(openSysfsLeds([{ name: '../etc' }], () => undefined, root)).rejects.toMatchObject({ code: 'ERR_LED_DEVICE' });
  });

  it('reports a device that disappears once, then writes nothing more', async () => {
    const errors: Error[] = [];
    const out: LedOutput = await openSysfsLeds([{ name: 'power' }], (e) => errors.push(e), root);
    rmSync(join(root, 'power'), { recursive: true });
    out.write(Uint8Array.from([255, 255, 255]));
    await settle();
    out.write(Uint8Array.from([0, 0, 0]));
    out.write(Uint8Array.from([9, 9, 9]));
    await settle();
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/power\/trigger does not exist/);
  });
});
