/**
 * What an LED driver offers the compositor. A frame is 3 bytes (R, G, B) per LED, brightness already
 * applied. Drivers never throw from write(): a failing device is reported once (through `onError`) and
 * then left alone, so the daemon carries on without it.
 */

/** An opened LED device. */
export interface LedOutput {
  /** Driver name, for status and messages ('sysfs', 'gpio', 'apa102', 'console'). */
  readonly driver: string;
  /** Number of LEDs. */
  readonly count: number;
  /**
   * 'ring': an addressable strip or ring drawn at the frame rate; 'single': discrete LEDs written only
   * when their value changes (sysfs, GPIO), animated at a lower rate.
   */
  readonly kind: 'ring' | 'single';
  /** Shows a frame (count × 3 bytes); the driver copies what it keeps. */
  write(frame: Uint8Array): void;
  /**
   * Blinks in hardware between `on` and `off` (each shown for `halfMs`), when the device can (the sysfs
   * `timer` trigger); returns false, doing nothing, when it cannot. A later write() ends the blink.
   */
  blink?(on: Uint8Array, off: Uint8Array, halfMs: number): boolean;
  /** Turns the LEDs off and releases the device. */
  close(): Promise<void>;
}

/** Reports a driver's failure (once per device: the driver stops writing after it). */
export type LedErrorSink = (error: Error & { code: string }) => void;

/** An error with a stable code. */
export function ledError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/** A short reason for a failed file operation: the errno code and advice where one helps. */
export function fileProblem(error: NodeJS.ErrnoException, file: string): string {
  switch (error.code) {
    case 'ENOENT':
      return `${file} does not exist (ENOENT)`;
    case 'EROFS':
      return `${file} is on a read-only file system (EROFS): under systemd add ReadWritePaths=${file.replace(/\/[^/]+$/, '')} in a drop-in (docs/leds-buttons.md)`;
    case 'EACCES':
    case 'EPERM':
      return `${file}: permission denied (${error.code}): see the udev rules in docs/leds-buttons.md`;
    default:
      return `${file}: ${error.message}`;
  }
}
