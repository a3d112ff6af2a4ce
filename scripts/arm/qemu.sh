#!/usr/bin/env bash
# Lets this x86_64 machine run ARM programs: installs qemu-user-static when missing and registers
# binfmt_misc handlers for aarch64 and arm, so that an ARM Node.js, and every child it spawns
# (the daemon, speakerctl, vitest's workers), runs as if native. Needs root.
set -euo pipefail
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if [ ! -f /usr/lib/binfmt.d/qemu-aarch64.conf ]; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null
fi
mountpoint -q /proc/sys/fs/binfmt_misc || as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
for cpu in aarch64 arm; do
  [ -e "/proc/sys/fs/binfmt_misc/qemu-$cpu" ] || as_root /lib/systemd/systemd-binfmt "/usr/lib/binfmt.d/qemu-$cpu.conf"
done
