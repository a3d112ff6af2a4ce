#!/usr/bin/env bash
# The engine's per-audio-second cost on this x86_64 machine next to arm64 (and armhf) under qemu-user,
# as ratios: scripts/bench-media.mjs (bench/media.ts) run by the host's Node and by an ARM Node.
#
#   bash scripts/arm/bench.sh [arm64] [armhf]     (default arm64; needs build:cross and build:ts first)
#
# qemu-user translates every ARM instruction into x86 code at run time: the ratio measures the
# emulator on this machine, not an ARM board. A Cortex-A53/A72 board's own figures come from
# `npm run bench` run on the board.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(arm64)
bash scripts/arm/qemu.sh
results=$(mktemp)
trap 'rm -f "$results"' EXIT
node scripts/bench-media.mjs >>"$results"
for arch in "${arches[@]}"; do
  [ -f "prebuilds/linux-$arch/speakerd.node" ] || bash scripts/build-cross.sh "$arch"
  armnode=$(bash scripts/arm/node.sh "$arch")
  if [ "$arch" = armhf ]; then
    QEMU_LD_PREFIX=${SPEAKERD_CROSS_CACHE:-/var/cache/speakerd-cross}/sysroot-armhf "$armnode" scripts/bench-media.mjs >>"$results"
  else
    "$armnode" scripts/bench-media.mjs >>"$results"
  fi
done
node - "$results" <<'JS'
const lines = require('node:fs').readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const [host, ...others] = lines;
console.log(`per-audio-second cost of the engine's tick (bench/media.ts): ${host.arch} natively vs ${others.map((o) => o.arch + ' under qemu-user').join(', ')}`);
console.log(`${'figure'.padEnd(66)} ${host.arch.padStart(9)} ${others.map((o) => o.arch.padStart(9) + '    ratio').join(' ')}`);
for (const [name, value] of Object.entries(host.rows)) {
  const cells = others.map((o) => `${o.rows[name].toFixed(3).padStart(9)} ${(o.rows[name] / value).toFixed(1).padStart(7)}x`);
  console.log(`${name.padEnd(66)} ${value.toFixed(3).padStart(9)} ${cells.join(' ')}`);
}
console.log('qemu timing is not board timing: it measures the emulator on this machine, not an ARM CPU.');
JS
