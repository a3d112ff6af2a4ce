/**
 * The development driver: draws the LEDs in the terminal (24-bit colour blocks redrawn on one line),
 * or, when the stream is not a terminal, prints one line per change, at most 4 per second.
 */
import { colorHex } from '../spec.js';
import type { LedOutput } from '../output.js';

const PLAIN_INTERVAL_MS = 250;

/** A minimal writable stream (process.stdout). */
export interface ConsoleStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

class ConsoleLeds implements LedOutput {
  readonly driver = 'console';
  readonly kind = 'ring';
  private lastPlain = -Infinity;

  constructor(
    readonly count: number,
    private readonly out: ConsoleStream,
  ) {}

  write(frame: Uint8Array): void {
    if (this.out.isTTY) {
      let line = '\r\x1b[2Kleds ';
      for (let i = 0; i < this.count; i++) line += `\x1b[38;2;${frame[i * 3] ?? 0};${frame[i * 3 + 1] ?? 0};${frame[i * 3 + 2] ?? 0}m\u25cf\x1b[0m`;
      this.out.write(line);
      return;
    }
    const now = performance.now();
    if (now - this.lastPlain < PLAIN_INTERVAL_MS) return;
    this.lastPlain = now;
    const colors: string[] = [];
    for (let i = 0; i < this.count; i++) colors.push(colorHex(frame, i * 3));
    this.out.write(`leds ${colors.join(' ')}\n`);
  }

  async close(): Promise<void> {
    if (this.out.isTTY) this.out.write('\r\x1b[2K');
  }
}

/** A console LED output of `count` LEDs (default a ring of 12) on `out` (default stdout). */
export function openConsoleLeds(count = 12, out: ConsoleStream = process.stdout): LedOutput {
  return new ConsoleLeds(count, out);
}
