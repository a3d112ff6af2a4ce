// The media-plane part of `npm run bench` alone (bench/media.ts: the engine on the null device with
// a manual clock, 60 s of audio per figure), printed as one JSON line, for comparing CPUs:
//
//   node scripts/bench-media.mjs                       (after `npm run build:ts`)
//   bash scripts/arm/bench.sh                          (x86_64 next to arm64 under qemu-user)
import { benchMedia } from '../dist/bench/media.js';

const rows = await benchMedia();
console.log(JSON.stringify({ arch: process.arch, node: process.version, rows }));
