#!/usr/bin/env bash
# Installs a speakerd .deb into a fresh Debian 12 root (mmdebstrap --variant=minbase) with apt, so that
# its dependencies come from Debian's mirror, then checks it there and purges it:
#
#   bash scripts/deb/install-test.sh dist-deb/speakerd_<version>_amd64.deb      (root; amd64 only)
#
# Node.js 20: bookworm's own nodejs is 18, which does not satisfy "Depends: nodejs (>= 20)". A device
# running bookworm gets Node 20 from NodeSource's "nodejs" packages (the Node this project is developed
# with) or from Debian 13 / current Raspberry Pi OS. Here the project's own Node (the host's
# /usr/bin/node) is wrapped into a local stand-in package named nodejs, version <node version>-0local
# (scripts/deb/node-deb.sh), and installed next to speakerd; everything else comes from the mirror.
#
# Inside the root: `apt-get install ./nodejs.deb ./speakerd.deb`; the user, groups, conffile and
# enablement (the wants symlink; no systemd runs as PID 1 here); `speakerd --check-config`; a short
# start on the null device as the speakerd user until `speakerctl status` answers, then SIGTERM with
# exit status 0; `apt-get purge speakerd nodejs` plus autoremove, and the file list of the root
# compared with the one taken before the installation: nothing may be left but the system user and
# groups in /etc/passwd, /etc/group and /etc/shadow (kept, as Debian does for system users).
set -euo pipefail
deb=$(readlink -f "${1:?usage: install-test.sh speakerd_<version>_amd64.deb}")
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "install-test: needs root (mmdebstrap, chroot)" >&2; exit 2; }
command -v mmdebstrap >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
work=$(mktemp -d /tmp/speakerd-deb-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debs"
cp "$deb" "$work/debs/"
bash "$here/node-deb.sh" "$work/debs" >/dev/null
cp "$here/install-test-inside.sh" "$work/inside.sh"

mmdebstrap --quiet --variant=minbase \
  --customize-hook="mkdir -p \"\$1/tmp/speakerd-test\"" \
  --customize-hook="copy-in $work/debs $work/inside.sh /tmp/speakerd-test" \
  --customize-hook="chroot \"\$1\" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 sh /tmp/speakerd-test/inside.sh" \
  bookworm "$work/root"
