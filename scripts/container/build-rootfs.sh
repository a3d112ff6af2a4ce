#!/usr/bin/env bash
# Builds (once) the Debian 12 root file system the container tests boot, and prints its path.
#
#   scripts/container/build-rootfs.sh            # prints e.g. /var/cache/speakerd-test/rootfs-bookworm
#
# The tree is cached under $SPEAKERD_TEST_CACHE (default /var/cache/speakerd-test) and reused while its
# stamp matches the package list below; it is never booted directly (up.sh puts a throw-away overlay on
# top), so it stays pristine. Needs root, mmdebstrap and Debian's mirror (about 15-25 s the first time).
# Exit status 2 means "cannot build here" (not root, no mmdebstrap, mirror unreachable): the tests skip.
set -euo pipefail

cache=${SPEAKERD_TEST_CACHE:-/var/cache/speakerd-test}
suite=bookworm
include=systemd,systemd-sysv,dbus,libasound2,libspeexdsp1,libwebrtc-audio-processing1
root="$cache/rootfs-$suite"
stamp_text="mmdebstrap --variant=minbase --include=$include $suite"

if [ "$(id -u)" -ne 0 ]; then echo "build-rootfs: needs root" >&2; exit 2; fi
if ! command -v mmdebstrap >/dev/null 2>&1; then
  echo "build-rootfs: mmdebstrap is not installed (apt-get install -y mmdebstrap systemd-container)" >&2
  exit 2
fi

mkdir -p "$cache"
exec 9>"$cache/.build.lock"
flock 9   # one build at a time; the others wait and then reuse it

if [ -f "$root/.speakerd-rootfs" ] && [ "$(cat "$root/.speakerd-rootfs")" = "$stamp_text" ]; then
  echo "$root"
  exit 0
fi

tmp="$cache/.rootfs-$suite.tmp.$$"
rm -rf "$tmp" "$root"
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s%N)
if ! mmdebstrap --quiet --variant=minbase --include="$include" "$suite" "$tmp" >&2; then
  echo "build-rootfs: mmdebstrap failed (is Debian's mirror reachable?)" >&2
  exit 2
fi
# The tests install their own node; the image gets no machine-id so that every boot gets a fresh one.
: >"$tmp/etc/machine-id"
echo "$stamp_text" >"$tmp/.speakerd-rootfs"
mv "$tmp" "$root"
trap - EXIT
echo "build-rootfs: built $root in $((($(date +%s%N) - start) / 1000000)) ms" >&2
echo "$root"
