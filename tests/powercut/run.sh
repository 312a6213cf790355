#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh - power-cut test: fill an incrfs image in a QEMU guest, SIGKILL
# QEMU at a random moment, boot again and check what survived.
#
# Why this exists: incrfs promises that a bitmap bit on disk always
# describes data on disk, and that a fill is durable once INCRFS_FILL_SYNC
# returned or the mount was unmounted (Documentation/filesystems/incrfs.rst,
# "Durability").  Only a real crash shows whether that holds, so this
# cuts the power of a guest many times and checks after every cut.
#
# The cut.  The image lives on ext4 on a virtio-blk disk backed by a raw
# file here, cache=writeback: every write the guest submits goes straight
# into the host page cache (QEMU keeps no cache of its own for a raw file),
# and a guest flush becomes an fdatasync.  SIGKILLing QEMU therefore loses
# exactly what the guest had not yet submitted to its disk: its page cache
# and whatever was still being assembled, i.e. everything an fsync had not
# forced out.  That is the power cut of a disk with a write-through cache.
# It does not model a disk that reorders or drops writes it has already
# acknowledged (nor would cache=none: the host keeps running either way).
#
# Rounds.  Each round is one boot running tests/powercut/guest/
# powercut_test.c: it mounts the ext4 disk (replaying its journal), checks
# lazy.img with the userspace reader (incrfs_image_check with data
# verification: every present block has its SHA-256), mounts it, prints
# the bitmap the mount sees, empties the image if it is more than half
# full, and fills it: with our filler (random order, random batches, half
# of them INCRFS_FILL_SYNC, each synced batch reported durable on the
# serial port), incrfsd, or incrfsd --sync.  Once filling starts the host
# kills QEMU after a random delay or, for our filler, right after the Kth
# durable report.  The next boot's bitmap must contain every block
# reported durable since the last reset.
#
# Output: TAP, one result per round plus the guest's own checks, ending
# "# KVER: N passed, N failed, N skipped"; --summary FILE gets "P F S".
set -euo pipefail

prog=run.sh
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() {
	cat <<EOF
usage: $prog [options] KVER

Power-cut test of incrfs on kernel KVER (see the top of this script).
Exit status 0 if every check passed, 1 if one failed, 2 on usage errors.

Options:
  --summary FILE  write "PASSED FAILED SKIPPED" to FILE
  --budget SECS   start no round after SECS seconds (default 180)
  --rounds N      at most N cuts (default 40)
  --seed N        random seed (default: time); printed, to repeat a run
  --ko FILE       module to test (default: build/KVER/kmod/incrfs.ko)
  --kernel FILE   kernel image (default: /boot/vmlinuz-KVER)
  --keep          keep the work directory (disk image, serial logs)
  -h, --help      this help
EOF
}

die() {
	echo "$prog: $*" >&2
	exit 2
}

summary= budget=180 rounds=40 seed= ko= kernel= keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--summary) summary=$2; shift 2 ;;
	--budget) budget=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--ko) ko=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "$prog: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { usage >&2; exit 2; }
kver=$1
ko=${ko:-$repo/build/$kver/kmod/incrfs.ko}
kernel=${kernel:-/boot/vmlinuz-$kver}
seed=${seed:-$(date +%s)}
[ -z "$summary" ] || echo "0 1 0" >"$summary"
[ -r "$kernel" ] || die "$kernel: no kernel image"
[ -r "$ko" ] || die "$ko: no module; build it with 'make module KVER=$kver'"
for t in qemu-system-x86_64 mkfs.ext4; do
	command -v $t >/dev/null || die "$t not found; run 'make deps'"
done
pack=$repo/tools/out/incrfs-pack
[ -x "$pack" ] || die "$pack: not built; run 'make tools'"
[ -x "$repo/tools/out-static/incrfsd" ] ||
	die "tools/out-static/incrfsd: not built (make -C tools O=out-static STATIC=1)"

