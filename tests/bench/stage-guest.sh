#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# stage-guest.sh - the programs and files a cold-start guest (make bench,
# make demo) needs beyond the test guest's, staged for run-guest.sh.
#
# usage: stage-guest.sh BIN FILES [--image]
#   BIN    directory for our own copies of programs (not under /tmp: the
#          guest mounts a tmpfs on /tmp and would hide them)
#   FILES  written: the guest-files list for run-guest.sh --files
#   --image  also build (or find cached) debian-image.sh's layers, list
#          them, and print their directory on stdout (B_IMAGE)
#
# Why this exists: the guest's /bin/sh is busybox, which runs its own
# applet for a plain "tc" or "mkfs.ext4" whatever PATH says; copies under
# their own names in BIN (which the guest programs put first in PATH) are
# the real ones.  run-bench.sh and run-demo.sh share this so that the demo
# runs what the benchmark measures.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=$1 files=$2 image=${3:-}

mkdir -p "$bin"
# mke2fs under its own name: /sbin/mke2fs is a busybox applet link in the
# guest (see guest-files).
cp -f "$(command -v mke2fs)" "$bin/mkfs.ext4"
# iproute2's tc (netem): busybox's tc has no netem.
tc=$(PATH=/usr/sbin:/sbin:$PATH command -v tc) ||
	{ echo "stage-guest.sh: tc not found: make deps (iproute2)" >&2; exit 1; }
cp -f "$tc" "$bin/tc"
# coreutils' tee (figure 5's stock tools): busybox's copies 4 KiB at a time.
cp -f "$(command -v tee)" "$bin/gnu-tee"
{
	cat "$repo/tests/vm/guest-files" "$here/guest-files"
	echo "$bin/mkfs.ext4"
	echo "$bin/tc"
	echo "$bin/gnu-tee"
	# figure 8's CDN (run-bench.sh --server cdn), where installed
	[ ! -x /usr/sbin/nginx ] || echo /usr/sbin/nginx
} >"$files"
if [ "$image" = --image ]; then
	src=$("$here/debian-image.sh") ||
		{ echo "stage-guest.sh: building the Debian image failed" >&2; exit 1; }
	ls "$src"/layer*.tar.zst >>"$files"
	echo "$src"
fi
