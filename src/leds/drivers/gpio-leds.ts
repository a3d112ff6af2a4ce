/**
 * Plain LEDs on GPIO lines (on or off, active high or low) through a GpioChip. An LED is lit while
 * its brightest channel is at least a quarter on, so blink and solid work; breathe shows as on.
 */
import type { GpioChip, GpioLineConfig, GpioOutputs } from '../../buttons/gpio/chip.js';
import { ledError, type LedErrorSink, type LedOutput } from '../output.js';
import { LatestWriter } from './latest.js';

/** GPIO LEDs as a board profile describes them. */
export interface GpioLedsConfig {
  chip: string;
  lines: GpioLineConfig[];
}

const LIT = 64;

class GpioLeds implements LedOutput {
  readonly driver = 'gpio';
  readonly kind = 'single';
  private last = '';
  private readonly writer: LatestWriter<boolean[]>;

  constructor(
    private readonly config: GpioLedsConfig,
    private readonly outputs: GpioOutputs,
    onError: LedErrorSink,
  ) {
    this.writer = new LatestWriter(
      (values) => outputs.set(values),
      (error) => onError(ledError('ERR_LED_DEVICE', `GPIO LEDs: ${(error as Error).message}`)),
    );
  }

  get count(): number {
    return this.config.lines.length;
  }

  write(frame: Uint8Array): void {
    const values = this.config.lines.map((_, i) => Math.max(frame[i * 3] ?? 0, frame[i * 3 + 1] ?? 0, frame[i * 3 + 2] ?? 0) >= LIT);
    const key = values.join();
    if (key === this.last) return;
    this.last = key;
    this.writer.push(values);
  }

  async close(): Promise<void> {
    this.write(new Uint8Array(this.count * 3));
    await this.writer.settled();
    await this.outputs.release().catch(() => undefined);
  }
}

/** Requests the LED lines as outputs, all off. Rejects with the chip's coded error. */
export async function openGpioLeds(config: GpioLedsConfig, chip: GpioChip, onError: LedErrorSink): Promise<LedOutput> {
  const outputs = await chip.requestOutputs(
    config.lines,
    config.lines.map(() => false),
  );
  return new GpioLeds(config, outputs, onError);
}
