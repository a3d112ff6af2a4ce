/**
 * The two rooms of issue 10, the timeline every run follows, and the engine configurations the bench
 * compares. A new configuration is one line of CONFIGURATIONS.
 */
import { KEYS } from '../../src/config/schema.js';

/** An acoustic room between the daemon's loudspeaker and microphone (see room-client.c). */
export interface Room {
  /** Name on the command line (`--room`). */
  name: string;
  /** One line for the tables. */
  label: string;
  /** Converter and air delay the daemon's ALSA figures do not see, in ms. */
  bulkMs: number;
  /** Length of the room impulse response after the bulk delay, in ms. */
  irMs: number;
  /** Reverberation time of its tail (60 dB of decay), in ms. */
  rt60Ms: number;
  /** Echo return loss: loudspeaker signal over echo at the microphone, in dB. */
  erlDb: number;
  /** The loudspeaker compresses peaks above this level (fraction of full scale); 0 = linear. */
  clip: number;
  /** White noise at the microphone, in dBFS. */
  noiseDbfs: number;
  /** The user's speech over the echo at the microphone (signal-to-echo ratio), in dB. */
  serDb: number;
  /** Device volume (audio.volume, 0-100). */
  volume: number;
}

/** The rooms, as issue 10 measured them. */
export const ROOMS: readonly Room[] = [
  { name: 'living-room', label: 'quiet living room', bulkMs: 40, irMs: 300, rt60Ms: 300, erlDb: 10, clip: 0, noiseDbfs: -55, serDb: -5, volume: 70 },
  { name: 'enclosure', label: 'enclosure', bulkMs: 40, irMs: 400, rt60Ms: 500, erlDb: 1, clip: 0.3, noiseDbfs: -62, serDb: -15, volume: 100 },
];

/** Level of the assistant's reply as the service sends it (RMS over active speech), in dBFS. */
export const REPLY_DBFS = -18;

/** The timeline of a run, in ms from the first audible sample of the reply. */
export const TIMELINE = {
  /** The assistant alone, given to the canceller to converge. */
  convergeMs: 5000,
  /** The assistant alone, measured. */
  farOnlyMs: 4000,
  /** The user talks over the reply. */
  doubleTalkMs: 5500,
  /** The user alone, after the reply and its echo tail. */
  nearOnlyMs: 5200,
  /** The user's utterances: [start, length] in ms from the reply's start. */
  utterances: [
    [9300, 2000],
    [12100, 2000],
    [15100, 1600],
    [17500, 1600],
  ] as const,
  /** Noise alone before the reply, where the floor of what is sent is measured (ms before the reply). */
  floorMs: [1000, 100] as const,
};

/** Length of the reply, in ms. */
export const REPLY_MS = TIMELINE.convergeMs + TIMELINE.farOnlyMs + TIMELINE.doubleTalkMs;
/** Length of the timeline after the reply's start, in ms. */
export const TIMELINE_MS = REPLY_MS + TIMELINE.nearOnlyMs;

/**
 * A configuration of the daemon to compare: `--set` pairs. A key this build's schema lacks skips the
 * configuration, unless it is listed in `defaultWhenAbsent` (then the build's default stands for it).
 */
export interface Configuration {
  label: string;
  set: Readonly<Record<string, string>>;
  defaultWhenAbsent?: readonly string[];
}

/** The configurations `npm run bench` compares, baseline first. */
export const CONFIGURATIONS: readonly Configuration[] = [
  { label: 'AEC off', set: { 'aec.enabled': 'false' } },
  { label: 'default (aec.engine auto) + post filter + ducking 12 dB', set: {} },
  { label: 'speex + post filter + ducking 12 dB', set: { 'aec.engine': 'speex' } },
  { label: 'speex, no post filter', set: { 'aec.engine': 'speex', 'aec.suppressDb': '0', 'aec.agc': 'false', 'aec.duckDb': '0' } },
  {
    label: 'webrtc, no post filter',
    set: { 'aec.engine': 'webrtc', 'aec.suppressDb': '0', 'aec.agc': 'false', 'aec.duckDb': '0', 'aec.userMaxCutDb': '-60' },
  },
  { label: 'default + ceiling -11 dBFS', set: { 'audio.maxOutputDbfs': '-11' } },
];

/** The `--set` pairs of `configuration` this build understands, or the first key it does not know. */
export function resolveConfiguration(configuration: Configuration): { set: Record<string, string> } | { missing: string } {
  const set: Record<string, string> = {};
  for (const [key, value] of Object.entries(configuration.set)) {
    if (KEYS.has(key)) set[key] = value;
    else if (!configuration.defaultWhenAbsent?.includes(key)) return { missing: key };
  }
  return { set };
}
