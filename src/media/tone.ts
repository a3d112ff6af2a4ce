import type { NativeEvent } from './binding.js';
import { DestroyableMedia } from './audio-media.js';
import type { AudioEngine } from './engine.js';
import { checkNumber } from './validate.js';

/** One step of a tone sequence. A segment with no frequency is a pause. */
export interface ToneSegment {
  /** Hz; omitted or 0 for silence. */
  freq?: number;
  /** A second simultaneous frequency (DTMF-like chords), Hz. */
  freq2?: number;
  /** 0..1 of full scale, default 0.3. */
  amplitude?: number;
  /** Duration in ms (1 to 600000). */
  ms: number;
}

/** Events of a tone generator: 'done' when a non-looping sequence has finished. */
export interface ToneEvents {
  done: [];
}

/**
 * Tone and chime generator (earcons): plays a sequence of segments with 5 ms fades, once or looped.
 * Emits 'done' when a non-looping sequence has finished.
 */
export class AudioMediaTone extends DestroyableMedia<ToneEvents> {
  /** Port kind, for statistics. */
  readonly kind = 'tone';
  /** Total length of one pass in ms. */
  readonly durationMs: number;

  private constructor(engine: AudioEngine, portId: number, durationMs: number) {
    super(engine, portId);
    this.durationMs = durationMs;
  }

  /** Creates the generator; it starts sounding once connected to a sink. */
  static create(engine: AudioEngine, segments: ToneSegment[], options: { loop?: boolean } = {}): AudioMediaTone {
    if (!Array.isArray(segments) || segments.length === 0) throw new TypeError('segments must be a non-empty array');
    const nyquist = engine.bridgeRate / 2;
    const flat = new Float64Array(segments.length * 4);
    let total = 0;
    segments.forEach((s, i) => {
      const where = `segments[${i}]`;
      flat[i * 4] = checkNumber(s.freq ?? 0, `${where}.freq`, 0, nyquist - 1);
      flat[i * 4 + 1] = checkNumber(s.freq2 ?? 0, `${where}.freq2`, 0, nyquist - 1);
      flat[i * 4 + 2] = checkNumber(s.amplitude ?? 0.3, `${where}.amplitude`, 0, 1);
      flat[i * 4 + 3] = checkNumber(s.ms, `${where}.ms`, 1, 600000);
      total += s.ms;
    });
    const id = engine.call((n) => n.createTone(engine.bridgeRate, flat, options.loop ?? false));
    return new AudioMediaTone(engine, id, total);
  }

  /** @internal */
  handleEvent(event: NativeEvent): void {
    if (event.type === 'tone_done') this.emitEvent('done');
  }
}
