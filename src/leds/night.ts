/** Night mode: a time window (local time) or a switch, during which LEDs are dimmed or turned off. */

/** `leds.night.*` as the compositor uses it. */
export interface NightSettings {
  /** 'off': never; 'on': now (set over the socket, e.g. by a bedtime routine); 'schedule': between start and end. */
  mode: 'off' | 'on' | 'schedule';
  /** Minutes after local midnight. A window may wrap midnight (22:00 to 07:00). */
  start: number;
  end: number;
  /** Brightness factor of the states still shown at night (0 turns them off too). */
  brightness: number;
}

function minuteOf(date: Date): number {
  return date.getHours() * 60 + date.getMinutes();
}

/** True when night mode applies at `date`. */
export function isNight(night: NightSettings, date: Date): boolean {
  if (night.mode !== 'schedule') return night.mode === 'on';
  const m = minuteOf(date);
  if (night.start === night.end) return false;
  return night.start < night.end ? m >= night.start && m < night.end : m >= night.start || m < night.end;
}

/** Ms from `date` until the schedule next switches (start or end), or null when it never does. */
export function msUntilNightChange(night: NightSettings, date: Date): number | null {
  if (night.mode !== 'schedule' || night.start === night.end) return null;
  const nowMs = (minuteOf(date) * 60 + date.getSeconds()) * 1000 + date.getMilliseconds();
  const ahead = (boundary: number): number => {
    const d = boundary * 60000 - nowMs;
    return d > 0 ? d : d + 86400000;
  };
  return Math.min(ahead(night.start), ahead(night.end));
}
