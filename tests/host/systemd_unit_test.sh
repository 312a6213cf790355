#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# systemd_unit_test.sh - the units make install writes, incrfsd@.service
# (one mount) and incrfsd-node.service (incrfsd --node): systemd-analyze
# verify accepts each, and its sandbox keeps the exposure systemd-analyze
# security computes at 4.0 or below (incrfsd@ before the sandbox: 9.0,
# "UNSAFE").  Offline: nothing is started.  The unit's
# @SBINDIR@ points at the ASan build, which verify needs to exist.
# SKIPs (not a pass) where systemd-analyze is missing.  Prints TAP 13.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
echo "TAP version 13"
echo "1..6"
if ! command -v systemd-analyze >/dev/null; then
	for i in 1 2 3 4 5 6; do echo "ok $i # SKIP no systemd-analyze"; done
	exit 0
fi
if ! make -s -C "$repo/tools" O=out-asan SANITIZE=1 out-asan/incrfsd \
	>/dev/null 2>&1; then
	for i in 1 2 3 4 5 6; do echo "not ok $i build incrfsd"; done
	exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/incrfsd-unit.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0
n=0

# check_unit NAME RESTART_PREVENT: the three checks of one unit
check_unit() {
	local name=$1 prevent=$2 unit=$work/$1 out report
	sed "s|@SBINDIR@|$repo/tools/out-asan|g" \
		"$repo/packaging/systemd/$name.in" >"$unit"
	n=$((n + 1))
	if out=$(cd "$work" && systemd-analyze verify --man=no "./$name" 2>&1) &&
		[ -z "$out" ]; then
		echo "ok $n systemd-analyze verify accepts $name"
	else
		failed=1
		echo "not ok $n systemd-analyze verify accepts $name"
		sed 's/^/# /' <<<"$out"
	fi
	n=$((n + 1))
	if grep -q '^Type=notify$' "$unit" &&
		grep -q "^RestartPreventExitStatus=$prevent\$" "$unit"; then
		echo "ok $n $name: Type=notify; no restart for exit status $prevent"
	else
		failed=1
		echo "not ok $n $name: Type=notify; no restart for exit status $prevent"
	fi
	n=$((n + 1))
	report=$(cd "$work" && systemd-analyze security --offline=yes "./$name" 2>&1)
	if (cd "$work" && systemd-analyze security --offline=yes --threshold=40 \
		"./$name" >/dev/null 2>&1); then
		echo "ok $n $name: exposure at most 4.0: $(grep -o 'level for [^ ]* [0-9.]* [A-Z]*' <<<"$report")"
	else
		failed=1
		echo "not ok $n $name: exposure at most 4.0"
		tail -n 5 <<<"$report" | sed 's/^/# /'
	fi
}

# a bad command line or a blob that is not the image's: no restart
check_unit incrfsd@.service "2 3"
# a bad command line; the node's mounts fail one by one, not the daemon
check_unit incrfsd-node.service "2"
exit $failed
