#!/usr/bin/env bash
# shellcheck disable=SC2016  # the node -e programs are JavaScript in single quotes
# Builds the Debian package for a board (Debian 12/13, Raspberry Pi OS and other Debian-based images):
#
#   npm run package:deb -- amd64|arm64|armhf       (or: bash scripts/deb/build.sh ARCH [OUTDIR])
#
# writes OUTDIR/speakerd_<version>_<arch>.deb (OUTDIR defaults to dist-deb/), built with dpkg-deb:
#   /usr/lib/speakerd/          package.json, dist/src (JavaScript), config/, build/Release/speakerd.node
#                               (the addon for ARCH: the local build for amd64, else build:cross's
#                               prebuild), node_modules/ with the production dependencies only
#   /usr/bin/speakerd, speakerctl   wrappers running /usr/bin/node on the entry points
#   /usr/lib/systemd/system/speakerd.service, /usr/lib/sysusers.d/speakerd.conf,
#   /usr/lib/tmpfiles.d/speakerd.conf, /usr/lib/udev/rules.d/60-speakerd.rules   (from systemd/)
#   /etc/speakerd/speakerd.json   conffile (scripts/package/speakerd.json: ALSA "default", parrot)
#   /usr/share/doc/speakerd/      copyright, changelog, README, docs, the optional socket unit
# Depends: nodejs (>= 20) and the shared libraries the addon links, derived from its ELF NEEDED
# entries (dpkg-shlibdeps where the target's libraries are known to dpkg; see deps.sh).
# Maintainer scripts (postinst, prerm, postrm in scripts/deb/) create the user and groups, apply the
# tmpfiles, reload udev, and enable (and, under a running systemd, start) the service.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/scripts/deb"
arch=${1:-}
out=${2:-$root/dist-deb}
case "$arch" in
  amd64) node_arch=x64 ;;
  arm64) node_arch=arm64 ;;
  armhf) node_arch=arm ;;
  *) echo "usage: package:deb -- amd64|arm64|armhf [OUTDIR]" >&2; exit 64 ;;
esac
cd "$root"
version=$(node -p 'require("./package.json").version')
# The Maintainer field: Debian's usual variables, e.g. a board maker's own (DEBFULLNAME, DEBEMAIL).
maintainer="${DEBFULLNAME:-speakerd maintainers} <${DEBEMAIL:-speakerd@example.org}>"
description=$(node -p 'require("./package.json").description')

# --- what goes in ------------------------------------------------------------------------------------
[ -f dist/src/cli/speakerd.js ] || npm run --silent build:ts
addon=
if [ "$arch" = amd64 ] && [ -f build/Release/speakerd.node ] && [ "$(node -p "require('./dist/src/media/native-binding.js').elfArch('build/Release/speakerd.node')" 2>/dev/null || true)" = x64 ]; then
  addon=build/Release/speakerd.node
fi
if [ -z "$addon" ]; then
  prebuild="prebuilds/linux-$([ "$arch" = amd64 ] && echo x64 || echo "$arch")/speakerd.node"
  [ -f "$prebuild" ] || bash scripts/build-cross.sh "$arch"
  addon=$prebuild
fi
built=$(node --input-type=module -e "import { elfArch } from '$root/dist/src/media/native-binding.js'; console.log(elfArch('$addon'))")
[ "$built" = "$node_arch" ] || { echo "package:deb: $addon is for $built, not $arch" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkg="$work/speakerd"
lib="$pkg/usr/lib/speakerd"
mkdir -p "$lib" "$pkg/DEBIAN"
copy() { mkdir -p "$lib/$(dirname "$1")"; cp -R "$1" "$lib/$1"; }
copy package.json
copy dist/src
copy config
# Source maps and declarations are for developers, not for the board.
find "$lib/dist" \( -name '*.map' -o -name '*.d.ts' \) -delete
install -D -m 0644 "$addon" "$lib/build/Release/speakerd.node"
strip_tool="strip"
case "$arch" in arm64) strip_tool=aarch64-linux-gnu-strip ;; armhf) strip_tool=arm-linux-gnueabihf-strip ;; esac
"$strip_tool" --strip-unneeded --remove-section=.comment --remove-section=.note "$lib/build/Release/speakerd.node"
# Production dependencies only (what `npm ci --omit=dev` installs), as npm resolved them.
npm ls --omit=dev --all --parseable 2>/dev/null | tail -n +2 | while read -r dir; do
  copy "${dir#"$root"/}"
done
# node-addon-api is only needed to compile the addon (headers), not to run it.
rm -rf "$lib/node_modules/node-addon-api"
# Nothing in node_modules is run directly; npm's bin links are not needed, nor docs and tests (the
# packages' license files stay).
find "$lib/node_modules" \( -name '.bin' -o -name '*.md' -o -name '.npmignore' -o -name '.eslintrc*' -o -name '.travis.yml' \
  -o -name '.github' -o -name 'test' -o -name 'tests' \) -prune -exec rm -rf {} +
