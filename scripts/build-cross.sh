#!/usr/bin/env bash
# Cross-compiles the native addon for a board's CPU on a Debian 12 x86_64 host:
#
#   npm run build:cross -- arm64|armhf|amd64      (or: bash scripts/build-cross.sh ARCH)
#
# writes prebuilds/linux-<arch>/speakerd.node (linux-arm64, linux-armhf, linux-x64), which the loader
# (src/media/native-binding.ts) picks on that CPU when build/Release/ holds no build for it. The build
# runs in a scratch directory, so the host's own build/ is left alone; -Wall -Wextra -Werror come from
# binding.gyp. Toolchains and target libraries are installed when missing (root, or sudo):
#   arm64  g++-aarch64-linux-gnu, libasound2-dev:arm64, libspeexdsp-dev:arm64 and
#          libwebrtc-audio-processing-dev:arm64 through multiarch
#   armhf  g++-arm-linux-gnueabihf and a sysroot (mmdebstrap --variant=extract) in
#          $SPEAKERD_CROSS_CACHE/sysroot-armhf (default /var/cache/speakerd-cross): Debian's armhf
#          security index breaks `apt-get update` with the armhf architecture added, so no multiarch.
#          Code is ARMv7-A, hard float, NEON (-march=armv7-a -mfpu=neon -mfloat-abi=hard).
# Both ARM builds have the WebRTC echo engine (webrtc-audio-processing 0.3, as on x86: binding.gyp finds
# it with pkg-config, here pointed at the target's .pc files), so 'auto' picks webrtc on the boards too.
# Node's headers are the host's (/usr/include/node, same Node 20 ABI: node-api is CPU-independent).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arch=${1:-}
case "$arch" in
  arm64|aarch64) arch=arm64; triplet=aarch64-linux-gnu; gyp_arch=arm64; node_arch=arm64 ;;
  armhf|arm|armv7) arch=armhf; triplet=arm-linux-gnueabihf; gyp_arch=arm; node_arch=arm ;;
  amd64|x64) arch=amd64; triplet=x86_64-linux-gnu; gyp_arch=x64; node_arch=x64 ;;
  *) echo "usage: build-cross.sh arm64|armhf|amd64" >&2; exit 64 ;;
esac
cache=${SPEAKERD_CROSS_CACHE:-/var/cache/speakerd-cross}
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
t0=$(now_ms)

# --- toolchain and target libraries ------------------------------------------------------------------
sysroot=
case "$arch" in
  arm64)
    if ! command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || [ ! -f /usr/lib/aarch64-linux-gnu/pkgconfig/alsa.pc ] \
      || [ ! -f /usr/lib/aarch64-linux-gnu/pkgconfig/speexdsp.pc ] \
      || [ ! -f /usr/lib/aarch64-linux-gnu/pkgconfig/webrtc-audio-processing.pc ]; then
      echo "build-cross: installing the arm64 toolchain and libraries (multiarch)"
      dpkg --print-foreign-architectures | grep -qx arm64 || as_root dpkg --add-architecture arm64
      as_root apt-get update -qq
      apt_install g++-aarch64-linux-gnu libasound2-dev:arm64 libspeexdsp-dev:arm64 libwebrtc-audio-processing-dev:arm64
    fi
    export PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig
    cc="aarch64-linux-gnu-gcc"
    cxx="aarch64-linux-gnu-g++"
    ;;
  armhf)
    if ! command -v arm-linux-gnueabihf-g++ >/dev/null 2>&1; then
      echo "build-cross: installing the armhf toolchain"
      apt_install g++-arm-linux-gnueabihf
    fi
    sysroot="$cache/sysroot-armhf"
    include=libc6-dev,libstdc++-12-dev,libasound2-dev,libspeexdsp-dev,libwebrtc-audio-processing-dev
    stamp="mmdebstrap --arch=armhf --variant=extract --include=$include bookworm"
    if [ ! -f "$sysroot/.speakerd-sysroot" ] || [ "$(cat "$sysroot/.speakerd-sysroot")" != "$stamp" ]; then
      command -v mmdebstrap >/dev/null 2>&1 || apt_install mmdebstrap
      echo "build-cross: making the armhf sysroot $sysroot"
      as_root mkdir -p "$cache"
      as_root rm -rf "$sysroot" "$sysroot.tmp"
      # The main archive only: the security archive's armhf index is the one that fails to verify.
      as_root mmdebstrap --quiet --arch=armhf --variant=extract --include="$include" bookworm "$sysroot.tmp" \
        "deb http://deb.debian.org/debian bookworm main"
      echo "$stamp" | as_root tee "$sysroot.tmp/.speakerd-sysroot" >/dev/null
      as_root mv "$sysroot.tmp" "$sysroot"
    fi
    export PKG_CONFIG_SYSROOT_DIR="$sysroot"
    export PKG_CONFIG_LIBDIR="$sysroot/usr/lib/arm-linux-gnueabihf/pkgconfig:$sysroot/usr/share/pkgconfig"
    flags="--sysroot=$sysroot -march=armv7-a -mfpu=neon -mfloat-abi=hard"
    cc="arm-linux-gnueabihf-gcc $flags"
    cxx="arm-linux-gnueabihf-g++ $flags"
    ;;
  amd64)
    cc=gcc
    cxx=g++
    ;;
