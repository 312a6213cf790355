#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# runner_selftest_test.sh - the QEMU runner fails when it must.
#
# Why this exists: a test runner that always says "passed" is worse than
# none.  This boots the newest supported kernel with the deliberately bad
# guest test directories of tests/host/runner/ and checks that
# tests/vm/run-guest.sh exits non-zero for each, in bounded time, counting
# exactly the expected failures; and exits 0 for a directory that passes.
# Its results pass when the runner correctly fails.  Prints TAP 13.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
dirs=$repo/tests/host/runner
runner=$repo/tests/vm/run-guest.sh

echo "TAP version 13"
if [ "${INCRFS_HOST_ONLY:-0}" = 1 ]; then
	echo "1..0 # SKIP host-only run: boots no guest"
	exit 0
fi
kver=$("$repo/scripts/supported-kvers.sh" | tail -n 1)
if [ -z "$kver" ]; then
	echo "1..0 # SKIP no supported kernel installed"
	exit 0
fi
echo "1..6"
echo "# kernel: $kver"

work=$(mktemp -d "${TMPDIR:-/tmp}/incrfs-runner-selftest.XXXXXX")
trap 'rm -rf "$work"' EXIT
num=0

# guest NAME OPTIONS...: run the runner on tests/host/runner/NAME; sets
# rc, secs, out (its output file) and counts ("PASSED FAILED SKIPPED").
guest() {
	local name=$1 start=$SECONDS
	shift
	out=$work/$name.out
	"$runner" --tests "$dirs/$name" --files /dev/null \
		--summary "$work/$name.sum" \
		--logs "$work/$name.logs" "$@" "$kver" >"$out" 2>&1
	rc=$?
	secs=$((SECONDS - start))
	counts=$(cat "$work/$name.sum" 2>/dev/null)
	echo "# $name: runner exit status $rc after $secs s, counts '$counts'"
}

# result OK DESCRIPTION: print one TAP line; on failure show the output.
result() {
	num=$((num + 1))
	if [ "$1" = 0 ]; then
		echo "ok $num $2"
	else
		echo "not ok $num $2"
		sed 's/^/#   /' "$out" | tail -n 60
	fi
}

has() {	# has REGEX: does the runner output match?
	grep -qE -- "$1" "$out"
}

guest passing --idle 60 --timeout 300
[ "$rc" = 0 ] && [ "$counts" = "4 0 1" ] && has '^ok - .*: dmesg clean'
result $? "a passing guest suite makes the runner exit 0"

guest failing --idle 60 --timeout 300
[ "$rc" = 1 ] && [ "$counts" = "4 5 1" ] &&
	has '^not ok - .*: harness_failures_test: assert_fails$' &&
	has '^not ok - .*: harness_failures_test: crashes$' &&
	has '^not ok - .*: harness_failures_test: times_out$' &&
	has '^not ok - .*: short_plan_test.sh: planned 3 results, printed 1' &&
	has '^not ok - .*: dmesg clean' &&
	has '^#   \[kernel_warning_test.sh\] .*WARNING: deliberate line' &&
	has '^ok - .*: guest completed'
result $? "failing tests and a kernel WARNING make the runner fail"

guest hanging --idle 20 --timeout 300
[ "$rc" = 1 ] && [ "$secs" -lt 150 ] &&
	has 'guest completed: no serial output for 20 s' &&
	has "^# last lines of the tests' output:" &&
	has '^# last lines of the kernel console:' &&
	has '^#   # hangs_test: about to hang' &&
	has '^not ok - .*: hangs_test.sh: did not finish'
result $? "a silent guest is killed by the idle watchdog, last lines shown"

guest panicking --idle 120 --timeout 300
[ "$rc" = 1 ] && [ "$secs" -lt 120 ] &&
	has 'guest completed: QEMU exited' &&
	has '^not ok - .*: dmesg clean' &&
	has 'Kernel panic'
result $? "a kernel panic ends QEMU at once and fails the run"

guest endless --idle 30 --timeout 45
[ "$rc" = 1 ] && [ "$secs" -lt 120 ] &&
	has 'guest completed: still running after the 45 s limit' &&
	has '^#   # chatters_test: still talking'
result $? "a guest that never stops is killed at the wall-clock limit"

# Any directory will do: the guest cannot even start in 1 s.
guest passing --boot 1
[ "$rc" = 1 ] && [ "$secs" -lt 60 ] &&
	has 'guest completed: the guest did not start within 1 s'
result $? "a guest that does not boot in time is killed"
