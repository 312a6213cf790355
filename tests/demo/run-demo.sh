#!/bin/bash
# run-demo.sh - "make demo": boot the guest on one kernel, run the cold
# start demo (tests/demo/cold_start_test.c), and print its report.
#
# usage: run-demo.sh [KVER]   (NET=local|lan|wan|slow in the environment,
#                              default wan)
#
# Why this exists: the demo needs a real kernel with incrfs loaded, which
# only the QEMU guest gives, plus what the benchmark guest has (netem's tc,
# a scratch disk, the Debian image's layers, built once with mmdebstrap and
# cached); this script stages them, hides the runner's test output and
# keeps the demo's report lines.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
kver=${1:-$("$repo/scripts/supported-kvers.sh" | tail -n1)}
net=${NET:-wan}
if [ -z "$kver" ]; then
	echo "run-demo.sh: no supported kernel installed; run 'make deps'" >&2
	exit 1
fi
case "$net" in
local|lan|wan|slow) ;;
*) echo "run-demo.sh: NET=$net: not local, lan, wan or slow" >&2; exit 2 ;;
esac
# not under /tmp: the guest mounts a tmpfs there
bin=/var/tmp/incrfs-demo-$(id -u)/bin
out=$repo/build/demo
mkdir -p "$out"
log=$out/$kver.log
echo "incrfs demo: preparing the image (the first time: Debian packages with mmdebstrap, a few minutes)..."
image=$("$repo/tests/bench/stage-guest.sh" "$bin" "$out/guest-files" --image) ||
	{ echo "run-demo.sh: staging the guest's files failed" >&2; exit 1; }
# what a build server does once: the image converted for incrfs, which
# the guest (the node) pushes to its registry and pulls
converted=$(dirname "$bin")/converted
echo "incrfs demo: converting the image for incrfs (incrfs-image convert)..."
rm -rf "$converted"
"$repo/tools/out-static/incrfs-image" convert -q "$image/oci:app" \
	"$converted:app" >/dev/null ||
	{ echo "run-demo.sh: incrfs-image convert failed" >&2; exit 1; }
echo "$converted" >>"$out/guest-files"
# the real FUSE peer: stargz-snapshotter's layer store, on eStargz layers
stargz=$("$repo/tests/bench/stargz/stage.sh" "$bin" "$image" "$out/guest-files") ||
	{ echo "run-demo.sh: staging the stargz peer failed" >&2; exit 1; }
echo "incrfs demo: booting Debian's $kver under QEMU; the demo takes a few minutes..."
"$repo/tests/vm/run-guest.sh" --tests "$here" --files "$out/guest-files" \
	--modules "$repo/tests/bench/guest-modules" --disk 8192 --mem 3072 \
	--append "B_BIN=$bin B_NET=$net B_IMAGE=$image B_CONVERTED=$converted B_STARGZ=$stargz" \
	"$kver" >"$log" 2>&1
rc=$?
sed -n 's/^# demo: //p' "$log"
if [ $rc -ne 0 ]; then
	echo "run-demo.sh: the demo failed; the guest's output follows (all of it in $log)" >&2
	grep -E '^(not ok|# )' "$log" | grep -v '^# demo: ' | tail -n 40 >&2
fi
exit $rc
