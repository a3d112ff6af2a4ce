/**
 * The closed-loop room bench on its own, for tuning:
 *   node dist/bench/room/run.js [--room living-room|enclosure]... [--set KEY=VALUE]...
 * Without --set it runs every configuration of rooms.ts; with --set, that one configuration.
 */
import { parseArgs } from 'node:util';
import { formatMarkdown, formatRoom, runRoomBench } from './bench.js';
import { CONFIGURATIONS, ROOMS } from './rooms.js';

const { values } = parseArgs({ options: { room: { type: 'string', multiple: true, default: [] }, set: { type: 'string', multiple: true, default: [] } } });
const rooms = values.room.length ? ROOMS.filter((r) => values.room.includes(r.name)) : ROOMS;
if (rooms.length !== (values.room.length || ROOMS.length)) {
  console.error(`unknown room; rooms: ${ROOMS.map((r) => r.name).join(', ')}`);
  process.exit(2);
}
const set: Record<string, string> = {};
for (const pair of values.set) {
  const at = pair.indexOf('=');
  if (at <= 0) {
    console.error(`--set takes KEY=VALUE, got '${pair}'`);
    process.exit(2);
  }
  set[pair.slice(0, at)] = pair.slice(at + 1);
}
const configurations = values.set.length ? [{ label: values.set.join(' '), set }] : CONFIGURATIONS;
const results = await runRoomBench(rooms, configurations, (r) => console.error(`${r.room.name} / ${r.configuration.label}: ${r.skipped ? `not run (${r.skipped})` : 'done'}`));
for (const room of rooms) console.log(formatRoom(room, results));
console.log(`\n${formatMarkdown(results)}`);
