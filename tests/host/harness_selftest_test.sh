#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# harness_selftest_test.sh - tests/kselftest/harness.h reports every outcome
# right.
#
# Why this exists: every other test trusts the harness to turn a failed
# check, a crash or a hang into "not ok".  This compiles
# tests/host/harness/sample.c three ways (plain, -static as in the guest,
# ASan/UBSan as on the host), runs it and compares its TAP with the lines it
# must print.  Prints TAP 13.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/incrfs-harness-selftest.XXXXXX")
trap 'rm -rf "$work"' EXIT
cflags=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$repo")
asan=(-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=all)

# The result lines and totals sample.c must print, in order.
cat >"$work/expected" <<'END'
TAP version 13
1..15
ok 1 passes
ok 2 single_statement
not ok 3 assert_in_loop_stops
ok 4 signedness
not ok 5 assert_fails
not ok 6 expect_fails_but_continues
not ok 7 crashes
not ok 8 times_out
ok 9 takes_two_seconds
ok 10 skipped # SKIP nothing to do here (42)
not ok 11 exits_nonzero
ok 12 file.reads_nothing
not ok 13 file.assert_in_body
not ok 14 broken.never_runs
ok 15 noroot.body_skipped # SKIP setup skipped
# totals: pass:5 fail:8 skip:2
END

echo "TAP version 13"
echo "1..6"
num=0
result() {	# result STATUS DESCRIPTION [FILE TO SHOW ON FAILURE]
	num=$((num + 1))
	if [ "$1" = 0 ]; then
		echo "ok $num $2"
	else
		echo "not ok $num $2"
		[ -n "${3:-}" ] && sed 's/^/#   /' "$3"
	fi
}

# check VARIANT EXTRA_CFLAGS...: build, run, compare.
check() {
	local v=$1 out=$work/$1.out rc
	shift
	if ! gcc "${cflags[@]}" "$@" -o "$work/$v" \
		"$repo/tests/host/harness/sample.c" >"$out" 2>&1; then
		result 1 "$v: sample.c compiles" "$out"
		return
	fi
	"$work/$v" >"$out" 2>"$work/$v.err"
	rc=$?
	grep -E '^(TAP|1\.\.|ok |not ok |# totals)' "$out" >"$work/$v.tap"
	{
		[ $rc = 1 ] || echo "exit status $rc, want 1"
		diff -u "$work/expected" "$work/$v.tap"
		for want in 'expected 0 == v: 0 is 0, v is 7' \
			    'handler runs on failure' \
			    'still running after EXPECT' \
			    'times_out: timed out after 1 s, killed' \
			    'takes_two_seconds: still running after 1 s' \
			    'exits_nonzero: exited with status 3' \
			    'broken teardown ran'; do
			grep -qF -- "$want" "$out" || echo "missing: $want"
		done
		[ "$(grep -c 'expected i < 2' "$out")" = 1 ] ||
			echo "ASSERT in an unbraced loop did not stop at once"
		for never in 'must not run' 'unreachable'; do
			! grep -qF -- "$never" "$out" || echo "printed: $never"
		done
		[ "$(grep -c 'teardown: setup_done=1' "$out")" = 2 ] ||
			echo "file teardown did not run twice"
		case $v in
		asan) grep -qF 'crashes: exited with status 1' "$out" ||
			echo "missing: ASan report of the crash" ;;
		*) grep -qF 'crashes: killed by signal 11' "$out" ||
			echo "missing: crash by signal 11" ;;
		esac
	} >"$work/$v.why" 2>&1
	[ -s "$work/$v.why" ]
	result $((!$?)) "$v: sample.c prints the expected TAP" "$work/$v.why"
}

check plain -O2 -DTH_HEARTBEAT=1
check static -O2 -static -DTH_HEARTBEAT=1
check asan "${asan[@]}" -DTH_HEARTBEAT=1

# Command line: -l lists, -t selects, an unknown name is a usage error.
bin=$work/plain
[ "$("$bin" -l | wc -l)" = 15 ] && [ "$("$bin" -l | sed -n 12p)" = file.reads_nothing ]
result $? "-l lists all 15 tests in order"
"$bin" -t passes -t file.reads_nothing >"$work/sel.out" 2>&1
[ $? = 0 ] && grep -qx '1..2' "$work/sel.out" && grep -qx 'ok 1 passes' "$work/sel.out" &&
	grep -qx 'ok 2 file.reads_nothing' "$work/sel.out" &&
	grep -qx '# totals: pass:2 fail:0 skip:0' "$work/sel.out"
result $? "-t runs only the named tests" "$work/sel.out"
"$bin" -t no_such_test >"$work/bad.out" 2>&1
[ $? = 2 ] && grep -q "no test named 'no_such_test'" "$work/bad.out"
result $? "-t with an unknown name is a usage error" "$work/bad.out"
