#!/usr/bin/env bash
# Builds the addon against webrtc-audio-processing 1.x (AEC3: the API Yocto's meta-multimedia ships,
# binding.gyp's speakerd_webrtc==1 branch) and runs the echo engine tests on that build, as root:
#
#   bash scripts/test-webrtc1.sh [--bench]
#
# Debian 12 has only 0.3, so the build runs in a Debian trixie root (libwebrtc-audio-processing-dev 1.3)
# made once with mmdebstrap in $SPEAKERD_TRIXIE_CACHE/root (default /var/cache/speakerd-trixie); the
# host's packages and apt sources are left alone. The build and the tests run in a scratch copy of the
# tree (the host's build/ is untouched), entered with unshare -m + chroot, with the host's Node 20 and
# its headers (same ABI) and node_modules bind-mounted read-only. -Wall -Wextra -Werror come from
# binding.gyp. Tests: the echo engines on the synthetic room at 8-48 kHz (echo-engines), the engine's
# echo path through ALSA file devices (echo-path), no allocation on the audio thread (rt-alloc, which
# builds its own checker against the 1.x library), and the native contract. --bench also compiles the
# TypeScript there and prints bench/echo.ts's and bench/echo-lead.ts's figures for this build.
# Prints each step's time; the last lines are vitest's "Tests N passed" summary (for .ci/run's counts)
# and a one-line summary.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bench=0
[ "${1:-}" = --bench ] && bench=1
cache=${SPEAKERD_TRIXIE_CACHE:-/var/cache/speakerd-trixie}
trixie="$cache/root"
include=g++,make,python3,pkg-config,libasound2-dev,libspeexdsp-dev,libwebrtc-audio-processing-dev
stamp="mmdebstrap --variant=apt --include=$include trixie"
now_ms() { echo $(($(date +%s%N) / 1000000)); }
seconds_since() { printf '%.1f' "$(($(now_ms) - $1))e-3"; }
fail() {
  echo "test-webrtc1: $*" >&2
  echo "      Tests  0 passed | 1 failed"
  echo "webrtc1: FAILED ($*)"
  exit 1
}
[ "$(id -u)" -eq 0 ] || fail "needs root (mmdebstrap, unshare -m, chroot)"
t0=$(now_ms)

# --- the trixie root, once ---------------------------------------------------------------------------
if [ ! -f "$trixie/.speakerd-root" ] || [ "$(cat "$trixie/.speakerd-root")" != "$stamp" ]; then
  command -v mmdebstrap >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
  echo "test-webrtc1: making the trixie root $trixie"
  mkdir -p "$cache"
  rm -rf "$trixie" "$trixie.tmp"
  mmdebstrap --quiet --variant=apt --include="$include" trixie "$trixie.tmp" \
    "deb http://deb.debian.org/debian trixie main" || fail "mmdebstrap trixie failed"
  echo "$stamp" >"$trixie.tmp/.speakerd-root"
  mv "$trixie.tmp" "$trixie"
fi
apm_version=$(chroot "$trixie" pkg-config --modversion webrtc-audio-processing-1) || fail "no webrtc-audio-processing-1 in $trixie"
t_root=$(seconds_since "$t0")

# --- the scratch tree and what is mounted into the root ----------------------------------------------
node=$(readlink -f "$(command -v node)")
nodedir=${npm_config_nodedir:-$(dirname "$(dirname "$node")")}
[ -f "$nodedir/include/node/node_api.h" ] || fail "no Node.js headers in $nodedir/include/node (set npm_config_nodedir)"
modules=$(readlink -f "$root/node_modules")
[ -d "$modules/vitest" ] || fail "no node_modules in $root (npm ci first)"
scratch=$(mktemp -d /tmp/speakerd-webrtc1.XXXXXX)
trap 'rm -rf "$scratch"; rmdir "$trixie$scratch" 2>/dev/null' EXIT
(cd "$root" && cp -r native binding.gyp package.json tsconfig.json vitest.config.ts src test bench config "$scratch/")
# node_modules: links to each package, so that vite's temporary files go to the scratch tree.
mkdir "$scratch/node_modules"
for entry in "$modules"/* "$modules"/.bin; do ln -s "$entry" "$scratch/node_modules/"; done
mkdir -p "$trixie$scratch" "$trixie$modules" "$trixie/opt/speakerd-node/bin" "$trixie/opt/speakerd-node/include/node"
touch "$trixie/opt/speakerd-node/bin/node"

# Runs a command in the trixie root, in the scratch tree; the mounts go away with the namespace.
in_trixie() {
  # shellcheck disable=SC2016  # expanded by the inner shell
  unshare -m /bin/bash -c '
    set -e
    r=$1 scratch=$2 modules=$3 node=$4 nodedir=$5
    shift 5
    mount -t proc proc "$r/proc"
    mount --rbind /dev "$r/dev"
    mount --bind "$scratch" "$r$scratch"
    mount --bind -o ro "$modules" "$r$modules"
    mount --bind -o ro "$node" "$r/opt/speakerd-node/bin/node"
    mount --bind -o ro "$nodedir/include/node" "$r/opt/speakerd-node/include/node"
    exec chroot "$r" /usr/bin/env -i PATH=/opt/speakerd-node/bin:/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 \
      CI=true NO_COLOR=1 FORCE_COLOR=0 /bin/bash -c "cd \"\$0\" && $*" "$scratch"
  ' bash "$trixie" "$scratch" "$modules" "$node" "$nodedir" "$@"
}

# --- the build ---------------------------------------------------------------------------------------
t1=$(now_ms)
if ! in_trixie 'node_modules/.bin/node-gyp rebuild --nodedir=/opt/speakerd-node' >"$scratch/build.log" 2>&1; then
  cat "$scratch/build.log" >&2
  fail "the build against webrtc-audio-processing $apm_version failed"
fi
info=$(in_trixie 'node -p "JSON.stringify(require(\"./build/Release/speakerd.node\").buildInfo())"') || fail "the addon does not load"
[ "$info" = '{"echoEngines":["speex","webrtc"],"webrtcApm":"1"}' ] || fail "the addon is not the 1.x build: $info"
t_build=$(seconds_since "$t1")

# --- the tests (one vitest run) ------------------------------------------------------------------------
t2=$(now_ms)
in_trixie 'node node_modules/vitest/vitest.mjs run test/integration/echo-engines.test.ts test/integration/echo-path.test.ts \
  test/build/rt-alloc.test.ts test/contract/binding.contract.test.ts' 2>&1 | tee "$scratch/vitest.log"
status=${PIPESTATUS[0]}
t_tests=$(seconds_since "$t2")

if [ "$bench" = 1 ]; then
  in_trixie 'node node_modules/typescript/bin/tsc -p tsconfig.json && node --input-type=module -e "
    const { benchEcho } = await import(\"./dist/bench/echo.js\");
    for (const [k, v] of Object.entries(await benchEcho())) console.log(k.padEnd(44), v.toFixed(2));" &&
    node dist/bench/echo-lead.js' || status=1
fi

summary=$(sed 's/\x1b\[[0-9;]*m//g' "$scratch/vitest.log" | grep -E '^ +Tests +' | tail -n 1)
echo "${summary:-      Tests  0 passed | 1 failed}"
result=ok
[ "$status" -eq 0 ] || result=FAILED
echo "webrtc1: $result: webrtc-audio-processing $apm_version (AEC3) in Debian trixie; root ${t_root} s, build ${t_build} s, tests ${t_tests} s, total $(seconds_since "$t0") s; tests ${summary##*Tests }"
exit "$status"