work=$(mktemp -d "${TMPDIR:-/tmp}/incrfs-powercut.XXXXXX")
qpid=
cleanup() {
	[ -z "$qpid" ] || kill -KILL "$qpid" 2>/dev/null || true
	if [ "$keep" = 1 ]; then
		echo "# $prog: work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
RANDOM=$seed
echo "TAP version 13"
echo "# $prog: $kver, seed $seed"
pass=0 fail=0 skip=0 num=0
result() {	# result OK|FAIL TEXT
	num=$((num + 1))
	if [ "$1" = OK ]; then
		echo "ok - $kver: powercut: $2"
		pass=$((pass + 1))
	else
		echo "not ok - $kver: powercut: $2"
		fail=$((fail + 1))
	fi
}
finish() {
	echo "1..$num"
	echo "# $kver: $pass passed, $fail failed, $skip skipped"
	[ -z "$summary" ] || echo "$pass $fail $skip" >"$summary"
	[ "$fail" -eq 0 ]
	exit
}

# The disk: ext4 holding the lazy image, the full one and the blob of a
# 16 MiB tree of random files (incompressible: the blob is as big).
mkdir -p "$work/src/d" "$work/fs"
for i in $(seq 1 12); do
	head -c $((i * 230000 + 4096 * (i % 3))) /dev/urandom \
		>"$work/src/d/f$i"
done
head -c 5000000 /dev/urandom >"$work/src/big"
"$pack" "$work/src" "$work/fs/lazy.img" --blob "$work/fs/lazy.blob" \
	>/dev/null || die "incrfs-pack failed"
"$pack" --full "$work/src" "$work/fs/full.img" >/dev/null ||
	die "incrfs-pack --full failed"
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 \
	-d "$work/fs" "$work/disk.raw" 128M >/dev/null || die "mkfs.ext4 failed"

# The guest: powercut_test as its only test, ext4 and virtio-blk loaded.
"$repo/tests/vm/build-tests.sh" "$here/guest" "$work/tests" >"$work/build.log" 2>&1 ||
	{ sed 's/^/# /' "$work/build.log"; die "the guest program does not compile"; }
"$repo/tests/vm/build-initramfs.sh" --kver "$kver" --ko "$ko" \
	--tests "$work/tests" --files /dev/null \
	--modules "$here/guest-modules" --out "$work/initramfs.cpio" ||
	die "building the initramfs failed"

modes=(custom custom incrfsd incrfsd-sync)
declare -A durable=()	# data blocks reported durable since the last reset
reboots=0		# rounds booted again after a crash of the kernel's own boot
start=$SECONDS
round=0
while [ "$round" -lt "$rounds" ] && [ $((SECONDS - start)) -lt "$budget" ]
do
	round=$((round + 1))
	mode=${modes[RANDOM % ${#modes[@]}]}
	out=$work/tests.$round.log kcon=$work/kernel.$round.log
	: >"$out"
	qemu-system-x86_64 -accel tcg -m 1024 -smp 2 \
		-nodefaults -no-reboot -display none -monitor none \
		-serial "file:$kcon" -serial "file:$out" \
		-drive "file=$work/disk.raw,format=raw,if=virtio,cache=writeback" \
		-kernel "$kernel" -initrd "$work/initramfs.cpio" \
		-append "console=ttyS0 quiet panic=-1 rdinit=/init mitigations=off incrfs_pc=$mode,$RANDOM$RANDOM" \
		</dev/null >"$work/qemu.$round.out" 2>&1 &
	qpid=$!
	# How to cut: after a delay (0-4 s) once filling starts, or (our
	# filler) right after the Kth durable report.
	if [ "$mode" = custom ] && [ $((RANDOM % 2)) = 0 ]; then
		cut="after durable report $((k = 1 + RANDOM % 12))"
		delay=
	else
		k=0
		delay=$((RANDOM % 4000))
		cut="${delay} ms after filling started"
		dsec=$((delay / 1000)).$(printf %03d $((delay % 1000)))
	fi
	t0=$SECONDS state=boot why=
	while kill -0 "$qpid" 2>/dev/null; do
		if [ $((SECONDS - t0)) -gt 120 ]; then
			why="no fill started within 120 s"
			break
		fi
		case "$state" in
		boot)
			if grep -q '^@@PC-IDLE END' "$out"; then
				why="the guest stopped before filling"
				break
			fi
			if grep -q '^@@PC-FILLING END' "$out"; then
				state=fill
				if [ -n "$delay" ]; then
					sleep "$dsec"
					break
				fi
			fi
			;;
		fill)
			n=$(grep -c '^@@PC-DURABLE .* END' "$out" || true)
			[ "$n" -ge "$k" ] && break
			grep -q '^@@PC-IDLE END' "$out" && break
			;;
		esac
		sleep 0.02
	done
	kill -KILL "$qpid" 2>/dev/null || true	# the power cut
	wait "$qpid" 2>/dev/null || true
	qpid=
	tr -d '\r' <"$out" >"$out.txt"

	# A guest kernel that died in its own boot, before init ran (nothing
	# on the test port, incrfs never loaded), says nothing about incrfs:
	# under TCG the kernel's own text patching now and then takes an int3
	# on a secondary CPU.  That round boots again, a few times at most;
	# the image is still the one the last cut left.
	if [ ! -s "$out.txt" ] && [ -z "$why" ] && [ "$reboots" -lt 3 ] &&
	   grep -qE 'Oops|Kernel panic' "$kcon" && ! grep -q incrfs "$kcon"
	then
		reboots=$((reboots + 1))
		echo "# round $round: the guest kernel died in its boot, before init ($(grep -m1 -oE '(Oops|Kernel panic)[^[]*[^[ ]' "$kcon")): booting again"
		round=$((round - 1))
		continue
	fi

	# The guest's own checks of what the previous cut left.
	g_ok=$(grep -cE '^ok [0-9]+ - ' "$out.txt" || true)
	g_bad=$(grep -E '^not ok [0-9]+ - ' "$out.txt" || true)
	if [ -n "$why" ] || [ -n "$g_bad" ] || [ "$g_ok" -lt 4 ]; then
		result FAIL "round $round ($mode): ${why:-the checks in the guest failed}"
		# (grep finds nothing in an empty log: not an error here)
		{ sed 's/^/#   /' "$out.txt" | grep -v '^#   @@PC-' || true; } |
			tail -n 20
		tail -n 20 "$kcon" | sed 's/^/#   kernel: /'
		tail -n 5 "$work/qemu.$round.out" | sed 's/^/#   qemu: /'
		# The image is damaged for good: more cuts tell nothing new.
		[ -z "$g_bad" ] || break
		continue
	fi

	# Every block reported durable before the last cut is present now.
	bits=$(sed -n 's/^@@PC-PRESENT [0-9]* \([0-9a-f]*\) END$/\1/p' "$out.txt")
	lost=0 first=
	for b in "${!durable[@]}"; do
		byte=$((16#${bits:$((b / 8 * 2)):2}))
		if [ $(( (byte >> (b % 8)) & 1 )) = 0 ]; then
			lost=$((lost + 1))
			first=${first:-$b}
		fi
	done
	if [ "$lost" -gt 0 ]; then
		result FAIL "round $round: $lost of ${#durable[@]} blocks reported durable were lost by the last cut (first: data block $first)"
	else
		result OK "round $round: image consistent and mountable, all ${#durable[@]} durable blocks present; now $mode, cut $cut"
	fi
	grep -q '^@@PC-RESET END' "$out.txt" && durable=()
	# What this round made durable, for the next one.
	if grep -q '^@@PC-DURABLE-ALL END' "$out.txt"; then
		nr=$(sed -n 's/^@@PC-PRESENT \([0-9]*\) .*/\1/p' "$out.txt")
		for ((b = 0; b < nr; b++)); do durable[$b]=1; done
	fi
	for b in $(sed -n 's/^@@PC-DURABLE \(.*\) END$/\1/p' "$out.txt"); do
		durable[$b]=1
	done
	nrep=$(grep -c '^@@PC-DURABLE' "$out.txt" || true)
	how="cut while filling"
	grep -q '^@@PC-IDLE END' "$out.txt" && how="fill finished before the cut"
	echo "# round $round: $nrep durable reports, $how"
done

# A last boot checks the last cut.
out=$work/tests.final.log
: >"$out"
qemu-system-x86_64 -accel tcg -m 1024 -smp 2 \
	-nodefaults -no-reboot -display none -monitor none \
	-serial "file:$work/kernel.final.log" -serial "file:$out" \
	-drive "file=$work/disk.raw,format=raw,if=virtio,cache=writeback" \
	-kernel "$kernel" -initrd "$work/initramfs.cpio" \
	-append "console=ttyS0 quiet panic=-1 rdinit=/init mitigations=off incrfs_pc=check,1" \
	</dev/null >/dev/null 2>&1 &
qpid=$!
t0=$SECONDS
until grep -q '^@@PC-IDLE END' "$out" || [ $((SECONDS - t0)) -gt 120 ] ||
	! kill -0 "$qpid" 2>/dev/null; do
	sleep 0.2
done
kill -KILL "$qpid" 2>/dev/null || true
wait "$qpid" 2>/dev/null || true
qpid=
tr -d '\r' <"$out" >"$out.txt"
bits=$(sed -n 's/^@@PC-PRESENT [0-9]* \([0-9a-f]*\) END$/\1/p' "$out.txt")
lost=0
for b in "${!durable[@]}"; do
	byte=$((16#${bits:$((b / 8 * 2)):2}))
	[ $(( (byte >> (b % 8)) & 1 )) = 1 ] || lost=$((lost + 1))
done
if [ -n "$bits" ] && [ "$lost" = 0 ] && ! grep -q '^not ok' "$out.txt"; then
	result OK "after the last cut: image consistent and mountable, all ${#durable[@]} durable blocks present"
else
	result FAIL "after the last cut: $lost of ${#durable[@]} durable blocks lost, or the guest's checks failed"
	{ sed 's/^/#   /' "$out.txt" | grep -v '^#   @@PC-' || true; } |
		tail -n 20
fi
want=$((rounds < 5 ? rounds : 5))
[ "$round" -ge "$want" ] ||
	result FAIL "only $round rounds ran in the $budget s budget"
finish
