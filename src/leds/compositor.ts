/**
 * The LED compositor: one priority list decides what the LEDs show, fed only by service events.
 * starting > error > offline > volume feedback > conversation (user speaking, thinking, speaking) >
 * idle (listening); mute is an overlay on the LEDs nearest the microphones, over every layer but error.
 * It wakes only when something changes: a solid look costs one write, a blink one wake (or none, when the
 * driver blinks in hardware) per toggle, an animation one frame per 1/fps on a ring.
 */
import type { ServiceState } from '../control/target.js';
import { isNight, msUntilNightChange, type NightSettings } from './night.js';
import type { LedOutput } from './output.js';
import { isAnimated, renderLook, untilBlinkToggle } from './patterns.js';
import { colorHex, OFF, type LedLook } from './spec.js';

/** The least brightness of the mute overlay (global brightness and night mode do not take it lower). */
export const MUTE_MIN_BRIGHTNESS = 0.2;

/** The layers a look can be configured for. */
export type LedLayer = 'starting' | 'error' | 'offline' | 'volume' | 'userSpeaking' | 'thinking' | 'speaking' | 'listening' | 'muted';

/** Everything the compositor is told by the configuration (`leds.*`). */
export interface LedSettings {
  looks: Record<LedLayer, LedLook>;
  /** Global brightness 0..1. */
  brightness: number;
  night: NightSettings;
  /** Frames per second of animations on a ring (single LEDs use at most a third of it). */
  fps: number;
}

/** What the LEDs show now, for status and the event stream. */
export interface LedShowing {
  driver: string;
  count: number;
  layer: LedLayer | 'off';
  pattern: string;
  color: string;
  periodMs: number;
  muted: boolean;
  night: boolean;
  /** The current frame, one '#rrggbb' per LED. */
  colors: string[];
}

/** How the compositor reaches the world (all injectable for tests). */
export interface CompositorOptions {
  /** LED indices the mute overlay covers; default all. */
  muteLeds?: readonly number[];
  /** The playback level 0..255 (the 'level' pattern while speaking). */
  level?: () => number;
  /** Monotonic ms; default performance.now(). */
  now?: () => number;
  /** Wall clock, for night mode; default new Date(). */
  date?: () => Date;
  /** Told whenever the layer, look, mute or night changes (not per frame). */
  onShow?: (showing: LedShowing) => void;
}

/** How long volume feedback stays after the last change, in ms. */
export const VOLUME_FEEDBACK_MS = 1500;

const CONVERSATION: Partial<Record<ServiceState, LedLayer>> = {
  user_speaking: 'userSpeaking',
  thinking: 'thinking',
  speaking: 'speaking',
  listening: 'listening',
};

/** Drives one LedOutput from service state (see the module comment). */
export class LedCompositor {
  private state: ServiceState = 'starting';
  private muted = false;
  private volume = 0;
  private volumeUntil = -Infinity;
  private layer: LedLayer | 'off' = 'off';
  private layerSince = 0;
  private signature = '';
  private readonly frame: Uint8Array;
  private readonly scratch: Uint8Array;
  private readonly last: Uint8Array;
  private written = false;
  private readonly muteLeds: readonly number[];
  private night = false;
  private timer: NodeJS.Timeout | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private volumeTimer: NodeJS.Timeout | null = null;
  private nightTimer: NodeJS.Timeout | null = null;
  private hwBlink = '';
  private closed = false;
  private readonly now: () => number;
  private readonly date: () => Date;

  constructor(
    private readonly output: LedOutput,
    private settings: LedSettings,
    private readonly options: CompositorOptions = {},
  ) {
    this.frame = new Uint8Array(output.count * 3);
    this.scratch = new Uint8Array(output.count * 3);
    this.last = new Uint8Array(output.count * 3);
    this.muteLeds = options.muteLeds ?? [...Array(output.count).keys()];
    this.now = options.now ?? (() => performance.now());
    this.date = options.date ?? (() => new Date());
    this.armNight();
    this.refresh();
  }

  /** The service state changed. */
  setState(state: ServiceState): void {
    if (state === this.state) return;
    this.state = state;
    this.refresh();
  }

  /** Mute changed (software or the switch). */
  setMuted(muted: boolean): void {
    if (muted === this.muted) return;
    this.muted = muted;
    this.refresh();
  }

  /** The volume changed: shown for {@link VOLUME_FEEDBACK_MS}. */
  volumeChanged(volume: number): void {
    this.volume = volume;
    this.volumeUntil = this.now() + VOLUME_FEEDBACK_MS;
    this.refresh();
  }

  /** New settings (a config_set or a reload). */
  configure(settings: LedSettings): void {
    this.settings = settings;
    this.signature = '';
    this.armNight();
    this.refresh();
  }

  /** What is shown now. */
  showing(): LedShowing {
    const look = this.look();
    const colors: string[] = [];
    for (let i = 0; i < this.output.count; i++) colors.push(colorHex(this.frame, i * 3));
    return {
      driver: this.output.driver,
      count: this.output.count,
      layer: this.layer,
      pattern: look.pattern,
      color: colorHex(look.color),
      periodMs: look.periodMs,
      muted: this.muted,
      night: this.night,
      colors,
    };
  }

