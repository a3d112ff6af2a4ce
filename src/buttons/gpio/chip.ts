/**
 * The one interface to GPIO lines (the GPIO character device, /dev/gpiochipN). Node.js cannot issue
 * the uAPI v2 ioctls itself, so implementations are: libgpiod's command-line tools (libgpiod.ts), a
 * fake for tests (fake.ts), and, when neither fits, one that refuses with ERR_GPIO_UNAVAILABLE.
 * Line numbers are offsets on the chip (as `gpioinfo` lists them), never the old global sysfs numbers.
 */

/** How one line is requested. */
export interface GpioLineConfig {
  /** Offset of the line on its chip. */
  line: number;
  /** Inverts the logical value (a button to ground reads true when pressed). Default false. */
  activeLow?: boolean;
  /** Input bias; default 'as-is'. */
  bias?: 'as-is' | 'disable' | 'pull-up' | 'pull-down';
}

/** An edge on an input line: its logical value after the edge. */
export interface GpioEdge {
  line: number;
  value: boolean;
  /** Kernel timestamp in ms when known, else the daemon's clock. */
  atMs: number;
}

/** Lines held as outputs. */
export interface GpioOutputs {
  /** Sets the logical values, in the order the lines were requested. */
  set(values: readonly boolean[]): Promise<void>;
  /** Releases the lines. */
  release(): Promise<void>;
}

/** Lines watched as inputs. */
export interface GpioInputs {
  /** The logical values read when the request was made, in request order. */
  readonly initial: readonly boolean[];
  /** Stops watching and releases the lines. */
  release(): Promise<void>;
}

/** One GPIO chip. Every failure rejects with an Error carrying a `code` (ERR_GPIO, ERR_GPIO_UNAVAILABLE). */
export interface GpioChip {
  readonly path: string;
  requestOutputs(lines: readonly GpioLineConfig[], initial: readonly boolean[]): Promise<GpioOutputs>;
  /** Watches both edges; `onError` is told once if watching stops (the chip went away). */
  requestInputs(lines: readonly GpioLineConfig[], onEdge: (edge: GpioEdge) => void, onError: (error: Error & { code: string }) => void): Promise<GpioInputs>;
}

/** Opens chips by path. */
export type GpioChipOpener = (path: string) => GpioChip;

/** A GPIO error with a stable code. */
export function gpioError(code: 'ERR_GPIO' | 'ERR_GPIO_UNAVAILABLE', message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/** A chip that refuses everything: GPIO needs libgpiod's tools or a native binding on this system. */
export function unavailableChip(path: string, why: string): GpioChip {
  const refuse = (): Promise<never> => Promise.reject(gpioError('ERR_GPIO_UNAVAILABLE', `GPIO ${path}: ${why}`));
  return { path, requestOutputs: refuse, requestInputs: refuse };
}
