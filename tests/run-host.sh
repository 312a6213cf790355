#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run-host.sh - build and run the host tests, print their TAP and a count.
#
# Why this exists: pure userspace code (tools/lib, the packer, the test
# runner itself) is tested on the host, without a guest, under ASan and
# UBSan.  Tests, run in name order:
#   tests/host/*.c        each compiled with tests/kselftest/harness.h,
#                         -fsanitize=address,undefined, linked with
#                         tools/out-asan/libincrfs.a (if built) and
#                         -lzstd -luring -lcrypto -ljson-c -lcap-ng (libcurl is
#                         dlopen()ed);
#                         binaries in build/host-tests
#   tests/host/*_test.sh  executable scripts printing TAP 13 themselves
# Each runs from the repository root with INCRFS_REPO set to it, under a
# time limit (INCRFS_HOST_TEST_TIMEOUT seconds, default 900).  Results are
# judged by tests/lib/tap-summary.awk: a program that fails, crashes,
# exits non-zero or prints fewer results than planned fails.
#
# usage: run-host.sh [--summary FILE]   (FILE gets "PASSED FAILED SKIPPED")
set -uo pipefail

prog=run-host.sh
repo=$(cd "$(dirname "$0")/.." && pwd)
summary=
case "${1:-}" in
--summary) summary=$2 ;;
-h|--help) sed -n '4,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) echo "usage: $prog [--summary FILE]" >&2; exit 2 ;;
esac

cd "$repo" || exit 2
export INCRFS_REPO=$repo
limit=${INCRFS_HOST_TEST_TIMEOUT:-900}
out=$repo/build/host-tests
mkdir -p "$out"
log=$(mktemp "${TMPDIR:-/tmp}/incrfs-host.XXXXXX")
trap 'rm -f "$log" "$log.cc"' EXIT

CC=${CC:-gcc}
cflags=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g
	-fsanitize=address,undefined -fno-omit-frame-pointer
	-fno-sanitize-recover=all -I"$repo" -I"$repo/tools/lib")
libs=()
lib=$repo/tools/out-asan/libincrfs.a
[ -f "$lib" ] && libs+=("$lib")
libs+=(-lzstd -luring -lcrypto -ljson-c -lcap-ng -lpthread)
# tools/*/*.[ch]: some tests include the unit they test
deps=(tests/kselftest/harness.h uapi/incrfs.h tools/lib/*.h tools/*/*.[ch])
[ -f "$lib" ] && deps+=("$lib")

# One section of the log per program, as tap-summary.awk reads it.
run_one() {	# run_one NAME COMMAND...
	local name=$1 rc
	shift
	echo "@@TEST-BEGIN $name@@"
	timeout --kill-after=10 "$limit" "$@" </dev/null 2>&1
	rc=$?
	[ $rc -eq 124 ] && echo "# $name: killed after the $limit s limit"
	echo "@@TEST-END $name rc=$rc@@"
}

newer_dep() {	# newer_dep TARGET: is any input newer than TARGET?
	local d
	for d in "$@"; do
		[ -e "$d" ] && [ "$d" -nt "$bin" ] && return 0
	done
	return 1
}

{
	for c in tests/host/*.c; do
		[ -f "$c" ] || continue
		name=$(basename "$c" .c)
		bin=$out/$name
		if [ ! -e "$bin" ] || newer_dep "$c" "${deps[@]}"; then
			echo "# $prog: CC $c"
			if ! "$CC" "${cflags[@]}" -o "$bin.tmp.$$" "$c" \
				"${libs[@]}" >"$log.cc" 2>&1; then
				rm -f "$bin.tmp.$$" "$bin"
				echo "@@TEST-BEGIN $name@@"
				echo "# $c does not compile:"
				sed 's/^/#   /' "$log.cc"
				echo "@@TEST-END $name rc=1@@"
				continue
			fi
			mv -f "$bin.tmp.$$" "$bin"
		fi
		run_one "$name" "$bin"
	done
	for t in tests/host/*_test.sh; do
		[ -f "$t" ] || continue
		run_one "$(basename "$t")" "$t"
	done
} | tee "$log"

echo "# ---- host results ----"
awk -v prefix="host: " -v out="$log.counts" \
	-f "$repo/tests/lib/tap-summary.awk" "$log"
read -r pass fail skip <"$log.counts"
rm -f "$log.counts"
if ! grep -q '^@@TEST-BEGIN ' "$log"; then
	echo "not ok - host: no host test found in tests/host"
	fail=$((fail + 1))
fi
echo "# host: $pass passed, $fail failed, $skip skipped"
[ -z "$summary" ] || echo "$pass $fail $skip" >"$summary"
[ "$fail" -eq 0 ]
