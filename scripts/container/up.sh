#!/usr/bin/env bash
# Boots a real systemd in a container with speakerd installed, and prints the container's leader pid.
#
#   scripts/container/up.sh RUNDIR [--entry FILE]     # then: exec.sh RUNDIR systemctl start speakerd
#   scripts/container/down.sh RUNDIR                  # always, even after a failure
#
# RUNDIR (created; must not exist) holds a throw-away overlay over the cached root file system
# (build-rootfs.sh), the nspawn log (nspawn.log), its pid (nspawn.pid) and the leader pid (leader).
# When overlayfs is unavailable the root file system is copied instead. --entry: see stage.sh.
# Exit status 2: the root file system cannot be built here (see build-rootfs.sh); 1: anything else.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
run=${1:?usage: up.sh RUNDIR [--entry FILE]}
shift
ms() { echo $((($(date +%s%N) - t0) / 1000000)); }
t0=$(date +%s%N)

for tool in systemd-nspawn nsenter; do
  command -v "$tool" >/dev/null 2>&1 || { echo "up: $tool is not installed (apt-get install -y systemd-container)" >&2; exit 2; }
done
base=$("$here/build-rootfs.sh") || exit $?
echo "up: root file system ready after $(ms) ms: $base" >&2

mkdir -p "$(dirname "$run")"
mkdir "$run"
mkdir "$run/upper" "$run/work" "$run/root"
if ! mount -t overlay overlay -o "lowerdir=$base,upperdir=$run/upper,workdir=$run/work" "$run/root" 2>/dev/null; then
  echo "up: overlayfs unavailable, copying the root file system" >&2
  cp -a --reflink=auto "$base/." "$run/root/"
fi
"$here/stage.sh" "$run/root" "$@"
echo "up: staged after $(ms) ms" >&2

# CAP_SYS_RESOURCE: nspawn drops it by default, but the container's systemd needs it, as PID 1 has it on
# a device, to raise the service's hard RLIMIT_RTPRIO (LimitRTPRIO=) above the host's 0.
setsid systemd-nspawn -q -D "$run/root" --boot --register=no --keep-unit --console=pipe \
  --capability=CAP_SYS_RESOURCE --machine="speakerd-test-$$" </dev/null >"$run/nspawn.log" 2>&1 &
nspawn=$!
echo "$nspawn" >"$run/nspawn.pid"

# The leader is nspawn's child once it runs systemd (seen from here as the container's /sbin/init).
leader=
for _ in $(seq 200); do
  children=()
  read -r -a children 2>/dev/null <"/proc/$nspawn/task/$nspawn/children" || true   # no final newline
  for child in "${children[@]}"; do
    case "$(readlink "/proc/$child/exe" 2>/dev/null)" in */systemd) leader=$child ;; esac
  done
  [ -n "$leader" ] && break
  kill -0 "$nspawn" 2>/dev/null || { echo "up: systemd-nspawn exited:" >&2; cat "$run/nspawn.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$leader" ] || { echo "up: no container leader after 20 s" >&2; cat "$run/nspawn.log" >&2; exit 1; }
echo "$leader" >"$run/leader"
awk '{ print $22 }' "/proc/$leader/stat" >"$run/leader.start"   # guards down.sh against pid reuse

# Until systemd has its private bus socket, systemctl fails with "Failed to connect to bus": retry.
state=
for _ in $(seq 300); do
  state=$(timeout 60 nsenter -t "$leader" -a systemctl is-system-running --wait 2>&1 || true)
  case "$state" in running|degraded|maintenance|stopping|offline) break ;; esac
  kill -0 "$nspawn" 2>/dev/null || break
  sleep 0.2
done
echo "up: container booted ($state) after $(ms) ms, leader pid $leader" >&2
case "$state" in
  running) ;;
  degraded) nsenter -t "$leader" -a systemctl --failed --no-pager >&2 || true ;;
  *) echo "up: the container did not boot: $state" >&2; cat "$run/nspawn.log" >&2; exit 1 ;;
esac
echo "$leader"
