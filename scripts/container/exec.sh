#!/usr/bin/env bash
# Runs a command inside the container that up.sh booted: scripts/container/exec.sh RUNDIR CMD [ARG...]
set -euo pipefail
run=${1:?usage: exec.sh RUNDIR CMD [ARG...]}
shift
exec nsenter -t "$(cat "$run/leader")" -a "$@"
