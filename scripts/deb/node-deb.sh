#!/usr/bin/env bash
# Wraps a Node.js binary into a local Debian package named "nodejs", for test roots whose Debian has
# no Node 20 (bookworm ships 18):
#
#   scripts/deb/node-deb.sh OUTDIR [NODE]       (NODE: default the node on PATH)
#
# Writes OUTDIR/nodejs_<version>-0local_<arch>.deb with /usr/bin/node only; Depends derived from the
# binary (scripts/deb/deps.sh). Not for devices: those get Node 20 from their distribution (Debian 13,
# Raspberry Pi OS) or from NodeSource's packages on bookworm.
set -euo pipefail
out=${1:?usage: node-deb.sh OUTDIR [NODE]}
node=$(readlink -f "${2:-$(command -v node)}")
here=$(cd "$(dirname "$0")" && pwd)
arch=$(dpkg --print-architecture)
version=$("$node" -p 'process.versions.node')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
install -D -m 0755 "$node" "$work/pkg/usr/bin/node"
mkdir -p "$work/pkg/DEBIAN"
cat >"$work/pkg/DEBIAN/control" <<CONTROL
Package: nodejs
Version: $version-0local
Architecture: $arch
Maintainer: speakerd tests <speakerd@example.org>
Depends: $(bash "$here/deps.sh" "$arch" "$node")
Section: javascript
Priority: optional
Description: Node.js $version (local test stand-in)
 The Node.js binary speakerd is developed with, packaged for a test root.
CONTROL
mkdir -p "$out"
dpkg-deb --root-owner-group -Zgzip -z1 --build "$work/pkg" "$out/nodejs_${version}-0local_$arch.deb" >/dev/null
echo "$out/nodejs_${version}-0local_$arch.deb"
