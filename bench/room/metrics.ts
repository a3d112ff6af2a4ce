/**
 * The figures of one run, with the room's recordings as ground truth: what the daemon sent is aligned
 * to the microphone by locating the user's speech in it (the user passes any canceller), then
 * measured against the echo, user and noise the room injected.
 */
import type { SampleRange } from '../echo-scenario.js';
import { correlationOver, db, locate, powerOver, projectionGain, resample } from './dsp.js';
import { TIMELINE } from './rooms.js';
import { WIRE_RATE, type RunRecord } from './session.js';
import { NOMINAL_SPEECH_DBFS, runVad } from './vad.js';

/** The figures of a run (see docs/audio.md for their definitions). */
export interface RoomFigures {
  /** Residual echo below the echo at the microphone, net of the noise floor of what is sent, dB. */
  residualEchoDb: number;
  /** True when the residual is below a tenth of the noise floor: the figure is a lower bound. */
  residualAtFloor: boolean;
  /** Speech starts of the server VAD while only the assistant talks (after convergence). */
  falseStarts: number;
  /** Share of that stretch the VAD is in speech, %. */
  inSpeechPercent: number;
  /** The user's loss during double talk relative to the user alone, dB. */
  doubleTalkLossDb: number;
  /** User utterances with a VAD speech start inside them, and utterances. */
  usersDetected: number;
  utterances: number;
  /** CPU of the daemon per audio second, % of one core. */
  cpuPercent: number;
  /** The user's gain from the microphone to what is sent, when alone, dB. */
  userGainDb: number;
  /** The gain the bench put before the VAD to bring the user to -26 dBFS (0 when an AGC did), dB. */
  vadGainDb: number;
  /** Echo level at the microphone while the assistant talks alone, dBFS. */
  echoDbfs: number;
  /** Share of the loudspeaker's active samples it clipped, %. */
  clippedPercent: number;
  /** Normalised correlation of the user in the uplink with the user injected (alignment quality). */
  alignment: number;
  /** How far the uplink's alignment to the microphone moved between utterances (lost or late periods), ms. */
  slipMs: number;
  /** Device xruns and underruns the daemon counted, and late cycles of the JACK server. */
  daemonXruns: number;
  jackXruns: number;
}

/** How far a lost or late period may have moved an utterance from where the user alone was found, ms. */
const MAX_SLIP_MS = 200;

/**
 * The user's gain in what was sent over `ranges`, each located on its own within MAX_SLIP_MS of
 * `lag` (a lost period moves the uplink against the microphone), and the lag found for each.
 */
function userGain(
  user: Float32Array,
  uplink: Int16Array,
  coarse: Float64Array,
  ranges: readonly SampleRange[],
  rate: number,
  around: number,
): { gain: number; lags: number[] } {
  let cross = 0;
  let self = 0;
  const lags: number[] = [];
  for (const range of ranges) {
    const { lag } = locate(user, range, coarse, { lag: around, within: (MAX_SLIP_MS * rate) / 1000 });
    lags.push(lag);
    const length = range.end - range.start;
    const sent = resample(uplink, WIRE_RATE, rate, lag + range.start, length);
    const spoken = user.subarray(range.start, range.end);
    const gain = projectionGain(spoken, sent, [{ start: 0, end: length }]);
    const energy = powerOver(spoken, [{ start: 0, end: length }]) * length;
    cross += gain * energy;
    self += energy;
  }
  return { gain: cross / Math.max(1e-30, self), lags };
}

const FULL_SCALE_POWER = 32768 ** 2;

/** Computes the figures of `run`. */
export function measureRun(run: RunRecord): RoomFigures {
  const { recording, stats, utterances } = run;
  const rate = stats.rate;
  const ms = (m: number): number => Math.round((m * rate) / 1000);
  const alone = utterances.slice(2);
  const doubleTalk = utterances.slice(0, 2);
  const coarse = resample(run.uplink, WIRE_RATE, rate);
  const aloneSpan = { start: alone[0]!.start, end: alone.at(-1)!.end };
  const found = locate(recording.user, aloneSpan, coarse);
  const sent = resample(run.uplink, WIRE_RATE, rate, found.lag, recording.mic.length);
  const floor: SampleRange = { start: stats.onset - ms(TIMELINE.floorMs[0]), end: stats.onset - ms(TIMELINE.floorMs[1]) };
  const farOnly: SampleRange = { start: stats.onset + ms(TIMELINE.convergeMs), end: stats.onset + ms(TIMELINE.convergeMs + TIMELINE.farOnlyMs) };
  if (floor.start < 0) throw new Error('the reply started before the noise floor could be measured');
  const aloneGain = userGain(recording.user, run.uplink, coarse, alone, rate, found.lag);
  const doubleTalkGain = userGain(recording.user, run.uplink, coarse, doubleTalk, rate, found.lag);
  const gainAlone = aloneGain.gain;
  const gainDoubleTalk = doubleTalkGain.gain;
  const lags = [...doubleTalkGain.lags, ...aloneGain.lags];
  const floorPower = powerOver(sent, [floor]);
  const echoPower = powerOver(recording.echo, [farOnly]);
  const net = powerOver(sent, [farOnly]) - floorPower;
  const residualAtFloor = net < 0.1 * floorPower;
  const residualEchoDb = db((echoPower * gainAlone ** 2) / Math.max(net, 0.1 * floorPower));
  const vadGainDb = NOMINAL_SPEECH_DBFS - (run.userDbfs + 20 * Math.log10(Math.max(gainAlone, 1e-6)));
  const vadGain = 10 ** (vadGainDb / 20);
  const vadInput = sent.map((v) => v * vadGain);
  const vad = runVad(vadInput, rate, db((floorPower * vadGain ** 2) / FULL_SCALE_POWER));
  const inRange = (n: number, r: SampleRange): boolean => n >= r.start && n < r.end;
  const farFrames = { start: Math.ceil(farOnly.start / vad.frameSamples), end: Math.floor(farOnly.end / vad.frameSamples) };
  let speechFrames = 0;
  for (let f = farFrames.start; f < farFrames.end; f++) speechFrames += vad.inSpeech[f] ?? 0;
  return {
    residualEchoDb,
    residualAtFloor,
    falseStarts: vad.starts.filter((n) => inRange(n, farOnly)).length,
    inSpeechPercent: (100 * speechFrames) / Math.max(1, farFrames.end - farFrames.start),
    doubleTalkLossDb: gainDoubleTalk > 0 ? 20 * Math.log10(gainAlone / gainDoubleTalk) : Number.POSITIVE_INFINITY,
    // A start is reported at the first sample of its VAD frame: the frame that holds the user's onset
    // may begin up to one frame before it.
    usersDetected: utterances.filter((u) => vad.starts.some((n) => inRange(n, { start: u.start - vad.frameSamples, end: u.end }))).length,
    utterances: utterances.length,
    cpuPercent: run.cpuPercent,
    userGainDb: 20 * Math.log10(Math.max(gainAlone, 1e-6)),
    vadGainDb,
    echoDbfs: db(echoPower / FULL_SCALE_POWER),
    clippedPercent: (100 * stats.clipped48) / Math.max(1, stats.active48),
    alignment: correlationOver(recording.user, sent, alone),
    slipMs: ((Math.max(...lags) - Math.min(...lags)) * 1000) / rate,
    daemonXruns: run.daemonXruns,
    jackXruns: stats.xruns,
  };
}
