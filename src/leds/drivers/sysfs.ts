/**
 * LEDs of the kernel's LED class (`/sys/class/leds/<name>/`): single LEDs or RGB LEDs made of three.
 * Each LED directory is driven towards a desired state (trigger, blink times, brightness) by one
 * writer at a time, so writes never interleave and a burst of changes collapses into the last one.
 * Blinks use the kernel's `timer` trigger (no timer in the daemon). Trigger and delay files are written
 * whole (O_WRONLY | O_TRUNC, never created), as `echo timer > trigger` does. Brightness, the frequent
 * write, goes through a descriptor kept open, synchronously at offset 0 and zero-padded to the width of
 * max_brightness ('064'): one write() per change and no thread-pool round trip. The LED class never
 * blocks in that write (a driver that sleeps is deferred to a work queue by the kernel).
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { readConfiguredFile } from '../../system/safe-file.js';
import { fileProblem, ledError, type LedErrorSink, type LedOutput } from '../output.js';

/** One LED of a profile: a single LED by name, or an RGB LED from three. */
export type SysfsLed = { name: string } | { red: string; green: string; blue: string };

/** Default root of the LED class. */
export const SYSFS_LEDS_ROOT = '/sys/class/leds';
/** An LED class name: no '/', not '.' or '..'. */
export const LED_NAME = /^(?!\.\.?$)[A-Za-z0-9_:.+@-]{1,64}$/;

/** The timer trigger's own delays (drivers/leds/led-core.c: 500 ms on, 500 ms off). */
const KERNEL_BLINK_MS = 500;

interface Desired {
  trigger: 'none' | 'timer';
  brightness: number;
  halfMs: number;
}

async function writeAttr(file: string, value: string): Promise<void> {
  const handle = await open(file, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOCTTY);
  try {
    await handle.write(`${value}\n`);
  } finally {
    await handle.close();
  }
}

/** One LED class device (one channel of an RGB LED or a single LED). */
class SysfsChannel {
  private desired: Desired = { trigger: 'none', brightness: 0, halfMs: 0 };
  private actual: Desired | null = null;
  private busy = false;
  private fd: number | null = null;
  private readonly width: number;

  constructor(
    readonly dir: string,
    readonly max: number,
    private readonly failed: (error: Error & { code: string }) => void,
  ) {
    this.width = String(max).length;
  }

  set(desired: Desired): void {
    this.desired = desired;
    if (this.busy) return;
    const a = this.actual;
    if (a && a.trigger === desired.trigger && a.halfMs === desired.halfMs) {
      if (a.brightness === desired.brightness) return;
      try {
        this.writeBrightness(desired.brightness);
        this.actual = desired;
      } catch (error) {
        this.failed(error as Error & { code: string });
      }
      return;
    }
    void this.run();
  }

  /** Closes the kept descriptor. */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private writeBrightness(value: number): void {
    const file = join(this.dir, 'brightness');
    try {
      this.fd ??= openSync(file, constants.O_WRONLY | constants.O_NOCTTY);
      writeSync(this.fd, `${String(value).padStart(this.width, '0')}\n`, 0);
    } catch (error) {
      throw ledError('ERR_LED_DEVICE', `sysfs LED: cannot write ${file}: ${fileProblem(error as NodeJS.ErrnoException, file)}`);
    }
  }

  /** Resolves once the device matches the last desired state (or has failed). */
  async settle(): Promise<void> {
    while (this.busy) await new Promise((r) => setImmediate(r));
  }

  private async run(): Promise<void> {
    this.busy = true;
    try {
      while (!same(this.actual, this.desired)) {
        const d = this.desired;
        const a = this.actual;
        if (!a || a.trigger !== d.trigger || (d.trigger === 'timer' && a.halfMs !== d.halfMs)) {
          // A fresh timer trigger blinks 500/500 ms, the only period blink() hands to the kernel.
          await this.attr('trigger', d.trigger);
        }
        this.writeBrightness(d.brightness);
        this.actual = d;
      }
    } catch (error) {
      this.failed(error as Error & { code: string });
    } finally {
      this.busy = false;
    }
  }

  private async attr(name: string, value: string): Promise<void> {
    const file = join(this.dir, name);
    try {
      await writeAttr(file, value);
    } catch (error) {
      throw ledError('ERR_LED_DEVICE', `sysfs LED: cannot write ${file}: ${fileProblem(error as NodeJS.ErrnoException, file)}`);
    }
  }
}

function same(a: Desired | null, b: Desired): boolean {
  return a !== null && a.trigger === b.trigger && a.brightness === b.brightness && (a.trigger === 'none' || a.halfMs === b.halfMs);
}

