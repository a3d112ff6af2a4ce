/**
 * The closed-loop room section of `npm run bench`: every configuration through both rooms, figures
 * side by side per room, then one Markdown table (for docs/audio.md).
 */
import { JackDevice } from '../../test/helpers/jack-device.js';
import { roomAlsaConfig, roomClientBinary } from './client.js';
import { measureRun, type RoomFigures } from './metrics.js';
import { CONFIGURATIONS, ROOMS, resolveConfiguration, type Configuration, type Room } from './rooms.js';
import { runRoom, type RunRecord } from './session.js';

/** JACK server of the bench (one name: JACK keeps at most 8 servers registered in /dev/shm). */
const JACK_SERVER = 'speakerd-bench-room';

/** One row of results: a room and a configuration, with its figures or why it did not run. */
export interface RoomResult {
  room: Room;
  configuration: Configuration;
  figures?: RoomFigures;
  skipped?: string;
}

const fixed = (v: number, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : 'inf');

/** The figures as table cells, in the order of FIGURE_NAMES. */
function cells(f: RoomFigures): string[] {
  return [
    `${f.residualAtFloor ? '>=' : ''}${fixed(f.residualEchoDb)}`,
    String(f.falseStarts),
    fixed(f.inSpeechPercent, 0),
    fixed(f.doubleTalkLossDb),
    `${f.usersDetected}/${f.utterances}`,
    fixed(f.cpuPercent, 2),
    fixed(f.userGainDb),
    fixed(f.vadGainDb),
    fixed(f.echoDbfs),
    fixed(f.clippedPercent),
    fixed(f.alignment, 3),
    fixed(f.slipMs, 0),
    `${f.daemonXruns}/${f.jackXruns}`,
  ];
}

const FIGURE_NAMES = [
  'residual echo below the echo, net of the floor (dB)',
  'false VAD starts, assistant alone after convergence',
  'time in speech, assistant alone (%)',
  'double-talk loss of the user (dB)',
  'users detected / utterances',
  'daemon CPU per audio second (% of a core)',
  "user's gain mic to uplink, alone (dB)",
  'gain before the VAD to -26 dBFS user (dB)',
  'echo at the mic (dBFS)',
  'loudspeaker samples clipped (%)',
  'alignment of the uplink (correlation)',
  'uplink slip against the mic between utterances (ms)',
  'xruns + underruns of the daemon / late JACK cycles',
];

/**
 * Runs `configurations` through `rooms` on one JACK server, reporting each result as it comes; `seed`
 * picks the synthetic speech of the assistant and the user and the room's noise; `onRun` gets each
 * run's recordings too (with the daemon's status every 50 ms when `timeline` is set).
 */
export async function runRoomBench(
  rooms: readonly Room[],
  configurations: readonly Configuration[],
  onResult: (r: RoomResult) => void = () => undefined,
  seed = 1,
  onRun: (r: RoomResult, run: RunRecord) => void = () => undefined,
  timeline = false,
): Promise<RoomResult[]> {
  roomClientBinary();
  const jack = new JackDevice(JACK_SERVER, roomAlsaConfig(), true);
  await jack.start();
  const results: RoomResult[] = [];
  try {
    for (const room of rooms) {
      for (const configuration of configurations) {
        const resolved = resolveConfiguration(configuration);
        let result: RoomResult;
        if ('missing' in resolved) result = { room, configuration, skipped: `${resolved.missing} is not a key of this build` };
        else {
          try {
            const run = await runRoom(room, resolved.set, JACK_SERVER, jack.config, seed, timeline);
            result = { room, configuration, figures: measureRun(run) };
            onRun(result, run);
          } catch (error) {
            result = { room, configuration, skipped: (error as Error).message };
          }
        }
        results.push(result);
        onResult(result);
      }
    }
  } finally {
    await jack.remove();
  }
  return results;
}

/** The results of one room as a text table, one column per configuration. */
export function formatRoom(room: Room, results: readonly RoomResult[]): string {
  const ran = results.filter((r) => r.room === room && r.figures);
  const lines = [
    `${room.label}: ERL ${room.erlDb} dB, bulk ${room.bulkMs} ms, RT60 ${room.rt60Ms} ms (${room.irMs} ms response), noise ${room.noiseDbfs} dBFS, SER ${room.serDb} dB, volume ${room.volume}${room.clip ? `, soft clip above ${room.clip} FS` : ''}`,
  ];
  lines.push(`  ${''.padEnd(54)}${ran.map((r) => r.configuration.label.padStart(14)).join('')}`);
  const columns = ran.map((r) => cells(r.figures!));
  FIGURE_NAMES.forEach((name, i) => lines.push(`  ${name.padEnd(54)}${columns.map((c) => c[i]!.padStart(14)).join('')}`));
  for (const r of results.filter((x) => x.room === room && x.skipped)) lines.push(`  not run: ${r.configuration.label}: ${r.skipped}`);
  return lines.join('\n');
}

/** Every result that ran as one Markdown table (the first six figures, and the xruns that disturb them). */
export function formatMarkdown(results: readonly RoomResult[]): string {
  const header = [
    'room',
    'configuration',
    'residual echo (dB)',
    'false starts',
    'in speech (%)',
    'double-talk loss (dB)',
    'users detected',
    'CPU (% core)',
    'xruns',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of results)
    if (r.figures) lines.push(`| ${r.room.label} | ${r.configuration.label} | ${[...cells(r.figures).slice(0, 6), cells(r.figures).at(-1)].join(' | ')} |`);
  return lines.join('\n');
}

/** The bench section: all rooms, all configurations; prints both tables. */
export async function benchRoom(): Promise<void> {
  const t0 = performance.now();
  const results = await runRoomBench(ROOMS, CONFIGURATIONS);
  for (const room of ROOMS) console.log(formatRoom(room, results));
  console.log(`\n${formatMarkdown(results)}`);
  console.log(`\n(room section: ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
