#!/usr/bin/env bash
# Prints the Depends: entries for the shared libraries an ELF file links (its NEEDED entries), e.g.
#   libasound2 (>= 1.0.16), libc6 (>= 2.34), libgcc-s1 (>= 3.0), libspeexdsp1 (>= 1.2.1), libstdc++6 (>= 10.2)
#
#   scripts/deb/deps.sh ARCH FILE
#
# With the target's libraries known to dpkg (amd64 natively, arm64 through multiarch), dpkg-shlibdeps
# derives them from the libraries' symbols files. armhf is built against a sysroot that dpkg knows
# nothing about (see build-cross.sh), so there each NEEDED soname is looked up in the build host's dpkg
# database: the package that ships it and the minimum version of its shlibs file (the same Debian
# release ships the same packages and versions on every architecture); the minimum version is the
# newest among the used symbols that the host's symbols file lists (symbols versioned per CPU, such
# as ARM EABI helpers, are not there: such a library may come out without a version). Nothing is
# typed by hand.
set -euo pipefail
arch=${1:?usage: deps.sh ARCH FILE}
file=$(readlink -f "${2:?usage: deps.sh ARCH FILE}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/debian"
printf 'Source: speakerd\n\nPackage: speakerd\nArchitecture: any\n' >"$work/debian/control"

if [ "$arch" = "$(dpkg --print-architecture)" ] || dpkg --print-foreign-architectures | grep -qx "$arch"; then
  # The addon's napi_* symbols come from the node binary, not from a library: not a dependency.
  if out=$(cd "$work" && dpkg-architecture -a "$arch" -c dpkg-shlibdeps -O -e "$file" 2>"$work/err" | sed -n 's/^shlibs:Depends=//p') \
    && [ -n "$out" ]; then
    echo "$out"
    exit 0
  fi
  grep -v 'warning' "$work/err" >&2 || true
fi

host_triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
host_arch=$(dpkg --print-architecture)
# The symbols the file takes from libraries, as name@version (the symbols files' keys).
objdump -T "$file" | awk '$3 == "*UND*" && NF >= 6 { v = $(NF - 1); n = $NF; if (v ~ /^\(/) v = substr(v, 2, length(v) - 2); print n "@" v }' \
  | sort -u >"$work/used"
owner() { # the package shipping a library file (dpkg knows /lib/... or /usr/lib/..., merged /usr or not)
  local p
  for p in "$1" "${1#/usr}" "/usr$1"; do
    dpkg -S "$p" 2>/dev/null | head -n 1 | cut -d: -f1 && return 0
  done
  return 1
}
deps=()
while read -r soname; do
  case "$soname" in ld-linux*|ld64.so*) continue ;; esac   # the dynamic loader: part of libc6
  path=
  for dir in "/usr/lib/$host_triplet" "/lib/$host_triplet" /usr/lib /lib; do
    if [ -e "$dir/$soname" ]; then path="$dir/$soname"; break; fi
  done
  [ -n "$path" ] || { echo "deps.sh: no package on this host ships $soname" >&2; exit 1; }
  pkg=$(owner "$path" || true)
  [ -n "$pkg" ] || { echo "deps.sh: dpkg does not know which package ships $path" >&2; exit 1; }
  info=/var/lib/dpkg/info/$pkg
  [ -f "$info:$host_arch.symbols" ] && info=$info:$host_arch
  [ -f "$info.shlibs" ] || [ -f "$info.symbols" ] || info=/var/lib/dpkg/info/$pkg:$host_arch
  dep=
  if [ -f "$info.symbols" ]; then
    # As dpkg-shlibdeps does: the newest minimum version among the symbols used from this library.
    min=$(awk -v lib="$soname" '/^[^ |*]/ { inlib = ($1 == lib); next } inlib && /^ / { print $1, $2 }' "$info.symbols" \
      | sort -k1,1 | join -o 1.2 - "$work/used" | sort -V | tail -n 1)
    dep="$pkg${min:+ (>= $min)}"
  elif [ -f "$info.shlibs" ]; then
    # shlibs lines: "<library> <soversion> <dependency>"; libfoo.so.N -> "libfoo N"
    name=${soname%%.so*}
    sover=${soname#*.so}
    sover=${sover#.}
    dep=$(awk -v n="$name" -v v="$sover" '$1 == n && $2 == v { $1 = ""; $2 = ""; sub(/^  */, ""); print; exit }' "$info.shlibs")
  fi
  deps+=("${dep:-$pkg}")
done < <(objdump -p "$file" | awk '$1 == "NEEDED" { print $2 }')
printf '%s\n' "${deps[@]}" | sort -u | paste -sd, | sed 's/,/, /g'
