/**
 * APA102 / SK9822 LEDs on spidev (/dev/spidevB.C), as on the ReSpeaker 2-mic and 4-mic HATs.
 * A frame on the wire: a start frame of 4 zero bytes, then per LED `0xE0 | global brightness (0..31)`
 * and the three colour bytes in the configured order, then an end frame of 4 + ⌈n/16⌉ zero bytes
 * (SK9822's reset frame plus the extra clock edges that push the data to the last LED; zeros, not 0xFF,
 * so that LEDs beyond `count` stay dark). Frames go out with plain write(). The SPI mode and clock are
 * set on the device with the SPI_IOC_WR_* ioctls through the addon (`spi`); without it only mode 0 at
 * the device tree's clock works (another mode: ERR_SPI_UNSUPPORTED; a clock: a warning). A regular
 * file in place of the device (a capture of the frames, for development) takes no SPI settings.
 */
import { constants, writeSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { describeFileType } from '../../system/safe-file.js';
import type { GpioChip, GpioLineConfig, GpioOutputs } from '../../buttons/gpio/chip.js';
import { fileProblem, ledError, type LedErrorSink, type LedOutput } from '../output.js';

/** Byte order of the three colour bytes on the wire ('bgr' is the APA102's native order). */
export type ColorOrder = 'rgb' | 'rbg' | 'grb' | 'gbr' | 'brg' | 'bgr';

/** An APA102 chain as a board profile describes it. */
export interface Apa102Config {
  device: string;
  count: number;
  order: ColorOrder;
  /** The 5-bit global brightness field, 0..31 (current per LED). Default 31. */
  globalBrightness?: number;
  /** SPI mode 0..3. Default 0. */
  spiMode?: number;
  /** SPI clock in Hz. Default: the device tree's spi-max-frequency. */
  speedHz?: number;
  /** A GPIO line that powers the LEDs (ReSpeaker 4-mic: line 5, active high). */
  power?: GpioLineConfig & { chip: string };
}

const ORDER_INDEX: Readonly<Record<ColorOrder, readonly number[]>> = {
  rgb: [0, 1, 2],
  rbg: [0, 2, 1],
  grb: [1, 0, 2],
  gbr: [1, 2, 0],
  brg: [2, 0, 1],
  bgr: [2, 1, 0],
};

/** Bytes of a whole APA102 frame of `count` LEDs. */
export function apa102Length(count: number): number {
  return 4 + count * 4 + 4 + Math.ceil(count / 16);
}

/**
 * Encodes one frame (count × RGB bytes) into APA102 wire bytes, into `out` when given (reused frame to
 * frame: its start and end frames are zeros and stay so).
 */
export function encodeApa102(
  frame: Uint8Array,
  count: number,
  order: ColorOrder,
  globalBrightness = 31,
  out: Buffer = Buffer.alloc(apa102Length(count)),
): Buffer {
  const index = ORDER_INDEX[order];
  const head = 0xe0 | (globalBrightness & 0x1f);
  for (let led = 0; led < count; led++) {
    const at = 4 + led * 4;
    out[at] = head;
    for (let k = 0; k < 3; k++) out[at + 1 + k] = frame[led * 3 + (index[k] ?? 0)] ?? 0;
  }
  return out;
}

/**
 * Opens the SPI device for writing without blocking: a character device (or, for tests, a regular file,
 * which receives the frames one after another). A FIFO, a directory or a missing path is refused.
 */
async function openSpidev(device: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(device, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const kind = e.code === 'ENXIO' || e.code === 'EISDIR' ? await stat(device).then(describeFileType, () => null) : null;
    throw ledError('ERR_LED_DEVICE', `APA102: ${kind ? `${device} is ${kind}; an SPI device (/dev/spidevB.C) is needed` : fileProblem(e, device)}`);
  }
  const s = await handle.stat();
  if (!s.isCharacterDevice() && !s.isFile()) {
    await handle.close();
    throw ledError('ERR_LED_DEVICE', `APA102: ${device} is ${describeFileType(s)}; an SPI device (/dev/spidevB.C) is needed`);
  }
  return handle;
}

/** The APA102 chain as a LedOutput. */
class Apa102Leds implements LedOutput {
  readonly driver = 'apa102';
  readonly kind = 'ring';
  private failed = false;
  private readonly bytes: Buffer;

  constructor(
    private readonly config: Apa102Config,
    private readonly handle: FileHandle,
    private readonly power: GpioOutputs | null,
    private readonly onError: LedErrorSink,
  ) {
    this.bytes = Buffer.alloc(apa102Length(config.count));
  }

  get count(): number {
    return this.config.count;
  }

  /**
   * Writes the frame synchronously: spidev's write() is one SPI transfer of at most 1.1 KB (256 LEDs), tens
   * of µs to 1 ms at MHz clocks, cheaper than a thread-pool round trip per frame at 30 fps.
   */
  write(frame: Uint8Array): void {
    if (this.failed) return;
    const bytes = encodeApa102(frame, this.config.count, this.config.order, this.config.globalBrightness, this.bytes);
    try {
      writeSync(this.handle.fd, bytes, 0, bytes.length);
    } catch (error) {
      this.failed = true;
      this.onError(
        ledError('ERR_LED_DEVICE', `APA102: cannot write ${this.config.device}: ${fileProblem(error as NodeJS.ErrnoException, this.config.device)}`),
      );
    }
  }

  async close(): Promise<void> {
    this.write(new Uint8Array(this.count * 3));
    this.failed = true;
    await this.handle.close().catch(() => undefined);
    await this.power?.set([false]).catch(() => undefined);
    await this.power?.release().catch(() => undefined);
  }
}

/** Sets the SPI mode, clock (0 = leave it) and word size on an open spidev descriptor (the addon's spiConfigure). */
export type SpiConfigurer = (fd: number, mode: number, speedHz: number, bitsPerWord: number) => void;

/** Applies the SPI settings to the opened device, or says why it cannot (see the module comment). */
async function applySpiSettings(config: Apa102Config, handle: FileHandle, spi: SpiConfigurer | undefined, warn: (m: string) => void): Promise<void> {
  const mode = config.spiMode ?? 0;
  if (!(await handle.stat()).isCharacterDevice()) {
    if (mode !== 0 || config.speedHz !== undefined) warn(`APA102: ${config.device} is a regular file, not an SPI device: the SPI mode and clock do not apply`);
    return;
  }
  if (spi === undefined) {
    if (mode !== 0)
      throw ledError('ERR_SPI_UNSUPPORTED', `APA102: SPI mode ${mode} needs the SPI_IOC_WR_MODE ioctl, which this build's addon lacks; only mode 0 works`);
    if (config.speedHz !== undefined)
      warn(`APA102: speedHz ${config.speedHz} is not applied (this build's addon cannot set the SPI clock); ${config.device} runs at its device-tree default`);
    return;
  }
  try {
    spi(handle.fd, mode, config.speedHz ?? 0, 8);
  } catch (error) {
    throw ledError('ERR_SPI_CONFIG', `APA102: ${config.device}: ${(error as Error).message}`);
  }
}

/**
 * Opens an APA102 chain: opens the device, applies the SPI settings, powers the LEDs. Rejects with a
 * coded error (ERR_SPI_CONFIG, ERR_SPI_UNSUPPORTED, ERR_LED_DEVICE, or the GPIO's) and leaves nothing
 * open when it does. `warn` is told once about settings that cannot be applied.
 */
export async function openApa102(
  config: Apa102Config,
  gpio: (path: string) => GpioChip,
  onError: LedErrorSink,
  warn: (m: string) => void,
  spi?: SpiConfigurer,
): Promise<LedOutput> {
  const handle = await openSpidev(config.device);
  try {
    await applySpiSettings(config, handle, spi, warn);
  } catch (error) {
    await handle.close();
    throw error;
  }
  let power: GpioOutputs | null = null;
  if (config.power) {
    try {
      power = await gpio(config.power.chip).requestOutputs([config.power], [true]);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }
  return new Apa102Leds(config, handle, power, onError);
}