  /** Stops every timer and turns the LEDs off. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearTimers();
    await this.output.close();
  }

  private pick(now: number): LedLayer | 'off' {
    const s = this.state;
    if (s === 'stopping') return 'off';
    if (s === 'starting' || s === 'connecting') return 'starting';
    if (s === 'error') return 'error';
    if (s === 'offline') return 'offline';
    if (now < this.volumeUntil) return 'volume';
    const layer = CONVERSATION[s] ?? 'off';
    return layer === 'listening' && this.night ? 'off' : layer;
  }

  private look(): LedLook {
    return this.layer === 'off' ? OFF : this.settings.looks[this.layer];
  }

  private scale(): number {
    return this.settings.brightness * (this.night ? this.settings.night.brightness : 1);
  }

  private overlaid(): boolean {
    return this.muted && this.layer !== 'error' && this.state !== 'stopping';
  }

  /** Re-decides the layer after an input changed, draws, and plans the next wake. */
  private refresh(): void {
    if (this.closed) return;
    const now = this.now();
    const layer = this.pick(now);
    if (layer !== this.layer) {
      this.layer = layer;
      this.layerSince = now;
    }
    this.stopTimers();
    const look = this.look();
    if (this.layer === 'volume') this.volumeTimer = this.later(this.volumeUntil - now, () => this.refresh());
    if (look.pattern === 'blink' && this.tryHardwareBlink(look)) return this.announce();
    this.draw(look, now - this.layerSince);
    this.announce();
    this.plan(look, now - this.layerSince);
  }

  /** One animation frame: the layer stays, only time moves. */
  private tick(): void {
    if (!this.closed) this.draw(this.look(), this.now() - this.layerSince);
  }

  /** Renders the layer and the mute overlay at `t` into `into`, writing nothing. */
  private compose(into: Uint8Array, look: LedLook, t: number): void {
    const level = look.pattern !== 'level' ? 0 : this.layer === 'volume' ? this.volume / 100 : (this.options.level?.() ?? 0) / 255;
    renderLook(look, this.output.count, t, level, this.scale(), into);
    if (!this.overlaid()) return;
    // The privacy light stays visible whatever the brightness and night mode say.
    renderLook(this.settings.looks.muted, this.output.count, t, 1, Math.max(this.scale(), MUTE_MIN_BRIGHTNESS), this.scratch);
    for (const i of this.muteLeds) into.set(this.scratch.subarray(i * 3, i * 3 + 3), i * 3);
  }

  /** Draws and writes the frame when it differs from the last one written. */
  private draw(look: LedLook, t: number): void {
    this.compose(this.frame, look, t);
    this.hwBlink = '';
    if (this.written) {
      let same = true;
      for (let i = 0; i < this.frame.length && same; i++) same = this.frame[i] === this.last[i];
      if (same) return;
    }
    this.last.set(this.frame);
    this.written = true;
    this.output.write(this.frame);
  }

  /** A blink the driver does in the kernel: no timers here at all. */
  private tryHardwareBlink(look: LedLook): boolean {
    if (!this.output.blink || (this.overlaid() && isAnimated(this.settings.looks.muted))) return false;
    const off = new Uint8Array(this.frame.length);
    this.compose(this.frame, look, 0);
    this.compose(off, look, look.periodMs / 2);
    const key = `${this.frame.join()}|${off.join()}|${look.periodMs}`;
    if (key === this.hwBlink) return true;
    if (!this.output.blink(this.frame, off, look.periodMs / 2)) return false;
    this.hwBlink = key;
    this.written = false;
    return true;
  }

  /** Plans the next frames: an interval at the frame rate for animations, a timeout per blink toggle. */
  private plan(look: LedLook, t: number): void {
    const overlayAnimated = this.overlaid() && isAnimated(this.settings.looks.muted);
    if (!isAnimated(look) && !overlayAnimated) return;
    if (look.pattern === 'blink' && !overlayAnimated) {
      this.timer = this.later(untilBlinkToggle(look, t), () => this.refresh());
      return;
    }
    const fps = this.output.kind === 'ring' ? this.settings.fps : Math.max(1, this.settings.fps / 3);
    this.ticker = setInterval(() => this.tick(), Math.round(1000 / fps));
    this.ticker.unref();
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(fn, Math.max(1, Math.ceil(ms)));
    timer.unref();
    return timer;
  }

  private announce(): void {
    const look = this.look();
    const signature = `${this.layer}|${look.pattern}|${colorHex(look.color)}|${look.periodMs}|${this.muted}|${this.night}|${this.scale()}`;
    if (signature === this.signature) return;
    this.signature = signature;
    this.options.onShow?.(this.showing());
  }

  private armNight(): void {
    if (this.nightTimer) clearTimeout(this.nightTimer);
    this.nightTimer = null;
    this.night = isNight(this.settings.night, this.date());
    const ms = msUntilNightChange(this.settings.night, this.date());
    if (ms === null) return;
    this.nightTimer = this.later(ms + 50, () => {
      this.armNight();
      this.refresh();
    });
  }

  private stopTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.ticker) clearInterval(this.ticker);
    if (this.volumeTimer) clearTimeout(this.volumeTimer);
    this.timer = null;
    this.ticker = null;
    this.volumeTimer = null;
  }

  private clearTimers(): void {
    this.stopTimers();
    if (this.nightTimer) clearTimeout(this.nightTimer);
    this.nightTimer = null;
  }
}
