#!/usr/bin/env bash
# Powers off the container that up.sh booted (killing it if it does not stop within 10 s), unmounts its
# overlay and removes RUNDIR. Safe to run more than once and on a half-built RUNDIR.
set -uo pipefail
run=${1:?usage: down.sh RUNDIR}
[ -d "$run" ] || exit 0

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
nspawn=$(cat "$run/nspawn.pid" 2>/dev/null || true)
leader=$(cat "$run/leader" 2>/dev/null || true)
if [ -z "$leader" ] && alive "$nspawn"; then
  # up.sh failed before it recorded the leader: take nspawn's child, if any.
  read -r leader _ 2>/dev/null <"/proc/$nspawn/task/$nspawn/children" || true
  [ -n "$leader" ] && awk '{ print $22 }' "/proc/$leader/stat" >"$run/leader.start" 2>/dev/null
fi
if alive "$nspawn"; then
  kill -TERM "$nspawn"            # nspawn asks the container's systemd to power off
  for _ in $(seq 100); do alive "$nspawn" || break; sleep 0.1; done
fi
if alive "$nspawn"; then
  echo "down: the container did not power off within 10 s: killing it" >&2
  kill -KILL "$nspawn" 2>/dev/null
fi
# Killing the leader (pid 1 of the container's pid namespace) kills everything inside.
if alive "$leader" && [ "$(awk '{ print $22 }' "/proc/$leader/stat" 2>/dev/null)" = "$(cat "$run/leader.start" 2>/dev/null)" ]; then
  kill -KILL "$leader" 2>/dev/null
fi
for _ in $(seq 50); do alive "$nspawn" || alive "$leader" || break; sleep 0.1; done

if mountpoint -q "$run/root"; then
  umount "$run/root" 2>/dev/null || umount -l "$run/root"
fi
if mountpoint -q "$run/root"; then echo "down: $run/root is still mounted; leaving $run" >&2; exit 1; fi
rm -rf --one-file-system "$run"