find "$lib" -type d -exec chmod 0755 {} +
find "$lib" -type f -exec chmod 0644 {} +
# The entry points (package.json "bin") start with #!/usr/bin/env node: executable like the bins.
grep -l '^#!' "$lib"/dist/src/cli/*.js | xargs chmod 0755

# Entry points: the daemon and the client, run by the system's Node.js.
for cmd in speakerd speakerctl; do
  install -D -m 0755 /dev/stdin "$pkg/usr/bin/$cmd" <<EOF
#!/bin/sh
exec /usr/bin/node /usr/lib/speakerd/dist/src/cli/$cmd.js "\$@"
EOF
done

install -D -m 0644 systemd/speakerd.service "$pkg/usr/lib/systemd/system/speakerd.service"
install -D -m 0644 systemd/speakerd.sysusers "$pkg/usr/lib/sysusers.d/speakerd.conf"
install -D -m 0644 systemd/speakerd.tmpfiles "$pkg/usr/lib/tmpfiles.d/speakerd.conf"
install -D -m 0644 systemd/60-speakerd.rules "$pkg/usr/lib/udev/rules.d/60-speakerd.rules"
install -D -m 0644 scripts/package/speakerd.json "$pkg/etc/speakerd/speakerd.json"
install -D -m 0644 completions/speakerctl.bash "$pkg/usr/share/bash-completion/completions/speakerctl"

doc="$pkg/usr/share/doc/speakerd"
install -d "$doc/examples"
install -m 0644 README.md "$doc/README.md"
for f in docs/*.md; do install -m 0644 "$f" "$doc/$(basename "$f")"; done
install -m 0644 systemd/README.md "$doc/README.systemd.md"
install -m 0644 config/speakerd.example.json "$doc/examples/speakerd.example.json"
install -m 0644 systemd/speakerd.socket "$doc/examples/speakerd.socket"
install -m 0644 systemd/speakerd.service.d/socket-activation.conf "$doc/examples/socket-activation.conf"
gzip -9n "$doc"/*.md
{
  echo 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/'
  echo 'Upstream-Name: speakerd'
  echo
  echo 'Files: *'
  echo 'Copyright: The speakerd authors'
  echo 'License: MIT'
  # Each npm package shipped, with the license its package.json declares (its own license file stays
  # beside it).
  node -e '
    const { readdirSync, readFileSync } = require("node:fs");
    const dir = process.argv[1];
    const names = readdirSync(dir).flatMap((n) => (n.startsWith("@") ? readdirSync(`${dir}/${n}`).map((m) => `${n}/${m}`) : [n]));
    for (const name of names.sort()) {
      const p = JSON.parse(readFileSync(`${dir}/${name}/package.json`, "utf8"));
      const author = typeof p.author === "string" ? p.author : p.author?.name;
      console.log(`\nFiles: usr/lib/speakerd/node_modules/${name}/*\nCopyright: ${author ?? `the authors of ${name}`}\nLicense: ${p.license}`);
    }' "$lib/node_modules"
  echo
  echo 'License: MIT'
  sed -n '3,$p' LICENSE | sed 's/^$/./; s/^/ /'
  for license in $(node -e '
    const { readdirSync, readFileSync } = require("node:fs");
    const dir = process.argv[1];
    const names = readdirSync(dir).flatMap((n) => (n.startsWith("@") ? readdirSync(`${dir}/${n}`).map((m) => `${n}/${m}`) : [n]));
    console.log([...new Set(names.map((n) => JSON.parse(readFileSync(`${dir}/${n}/package.json`, "utf8")).license))].filter((l) => l !== "MIT").join(" "));' "$lib/node_modules"); do
    echo
    echo "License: $license"
    if [ -f "/usr/share/common-licenses/$license" ]; then
      echo " On Debian systems, the complete text of the $license license is in"
      echo " /usr/share/common-licenses/$license."
    else
      file=$(grep -l "\"license\": *\"$license\"" "$lib"/node_modules/*/package.json | head -n 1)
      text=$(find "$(dirname "$file")" -maxdepth 1 -iname 'licen[cs]e*' | head -n 1)
      sed 's/^[[:space:]]*$/./; s/^/ /' "$text"
    fi
  done
} >"$doc/copyright"
chmod 0644 "$doc/copyright"
# The changelog of a native package: one entry per version, in Debian's format.
date_r=$(date -R -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")
printf 'speakerd (%s) unstable; urgency=medium\n\n  * Release %s; see /usr/share/doc/speakerd/README.md.gz.\n\n -- %s  %s\n' \
  "$version" "$version" "$maintainer" "$date_r" | gzip -9n >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

# --- control files ---------------------------------------------------------------------------------
shlibs=$(bash "$here/deps.sh" "$arch" "$lib/build/Release/speakerd.node")
cat >"$pkg/DEBIAN/control" <<EOF
Package: speakerd
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
Depends: nodejs (>= 20), $shlibs
Recommends: alsa-utils, gpiod
Section: sound
Priority: optional
Description: ${description%%:*}
 ${description#*: }.
 .
 speakerd talks full duplex to an AI speech service (or, by default, repeats
 what it hears with the local parrot backend), with echo cancellation, as a
 systemd service. speakerctl controls the running daemon.
EOF
echo /etc/speakerd/speakerd.json >"$pkg/DEBIAN/conffiles"
for script in postinst prerm postrm; do install -m 0755 "$here/$script" "$pkg/DEBIAN/$script"; done
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's| \./| |') >"$pkg/DEBIAN/md5sums"
chmod 0644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/conffiles" "$pkg/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/speakerd_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "$deb"
