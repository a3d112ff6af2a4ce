#!/usr/bin/env bash
# Runs the tests that exercise native code against an AddressSanitizer build of the addon, built in a
# scratch directory so the normal build stays as it is. Leak detection is off: V8 keeps memory on
# purpose until exit and LeakSanitizer reports it. The tests are those that drive the addon directly:
# the contract suite, the engine, DSP, device and ring tests (integration and unit), and the native
# network link's (net-link: TCP, TLS through Node's OpenSSL, the uplink; ai-wakeups: the uplink under
# AiPort; both come with test/integration: a leak check of them, detect_leaks=1, showed only V8's
# and vitest's own allocations). Left out are the tests of whole daemons and of the WebSocket layer
# (daemon-*, aidemo, ai-failures, ai-openai, ai-trust, ai-package-exports, room-loop): they reach the
# addon through the same calls, and under ASan they doubled the stage's time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$root/native" "$root/binding.gyp" "$root/package.json" "$scratch/"
ln -s "$root/node_modules" "$scratch/node_modules"
(cd "$scratch" && npx node-gyp rebuild --debug -- -Dspeakerd_asan=1 >"$scratch/build.log" 2>&1) || {
  cat "$scratch/build.log"
  exit 1
}
cd "$root"
LD_PRELOAD="$(g++ -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  SPEAKERD_ADDON="$scratch/build/Debug/speakerd.node" npx vitest run test/contract test/integration \
  test/unit/ai/framed-uplink.test.ts test/unit/ring-trim.test.ts test/unit/media-api.test.ts \
  test/unit/service/watchdog.test.ts test/unit/leds/apa102.test.ts test/unit/buttons/evdev.test.ts \
  --exclude 'test/integration/daemon*' --exclude 'test/integration/aidemo*' \
  --exclude 'test/integration/ai-{failures,openai,trust,package-exports}*' --exclude 'test/integration/room-loop*' "$@"
