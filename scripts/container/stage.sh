#!/usr/bin/env bash
# Installs Node.js, speakerd and its systemd files into a root file system, as a package would:
#
#   scripts/container/stage.sh ROOT [--entry FILE]
#
#   /usr/bin/node (+ any shared library it needs that ROOT lacks)   from $SPEAKERD_NODE or the host's node
#   /usr/lib/speakerd/                package.json, every existing entry of package.json "files" (dist/src,
#                                     config, ...), build/Release/speakerd.node, runtime node_modules
#   /usr/lib/systemd/system/          speakerd.service, speakerd.socket (not enabled)
#   /usr/lib/sysusers.d/speakerd.conf, /usr/lib/tmpfiles.d/speakerd.conf
#
# --entry FILE installs FILE as dist/src/cli/speakerd.js instead of the built daemon (only for developing
# the container harness with a stand-in; the tests never pass it). The package comes from
# $SPEAKERD_PROJECT (a build elsewhere) or else this repository; the systemd files always come from
# this repository's systemd/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
project=${SPEAKERD_PROJECT:-$repo}
root=${1:?usage: stage.sh ROOT [--entry FILE]}
shift
entry=
while [ $# -gt 0 ]; do
  case "$1" in
    --entry) entry=${2:?--entry needs a file}; shift 2 ;;
    *) echo "stage: unknown argument $1" >&2; exit 64 ;;
  esac
done
node=${SPEAKERD_NODE:-$(readlink -f "$(command -v node)")}
dest="$root/usr/lib/speakerd"

# --- Node.js and the libraries it needs -----------------------------------------------------------
install -D -m 0755 "$node" "$root/usr/bin/node"
copied=0
while read -r lib; do
  [ -e "$root$lib" ] && continue
  install -D -m 0644 "$(readlink -f "$lib")" "$root$lib"
  copied=1
done < <(ldd "$node" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
if [ "$copied" = 1 ]; then chroot "$root" /sbin/ldconfig; fi
if ! chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin /usr/bin/node --version >/dev/null; then
  echo "stage: $node does not run inside $root" >&2
  exit 1
fi

# --- the package ----------------------------------------------------------------------------------
rm -rf "$dest"
mkdir -p "$dest"
cd "$project"
copy() { mkdir -p "$dest/$(dirname "$1")"; cp -R --preserve=mode,timestamps "$1" "$dest/$1"; }
copy package.json
while read -r entry_path; do
  case "$entry_path" in systemd|docs|native|binding.gyp|yocto) continue ;; esac   # not needed at run time
  if [ -e "$entry_path" ]; then copy "$entry_path"; fi
done < <(node -p 'require("./package.json").files.join("\n")')
[ -f build/Release/speakerd.node ] || { echo "stage: build/Release/speakerd.node is missing (npm run build)" >&2; exit 1; }
copy build/Release/speakerd.node
# Runtime dependencies only (what `npm ci --omit=dev` would install), with their own dependencies.
npm ls --omit=dev --all --parseable 2>/dev/null | tail -n +2 | while read -r dir; do
  copy "${dir#"$project"/}"
done
if [ -n "$entry" ]; then install -D -m 0644 "$entry" "$dest/dist/src/cli/speakerd.js"; fi
if [ ! -f "$dest/dist/src/cli/speakerd.js" ]; then
  echo "stage: dist/src/cli/speakerd.js is missing: the daemon is not built (npm run build)" >&2
  exit 1
fi
chown -R 0:0 "$dest"
chmod -R go-w "$dest"
if ! chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin /usr/bin/node -e 'require("/usr/lib/speakerd/build/Release/speakerd.node")'; then
  echo "stage: the addon does not load inside $root (missing libasound2/libspeexdsp1/libwebrtc-audio-processing1?)" >&2
  exit 1
fi

# --- systemd files --------------------------------------------------------------------------------
install -D -m 0644 "$repo/systemd/speakerd.service" "$root/usr/lib/systemd/system/speakerd.service"
install -D -m 0644 "$repo/systemd/speakerd.socket" "$root/usr/lib/systemd/system/speakerd.socket"
install -D -m 0644 "$repo/systemd/speakerd.sysusers" "$root/usr/lib/sysusers.d/speakerd.conf"
install -D -m 0644 "$repo/systemd/speakerd.tmpfiles" "$root/usr/lib/tmpfiles.d/speakerd.conf"
