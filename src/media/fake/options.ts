/** Engine options of the fake, checked in the order and with the limits of ParseOptions (engine_wrap.cc). */
import type { NativeEchoPostOptions, NativePlaybackShaperOptions } from '../binding-post.js';
import type { NativeEchoEngineName, NativeEngineOptions } from '../binding.js';
import { optionBool, optionInt, optionString, requireObject } from './args.js';
import { TICK_MS } from './clock.js';
import { ALL_ECHO_ENGINES, optionEchoEngine, optionSuppression } from './echo-options.js';

/** Largest rate any port or device may run at (kMaxRate). */
export const MAX_RATE = 192000;

/** Every option with its default filled in. */
export type ResolvedOptions = Required<NativeEngineOptions>;

/**
 * Validates `options` (TypeError/RangeError naming `options.<key>`; an echo engine not in `echoEngines`
 * is Error{code:'ERR_AEC_ENGINE_UNAVAILABLE'}) and fills in the defaults.
 */
export function parseEngineOptions(options: unknown, echoEngines: readonly NativeEchoEngineName[] = ALL_ECHO_ENGINES): ResolvedOptions {
  const o = requireObject(options, 'options');
  const device = optionString(o, 'device', 'null');
  if (device !== 'null' && device !== 'alsa') throw new RangeError("options.device must be 'null' or 'alsa'");
  const manualClock = optionBool(o, 'manualClock', false);
  const bridgeRate = optionInt(o, 'bridgeRate', 16000, 8000, 48000);
  const deviceRate = optionInt(o, 'deviceRate', 48000, 8000, MAX_RATE);
  if (bridgeRate % 100 !== 0 || deviceRate % 100 !== 0) {
    throw new RangeError('options.bridgeRate and options.deviceRate must be multiples of 100 Hz');
  }
  const capture = optionString(o, 'capture', 'default');
  const playback = optionString(o, 'playback', 'default');
  const alsaConfig = optionString(o, 'alsaConfig', '');
  const captureChannels = optionInt(o, 'captureChannels', 1, 1, 8);
  const playbackChannels = optionInt(o, 'playbackChannels', 1, 1, 8);
  const bufferPeriods = optionInt(o, 'bufferPeriods', 4, 2, 32);
  const prefillPeriods = optionInt(o, 'prefillPeriods', 2, 1, 31);
  if (prefillPeriods >= bufferPeriods) {
    throw new RangeError('options.prefillPeriods must be less than options.bufferPeriods');
  }
  const periodMs = optionInt(o, 'periodMs', 10, 10, 40);
  if (periodMs % TICK_MS !== 0) throw new RangeError('options.periodMs must be a whole number of 10 ms ticks');
  if (prefillPeriods * TICK_MS <= periodMs) throw new RangeError('options.prefillPeriods (10 ms each) must cover one options.periodMs and a tick more');
  if (bufferPeriods * TICK_MS < 2 * periodMs) throw new RangeError('options.bufferPeriods (10 ms each) must cover at least two options.periodMs');
  return {
    device,
    manualClock,
    bridgeRate,
    deviceRate,
    matchBridgeRate: optionBool(o, 'matchBridgeRate', false),
    capture,
    playback,
    alsaConfig,
    captureChannels,
    playbackChannels,
    bufferPeriods,
    prefillPeriods,
    periodMs,
    captureQuality: optionInt(o, 'captureQuality', 5, 0, 10),
    playbackQuality: optionInt(o, 'playbackQuality', 5, 0, 10),
    aec: optionBool(o, 'aec', true),
    aecEngine: optionEchoEngine(o, 'aecEngine', echoEngines),
    aecSuppression: optionSuppression(o, 'aecSuppression'),
    aecNearTalkMaxCutDb: optionInt(o, 'aecNearTalkMaxCutDb', -60, -60, 0),
    aecTailMs: optionInt(o, 'aecTailMs', 250, 10, 1000),
    aecDelayMs: optionInt(o, 'aecDelayMs', -1, -1, 1000),
    aecMarginMs: optionInt(o, 'aecMarginMs', 20, 0, 200),
    aecMaxDelayMs: optionInt(o, 'aecMaxDelayMs', 500, 10, 1000),
    denoise: optionBool(o, 'denoise', true),
    post: parsePostOptions(o),
    shaper: parsePlaybackOptions(o),
    realtime: optionBool(o, 'realtime', true),
    realtimePriority: optionInt(o, 'realtimePriority', 50, 1, 99),
    retryMinMs: optionInt(o, 'retryMinMs', 500, 10, 60000),
    retryMaxMs: optionInt(o, 'retryMaxMs', 10000, 10, 600000),
  };
}

/** The nested `post` options, checked as ParseEchoPostSettings (dsp_wrap.cc) checks them. */
function parsePostOptions(o: Record<string, unknown>): NativeEchoPostOptions {
  const p = nestedObject(o, 'post');
  return {
    dtdTailMs: optionInt(p, 'dtdTailMs', 500, 50, 2000),
    dtdHangoverMs: optionInt(p, 'dtdHangoverMs', 300, 0, 2000),
    dtdOnsetFrames: optionInt(p, 'dtdOnsetFrames', 3, 1, 20),
    dtdMarginDb: optionInt(p, 'dtdMarginDb', 15, 0, 40),
    outputLagFrames: optionInt(p, 'outputLagFrames', 1, 0, 4),
    suppressDb: optionInt(p, 'suppressDb', -30, -80, 0),
    suppressDoubleTalkDb: optionInt(p, 'suppressDoubleTalkDb', 0, -40, 0),
    agc: optionBool(p, 'agc', true),
    agcTargetDbfs: optionInt(p, 'agcTargetDbfs', -26, -60, -3),
    agcMaxGainDb: optionInt(p, 'agcMaxGainDb', 30, 0, 60),
    agcGate: optionBool(p, 'agcGate', true),
  };
}

/** The nested `shaper` options, checked as ParsePlaybackShaperSettings (dsp_wrap.cc) checks them. */
function parsePlaybackOptions(o: Record<string, unknown>): NativePlaybackShaperOptions {
  const p = nestedObject(o, 'shaper');
  return {
    duckDb: optionInt(p, 'duckDb', 0, 0, 60),
    duckEngageMs: optionInt(p, 'duckEngageMs', 60, 10, 2000),
    duckHoldMs: optionInt(p, 'duckHoldMs', 300, 0, 10000),
    maxOutputDbfs: optionInt(p, 'maxOutputDbfs', 0, -60, 0),
  };
}

function nestedObject(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = o[key];
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null) throw new TypeError(`options.${key} must be an object`);
  return v as Record<string, unknown>;
}
