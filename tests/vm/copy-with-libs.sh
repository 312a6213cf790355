#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# copy-with-libs.sh - copy host files into a guest root at the same paths,
# together with the shared libraries their ELF programs need.
#
# Why this exists: some guest tests need host programs (later: python3 and
# its standard library).  The guest has no package manager, so each file,
# every directory tree listed, and everything `ldd` says an ELF file loads
# (the dynamic loader included) is copied to the same path under ROOT.
#
# usage: copy-with-libs.sh [--exclude GLOB]... ROOT PATH...
#   PATH may be a file, a symlink (copied as a link, and its target too) or
#   a directory (copied whole, every ELF file inside resolved).  Paths
#   inside a directory that match an --exclude glob (find -path syntax,
#   e.g. '*/__pycache__' or '/usr/lib/python3.11/config-*') are left out.
set -euo pipefail

prog=copy-with-libs.sh
excludes=()
while [ "${1:-}" = --exclude ]; do
	excludes+=(-o -path "$2")
	shift 2
done
if [ $# -lt 1 ] || [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then
	sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//'
	[ $# -ge 1 ] && exit 0
	exit 2
fi
root=$1
shift
# find arguments that skip excluded paths: ( -false -o -path G ... ) -prune
prune=(\( -false "${excludes[@]}" \) -prune -o)
declare -A seen=()

# Does the file start with the ELF magic?  (A builtin read: no fork, which
# matters for directory trees of thousands of files.)
is_elf() {
	local magic=
	[ -f "$1" ] || return 1
	LC_ALL=C IFS= read -r -d '' -n 4 magic <"$1" 2>/dev/null
	[ "$magic" = $'\x7fELF' ]
}

# Copy one path (not following a final symlink) to ROOT/PATH.
copy_one() {
	local p=$1
	[ -n "${seen[$p]:-}" ] && return 0
	seen[$p]=1
	if [ ! -e "$p" ] && [ ! -L "$p" ]; then
		echo "$prog: $p: no such file on the host" >&2
		return 1
	fi
	mkdir -p "$root$(dirname "$p")"
	# a busybox applet link of the same name is replaced, not followed
	# (cp would write the program over busybox itself)
	if [ -L "$root$p" ]; then
		rm -f "$root$p"
	fi
	cp -a "$p" "$root$p"
	if [ -L "$p" ]; then
		copy_one "$(readlink -f "$p")"
	elif [ -d "$p" ]; then
		local f
		while IFS= read -r -d '' f; do
			rm -rf "${root:?}$f"
		done < <(find "$p" -mindepth 1 \( -false "${excludes[@]}" \) \
			 -prune -print0)
		while IFS= read -r -d '' f; do
			if [ -L "$f" ]; then
				local target
				target=$(readlink -f "$f")
				case "$target" in
				"$p"/*) ;;	# inside the tree: already copied
				*) [ -e "$target" ] && copy_one "$target" ;;
				esac
			elif is_elf "$f"; then
				copy_libs "$f"
			fi
		done < <(find "$p" "${prune[@]}" \( -type f -o -type l \) -print0)
	elif is_elf "$p"; then
		copy_libs "$p"
	fi
}

# Copy what ldd says an ELF file loads; static files have nothing to copy.
copy_libs() {
	local lib
	while read -r lib; do
		copy_one "$lib"
	done < <(ldd "$1" 2>/dev/null |
		 sed -n 's/.*=> \(\/[^ ]*\) (0x.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p')
}

for p in "$@"; do
	copy_one "$p"
done
