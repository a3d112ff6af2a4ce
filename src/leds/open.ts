/** Opens the LED output that `leds.driver` and the board profile call for. */
import type { GpioChipOpener } from '../buttons/gpio/chip.js';
import type { LedsProfile } from './board.js';
import { openApa102, type SpiConfigurer } from './drivers/apa102.js';
import { openConsoleLeds, type ConsoleStream } from './drivers/console.js';
import { openGpioLeds } from './drivers/gpio-leds.js';
import { openSysfsLeds } from './drivers/sysfs.js';
import type { LedErrorSink, LedOutput } from './output.js';

/** What opening an output needs. */
export interface OpenLedOptions {
  gpio: GpioChipOpener;
  onError: LedErrorSink;
  warn: (message: string) => void;
  /** Root of the LED class (default /sys/class/leds). */
  sysfsRoot?: string;
  /** Sets spidev's mode and clock (the addon's spiConfigure); absent: only mode 0 at the default clock. */
  spi?: SpiConfigurer;
  console?: ConsoleStream;
}

/**
 * The output for `driver` ('auto': the profile's LEDs; 'console': the terminal, as many LEDs as the
 * profile has or 12; 'none'), or null. A device that cannot be opened is reported through `onError`
 * and null is returned: the daemon runs without LEDs.
 */
export async function openLedOutput(driver: 'auto' | 'none' | 'console', profile: LedsProfile | null, options: OpenLedOptions): Promise<LedOutput | null> {
  if (driver === 'none') return null;
  if (driver === 'console') {
    const count = profile ? (profile.driver === 'apa102' ? profile.count : profile.driver === 'gpio' ? profile.lines.length : profile.leds.length) : 12;
    return openConsoleLeds(count, options.console);
  }
  if (!profile) return null;
  try {
    switch (profile.driver) {
      case 'apa102':
        return await openApa102(profile, options.gpio, options.onError, options.warn, options.spi);
      case 'gpio':
        return await openGpioLeds(profile, options.gpio(profile.chip), options.onError);
      case 'sysfs':
        return await openSysfsLeds(profile.leds, options.onError, options.sysfsRoot);
    }
  } catch (error) {
    options.onError(error as Error & { code: string });
    return null;
  }
}
