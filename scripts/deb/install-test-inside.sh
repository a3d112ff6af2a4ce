#!/bin/sh
# Runs inside the fresh Debian root of install-test.sh (as root, from mmdebstrap's customize hook).
set -eu
t=/tmp/speakerd-test
fail() { echo "install-test: FAIL: $*" >&2; exit 1; }
ok() { echo "install-test: ok: $*"; }
snapshot() {
	find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /tmp -o -path /run \
		-o -path /var/cache -o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/log \
		-o -path /etc/ld.so.cache \) -prune -o -print | sort
}
snapshot >"$t/before"

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "$t"/debs/nodejs_*.deb "$t"/debs/speakerd_*.deb >"$t/apt.log" 2>&1 ||
	{ cat "$t/apt.log"; fail "apt-get install"; }
ok "installed with: $(dpkg-query -W -f='${Depends}' speakerd)"
ok "apt pulled in: $(grep -o '^Setting up [^ ]*' "$t/apt.log" | cut -d' ' -f3 | tr '\n' ' ')"

getent passwd speakerd >/dev/null || fail "no user speakerd"
for g in audio gpio spi input; do id -nG speakerd | tr ' ' '\n' | grep -qx "$g" || fail "speakerd is not in $g"; done
ok "user speakerd in groups: $(id -nG speakerd)"
[ -L /etc/systemd/system/multi-user.target.wants/speakerd.service ] || fail "the service is not enabled"
ok "enabled: $(readlink /etc/systemd/system/multi-user.target.wants/speakerd.service)"
dpkg-query -W -f='${Conffiles}\n' speakerd | grep -q '/etc/speakerd/speakerd.json' || fail "speakerd.json is not a conffile"
[ -d /etc/speakerd/conf.d ] || fail "no /etc/speakerd/conf.d (tmpfiles)"
for f in /usr/lib/systemd/system/speakerd.service /usr/lib/sysusers.d/speakerd.conf /usr/lib/tmpfiles.d/speakerd.conf \
	/usr/lib/udev/rules.d/60-speakerd.rules /usr/lib/speakerd/build/Release/speakerd.node; do
	[ -f "$f" ] || fail "missing $f"
done
if [ -e /usr/lib/speakerd/node_modules/vitest ] || [ -e /usr/lib/speakerd/node_modules/typescript ]; then fail "dev dependencies installed"; fi

speakerd --check-config >"$t/check.log" 2>&1 || { cat "$t/check.log"; fail "speakerd --check-config"; }
ok "$(cat "$t/check.log")"

# A short start as the service would run it (its user; systemd would make these directories).
install -d -o speakerd -g speakerd -m 0750 /run/speakerd /var/lib/speakerd
setpriv --reuid=speakerd --regid=speakerd --init-groups env SPEAKERD_AUDIO_DEVICE=null speakerd >"$t/daemon.log" 2>&1 &
pid=$!
i=0
until speakerctl --json status >"$t/status.json" 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { cat "$t/daemon.log"; fail "speakerctl status got no answer in 20 s"; }
	kill -0 "$pid" 2>/dev/null || { cat "$t/daemon.log"; fail "speakerd exited"; }
	sleep 0.2
done
grep -q '"ok":true' "$t/status.json" || fail "status: $(cat "$t/status.json")"
ok "speakerctl status: $(head -c 200 "$t/status.json")"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 0 ] || { cat "$t/daemon.log"; fail "speakerd exited with $status after SIGTERM"; }
ok "stopped with status 0 on SIGTERM"

apt-get purge -y -qq speakerd nodejs >"$t/purge.log" 2>&1 || { cat "$t/purge.log"; fail "apt-get purge"; }
apt-get autoremove --purge -y -qq >>"$t/purge.log" 2>&1 || { cat "$t/purge.log"; fail "apt-get autoremove"; }
dpkg-query -W -f='${db:Status-Abbrev}\n' speakerd 2>/dev/null | grep -q '^ii' && fail "speakerd still installed"
snapshot >"$t/after"
# The system user and groups stay (Debian's practice): only their lines in these files changed.
left=$(comm -13 "$t/before" "$t/after" | grep -vxE '/etc/(passwd|group|shadow|gshadow)-?' || true)
[ -z "$left" ] || fail "left behind after purge: $left"
gone=$(comm -23 "$t/before" "$t/after" | grep -vxE '/etc/(passwd|group|shadow|gshadow)-?' || true)
[ -z "$gone" ] || fail "removed by the package: $gone"
ok "purged: nothing left behind (user speakerd kept: $(getent passwd speakerd | cut -d: -f1,3))"