/** Channel values of one LED from a frame: RGB LEDs take their three bytes, single LEDs the brightest. */
function channelValues(frame: Uint8Array, led: number, rgb: boolean): number[] {
  const r = frame[led * 3] ?? 0;
  const g = frame[led * 3 + 1] ?? 0;
  const b = frame[led * 3 + 2] ?? 0;
  return rgb ? [r, g, b] : [Math.max(r, g, b)];
}

/** LED class devices as one LedOutput. */
class SysfsLeds implements LedOutput {
  readonly driver = 'sysfs';
  readonly kind = 'single';
  private failed = false;

  constructor(
    private readonly leds: { rgb: boolean; channels: SysfsChannel[] }[],
    private readonly onError: LedErrorSink,
  ) {}

  get count(): number {
    return this.leds.length;
  }

  write(frame: Uint8Array): void {
    this.each(frame, (ch, v) => ch.set({ trigger: 'none', brightness: v, halfMs: 0 }));
  }

  blink(on: Uint8Array, off: Uint8Array, halfMs: number): boolean {
    // Only the timer trigger's own 500/500 ms is done in the kernel: another period needs its
    // delay_on/delay_off files, which the kernel creates root's at that moment (no group can write
    // them in time), so such a blink is left to the compositor's timer.
    if (Math.round(halfMs) !== KERNEL_BLINK_MS) return false;
    const plan: [SysfsChannel, Desired][] = [];
    let possible = true;
    this.leds.forEach((led, i) => {
      const onV = channelValues(on, i, led.rgb);
      const offV = channelValues(off, i, led.rgb);
      led.channels.forEach((ch, c) => {
        const a = this.scaled(ch, onV[c] ?? 0);
        const b = this.scaled(ch, offV[c] ?? 0);
        if (a === b) plan.push([ch, { trigger: 'none', brightness: a, halfMs: 0 }]);
        else if (b === 0) plan.push([ch, { trigger: 'timer', brightness: a, halfMs: Math.round(halfMs) }]);
        else possible = false;
      });
    });
    if (!possible) return false;
    if (!this.failed) for (const [ch, d] of plan) ch.set(d);
    return true;
  }

  async close(): Promise<void> {
    this.write(new Uint8Array(this.count * 3));
    for (const led of this.leds) for (const ch of led.channels) await ch.settle();
    for (const led of this.leds) for (const ch of led.channels) ch.close();
    this.failed = true;
  }

  /** Marks the output failed after its first error (reported once). */
  fail(error: Error & { code: string }): void {
    if (this.failed) return;
    this.failed = true;
    this.onError(error);
  }

  private scaled(ch: SysfsChannel, value: number): number {
    return Math.round((value / 255) * ch.max);
  }

  private each(frame: Uint8Array, apply: (ch: SysfsChannel, value: number) => void): void {
    if (this.failed) return;
    this.leds.forEach((led, i) => {
      const values = channelValues(frame, i, led.rgb);
      led.channels.forEach((ch, c) => apply(ch, this.scaled(ch, values[c] ?? 0)));
    });
  }
}

/**
 * Opens LED class devices under `root` (default /sys/class/leds; tests pass a temp dir). Rejects with
 * ERR_LED_DEVICE naming the LED when one is missing or unreadable.
 */
export async function openSysfsLeds(leds: readonly SysfsLed[], onError: LedErrorSink, root = SYSFS_LEDS_ROOT): Promise<LedOutput> {
  let output: SysfsLeds | null = null;
  const fail = (e: Error & { code: string }): void => output?.fail(e);
  const opened: { rgb: boolean; channels: SysfsChannel[] }[] = [];
  for (const led of leds) {
    const names = 'name' in led ? [led.name] : [led.red, led.green, led.blue];
    const channels: SysfsChannel[] = [];
    for (const name of names) {
      if (!LED_NAME.test(name)) throw ledError('ERR_LED_DEVICE', `sysfs LED: '${name}' is not an LED class name`);
      const dir = join(root, name);
      const file = join(dir, 'max_brightness');
      let max: number;
      try {
        max = parseInt((await readConfiguredFile(file, { key: 'leds.board', maxBytes: 4096 })).toString('utf8'), 10);
      } catch (error) {
        const reason = (error as { reason?: string }).reason === 'missing' ? `no LED '${name}' (${file} does not exist)` : (error as Error).message;
        throw ledError('ERR_LED_DEVICE', `sysfs LED: ${reason}`);
      }
      if (!Number.isInteger(max) || max < 1) throw ledError('ERR_LED_DEVICE', `sysfs LED: ${file} does not hold a positive number`);
      channels.push(new SysfsChannel(dir, max, fail));
    }
    opened.push({ rgb: !('name' in led), channels });
  }
  output = new SysfsLeds(opened, onError);
  return output;
}
