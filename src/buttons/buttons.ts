/**
 * The buttons of a board: evdev keys and GPIO lines through one press logic, and the hardware mute
 * switch's position. Each source opens on its own: one that fails is reported and the others work.
 */
import type { GpioChipOpener, GpioInputs } from './gpio/chip.js';
import { EV_KEY, EV_SW } from './evdev-codes.js';
import { openEvdev, type EvdevReader, type SwitchReader } from './evdev.js';
import { Debouncer, PressDetector, type ButtonOutcome, type PressTiming } from './press.js';
import type { ButtonsProfile } from './profile.js';

/** Timing of buttons (`buttons.*`). */
export interface ButtonTiming extends PressTiming {
  /** GPIO lines: a level must hold this long to count (contact bounce). */
  debounceMs: number;
}

/** Where the buttons report. */
export interface ButtonHandlers {
  outcome(outcome: ButtonOutcome): void;
  /** The mute switch's position (true = muted), on open and on every change. */
  muteSwitch(muted: boolean): void;
  /** A source that cannot open or stopped working (told once per source). */
  error(error: Error & { code: string }): void;
}

/** Open buttons. */
export interface Buttons {
  /** 'evdev <path>' / 'gpio <chip>' for each source that opened. */
  readonly sources: string[];
  /** True when a mute switch is configured and was read. */
  readonly hasMuteSwitch: boolean;
  configure(timing: ButtonTiming): void;
  close(): Promise<void>;
}

/** Opens every source of `profile`; never rejects (failures go to `handlers.error`). */
export async function openButtons(
  profile: ButtonsProfile,
  timing: ButtonTiming,
  handlers: ButtonHandlers,
  gpio: GpioChipOpener,
  readSwitches?: SwitchReader,
): Promise<Buttons> {
  const presses = new PressDetector<string>(timing, (o) => handlers.outcome(o));
  const sources: string[] = [];
  const closers: (() => Promise<void>)[] = [];
  const debouncers: Debouncer[] = [];
  let hasMuteSwitch = false;
  let debounceMs = timing.debounceMs;

  const ev = profile.evdev;
  if (ev) {
    try {
      const reader: EvdevReader = await openEvdev(
        ev.device,
        (e) => {
          if (e.type === EV_KEY) {
            const binding = ev.keys.get(e.code);
            if (!binding) return;
            if (e.value === 1) presses.down(`k${e.code}`, binding);
            else if (e.value === 0) presses.up(`k${e.code}`);
          } else if (e.type === EV_SW && e.code === ev.muteSwitch) handlers.muteSwitch(e.value !== 0);
        },
        (error) => {
          presses.reset();
          handlers.error(error);
        },
        readSwitches,
      );
      // A switch reports only its changes: where it stands now comes from the device itself.
      if (ev.muteSwitch !== undefined && reader.switchesOn !== null) handlers.muteSwitch(reader.switchesOn.includes(ev.muteSwitch));
      sources.push(`evdev ${ev.device}`);
      closers.push(async () => reader.close());
    } catch (error) {
      handlers.error(error as Error & { code: string });
    }
  }

  const gp = profile.gpio;
  if (gp) {
    const lines = [...gp.buttons, ...(gp.muteSwitch ? [gp.muteSwitch] : [])];
    const by = new Map<number, Debouncer>();
    try {
      const inputs: GpioInputs = await gpio(gp.chip).requestInputs(
        lines,
        (edge) => by.get(edge.line)?.edge(edge.value),
        (error) => {
          presses.reset();
          handlers.error(error);
        },
      );
      lines.forEach((l, i) => {
        const initial = inputs.initial[i] ?? false;
        const button = gp.buttons.find((b) => b.line === l.line);
        const d = new Debouncer(initial, debounceMs, (value) => {
          if (!button) return handlers.muteSwitch(value);
          if (value) presses.down(`g${l.line}`, button);
          else presses.up(`g${l.line}`);
        });
        by.set(l.line, d);
        debouncers.push(d);
      });
      if (gp.muteSwitch) {
        hasMuteSwitch = true;
        handlers.muteSwitch(inputs.initial[lines.length - 1] ?? false);
      }
      sources.push(`gpio ${gp.chip}`);
      closers.push(() => inputs.release());
    } catch (error) {
      handlers.error(error as Error & { code: string });
    }
  }

  return {
    sources,
    get hasMuteSwitch() {
      return hasMuteSwitch;
    },
    configure(next) {
      presses.configure(next);
      debounceMs = next.debounceMs;
    },
    async close() {
      for (const d of debouncers) d.stop();
      presses.reset();
      await Promise.all(closers.map((c) => c().catch(() => undefined)));
    },
  };
}
