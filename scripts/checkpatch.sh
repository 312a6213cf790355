#!/bin/bash
# checkpatch.sh - run the kernel's checkpatch.pl --strict on the module.
# Why: checkpatch ships only inside Debian's linux-source-6.1 tarball, so
# this extracts it once into a cache directory outside the clone.
# Ignored: LINUX_VERSION_CODE (kmod/compat.h is the one place for version
# checks of an out-of-tree module) and CAMELCASE (_Static_assert, and the
# Opt_* names that fs_parser users share).
set -euo pipefail
cache=${INCRFS_CACHE:-/var/cache/incrfs}/checkpatch
tarball=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n1 || true)
if [ ! -x "$cache/scripts/checkpatch.pl" ]; then
	if [ -z "$tarball" ]; then
		echo "checkpatch: linux-source-6.1 is not installed (make deps)" >&2
		exit 1
	fi
	mkdir -p "$cache"
	tar -xf "$tarball" -C "$cache" --strip-components=1 \
		--wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
fi
cd "$(dirname "$0")/.."
ignore=FILE_PATH_CHANGES,SPDX_LICENSE_TAG,CONST_STRUCT,LINUX_VERSION_CODE,CAMELCASE
srcs=()
for f in kmod/*.c kmod/*.h uapi/incrfs.h; do
	[ "$f" = kmod/incrfs_trace.h ] || srcs+=("$f")
done
"$cache/scripts/checkpatch.pl" --strict --no-tree --quiet --ignore "$ignore" \
	-f "${srcs[@]}"
# TRACE_EVENT()'s own layout (a macro argument per line, as in every
# include/trace/events/ header) is what these two checks object to.
exec "$cache/scripts/checkpatch.pl" --strict --no-tree --quiet \
	--ignore "$ignore,OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT" \
	-f kmod/incrfs_trace.h
