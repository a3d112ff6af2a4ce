#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2016  # functions run through step(); the JS template is for node -p
# Builds the addon for arm64 and armhf and tests the builds under qemu-user (CI's ARM stage; also by
# hand, as root, after scripts/setup.sh):
#
#   bash scripts/arm/test.sh
#
# arm64, with an arm64 Node 20 and vitest's native packages installed for arm64 in a separate tree
# ($SPEAKERD_ARM_STAGE, default a temp dir, holding copies of src/, test/, dist/... and the prebuild,
# with no build/: so the loader's prebuild path is what runs):
#   - the native contract suite (bridge, ports, mixing, resampling ports, errors; fake vs native)
#   - ALSA file-plugin tests (capture, playback, mixing, 48k/16k/24k resampling, open errors)
#   - the echo canceller on one synthetic room (one seed of three: ~20x slower under emulation)
#   - the AI socket on the addon's thread (NetLink: TCP, TLS through the arm64 Node's OpenSSL with
#     verification, names, minVersion and a client certificate, the native uplink) and the uplink under
#     AiPort (net-link, ai-wakeups: about 5 s each under qemu-aarch64)
#   - a whole-daemon start on the null device: READY=1 over sd_notify, `speakerctl status`, SIGTERM
#     (with aec.engine 'auto', which is webrtc here: the ARM builds have it, as x86 does)
# armhf: the build, then a smoke load under qemu-arm (the build has both echo engines; engine ticks
# with each, 'auto' runs webrtc; each offline canceller removes a synthetic echo and keeps the near end;
# resampler, sd_notify; the AI socket on the addon's thread: wss:// to a ws server in the same process
# through the OpenSSL the official Node exports, and the native uplink's microphone messages) with an
# ARMv7 Node 20: whole test files take too long there. The same smoke runs
# on arm64 last. (test/integration/echo-engines.test.ts on webrtc, one seed, would add about 36 s under
# qemu-aarch64: the smoke's canceller check stands in for it.)
# Prints each step's time; the last line is vitest's "Tests N passed" summary (for .ci/run's counts).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
export CI=${CI:-true} NO_COLOR=1 FORCE_COLOR=0
cache=${SPEAKERD_CROSS_CACHE:-/var/cache/speakerd-cross}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
timings=()
failed=0
step() {
  local name=$1 t
  shift
  t=$(now_ms)
  echo "::: arm: $name"
  if "$@"; then
    timings+=("$(printf '%-44s %6.1f s' "$name" "$(( $(now_ms) - t ))e-3")")
  else
    timings+=("$(printf '%-44s %6.1f s  FAILED' "$name" "$(( $(now_ms) - t ))e-3")")
    failed=1
    return 1
  fi
}

toolchains() {
  local missing=()
  command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || missing+=(g++-aarch64-linux-gnu)
  command -v arm-linux-gnueabihf-g++ >/dev/null 2>&1 || missing+=(g++-arm-linux-gnueabihf)
  [ -f /usr/lib/binfmt.d/qemu-aarch64.conf ] || missing+=(qemu-user-static)
  if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || return 1
  fi
  # Target libraries for arm64 through multiarch (the addon's, and libstdc++ for the arm64 Node).
  local libraries=(libstdc++6:arm64 libasound2-dev:arm64 libspeexdsp-dev:arm64 libwebrtc-audio-processing-dev:arm64)
  if ! dpkg -s "${libraries[@]}" >/dev/null 2>&1; then
    dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${libraries[@]}" >/dev/null || return 1
  fi
  bash scripts/arm/qemu.sh
}

stage=${SPEAKERD_ARM_STAGE:-}
own_stage=0
if [ -z "$stage" ]; then stage=$(mktemp -d /tmp/speakerd-arm64.XXXXXX); own_stage=1; fi
cleanup() { if [ "$own_stage" = 1 ]; then rm -rf "$stage"; fi; }
trap cleanup EXIT

arm64_tree() {
  ARM64_NODE=$(bash scripts/arm/node.sh arm64) || return 1
  mkdir -p "$stage"
  rm -rf "$stage/src" "$stage/test" "$stage/dist" "$stage/bench" "$stage/config" "$stage/prebuilds"
  cp -r src test dist bench config package.json package-lock.json tsconfig.json vitest.config.ts "$stage/"
  install -D -m 0644 prebuilds/linux-arm64/speakerd.node "$stage/prebuilds/linux-arm64/speakerd.node"
  # vitest's bundler ships its parser as a native package per CPU: install the arm64 ones.
  if [ ! -f "$stage/node_modules/.package-lock.json" ] || ! cmp -s package-lock.json "$stage/.lock"; then
    (cd "$stage" && npm ci --cpu=arm64 --os=linux --libc=glibc --ignore-scripts --no-audit --no-fund --loglevel=error) || return 1
    cp package-lock.json "$stage/.lock"
  fi
  "$ARM64_NODE" -p '`node ${process.version} on ${process.arch}`'
}

arm64_tests() {
  # One vitest run (the startup under emulation costs seconds); per-file times are in its report.
  (cd "$stage" && "$ARM64_NODE" node_modules/vitest/vitest.mjs run \
    test/contract/binding.contract.test.ts test/integration/alsa-file.test.ts \
    test/integration/echo-canceller.test.ts test/integration/net-link.test.ts test/integration/ai-wakeups.test.ts \
    test/build/daemon-smoke.test.ts test/build/loader.test.ts \
    -t '^(?!echo canceller on a synthetic room, seed [23]).*$' --testTimeout 120000 --hookTimeout 120000) 2>&1 | tee "$stage/vitest.log"
  return "${PIPESTATUS[0]}"
}

armhf_smoke() {
  local armnode
  armnode=$(bash scripts/arm/node.sh armhf) || return 1
  QEMU_LD_PREFIX="$cache/sysroot-armhf" "$armnode" scripts/arm/smoke.mjs --engines=speex,webrtc
}

step 'toolchains, arm64 libraries, qemu' toolchains
step 'build:cross arm64' bash scripts/build-cross.sh arm64
step 'build:cross armhf (sysroot + build)' bash scripts/build-cross.sh armhf
step 'arm64 Node + arm64 test tree' arm64_tree && step 'arm64 tests under qemu-aarch64' arm64_tests
step 'armhf smoke under qemu-arm' armhf_smoke
[ "$failed" = 0 ] && step 'arm64 smoke (loader picks the prebuild)' "${ARM64_NODE:-false}" scripts/arm/smoke.mjs --engines=speex,webrtc

echo "::: arm: times"
printf '  %s\n' "${timings[@]}"
summary=$(sed 's/\x1b\[[0-9;]*m//g' "$stage/vitest.log" 2>/dev/null | grep -E '^ +Tests +' | tail -n 1)
echo "${summary:-      Tests  0 passed}"
exit "$failed"
