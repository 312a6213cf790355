#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run-bench.sh - "make bench": boot the QEMU guest on each kernel given,
# run the benchmark programs of tests/bench in it, and turn their samples
# into the table, Documentation/performance.md and the chart.
#
# Why this exists: TCG makes absolute times meaningless, so every figure is
# a ratio between series measured in the same boot; the guest only prints
# samples ("# bench: SAMPLE fig series value"), this script keeps them and
# report.py computes medians, ratios and pass/fail against the targets.
# Never part of "make test": performance targets are not tests.
set -uo pipefail

prog=run-bench.sh
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() {
	cat <<EOF
usage: $prog [options] [KVER...]

Run the incrfs benchmarks in a QEMU guest on each KVER (default: the
newest supported kernel) and print the table of figures: baseline,
incrfs, ratio, target, pass/fail.  Writes Documentation/performance.md and
Documentation/perf/*.png (with --no-doc only the table).

Options:
  --runs N         runs per series, the median is reported (default 5)
  --large N        2 MiB files added to the read tree (default 64)
  --filter REGEX   only the benchmark programs matching REGEX
  --net LIST       network profiles of figure 8, comma-separated, of
                   local (files, no server), lan, wan, slow (default wan:
                   with the py workload, each profile costs a TCG guest
                   about 10 minutes)
  --server NAME    figure 8's server: cdn (the default: docker-registry
                   answering each blob read with a redirect to nginx
                   serving its storage, as public registries send blob
                   reads to a CDN), registry (docker-registry serving
                   the blobs itself) or httpd (busybox httpd, no
                   keep-alive)
  --image NAME     figure 8's image: debian (the default: three layers of
                   Debian packages, base, python3 and an application; see
                   debian-image.sh, which needs Debian's archive the first
                   time) or python (the one-layer python tree of figure 6)
  --workload LIST  figure 8's workloads, comma-separated, of py (python3
                   importing json, email, http.client), app (the debian
                   image's /app/main.py), small (grep through every file of
                   dist-packages) (default py: each more costs a TCG guest
                   about 12 minutes per network profile)
  --no-doc         do not rewrite Documentation/performance.md
  --raw FILE       only make the report from a saved samples file
  -h, --help       this help

Guest: --mem 3072 MB, 2 CPUs, an 8 GiB sparse virtio-blk scratch disk
holding ext4 with every image.  Needs the module built for KVER, the
static tools (make tools-static), libfuse3-dev, erofs-utils, gnuplot-nox
(make deps).
EOF
}

runs=5 large=64 filter= doc=1 raw= net=wan server=cdn
image=debian workload=
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=$2; shift 2 ;;
	--large) large=$2; shift 2 ;;
	--filter) filter=$2; shift 2 ;;
	--net) net=$2; shift 2 ;;
	--server) server=$2; shift 2 ;;
	--image) image=$2; shift 2 ;;
	--workload) workload=$2; shift 2 ;;
	--no-doc) doc=0; shift ;;
	--raw) raw=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "$prog: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) break ;;
	esac
done
kvers=("$@")
[ ${#kvers[@]} -gt 0 ] || kvers=("$("$repo/scripts/supported-kvers.sh" | tail -n1)")

out=$repo/build/bench
mkdir -p "$out"
report() {
	local docargs=()
	[ "$doc" = 1 ] && docargs=(--doc "$repo/Documentation/performance.md"
				  --png-dir "$repo/Documentation/perf")
	python3 "$here/report.py" "${docargs[@]}" "$@"
}
if [ -n "$raw" ]; then
	report "$raw"
	exit
fi

# The FUSE lazy loader, the baseline of figures 3 and 4 (verifying,
# multi-threaded, reading ahead; with --plain the old loader, info rows):
# static, like the guest's tools.  The guest sees host files at their host paths, but it
# mounts a tmpfs on /tmp: the staged programs live under /var/tmp, so that
# a checkout under /tmp works too.
bin=${INCRFS_BENCH_BIN:-/var/tmp/incrfs-bench-$(id -u)/bin}
mkdir -p "$bin"
loader=$bin/incrfs-fuse-loader
lib=$repo/tools/out-static/libincrfs.a
[ -f "$lib" ] || { echo "$prog: $lib missing: make tools-static" >&2; exit 1; }
gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g -static \
	-I"$repo" -I"$repo/tools/lib" $(pkg-config --cflags fuse3) \
	-o "$loader" "$here"/fuse_loader*.c "$lib" \
	-lfuse3 -lzstd -lcrypto -lpthread -ldl ||
	{ echo "$prog: building the FUSE loader failed" >&2; exit 1; }

# mkfs.ext4 and tc as the guest needs them, the file lists, and figure
# 8's image: debian-image.sh's layers (cached), staged at their cache path
# for the guest to pack (a lazy image is sparse, and the initramfs would
# hold its hole as zeros).
files=$out/guest-files
image_dir=
want_image=
case "$image" in
debian)
	[ -n "$filter" ] && ! echo bench6_network | grep -Eq -- "$filter" ||
		want_image=--image
	: "${workload:=py}" ;;
python)
	: "${workload:=py}" ;;
*)
	echo "$prog: unknown image $image (debian or python)" >&2; exit 2 ;;
esac
image_dir=$("$here/stage-guest.sh" "$bin" "$files" $want_image) ||
	{ echo "$prog: staging the guest's files failed" >&2; exit 1; }
echo "$loader" >>"$files"
# figure 8's stargz series: stargz-snapshotter's layer store on eStargz
stargz=
[ -n "$image_dir" ] &&
	{ stargz=$("$here/stargz/stage.sh" "$bin" "$image_dir" "$files") ||
	  { echo "$prog: staging the stargz peer failed" >&2; exit 1; }; }
[ -n "$image_dir" ] &&
	echo "$prog: figure 8's image: $image_dir ($(du -cm "$image_dir"/layer*.tar.zst | tail -n1 | cut -f1) MiB of layers)"

samples=()
rc=0
for kver in "${kvers[@]}"; do
	log=$out/$kver.log
	echo "$prog: $kver: booting the benchmark guest (TCG: 10-30 minutes)"
	"$repo/tests/vm/run-guest.sh" --tests "$here" --files "$files" \
		--modules "$here/guest-modules" --disk 8192 --mem 3072 \
		--timeout 5400 --idle 600 --logs "$out/$kver" \
		${filter:+--filter "$filter"} \
		--append "B_RUNS=$runs B_LARGE_FILES=$large B_BIN=$bin B_NET=$net B_SERVER=$server B_IMAGE=$image_dir B_STARGZ=$stargz B_WORKLOAD=$workload" \
		"$kver" >"$log" 2>&1 || rc=1
	grep -E '^# (bench|benchtool): ' "$log" >/dev/null ||
		echo "$prog: $kver: no samples" >&2
	{
		echo "# bench: KERNEL $kver"
		sed -n 's/^\(# bench: .*\)$/\1/p' "$log"
	} >"$out/$kver.samples"
	samples+=("$out/$kver.samples")
	if [ $rc -ne 0 ]; then
		echo "$prog: $kver: a benchmark program failed; its output:" >&2
		grep -E '^(not ok|# )' "$log" | grep -v '^# bench: SAMPLE' |
			tail -n 40 >&2
	fi
done
report "${samples[@]}" || rc=1
exit $rc
