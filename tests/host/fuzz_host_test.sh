#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# fuzz_host_test.sh - a short libFuzzer run of each userspace reader
# (tests/fuzz/*_fuzz.c: the image reader and the blob reader) on every
# host test run, the regression images included.
#
# Why this exists: tests/fuzz/run-host-fuzz.sh (make fuzz-host) fuzzes for
# minutes; this keeps a bounded slice of it in the default test suite, so
# a change that makes a reader crash on malformed input fails at once.
# INCRFS_FUZZ_HOST_SECS sets the seconds per target (default 20).  The
# corpus grows in build/fuzz/ between runs.  Prints TAP 13: one result per
# target.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
secs=${INCRFS_FUZZ_HOST_SECS:-20}
targets=()
for c in "$repo"/tests/fuzz/*_fuzz.c; do
	targets+=("$(basename "$c" .c)")
done

echo "TAP version 13"
echo "1..${#targets[@]}"
num=0 failed=0
for t in "${targets[@]}"; do
	num=$((num + 1))
	out=$("$repo/tests/fuzz/run-host-fuzz.sh" -t "$secs" "$t" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/# /'
	if [ $rc -eq 0 ]; then
		echo "ok $num $t"
	else
		echo "not ok $num $t"
		failed=1
	fi
done
exit $failed