esac
t1=$(now_ms)

# --- the build, in a scratch copy --------------------------------------------------------------------
nodedir=${npm_config_nodedir:-}
if [ -z "$nodedir" ]; then
  nodedir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
fi
if [ ! -f "$nodedir/include/node/node_api.h" ]; then
  echo "build-cross: no Node.js headers in $nodedir/include/node (set npm_config_nodedir)" >&2
  exit 1
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$root/native" "$root/binding.gyp" "$root/package.json" "$scratch/"
ln -s "$root/node_modules" "$scratch/node_modules"
log="$scratch/build.log"
if ! (cd "$scratch" && CC="$cc" CXX="$cxx" LINK="$cxx" AR="${triplet}-ar" \
  "$root/node_modules/.bin/node-gyp" rebuild --arch="$gyp_arch" --nodedir="$nodedir" >"$log" 2>&1); then
  cat "$log" >&2
  echo "build-cross: the $arch build failed" >&2
  exit 1
fi
# binding.gyp leaves the WebRTC engine out when pkg-config does not find webrtc-audio-processing: for a
# board that would mean speex under 'auto', so the ARM builds, whose libraries this script installs, fail.
engines=speex
needed=$(readelf -d "$scratch/build/Release/speakerd.node")
if grep -q 'NEEDED.*\[libwebrtc_audio_processing' <<<"$needed"; then
  engines=speex,webrtc
elif [ "$arch" != amd64 ]; then
  echo "build-cross: the $arch addon does not link webrtc-audio-processing (pkg-config found no webrtc-audio-processing.pc in $PKG_CONFIG_LIBDIR)" >&2
  exit 1
fi
out="$root/prebuilds/linux-$([ "$arch" = amd64 ] && echo x64 || echo "$arch")"
mkdir -p "$out"
install -m 0644 "$scratch/build/Release/speakerd.node" "$out/speakerd.node"

# The file must be for the CPU asked for (the loader reads the same ELF header).
built=$(node --input-type=module -e "import { elfArch } from '$root/dist/src/media/native-binding.js'; console.log(elfArch('$out/speakerd.node') ?? '?')" 2>/dev/null \
  || readelf -h "$out/speakerd.node" | awk -F: '/Machine/ { gsub(/^ +/, "", $2); print $2 }')
case "$built" in
  "$node_arch"|AArch64|ARM|"Advanced Micro Devices X86-64") ;;
  *) echo "build-cross: $out/speakerd.node is for '$built', not $arch" >&2; exit 1 ;;
esac
t2=$(now_ms)
echo "build-cross: $out/speakerd.node ($arch, $(stat -c %s "$out/speakerd.node") bytes, echo engines $engines): toolchain $((t1 - t0)) ms, build $((t2 - t1)) ms"
