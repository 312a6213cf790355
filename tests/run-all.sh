#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run-all.sh - build everything, run the host tests, then the guest suite
# on each kernel, and end with one line "N passed, N failed[, N skipped]".
#
# Why this exists: "make test" (and CI) must answer one question -- does
# incrfs work on every supported kernel -- with one line and an exit status.
set -uo pipefail

prog=run-all.sh
repo=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	cat <<EOF
usage: $prog [--host-only | --debug | --debug-only] [KVER...]

Build the tools (plain, static for the guest, ASan for host tests) and the
module for each KVER; run the host tests (tests/run-host.sh) and make check
(checkpatch --strict, sparse: one result); then boot
each KVER once in QEMU and run the guest suite (tests/vm/run-guest.sh),
then the power-cut test on it (tests/powercut/run.sh, ~3 min per KVER).
The last line is "N passed, N failed", plus ", N skipped" when a test was
skipped; skipped tests never count as passed.  Exit status 0 only if
nothing failed.  A build that fails counts as a failure.

  --host-only  build the tools and run only the host tests; tests that
               boot a guest skip themselves (INCRFS_HOST_ONLY=1)
  --debug      after the KVERs, run the guest suite once more on the
               debug kernel (KASAN, lockdep, kmemleak, UBSAN, failslab;
               built once by tests/debug-kernel/build-kernel.sh, then
               reused from its cache), the module built against it
  --debug-only only the debug kernel's guest suite: no host tests, no
               KVER needed (make test-debug)
  KVER...      kernels for the guest suite (make test passes every
               installed supported one: scripts/supported-kvers.sh).
               Without --host-only, no KVER at all is a failure.
EOF
}

host_only=0 debug=0
while [ $# -gt 0 ]; do
	case "$1" in
	--host-only) host_only=1; shift ;;
	--debug) debug=1; shift ;;
	--debug-only) debug=2; shift ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "$prog: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) break ;;
	esac
done
kvers=("$@")

cd "$repo" || exit 2
logs=$repo/build/logs
mkdir -p "$logs"
work=$(mktemp -d "${TMPDIR:-/tmp}/incrfs-run-all.XXXXXX")
trap 'rm -rf "$work"' EXIT
export INCRFS_HOST_ONLY=$host_only
pass=0 fail=0 skip=0
: >"$work/failures"

failure() {	# failure WHAT: one failure outside any test program
	echo "not ok - $*" | tee -a "$work/failures"
	fail=$((fail + 1))
}

# build NAME COMMAND...: run a build step, its output in build/logs/NAME.log.
build() {
	local name=$1
	shift
	echo "# $prog: build $name: $*"
	if ! "$@" >"$logs/$name.log" 2>&1; then
		tail -n 30 "$logs/$name.log" | sed 's/^/#   /'
		failure "build $name ($*), see build/logs/$name.log"
		return 1
	fi
}

# suite NAME RUNNER ARGS...: run a runner, which writes a summary (its
# --summary option goes first); add its counts.
suite() {
	local name=$1 runner=$2 p f s
	shift 2
	"$runner" --summary "$work/$name.sum" "$@" 2>&1 | tee "$work/$name.out"
	if read -r p f s <"$work/$name.sum" 2>/dev/null; then
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	else
		failure "$name: the runner wrote no summary"
	fi
	grep -E '^not ok - ' "$work/$name.out" >>"$work/failures"
}

has_lib() { compgen -G 'tools/lib/*.c' >/dev/null; }

build tools make tools
static=(make -C tools O=out-static STATIC=1 all)
asan=(make -C tools O=out-asan SANITIZE=1 all)
if has_lib; then
	static+=(out-static/libincrfs.a)
	asan+=(out-asan/libincrfs.a)
fi
build tools-static "${static[@]}"

# The debug kernel (built or found in its cache), the module built
# against its tree, and the guest suite on it, leaks included.
debug_suite() {
	local kb=./tests/debug-kernel/build-kernel.sh dir krel
	build debug-kernel "$kb" || return 0
	dir=$("$kb" --key) || {
		failure "debug kernel: built, but not in its cache"
		return 0
	}
	krel=$(cat "$dir/kernelrelease")
	build module-debug make module KVER="$krel" KDIR="$dir/linux" \
		KCFLAGS=-g || return 0
	# The image fuzzer's 10 000 images run on every Debian kernel; on
	# this kernel (4 to 10 times slower) 1 000 of them.
	suite guest-debug ./tests/vm/run-guest.sh --kernel "$dir/bzImage" \
		--kmemleak --timeout 3600 --append "INCRFS_FUZZ_COUNT=1000" \
		"$krel"
}

if [ "$debug" != 2 ]; then
	build tools-asan "${asan[@]}"
	suite host ./tests/run-host.sh
fi

# Style and static checks count as one result: checkpatch --strict and
# sparse on every supported kernel (make check).
if [ "$host_only" = 0 ] && [ "$debug" != 2 ]; then
	echo "# $prog: make check (checkpatch --strict, sparse C=2)"
	if make check >"$logs/check.log" 2>&1; then
		echo "ok - make check (checkpatch --strict, sparse C=2)"
		pass=$((pass + 1))
	else
		tail -n 30 "$logs/check.log" | sed 's/^/#   /'
		failure "make check (checkpatch --strict, sparse), see build/logs/check.log"
	fi
fi

# The real image of oci_image_test (Debian packages, converted on the
# host): staged for the Debian kernels' guests.  Without Debian's archive
# the first time it cannot be built, and that test skips.
stage_debian_image() {
	local conv=/var/tmp/incrfs-tests-$(id -u)/debian-converted
	echo "# $prog: the Debian image (tests/vm/stage-debian-image.sh)"
	if ./tests/vm/stage-debian-image.sh "$conv" \
			>"$logs/debian-image.log" 2>&1; then
		cat tests/vm/guest-files >"$work/guest-files"
		echo "$conv" >>"$work/guest-files"
		guest_args=(--files "$work/guest-files"
			    --append "INCRFS_DEBIAN_IMAGE=$conv")
	else
		tail -n 5 "$logs/debian-image.log" | sed 's/^/#   /'
		echo "# $prog: no Debian image (build/logs/debian-image.log): oci_image_test's test of it will skip"
	fi
}

guest_args=()
if [ "$host_only" = 0 ] && [ "$debug" != 2 ]; then
	stage_debian_image
	[ ${#kvers[@]} -gt 0 ] ||
		failure "no supported kernel installed (6.1 or 6.12 with" \
			"headers and /boot image); run 'make deps'"
	for k in "${kvers[@]}"; do
		if build "module-$k" make module KVER="$k"; then
			suite "guest-$k" ./tests/vm/run-guest.sh --ondisk 4096 \
				"${guest_args[@]}" "$k"
			suite "powercut-$k" ./tests/powercut/run.sh "$k"
		fi
	done
fi
[ "$host_only" = 1 ] || [ "$debug" = 0 ] || debug_suite

if [ -s "$work/failures" ]; then
	echo "# ---- all failures ----"
	cat "$work/failures"
fi
line="$pass passed, $fail failed"
[ "$skip" -eq 0 ] || line+=", $skip skipped"
echo "$line"
[ "$fail" -eq 0 ]
