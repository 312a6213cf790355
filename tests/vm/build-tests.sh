#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-tests.sh - build the guest test programs of a directory.
#
# Why this exists: guest tests are C files using tests/kselftest/harness.h
# (or shell scripts printing TAP); the guest has no compiler and no shared
# libraries, so each SRC/*_test.c becomes one static program OUT/*_test.
# Everything else in SRC (shell tests, data files, sub-directories) is
# copied to OUT as it is, except C sources and headers.  OUT should start
# empty, so a deleted test never lingers.  Programs are compiled in CACHE
# (default: OUT) and only rebuilt when older than their source, the
# tests/kselftest headers (harness and helpers), the uapi header, tools/lib
# headers, headers next to the source, or the static libincrfs.a.  A file that
# does not compile does not stop the others; its test name is appended to
# FAILED_LIST (if given) and the exit status is 1.
#
# Compile flags: -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g -static
# -I<repo> -I<repo>/tools/lib, linked with tools/out-static/libincrfs.a (if
# built) and -lzstd -luring -lcrypto -ljson-c, so a test may
#   #include "uapi/incrfs.h"
#   #include "tests/kselftest/harness.h"
# and call library code directly.
#
# usage: build-tests.sh [--cache DIR] [--failed FAILED_LIST] SRC_DIR OUT_DIR
set -euo pipefail

prog=build-tests.sh
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

cache= failed=/dev/null
while [ $# -gt 2 ]; do
	case "$1" in
	--cache) cache=$2; shift 2 ;;
	--failed) failed=$2; shift 2 ;;
	*) break ;;
	esac
done
if [ $# -ne 2 ]; then
	echo "usage: $prog [--cache DIR] [--failed FAILED_LIST] SRC_DIR OUT_DIR" >&2
	exit 2
fi
src=$1
out=$2
cache=${cache:-$out}
[ -d "$src" ] || { echo "$prog: $src: not a directory" >&2; exit 1; }
mkdir -p "$out" "$cache"

CC=${CC:-gcc}
cflags=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g -static
	-I"$repo" -I"$repo/tools/lib")
libs=()
lib=$repo/tools/out-static/libincrfs.a
[ -f "$lib" ] && libs+=("$lib")
libs+=(-lzstd -luring -lcrypto -ljson-c -lpthread)

deps=("$repo/uapi/incrfs.h")
for h in "$repo"/tests/kselftest/*.h "$repo"/tools/lib/*.h "$src"/*.h; do
	[ -f "$h" ] && deps+=("$h")
done
[ -f "$lib" ] && deps+=("$lib")

stale() {	# stale TARGET SOURCE...
	local t=$1 s
	shift
	[ -e "$t" ] || return 0
	for s in "$@"; do
		[ "$s" -nt "$t" ] && return 0
	done
	return 1
}

rc=0
for c in "$src"/*_test.c; do
	[ -f "$c" ] || continue
	name=$(basename "$c" .c)
	bin=$cache/$name
	if stale "$bin" "$c" "${deps[@]}"; then
		echo "$prog: CC $c"
		# A temporary name: concurrent runs never see half a file.
		if ! "$CC" "${cflags[@]}" -o "$bin.tmp.$$" "$c" "${libs[@]}"
		then
			rm -f "$bin.tmp.$$" "$bin"
			echo "$prog: $c: does not compile" >&2
			echo "$name" >>"$failed"
			rc=1
			continue
		fi
		mv -f "$bin.tmp.$$" "$bin"
	fi
	[ "$cache" -ef "$out" ] || cp -p "$bin" "$out/$name"
done

# Everything else: shell tests and data, kept executable where they are.
(cd "$src" && find . -mindepth 1 \( -name '*.c' -o -name '*.h' \) -prune -o \
	-print0) | while IFS= read -r -d '' f; do
	if [ -d "$src/$f" ]; then
		mkdir -p "$out/$f"
	else
		cp -p "$src/$f" "$out/$f"
	fi
done
exit $rc
