#!/usr/bin/env bash
# Installs everything speakerd needs on Debian 12 (run as root or with sudo available), then builds it:
# system libraries (libasound, speexdsp, webrtc-audio-processing for the optional webrtc echo engine), a C++ toolchain, Node.js >= 20, npm dependencies, the addon.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# jackd2 and the ALSA jack plugin give the tests a real-time sound device that can be unplugged, and
# libjack-jackd2-dev builds the closed-loop room client of the bench and its test (bench/room; the
# daemon itself does not link libjack);
# systemd, systemd-container and mmdebstrap let them check the unit and boot it under a real systemd;
# shellcheck and dpkg-dev (dpkg-shlibdeps) serve the packaging scripts and their tests (test/build,
# test/packaging: scripts, maintainer scripts, the Yocto recipe's shell tasks); clang-format checks the
# C++ in `npm run lint` (scripts/lint.sh); linux-perf samples the daemon's audio thread for the bench
# (FOOTPRINT_PROFILE, bench/audio-profile.ts). The ARM toolchains, qemu and lintian belong to CI's
# ARM/packaging stage (scripts/arm/test.sh, scripts/package/ci.sh).
packages=(libasound2-dev libspeexdsp-dev libwebrtc-audio-processing-dev alsa-utils g++ make python3 pkg-config jackd2 libasound2-plugins libjack-jackd2-dev systemd systemd-container mmdebstrap shellcheck dpkg-dev clang-format linux-perf)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 20 ]; then
  # Debian 12 ships Node 18; the npm registry's `node` package brings an official Node 20 binary.
  if ! command -v npm >/dev/null 2>&1; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  fi
  echo "setup: installing Node.js 20 from the npm registry"
  as_root npm install -g --silent node@20
  hash -r
fi
echo "setup: node $(node --version), npm $(npm --version)"

# Build against the headers of the Node that runs us when they are installed beside it (Debian's
# nodejs puts them in /usr/include/node); otherwise node-gyp fetches the matching headers itself.
nodedir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
if [ -f "$nodedir/include/node/node_api.h" ]; then export npm_config_nodedir="$nodedir"; fi
# npm ci builds the addon itself (npm runs `node-gyp rebuild` as the install step of a package with a
# binding.gyp); it is built again only when that did not happen (npm's ignore-scripts set).
npm ci --no-audit --no-fund --loglevel=error
[ -f build/Release/speakerd.node ] || npm run --silent build:native
npm run --silent build:ts
echo "setup: built $(ls build/Release/speakerd.node)"
