#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# stage-debian-image.sh - the real image of the guest suite: figure 8's
# three-layer Debian image (tests/bench/debian-image.sh, built once with
# mmdebstrap and cached), converted for incrfs with incrfs-image convert
# into an OCI layout the guest can see (not under /tmp, which the guest
# hides under a tmpfs).  Prints the layout's directory; oci_image_test
# pushes it to its registry and starts python3 from it with crun.
#
# Why this exists: a test of whole images must also run one the size and
# shape of a real one (packages, several layers, whiteouts), converted as a
# build server would, on the host's real CPUs.
#
# usage: stage-debian-image.sh OUT_DIR
set -euo pipefail

prog=stage-debian-image.sh
repo=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -eq 1 ] || { echo "usage: $prog OUT_DIR" >&2; exit 2; }
out=$1
case "$out" in
/tmp/*|/tmp) echo "$prog: $out: the guest hides /tmp" >&2; exit 2 ;;
esac
img=$("$repo/tests/bench/debian-image.sh")
tool=$repo/tools/out/incrfs-image
[ -x "$tool" ] || { echo "$prog: $tool missing: make tools" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$(dirname "$out")"
"$tool" convert -q "$img/oci:app" "$out:app" >/dev/null
echo "$out"
