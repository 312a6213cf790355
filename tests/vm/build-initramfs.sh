#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-initramfs.sh - build the cpio initramfs the QEMU test guest boots.
#
# Why this exists: the guest has no disk; everything a test run needs is in
# one uncompressed newc cpio archive (uncompressed: unpacking is faster than
# decompressing under TCG).  Guest layout:
#   /init                    tests/vm/guest-init.sh
#   /usr/bin/busybox + links every busybox applet (merged /usr like the host)
#   /lib/incrfs/incrfs.ko    the module under test ($INCRFS_KO in the guest)
#   /lib/incrfs/deps/*.ko    modules it and the tests need (uncompressed)
#   /lib/incrfs/deps.load    their guest paths, in load order
#   /usr/local/bin/          tools from tools/out-static, if built (a
#                            dynamic one with its shared libraries)
#   /tests/                  test programs (*_test, *_test.sh) and data
#   any host path listed in the guest-files list, with its shared libraries
set -euo pipefail

prog=build-initramfs.sh
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() {
	cat <<EOF
usage: $prog --kver KVER --ko FILE --tests DIR --out FILE
             [--modules LIST] [--files LIST] [--tools DIR]

Build the guest initramfs for kernel KVER.
  --kver KVER    kernel release whose modules (/lib/modules/KVER) go in
  --ko FILE      the incrfs.ko to test
  --tests DIR    directory of built test programs, copied to /tests
  --out FILE     the cpio archive to write
  --modules LIST module names to load at boot, one a line
                 (default: tests/vm/guest-modules); the dependencies of
                 each, and of incrfs.ko, come along, from
                 /lib/modules/KVER (none if that does not exist)
  --files LIST   host paths to copy in, one a line (default:
                 tests/vm/guest-files)
  --tools DIR    static tools to put in /usr/local/bin (default:
                 tools/out-static; skipped if absent)
EOF
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

kver= ko= tests= out=
modules=$here/guest-modules
files=$here/guest-files
tools=$repo/tools/out-static
while [ $# -gt 0 ]; do
	case "$1" in
	--kver) kver=$2; shift 2 ;;
	--ko) ko=$2; shift 2 ;;
	--tests) tests=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--modules) modules=$2; shift 2 ;;
	--files) files=$2; shift 2 ;;
	--tools) tools=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
[ -n "$kver" ] && [ -n "$ko" ] && [ -n "$tests" ] && [ -n "$out" ] ||
	{ usage >&2; exit 2; }
[ -r "$ko" ] || die "$ko: no such module; build it with 'make module KVER=$kver'"

# Names from a list file: one a line, '#' comments and blank lines skipped.
list() {
	[ -r "$1" ] || return 0
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$1"
}

root=$(mktemp -d "${TMPDIR:-/tmp}/incrfs-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT

# Merged /usr as on the host: /bin, /lib, ... are links into /usr.
for d in bin sbin lib lib64; do
	mkdir -p "$root/usr/$d"
	if [ -L "/$d" ]; then
		ln -s "$(readlink "/$d")" "$root/$d"
	else
		mkdir -p "$root/$d"
	fi
done
mkdir -p "$root"/{proc,sys,dev,tmp,run,root,etc,tests,usr/local/bin}
mkdir -p "$root/lib/incrfs/deps"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' \
	>"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

# busybox and one link per applet (as busybox --install would).
busybox=$(command -v busybox) || die "busybox not found; run 'make deps'"
"$here/copy-with-libs.sh" "$root" "$busybox"
[ "$busybox" = /usr/bin/busybox ] || cp "$busybox" "$root/usr/bin/busybox"
for applet in $(busybox --list-full); do
	[ -e "$root/$applet" ] || [ -L "$root/$applet" ] ||
		ln -s /usr/bin/busybox "$root/$applet"
done
install -m 755 "$here/guest-init.sh" "$root/init"

# The module and, in load order, every module it or the tests need.
cp "$ko" "$root/lib/incrfs/incrfs.ko"
: >"$root/lib/incrfs/deps.load"
declare -A loaded=()
add_module() {
	local line path base dst
	line=$(modprobe -S "$kver" --show-depends "$1" 2>&1) ||
		die "module $1 not found for $kver: $line"
	while read -r kind path _; do
		[ "$kind" = insmod ] || continue	# "builtin NAME"
		[ -z "${loaded[$path]:-}" ] || continue
		loaded[$path]=1
		base=$(basename "$path")
		case "$base" in
		*.ko.xz) dst=${base%.xz}; xz -dc "$path" >"$root/lib/incrfs/deps/$dst" ;;
		*.ko.zst) dst=${base%.zst}; zstd -qdc "$path" >"$root/lib/incrfs/deps/$dst" ;;
		*.ko.gz) dst=${base%.gz}; gzip -dc "$path" >"$root/lib/incrfs/deps/$dst" ;;
		*) dst=$base; cp "$path" "$root/lib/incrfs/deps/$dst" ;;
		esac
		echo "/lib/incrfs/deps/$dst" >>"$root/lib/incrfs/deps.load"
	done <<<"$line"
}
# A kernel without /lib/modules/KVER (e.g. a debug kernel built from source)
# must have everything built in.
if [ -d "/lib/modules/$kver" ]; then
	for m in $(list "$modules") $(modinfo -F depends "$ko" | tr ',' ' '); do
		add_module "$m"
	done
else
	echo "$prog: no /lib/modules/$kver: no modules but incrfs.ko," \
		"the kernel must have the rest built in" >&2
fi

# Static tools, if they were built.  A dynamically linked one (incrfsd)
# brings the libraries ldd names; incrfsd also brings libcurl, which it
# dlopen()s for HTTP sources, with libcurl's own libraries.
if [ -d "$tools" ]; then
	for t in "$tools"/*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		cp "$t" "$root/usr/local/bin/"
		if ldd "$t" >/dev/null 2>&1; then
			mapfile -t tlibs < <(ldd "$t" | awk '$2 == "=>" && $3 ~ /^\// {print $3}
				$1 ~ /^\// {print $1}')
			[ ${#tlibs[@]} -eq 0 ] ||
				"$here/copy-with-libs.sh" "$root" "${tlibs[@]}"
		fi
	done
	if [ -f "$tools/incrfsd" ]; then
		# (awk reads to the end: an early exit would make ldconfig
		# die of SIGPIPE, and pipefail end this script)
		curl=$(/sbin/ldconfig -p | awk '$1 == "libcurl.so.4" &&
			/x86-64/ && !found { print $NF; found = 1 }')
		if [ -n "$curl" ]; then
			"$here/copy-with-libs.sh" "$root" "$curl"
		else
			echo "$prog: no libcurl.so.4 on the host:" \
				"incrfsd in the guest cannot read HTTP sources" >&2
		fi
	fi
fi

cp -a "$tests/." "$root/tests/"

# Lines "-GLOB" of the list exclude paths inside the listed directories.
extra=() excl=()
while read -r line; do
	case "$line" in
	-*) excl+=(--exclude "${line#-}") ;;
	*) extra+=("$line") ;;
	esac
done < <(list "$files")
[ ${#extra[@]} -eq 0 ] ||
	"$here/copy-with-libs.sh" "${excl[@]}" "$root" "${extra[@]}"

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) >"$out.tmp"
mv -f "$out.tmp" "$out"
