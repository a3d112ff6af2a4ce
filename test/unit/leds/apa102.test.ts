import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeApa102, openApa102 } from '../../../src/leds/drivers/apa102.js';
import { loadNativeBinding } from '../../../src/media/native-binding.js';
import { FakeGpioChip } from '../../../src/buttons/gpio/fake.js';
import { LedCompositor } from '../../../src/leds/compositor.js';
import { parseLook } from '../../../src/leds/spec.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'speakerd-spi-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 2));
};

describe('APA102 frames', () => {
  it('start frame, 0xE0|brightness + colour bytes in the configured order, end frame of zeros', () => {
    const frame = Uint8Array.from([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0, 0, 0]);
    expect([...encodeApa102(frame, 3, 'bgr', 31)]).toEqual([0, 0, 0, 0, 0xff, 0x33, 0x22, 0x11, 0xff, 0x66, 0x55, 0x44, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect([...encodeApa102(frame, 2, 'rgb', 7).subarray(4, 12)]).toEqual([0xe7, 0x11, 0x22, 0x33, 0xe7, 0x44, 0x55, 0x66]);
    expect([...encodeApa102(frame, 1, 'grb', 31).subarray(4, 8)]).toEqual([0xff, 0x22, 0x11, 0x33]);
    expect(encodeApa102(new Uint8Array(12 * 3), 12, 'bgr').length).toBe(4 + 48 + 4 + 1);
    expect(encodeApa102(new Uint8Array(40 * 3), 40, 'bgr').length).toBe(4 + 160 + 4 + 3);
  });

  it('writes exact frames to a spidev stand-in (a plain file), powers the LEDs through GPIO', async () => {
    const device = join(dir, 'spidev0.1');
    writeFileSync(device, '');
    const chip = new FakeGpioChip();
    const out = await openApa102(
      { device, count: 3, order: 'bgr', power: { chip: '/dev/gpiochip0', line: 5 } },
      () => chip,
      () => undefined,
      () => undefined,
    );
    expect(chip.levels.get(5)).toBe(true);
    const c = new LedCompositor(
      out,
      {
        looks: {
          starting: parseLook('#ffffff solid'),
          listening: parseLook('#0000ff solid'),
          userSpeaking: parseLook('off'),
          thinking: parseLook('off'),
          speaking: parseLook('off'),
          offline: parseLook('off'),
          error: parseLook('off'),
          volume: parseLook('off'),
          muted: parseLook('#ff0000 solid'),
        },
        brightness: 1,
        fps: 30,
        night: { mode: 'off', start: 0, end: 0, brightness: 1 },
      },
      { muteLeds: [1] },
    );
    await settle();
    c.setState('listening');
    await settle();
    c.setMuted(true);
    await settle();
    await c.close();
    const bytes = readFileSync(device);
    const frameLength = 4 + 12 + 5;
    expect(bytes.length).toBe(frameLength * 4);
    const frames = [0, 1, 2, 3].map((i) => [...bytes.subarray(i * frameLength + 4, i * frameLength + 16)]);
    expect(frames[0]).toEqual([0xff, 255, 255, 255, 0xff, 255, 255, 255, 0xff, 255, 255, 255]);
    expect(frames[1]).toEqual([0xff, 255, 0, 0, 0xff, 255, 0, 0, 0xff, 255, 0, 0]);
    expect(frames[2]).toEqual([0xff, 255, 0, 0, 0xff, 0, 0, 255, 0xff, 255, 0, 0]); // red on LED 1 only
    expect(frames[3]).toEqual([0xff, 0, 0, 0, 0xff, 0, 0, 0, 0xff, 0, 0, 0]);
    expect(chip.levels.get(5)).toBe(false);
    expect(chip.held.size).toBe(0);
  });

  it('refuses a FIFO, a directory and a missing device; a regular file takes frames but no SPI settings', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const chip = () => new FakeGpioChip();
    const open = (device: string, extra = {}) =>
      openApa102(
        { device, count: 3, order: 'bgr', ...extra },
        chip,
        () => undefined,
        () => undefined,
      );
    await expect(open(fifo)).rejects.toMatchObject({ code: 'ERR_LED_DEVICE', message: expect.stringContaining('is a FIFO; an SPI device') });
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    await expect(open(fifo)).rejects.toMatchObject({ message: expect.stringContaining('is a FIFO') });
    closeSync(reader);
    await expect(open(dir)).rejects.toMatchObject({ message: expect.stringContaining('is a directory') });
    await expect(open(join(dir, 'spidev9.9'))).rejects.toMatchObject({ code: 'ERR_LED_DEVICE', message: expect.stringContaining('does not exist') });
    writeFileSync(join(dir, 'spi'), '');
    const warnings: string[] = [];
    const out = await openApa102(
      { device: join(dir, 'spi'), count: 1, order: 'bgr', spiMode: 3, speedHz: 8000000 },
      chip,
      () => undefined,
      (m) => warnings.push(m),
    );
    expect(warnings[0]).toMatch(/is a regular file, not an SPI device: the SPI mode and clock do not apply/);
    await out.close();
  });

  it('sets the SPI mode and clock through the addon on a character device, and says so when the device refuses', async () => {
    const chip = () => new FakeGpioChip();
    const calls: number[][] = [];
    // /dev/null is a real character device: the configurator is called with its descriptor.
    const out = await openApa102(
      { device: '/dev/null', count: 2, order: 'bgr', spiMode: 3, speedHz: 8000000 },
      chip,
      () => undefined,
      () => undefined,
      (fd, mode, speed, bits) => calls.push([fd, mode, speed, bits]),
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]!.slice(1)).toEqual([3, 8000000, 8]);
    await out.close();
    // The real ioctls: /dev/null is no spidev, so the kernel refuses SPI_IOC_WR_MODE (ENOTTY).
    const spi = loadNativeBinding().spiConfigure!.bind(loadNativeBinding());
    await expect(
      openApa102(
        { device: '/dev/null', count: 2, order: 'bgr', spiMode: 0 },
        chip,
        () => undefined,
        () => undefined,
        spi,
      ),
    ).rejects.toMatchObject({
      code: 'ERR_SPI_CONFIG',
      message: expect.stringMatching(/^APA102: \/dev\/null: cannot set the SPI mode: Inappropriate ioctl/),
    });
    // Without the addon's configurator only mode 0 can work on a real device.
    await expect(
      openApa102(
        { device: '/dev/null', count: 2, order: 'bgr', spiMode: 1 },
        chip,
        () => undefined,
        () => undefined,
      ),
    ).rejects.toMatchObject({ code: 'ERR_SPI_UNSUPPORTED' });
    expect(() => spi(0, 4, 0, 8)).toThrow(RangeError);
  });

  it('releases the SPI device when the power GPIO cannot be had', async () => {
    writeFileSync(join(dir, 'spi'), '');
    const chip = new FakeGpioChip();
    chip.missing = true;
    await expect(
      openApa102(
        { device: join(dir, 'spi'), count: 3, order: 'bgr', power: { chip: '/dev/gpiochip0', line: 5 } },
        () => chip,
        () => undefined,
        () => undefined,
      ),
    ).rejects.toMatchObject({ code: 'ERR_GPIO' });
  });
});
