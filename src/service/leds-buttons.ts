/**
 * LEDs and buttons beside the service: they follow its event stream (state, mute, volume, reloads)
 * and drive it back through its public methods (mute, volume, interrupt, reconnect, the mute switch,
 * push-to-talk). Every hardware problem is logged once and the daemon carries on without that part.
 */
import type { EventEmitter } from 'node:events';
import type { SpeakerdConfig } from '../config/types.js';
import type { ServiceEvent, ServiceState } from '../control/target.js';
import { openButtons, type Buttons, type ButtonTiming } from '../buttons/buttons.js';
import type { GpioChipOpener } from '../buttons/gpio/chip.js';
import { libgpiodChip } from '../buttons/gpio/libgpiod.js';
import type { ButtonOutcome } from '../buttons/press.js';
import { loadBoardProfile, type BoardProfile } from '../leds/board.js';
import { LedCompositor, type LedSettings } from '../leds/compositor.js';
import { openLedOutput } from '../leds/open.js';
import { parseClock, parseLook } from '../leds/spec.js';
import type { ConsoleStream } from '../leds/drivers/console.js';
import { loadNativeBinding } from '../media/native-binding.js';
import type { StatusExtension } from './service.js';

/** The addon's switch reader (EVIOCGSW), when the addon can be loaded and has it. */
function nativeSwitches(): ((fd: number) => number[]) | undefined {
  try {
    const binding = loadNativeBinding();
    return binding.evdevSwitches?.bind(binding);
  } catch {
    return undefined;
  }
}

/** The addon's spidev configurator, when the addon can be loaded and has it. */
function nativeSpi(): ((fd: number, mode: number, speedHz: number, bits: number) => void) | undefined {
  try {
    const binding = loadNativeBinding();
    return binding.spiConfigure?.bind(binding);
  } catch {
    return undefined;
  }
}

/** What of the service the LEDs and buttons use. */
export interface PeripheralTarget {
  readonly events: EventEmitter;
  readonly currentConfig: SpeakerdConfig;
  readonly currentState: ServiceState;
  isMuted(): boolean;
  setMuted(muted: boolean): void;
  getVolume(): number;
  setVolume(volume: number): void;
  interrupt(): void;
  connect(): void;
  disconnect(): void;
  setMuteSwitch(muted: boolean | null): void;
  setTalkGate(open: boolean | null): void;
  levels(): { mic: number; speaker: number };
  extend(extension: StatusExtension): void;
}

/** Where the hardware is (injectable for tests). */
export interface PeripheralOptions {
  log: { info(m: string): void; warning(m: string): void; error(m: string, fields?: Record<string, unknown>): void };
  gpio?: GpioChipOpener;
  sysfsRoot?: string;
  boardsDir?: string;
  console?: ConsoleStream;
}

/** `leds.*` as the compositor takes it. */
export function ledSettings(config: SpeakerdConfig): LedSettings {
  const l = config.leds;
  const looks = Object.fromEntries(Object.entries(l.looks).map(([k, v]) => [k, parseLook(v)])) as LedSettings['looks'];
  return {
    looks,
    brightness: l.brightness,
    fps: l.fps,
    night: { mode: l.night.mode, start: parseClock(l.night.start), end: parseClock(l.night.end), brightness: l.night.brightness },
  };
}

function buttonTiming(config: SpeakerdConfig): ButtonTiming {
  const b = config.buttons;
  return { longPressMs: b.longPressMs, repeatMs: b.repeatMs, debounceMs: b.debounceMs, pushToTalk: b.pushToTalk };
}

/** The hardware-selecting keys: a change of one reopens LEDs and buttons. */
function hardwareKey(c: SpeakerdConfig): string {
  return `${c.leds.driver}\n${c.leds.board}\n${c.buttons.driver}`;
}

/** The LEDs and buttons of the daemon (see the module comment). */
export class LedsButtons {
  private compositor: LedCompositor | null = null;
  private buttons: Buttons | null = null;
  private applied = '';
  private readonly reported = new Set<string>();
  private readonly listener = (e: ServiceEvent): void => this.onEvent(e);
  private reopening: Promise<void> = Promise.resolve();

  private constructor(
    private readonly target: PeripheralTarget,
    private readonly options: PeripheralOptions,
  ) {}

  /** Opens what the configuration names and starts following the service. Never rejects on hardware problems. */
  static async start(target: PeripheralTarget, options: PeripheralOptions): Promise<LedsButtons> {
    const self = new LedsButtons(target, options);
    target.extend({
      leds: () => self.compositor?.showing() ?? null,
      snapshot: () => (self.compositor ? [{ event: 'leds', data: { ...self.compositor.showing() } }] : []),
    });
    target.events.on('event', self.listener);
    await self.open();
    return self;
  }

  /** Turns the LEDs off and releases every device. */
  async stop(): Promise<void> {
    this.target.events.off('event', this.listener);
    await this.reopening;
    await this.close();
  }

