#!/usr/bin/env bash
# CI's packaging stage (also by hand, as root, after scripts/setup.sh and scripts/arm/test.sh or
# `npm run build:cross -- arm64|armhf`): the Debian packages for amd64, arm64 and armhf, lintian on
# each, each package's addon linking the audio libraries (webrtc-audio-processing included) with
# Depends naming their packages, and the amd64 package installed, run and purged in a fresh Debian 12
# root.
#
#   bash scripts/package/ci.sh
#
# Prints each step's time; the last line counts the steps as tests ("Tests N passed | M failed").
set -uo pipefail
# shellcheck disable=SC2317  # functions run through step()
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
out="$root/dist-deb"
now_ms() { echo $(($(date +%s%N) / 1000000)); }
timings=()
passed=0
failed=0
step() {
  local name=$1 t
  shift
  t=$(now_ms)
  echo "::: package: $name"
  if "$@"; then
    passed=$((passed + 1))
    timings+=("$(printf '%-44s %6.1f s' "$name" "$(( $(now_ms) - t ))e-3")")
  else
    failed=$((failed + 1))
    timings+=("$(printf '%-44s %6.1f s  FAILED' "$name" "$(( $(now_ms) - t ))e-3")")
  fi
}

tools() {
  local missing=()
  for p in lintian mmdebstrap shellcheck; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
lint() {
  local deb status=0
  for deb in "$out"/speakerd_*_{amd64,arm64,armhf}.deb; do
    echo "lintian $(basename "$deb"):"
    lintian --fail-on error "$deb" 2>/dev/null | sed 's/^/  /' || status=1
  done
  return "$status"
}
# The addon in each package links the three audio libraries (webrtc-audio-processing too: the ARM
# cross builds have the WebRTC echo engine, as x86 does) and Depends names their packages; it links no
# OpenSSL (its TLS takes Node's).
audio_libraries() {
  local arch deb addon needed depends so pkg status=0
  addon=$(mktemp)
  for arch in amd64 arm64 armhf; do
    deb=$(echo "$out"/speakerd_*_"$arch".deb)
    dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/speakerd/build/Release/speakerd.node >"$addon" || status=1
    needed=$(readelf -d "$addon" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | paste -sd ' ')
    depends=$(dpkg-deb -f "$deb" Depends)
    echo "$arch: links $needed; Depends: $depends"
    for so in libasound.so.2:libasound2 libspeexdsp.so.1:libspeexdsp1 libwebrtc_audio_processing.so.1:libwebrtc-audio-processing1; do
      pkg=${so#*:}
      so=${so%%:*}
      case " $needed " in *" $so "*) ;; *) echo "  $arch: the addon does not link $so" >&2; status=1 ;; esac
      case ", $depends," in *", $pkg ("*|*", $pkg,"*) ;; *) echo "  $arch: Depends does not name $pkg" >&2; status=1 ;; esac
    done
    # The AI socket's TLS (native/net) uses the OpenSSL that Node exports: no libssl of its own.
    case " $needed " in *" libssl"*|*" libcrypto"*) echo "  $arch: the addon links OpenSSL ($needed)" >&2; status=1 ;; esac
    case ", $depends," in *", libssl"*) echo "  $arch: Depends names libssl" >&2; status=1 ;; esac
  done
  rm -f "$addon"
  return "$status"
}

rm -rf "$out"
step 'lintian (apt)' tools
for arch in amd64 arm64 armhf; do
  step "package:deb $arch" bash scripts/deb/build.sh "$arch" "$out"
done
step 'lintian, no errors (3 packages)' lint
step 'addon links webrtc too, no libssl; Depends' audio_libraries
step 'install, run, purge in a fresh bookworm root' bash scripts/deb/install-test.sh "$out/speakerd_$(node -p 'require("./package.json").version')_amd64.deb"

echo "::: package: times"
printf '  %s\n' "${timings[@]}"
ls -l "$out"/*.deb
echo "      Tests  $passed passed | $failed failed ($((passed + failed)))"
[ "$failed" -eq 0 ]
