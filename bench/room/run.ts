/**
 * The closed-loop room bench on its own, for tuning:
 *   node dist/bench/room/run.js [--room living-room|enclosure]... [--set KEY=VALUE]... [--room-set FIELD=NUMBER]... [--seed N] [--dump DIR]
 * Without --set it runs every configuration of rooms.ts; with --set, that one configuration.
 * --room-set changes a field of the rooms (e.g. noiseDbfs=-90, bulkMs=60, volume=80; see Room).
 * --seed picks other synthetic speech and noise (default 1, what `npm run bench` runs).
 * --dump writes each run's recordings to DIR/<room>-<configuration>-seed<N> (bench/room/dump.ts), for
 * analysis outside the bench (bench/room/detector-timing.ts), with the daemon's echo canceller as
 * `status` showed it every 50 ms (meta.json's timeline).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatMarkdown, formatRoom, runRoomBench } from './bench.js';
import { writeRunDump } from './dump.js';
import { CONFIGURATIONS, ROOMS, type Room } from './rooms.js';

const { values } = parseArgs({
  options: {
    room: { type: 'string', multiple: true, default: [] },
    set: { type: 'string', multiple: true, default: [] },
    'room-set': { type: 'string', multiple: true, default: [] },
    seed: { type: 'string', default: '1' },
    dump: { type: 'string' },
  },
});

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function pairs(list: readonly string[], option: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of list) {
    const at = pair.indexOf('=');
    if (at <= 0) fail(`${option} takes KEY=VALUE, got '${pair}'`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

const roomChanges: Record<string, number> = {};
for (const [field, value] of Object.entries(pairs(values['room-set'], '--room-set'))) {
  if (!(field in ROOMS[0]!) || typeof ROOMS[0]![field as keyof Room] !== 'number' || !Number.isFinite(Number(value)))
    fail(`--room-set takes a numeric field of Room and a number, got '${field}=${value}'`);
  roomChanges[field] = Number(value);
}
const rooms: Room[] = (values.room.length ? ROOMS.filter((r) => values.room.includes(r.name)) : [...ROOMS]).map((r) => ({ ...r, ...roomChanges }));
if (rooms.length !== (values.room.length || ROOMS.length)) fail(`unknown room; rooms: ${ROOMS.map((r) => r.name).join(', ')}`);
const set = pairs(values.set, '--set');
const configurations = values.set.length ? [{ label: values.set.join(' '), set }] : CONFIGURATIONS;
const seed = Number(values.seed);
if (!Number.isInteger(seed) || seed < 1 || seed > 1000) fail(`--seed takes an integer from 1 to 1000, got '${values.seed}'`);
const results = await runRoomBench(
  rooms,
  configurations,
  (r) => console.error(`${r.room.name} / ${r.configuration.label}: ${r.skipped ? `not run (${r.skipped})` : 'done'}`),
  seed,
  (r, run) => {
    if (values.dump === undefined) return;
    const dir = join(values.dump, `${r.room.name}-${r.configuration.label.replace(/[^\w.=-]+/g, '_')}-seed${seed}`);
    writeRunDump(dir, run);
    console.error(`  recordings in ${dir}`);
  },
  values.dump !== undefined,
);
for (const room of rooms) console.log(formatRoom(room, results));
console.log(`\n${formatMarkdown(results)}`);
