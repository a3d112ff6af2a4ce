/**
 * The model and drawing of `speakerctl watch`: events in, lines out. Pure, so it is tested without a
 * terminal. On a terminal the whole view is redrawn in place; otherwise each change is one plain line.
 */
import type { EventMessage } from '../../control/protocol.js';
import { formatAec } from './format.js';

/** Transcripts kept on screen. */
export const WATCH_TRANSCRIPTS = 5;

interface Transcript {
  role: string;
  text: string;
  final: boolean;
}

type Obj = Record<string, unknown>;

/** A level 0..255 as a bar of `width` cells. */
export function levelBar(level: number, width: number): string {
  const filled = Math.round((Math.min(255, Math.max(0, level)) / 255) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** Replaces control characters (a transcript could carry terminal escapes) with spaces. */
export function clean(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

function cut(line: string, width: number): string {
  line = clean(line);
  return line.length > width ? `${line.slice(0, Math.max(0, width - 1))}~` : line;
}

/** What `watch` shows. */
export class WatchView {
  state = '?';
  muted: boolean | null = null;
  volume: number | null = null;
  backend = '?';
  mic = 0;
  speaker = 0;
  lastError: string | null = null;
  /** The mute switch: true muted, false open, null none. */
  muteSwitch: boolean | null = null;
  /** What the LEDs show (the `leds` event), null without LEDs. */
  leds: { layer: string; pattern: string; color: string; colors: string[] } | null = null;
  /** The echo canceller line (formatAec), null before a status or with the canceller off. */
  aec: string | null = null;
  readonly transcripts: Transcript[] = [];

  /**
   * Takes the echo canceller of a (periodic) `status` result; returns a plain line when its engine,
   * delay or delay source changed (ERLE and confidence alone move all the time), else null.
   */
  applyAecStatus(status: Obj): string | null {
    const audio = status.audio;
    if (typeof audio !== 'object' || audio === null) return null;
    const aec = (audio as Obj).aec as Obj | null | undefined;
    const line = aec ? formatAec(aec) : 'off';
    const key = aec ? `${String(aec.engine)} ${String(aec.delayMs)} ${String(aec.delaySource)}` : 'off';
    this.aec = line;
    if (key === this.aecKey) return null;
    this.aecKey = key;
    return clean(`echo canceller ${line}`);
  }

  private aecKey: string | null = null;

  /** Takes the fields of a `status` result. */
  applyStatus(status: Obj): void {
    if (typeof status.state === 'string') this.state = status.state;
    if (typeof status.muted === 'boolean') this.muted = status.muted;
    if (typeof status.volume === 'number') this.volume = status.volume;
    if (typeof status.backend === 'string') this.backend = status.backend;
    const e = status.lastError as Obj | null | undefined;
    if (e) this.lastError = `${String(e.code)}: ${String(e.message)}`;
    if (typeof status.muteSwitch === 'boolean') this.muteSwitch = status.muteSwitch;
    if (status.leds && typeof status.leds === 'object') this.setLeds(status.leds as Obj);
    this.applyAecStatus(status);
  }

  private setLeds(d: Obj): void {
    const colors = Array.isArray(d.colors) ? d.colors.slice(0, 256).map(String) : [];
    this.leds = { layer: String(d.layer ?? '?'), pattern: String(d.pattern ?? '?'), color: String(d.color ?? ''), colors };
  }

  /**
   * Applies an event; returns a one-line description of the change for plain output, or null when
   * there is nothing to print (levels, unknown events).
   */
  apply(e: EventMessage): string | null {
    const line = this.change(e);
    return line === null ? null : clean(line);
  }

  private change(e: EventMessage): string | null {
    const d = e.data;
    switch (e.event) {
      case 'state':
        this.state = String(d.state ?? '?');
        return `state ${this.state}`;
      case 'mute':
        this.muted = d.muted === true;
        return this.muted ? 'muted' : 'unmuted';
      case 'volume':
        this.volume = typeof d.volume === 'number' ? d.volume : this.volume;
        return `volume ${String(this.volume)}`;
      case 'levels':
        this.mic = Number(d.mic) || 0;
        this.speaker = Number(d.speaker) || 0;
        return null;
      case 'transcript':
        return this.transcript(d);
      case 'mute_switch':
        this.muteSwitch = typeof d.muted === 'boolean' ? d.muted : null;
        return `mute switch ${this.muteSwitch === null ? 'gone' : this.muteSwitch ? 'on (muted)' : 'off'}`;
      case 'leds':
        this.setLeds(d);
        return `leds ${this.leds?.layer} ${this.leds?.pattern} ${this.leds?.color}`;
      case 'button':
        return `button ${String(d.button ?? '?')} ${String(d.action ?? '?')}${d.long === true ? ' (long)' : ''}${typeof d.held === 'boolean' ? (d.held ? ' held' : ' released') : ''}`;
      case 'error':
        this.lastError = `${String(d.code ?? 'error')}: ${String(d.message ?? '')}`;
        return `error ${this.lastError}`;
      case 'dropped':
        return `dropped by speakerd: ${String(d.reason ?? '')}`;
      default:
        return e.event === 'config_reloaded' || e.event.startsWith('response_') || e.event.startsWith('speech_') || e.event === 'tool_call'
          ? `${e.event}${Object.keys(d).length > 0 ? ` ${JSON.stringify(d)}` : ''}`
          : null;
    }
  }

  private transcript(d: Obj): string | null {
    const t: Transcript = { role: String(d.role ?? '?'), text: String(d.text ?? ''), final: d.final !== false };
    const last = this.transcripts[this.transcripts.length - 1];
    if (last !== undefined && !last.final && last.role === t.role) this.transcripts[this.transcripts.length - 1] = t;
    else this.transcripts.push(t);
    if (this.transcripts.length > WATCH_TRANSCRIPTS) this.transcripts.shift();
    return t.final ? `${t.role}: ${t.text}` : null;
  }

  /** The levels as one plain line. */
  levelsLine(): string {
    return `levels mic ${this.mic} speaker ${this.speaker}`;
  }

  /** The whole view as lines no wider than `width`. */
  render(width: number): string[] {
    const w = Math.max(20, width);
    const bar = Math.max(10, Math.min(50, w - 16));
    const muted = `${this.muted === null ? '?' : this.muted ? 'MUTED' : 'on'}${this.muteSwitch ? ' (switch)' : ''}`;
    const lines = [
      `speakerd  ${this.state}   mic ${muted}   volume ${this.volume ?? '?'}   backend ${this.backend}`,
      ...(this.leds ? [`leds    ${ledCells(this.leds.colors)} ${this.leds.layer} ${this.leds.pattern} ${this.leds.color}`] : []),
      `mic     ${levelBar(this.mic, bar)} ${String(this.mic).padStart(3)}`,
      `speaker ${levelBar(this.speaker, bar)} ${String(this.speaker).padStart(3)}`,
      ...(this.aec === null ? [] : [`echo    ${this.aec}`]),
      '',
      ...this.transcripts.map((t) => `${`${t.role}:`.padEnd(11)}${t.text}${t.final ? '' : ' ...'}`),
      ...Array.from({ length: WATCH_TRANSCRIPTS - this.transcripts.length }, () => ''),
      '',
      `last error: ${this.lastError ?? 'none'}`,
    ];
    return lines.map((l) => cut(l, w));
  }
}

/** LEDs as cells: '●' lit, '·' dark, in brackets. */
export function ledCells(colors: readonly string[]): string {
  return `[${colors.map((c) => (/^#0{6}$/.test(c) ? '\u00b7' : '\u25cf')).join('')}]`;
}

/** ANSI: move to the top of the previous frame of `previousLines` lines, draw `lines`, clear below. */
export function redraw(lines: string[], previousLines: number): string {
  const up = previousLines > 0 ? `\x1b[${previousLines}F` : '';
  return `${up}${lines.map((l) => `\x1b[2K${l}\n`).join('')}\x1b[J`;
}