  private async open(): Promise<void> {
    const config = this.target.currentConfig;
    this.applied = hardwareKey(config);
    let board: BoardProfile | null = null;
    if (config.leds.board !== '' && (config.leds.driver !== 'none' || config.buttons.driver !== 'none')) {
      board = await loadBoardProfile(config.leds.board, this.options.boardsDir).catch((error: Error & { code: string }) => (this.report(error), null));
    }
    const gpio = this.options.gpio ?? ((path: string) => libgpiodChip(path));
    const onError = (error: Error & { code: string }): void => this.report(error);
    const spi = nativeSpi();
    const output = await openLedOutput(config.leds.driver, board?.leds ?? null, {
      gpio,
      onError,
      warn: (m) => this.warnOnce(m),
      ...(spi ? { spi } : {}),
      ...(this.options.sysfsRoot ? { sysfsRoot: this.options.sysfsRoot } : {}),
      ...(this.options.console ? { console: this.options.console } : {}),
    });
    if (output) {
      this.compositor = new LedCompositor(output, ledSettings(config), {
        ...(board?.leds?.muteLeds ? { muteLeds: board.leds.muteLeds } : {}),
        level: () => this.target.levels().speaker,
        onShow: (showing) => this.target.events.emit('event', { event: 'leds', data: { ...showing } }),
      });
      this.compositor.setMuted(this.target.isMuted());
      this.compositor.setState(this.target.currentState);
      this.options.log.info(`LEDs: ${output.driver}, ${output.count} LED${output.count === 1 ? '' : 's'}${board ? ` (${board.name})` : ''}`);
    }
    if (board?.buttons && config.buttons.driver === 'auto') {
      this.target.setTalkGate(config.buttons.pushToTalk ? false : null);
      this.buttons = await openButtons(
        board.buttons,
        buttonTiming(config),
        { outcome: (o) => this.onButton(o), muteSwitch: (m) => this.target.setMuteSwitch(m), error: onError },
        gpio,
        nativeSwitches(),
      );
      if (this.buttons.sources.length) this.options.log.info(`buttons: ${this.buttons.sources.join(', ')}`);
    }
  }

  private async close(): Promise<void> {
    const compositor = this.compositor;
    const buttons = this.buttons;
    this.compositor = null;
    this.buttons = null;
    await Promise.all([compositor?.close(), buttons?.close()]);
    // A board without the switch (or none at all) must not keep the old one's position.
    if (buttons) this.target.setMuteSwitch(null);
  }

  private onEvent(e: ServiceEvent): void {
    const c = this.compositor;
    if (e.event === 'state') c?.setState(e.data.state as ServiceState);
    else if (e.event === 'mute') c?.setMuted(e.data.muted === true);
    else if (e.event === 'volume') c?.volumeChanged(Number(e.data.volume));
    else if (e.event === 'config_reloaded') this.reconfigure();
  }

  private reconfigure(): void {
    const config = this.target.currentConfig;
    if (hardwareKey(config) !== this.applied) {
      this.reported.clear();
      this.reopening = this.reopening.then(async () => {
        await this.close();
        await this.open();
      });
      return;
    }
    try {
      this.compositor?.configure(ledSettings(config));
    } catch (error) {
      this.report(Object.assign(error as Error, { code: 'ERR_CONFIG_INVALID' }));
    }
    this.buttons?.configure(buttonTiming(config));
    if (this.buttons) this.target.setTalkGate(config.buttons.pushToTalk ? false : null);
  }

  private onButton(o: ButtonOutcome): void {
    this.target.events.emit('event', {
      event: 'button',
      data: o.kind === 'talk' ? { button: o.button, action: 'talk', held: o.held } : { button: o.button, action: o.action, long: o.long },
    });
    if (o.kind === 'talk') return this.target.setTalkGate(o.held);
    const step = this.target.currentConfig.buttons.volumeStep;
    try {
      switch (o.action) {
        case 'mute':
          return this.target.setMuted(!this.target.isMuted());
        case 'volume_up':
          return this.target.setVolume(this.target.getVolume() + step);
        case 'volume_down':
          return this.target.setVolume(this.target.getVolume() - step);
        case 'interrupt':
        case 'talk':
          return this.target.interrupt();
        case 'reconnect':
          this.target.disconnect();
          return this.target.connect();
        case 'none':
          return;
      }
    } catch (error) {
      const e = error as Error & { code?: string };
      this.options.log.warning(`button ${o.button} (${o.action}): ${e.code ? `${e.code}: ` : ''}${e.message}`);
    }
  }

  /** Logs a hardware problem once (per distinct message); the daemon carries on without that device. */
  private report(error: Error & { code?: string }): void {
    const key = `${error.code ?? ''}|${error.message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.options.log.error(`${error.message}; carrying on without it`, { code: error.code ?? 'ERR_LED_DEVICE' });
  }

  private warnOnce(message: string): void {
    if (this.reported.has(message)) return;
    this.reported.add(message);
    this.options.log.warning(message);
  }
}
