#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# systemd_unit_test.sh - the incrfsd@.service that make install writes:
# systemd-analyze verify accepts it, and its sandbox keeps the exposure
# systemd-analyze security computes at 4.0 or below (the unit before the
# sandbox: 9.0, "UNSAFE").  Offline: nothing is started.  The unit's
# @SBINDIR@ points at the ASan build, which verify needs to exist.
# SKIPs (not a pass) where systemd-analyze is missing.  Prints TAP 13.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
echo "TAP version 13"
echo "1..3"
if ! command -v systemd-analyze >/dev/null; then
	for i in 1 2 3; do echo "ok $i # SKIP no systemd-analyze"; done
	exit 0
fi
if ! make -s -C "$repo/tools" O=out-asan SANITIZE=1 out-asan/incrfsd \
	>/dev/null 2>&1; then
	for i in 1 2 3; do echo "not ok $i build incrfsd"; done
	exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/incrfsd-unit.XXXXXX")
trap 'rm -rf "$work"' EXIT
unit=$work/incrfsd@.service
sed "s|@SBINDIR@|$repo/tools/out-asan|g" \
	"$repo/packaging/systemd/incrfsd@.service.in" >"$unit"
failed=0

if out=$(cd "$work" && systemd-analyze verify --man=no ./incrfsd@.service 2>&1) &&
	[ -z "$out" ]; then
	echo "ok 1 systemd-analyze verify accepts the unit"
else
	failed=1
	echo "not ok 1 systemd-analyze verify accepts the unit"
	sed 's/^/# /' <<<"$out"
fi
if grep -q '^Type=notify$' "$unit" &&
	grep -q '^RestartPreventExitStatus=2 3$' "$unit"; then
	echo "ok 2 Type=notify; no restart for a bad command line or blob"
else
	failed=1
	echo "not ok 2 Type=notify; no restart for a bad command line or blob"
fi
report=$(cd "$work" && systemd-analyze security --offline=yes ./incrfsd@.service 2>&1)
if (cd "$work" && systemd-analyze security --offline=yes --threshold=40 \
	./incrfsd@.service >/dev/null 2>&1); then
	echo "ok 3 exposure at most 4.0: $(grep -o 'level for [^ ]* [0-9.]* [A-Z]*' <<<"$report")"
else
	failed=1
	echo "not ok 3 exposure at most 4.0"
	tail -n 5 <<<"$report" | sed 's/^/# /'
fi
exit $failed
