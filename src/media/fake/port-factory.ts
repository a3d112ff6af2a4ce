/**
 * Argument checks and construction of the fake's ports, in the order and with the limits of
 * engine_wrap.cc (CreatePlayer, CreateRecorder, CreateTone, CreateRing).
 */
import { checkRate, requireBool, requireInt, requireInt16Array } from './args.js';
import { MAX_RATE } from './options.js';
import { PlayerPort, RecorderPort, TonePort, type ToneSegment } from './ports.js';
import { RingPort } from './ring-port.js';
import { nextPowerOfTwo } from './sample-ring.js';
import { f32 } from './dsp.js';

/** Longest ring or recorder buffer, in seconds at its rate (kMaxRingSeconds). */
export const MAX_RING_SECONDS = 600;

function requireRate(rate: unknown, name = 'rate'): number {
  return checkRate(requireInt(rate, name, 8000, MAX_RATE), name);
}

/** createPlayer(samples, rate, loop); the samples are copied. */
export function makePlayer(samples: unknown, rate: unknown, loop: unknown): PlayerPort {
  const pcm = requireInt16Array(samples, 'samples');
  const r = requireRate(rate);
  return new PlayerPort(r, pcm.slice(), requireBool(loop, 'loop'));
}

/** createRecorder(rate, capacity, notify). */
export function makeRecorder(rate: unknown, capacity: unknown, notify: unknown): RecorderPort {
  const r = requireRate(rate);
  const cap = requireInt(capacity, 'capacity', r / 100, r * MAX_RING_SECONDS);
  return new RecorderPort(r, cap, requireInt(notify, 'notify', 1, cap));
}

/** createTone(rate, segments, loop): segments are rows of [freq1, freq2, amplitude, ms]. */
export function makeTone(rate: unknown, segments: unknown, loop: unknown): TonePort {
  const r = requireRate(rate);
  if (!(segments instanceof Float64Array)) {
    throw new TypeError('segments must be a Float64Array of [freq1, freq2, amplitude, ms] rows');
  }
  if (segments.length === 0 || segments.length % 4 !== 0) {
    throw new RangeError('segments must hold one or more rows of 4 numbers');
  }
  const repeat = requireBool(loop, 'loop');
  const rows: ToneSegment[] = [];
  const nyquist = r / 2;
  for (let i = 0; i < segments.length; i += 4) {
    const [f1 = NaN, f2 = NaN, amp = NaN, ms = NaN] = segments.subarray(i, i + 4);
    if (!(f1 >= 0 && f1 < nyquist) || !(f2 >= 0 && f2 < nyquist)) {
      throw new RangeError('segments: frequencies must be from 0 to below half the rate');
    }
    if (!(amp >= 0 && amp <= 1)) throw new RangeError('segments: amplitude must be from 0 to 1');
    if (!(ms >= 1 && ms <= 600000)) throw new RangeError('segments: duration must be 1 ms to 10 min');
    rows.push({ freq1: f32(f1), freq2: f32(f2), amplitude: f32(amp), samples: Math.round((ms * r) / 1000) });
  }
  return new TonePort(r, rows, repeat);
}

/** createRing(rate, txCapacity, rxCapacity, batch, prebuffer, txRate = rate). */
export function makeRing(rate: unknown, txCapacity: unknown, rxCapacity: unknown, batch: unknown, prebuffer: unknown, txRate?: unknown): RingPort {
  const r = requireRate(rate);
  const frame = r / 100;
  const tx = requireInt(txCapacity, 'txCapacity', frame, r * MAX_RING_SECONDS);
  const rx = requireInt(rxCapacity, 'rxCapacity', frame, r * MAX_RING_SECONDS);
  const putRate = txRate === undefined ? r : requireRate(txRate, 'txRate');
  return new RingPort(r, putRate, {
    txCapacity: tx,
    rxCapacity: rx,
    batch: requireInt(batch, 'batch', 1, tx),
    // The ring rounds its capacity up to a power of two; the prebuffer may use all of it.
    prebuffer: requireInt(prebuffer, 'prebuffer', 0, nextPowerOfTwo(rx)),
  });
}
