#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run-guest.sh - run the guest test suite in QEMU on one kernel.
#
# Why this exists: incrfs can only be tested inside a kernel that loads it,
# and the host kernel cannot (nor is there KVM).  This boots a Debian
# kernel under qemu-system-x86_64 (TCG) with an initramfs holding the
# module and every test, streams the guest's TAP back over a serial port,
# and judges the run.  It never hangs: a guest that is silent for too long,
# or runs past the wall-clock limit, is killed and the run fails with the
# last console lines shown.
#
# Two serial ports: ttyS0 is the kernel console, ttyS1 carries the tests'
# output.  Kernel messages, which the kernel writes whenever it likes, can
# then never split a TAP line.
set -euo pipefail

prog=run-guest.sh
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() {
	cat <<EOF
usage: $prog [options] KVER

Boot /boot/vmlinuz-KVER in QEMU once, run every guest test in it, and
print the results.  Exit status 0 if nothing failed, 1 if something did,
2 on a usage error.

Tests: every SRC/*_test.c (compiled static with tests/kselftest/harness.h)
and every executable SRC/*_test.sh (printing TAP 13 itself), run in name
order, one program at a time; see tests/vm/guest-init.sh for the guest.
A program fails if it fails a test, crashes, exits non-zero or prints fewer
results than its plan.  Two more results are added: "guest completed" (the
guest ran every test and shut down) and "dmesg clean" (no BUG, WARNING,
Oops, KASAN, UBSAN, lockdep, hung-task, panic or stack trace in the kernel
log).  On a kernel with kmemleak the guest scans for leaks after the
suite, and a third result, "kmemleak clean", fails on any unreferenced
object.  Skipped tests are counted as skipped, never as passed.

Options:
  --tests DIR      directory of tests (default: tests/kselftest)
  --filter REGEX   only test programs whose name matches REGEX (grep -E)
  --ko FILE        module to test (default: build/KVER/kmod/incrfs.ko)
  --files LIST     host files to copy into the guest (default:
                   tests/vm/guest-files; /dev/null for none)
  --modules LIST   modules to load at boot (default: tests/vm/guest-modules;
                   /dev/null for none; taken from /lib/modules/KVER with
                   their dependencies, skipped if that does not exist)
  --kernel FILE    kernel image (default: /boot/vmlinuz-KVER); KVER must
                   still be its release (the module is built for it)
  --timeout SECS   wall-clock limit of the whole guest run (default: 1800)
  --boot SECS      time allowed from boot until the guest's init runs
                   (default: 300)
  --idle SECS      once init runs, kill the guest after SECS without any
                   serial output
                   (default: 150; the harness prints a line at least every
                   30 s while a test runs)
  --mem MB         guest memory (default: 2048)
  --smp N          guest CPUs (default: 2)
  --disk MB        attach an empty MB MiB scratch disk (sparse raw file,
                   virtio-blk: /dev/vda in the guest; list virtio_blk in
                   --modules); it is deleted with the work directory
  --ondisk MB      also run readpath_test, feeder_test and shared_mount_test
                   with their images on ext4 on an MB MiB virtio-blk disk,
                   caches dropped at every mount (sections NAME@ext4);
                   implies --disk MB
  --append ARGS    extra kernel command line arguments
  --summary FILE   write "PASSED FAILED SKIPPED" to FILE
  --logs DIR       keep the raw serial logs there: guest-tests.log (test
                   output, ttyS1) and guest-kernel.log (kernel console,
                   ttyS0)  (default: build/KVER)
  --keep           keep the work directory (initramfs, staged tests)
  --kvm            use KVM instead of TCG (only where KVM really works)
  --kmemleak       the kernel has kmemleak (the debug kernel of make
                   test-debug): "kmemleak clean" fails if no scan came
  -h, --help       this help
EOF
}

die() {
	echo "$prog: $*" >&2
	exit 2
}

tests=$repo/tests/kselftest
filter= ko= kernel= summary= logs= keep=0
files=$here/guest-files modules=$here/guest-modules append= kvm=0 kmemleak=0
timeout=1800 idle=150 boot=300 mem=2048 smp=2 disk=
while [ $# -gt 0 ]; do
	case "$1" in
	--tests) tests=$2; shift 2 ;;
	--filter) filter=$2; shift 2 ;;
	--ko) ko=$2; shift 2 ;;
	--files) files=$2; shift 2 ;;
	--modules) modules=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--idle) idle=$2; shift 2 ;;
	--boot) boot=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--disk) disk=$2; shift 2 ;;
	--ondisk) disk=$2; append+=" INCRFS_ONDISK=1"; shift 2 ;;
	--append) append+=" $2"; shift 2 ;;
	--summary) summary=$2; shift 2 ;;
	--logs) logs=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--kvm) kvm=1; shift ;;
	--kmemleak) kmemleak=1; shift ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "$prog: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { usage >&2; exit 2; }
kver=$1
ko=${ko:-$repo/build/$kver/kmod/incrfs.ko}
kernel=${kernel:-/boot/vmlinuz-$kver}
logs=${logs:-$repo/build/$kver}
tests=$(cd "$tests" && pwd) || die "--tests: no such directory"
for n in "$timeout" "$idle" "$boot" "$mem" "$smp" ${disk:+"$disk"}; do
	[[ "$n" =~ ^[1-9][0-9]*$ ]] || die "not a positive number: $n"
done

# Until the suite has run, any exit is one failure in the summary.
[ -z "$summary" ] || echo "0 1 0" >"$summary"

[ -r "$kernel" ] || die "$kernel: no kernel image"
[ -r "$ko" ] || die "$ko: no module; build it with 'make module KVER=$kver'"
command -v qemu-system-x86_64 >/dev/null ||
	die "qemu-system-x86_64 not found; run 'make deps'"

work=$(mktemp -d "${TMPDIR:-/tmp}/incrfs-vm.XXXXXX")
qpid=
cleanup() {
	[ -z "$qpid" ] || kill -KILL "$qpid" 2>/dev/null || true
	if [ "$keep" = 1 ]; then
		echo "$prog: work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# Build the test programs (cached in build/ for the default directory),
# keep those the filter selects, and pack the initramfs.
# A test that does not compile fails, but does not stop the others.
cache=$work/cache
[ "$tests" = "$repo/tests/kselftest" ] && cache=$repo/build/guest-tests
: >"$work/build-failed"
"$here/build-tests.sh" --cache "$cache" --failed "$work/build-failed" \
	"$tests" "$work/tests" || true
if [ -n "$filter" ]; then
	for t in "$work/tests"/*_test "$work/tests"/*_test.sh; do
		[ -e "$t" ] || continue
		basename "$t" | grep -qE -- "$filter" || rm -f "$t"
	done
	grep -E -- "$filter" "$work/build-failed" >"$work/bf" || true
	mv "$work/bf" "$work/build-failed"
fi
"$here/build-initramfs.sh" --kver "$kver" --ko "$ko" --tests "$work/tests" \
	--files "$files" --modules "$modules" --out "$work/initramfs.cpio" ||
	die "building the initramfs failed"

# Boot.  panic=-1 + -no-reboot: a panic ends QEMU instead of hanging.
accel=(-accel tcg)
[ "$kvm" = 1 ] && accel=(-accel kvm -cpu host)
drive=()
if [ -n "$disk" ]; then
	truncate -s "${disk}M" "$work/disk.img"
	drive=(-drive "file=$work/disk.img,format=raw,if=virtio")
fi
# boot_once: run the guest once, watched; sets started, killed, qrc,
# elapsed.
boot_once() {
	out=$work/tests.log	# ttyS1: what the tests print
	kcon=$work/kernel.log	# ttyS0: the kernel console
	: >"$out"
	: >"$kcon"
	mkdir -p "$logs"
	echo "# $prog: booting $kver ($(basename "$kernel"), ${mem} MB, $smp CPUs)"
	cmdline="console=ttyS0 quiet panic=-1 log_buf_len=16M rdinit=/init"
	cmdline+=" mitigations=off"	# faster under TCG; nothing to protect here
	qemu-system-x86_64 "${accel[@]}" -m "$mem" -smp "$smp" \
		-nodefaults -no-reboot -display none -monitor none \
		-serial "file:$kcon" -serial "file:$out" \
		-kernel "$kernel" -initrd "$work/initramfs.cpio" "${drive[@]}" \
		-append "$cmdline $append" \
		</dev/null >"$work/qemu.out" 2>&1 &
	qpid=$!

	# Show the tests' output as it comes, without the final dmesg dump.
	tail -n +1 -F --pid="$qpid" "$out" 2>/dev/null |
		awk '{ sub(/\r+$/, "") }
		     /^@@(DMESG|KMEMLEAK)-BEGIN@@/ { hide = 1 }
		     !hide { print; fflush() }
		     /^@@(DMESG|KMEMLEAK)-END@@/ { hide = 0 }' &
	tailpid=$!

	# Watchdog: the guest must start in time, then keep talking, and finish
	# in time.  Boot is timed on its own: a quiet boot prints nothing, and on
	# a loaded machine it can take far longer than the idle limit.
	start=$SECONDS last=$SECONDS size=0 killed= started=0
	while kill -0 "$qpid" 2>/dev/null; do
		sleep 1
		now=$(($(stat -c %s "$out") + $(stat -c %s "$kcon")))
		if [ "$now" != "$size" ]; then
			size=$now
			last=$SECONDS
		fi
		if [ "$started" = 0 ] && grep -q '^@@GUEST-START' "$out"; then
			started=1
			last=$SECONDS
		fi
		if [ "$started" = 0 ]; then
			[ $((SECONDS - start)) -lt "$boot" ] ||
				killed="the guest did not start within $boot s"
		elif [ $((SECONDS - last)) -ge "$idle" ]; then
			killed="no serial output for $idle s"
		fi
		if [ -z "$killed" ] && [ $((SECONDS - start)) -ge "$timeout" ]; then
			killed="still running after the $timeout s limit"
		fi
		if [ -n "$killed" ]; then
			kill -TERM "$qpid" 2>/dev/null || true
			sleep 2
			kill -KILL "$qpid" 2>/dev/null || true
			break
		fi
	done
	qrc=0
	wait "$qpid" || qrc=$?
	qpid=
	wait "$tailpid" 2>/dev/null || true
	elapsed=$((SECONDS - start))
}

# A kernel that crashes while booting, before init has said a word, ran
# none of our code and none of the tests (init says @@GUEST-START before
# it loads any module).  CI saw it once with the stock 6.12 kernel under
# TCG (a WARNING in an idle CPU, then the panic).  It gets one more boot,
# said out loud with the first console kept; a second crash fails below.
boot_once
if [ "$started" = 0 ] && [ -z "$killed" ] &&
   grep -qE 'end trace|Kernel panic' "$kcon"; then
	cp "$kcon" "$logs/guest-kernel-first-boot.log"
	echo "# $prog: the kernel crashed while booting, before any test" \
		"ran; its console is in $logs/guest-kernel-first-boot.log:"
	grep -m 1 -A 12 -E 'WARNING|BUG|Oops|Kernel panic' "$kcon" |
		tr -d '\r' | sed 's/^/#   /'
	echo "# $prog: booting again, once"
	boot_once
fi
cp "$out" "$logs/guest-tests.log"
cp "$kcon" "$logs/guest-kernel.log"

# Judge: the test programs' TAP, then the two guest-wide results.
tr -d '\r' <"$out" >"$work/tests.txt"
tr -d '\r' <"$kcon" >"$work/kernel.txt"
echo "# ---- $kver results ----"
awk -v prefix="$kver: " -v out="$work/counts" \
	-f "$repo/tests/lib/tap-summary.awk" "$work/tests.txt"
read -r pass fail skip <"$work/counts"

while read -r t; do
	echo "not ok - $kver: $t: does not compile"
	fail=$((fail + 1))
done <"$work/build-failed"

if ! grep -q '^@@TEST-BEGIN ' "$work/tests.txt" &&
   grep -q '^@@GUEST-DONE@@' "$work/tests.txt"; then
	echo "not ok - $kver: no guest test ran (none found in $tests?)"
	fail=$((fail + 1))
fi

if grep -q '^@@GUEST-DONE@@' "$work/tests.txt" && [ -z "$killed" ]; then
	echo "ok - $kver: guest completed in ${elapsed} s"
	pass=$((pass + 1))
else
	why=${killed:-QEMU exited (status $qrc) before the guest finished}
	echo "not ok - $kver: guest completed: $why"
	echo "# last lines of the tests' output:"
	[ -s "$work/tests.txt" ] || echo "#   (nothing)"
	tail -n 30 "$work/tests.txt" | sed 's/^/#   /'
	echo "# last lines of the kernel console:"
	[ -s "$work/kernel.txt" ] || echo "#   (nothing)"
	tail -n 30 "$work/kernel.txt" | sed 's/^/#   /'
	if [ -s "$work/qemu.out" ]; then
		echo "# qemu said:"
		sed 's/^/#   /' "$work/qemu.out"
	fi
	fail=$((fail + 1))
fi

# The kernel log: the guest's dmesg dump, or (if it never came) what the
# kernel console showed.
if grep -q '^@@DMESG-END@@' "$work/tests.txt"; then
	sed -n '/^@@DMESG-BEGIN@@/,/^@@DMESG-END@@/p' "$work/tests.txt" \
		>"$work/dmesg.txt"
else
	cp "$work/kernel.txt" "$work/dmesg.txt"
fi
bad='\bBUG\b|\bWARNING\b|Oops|KASAN|UBSAN|possible circular locking'
bad+='|hung_task|blocked for more than|Kernel panic|Call Trace'
if grep -nE "$bad" "$work/dmesg.txt" >"$work/dmesg.bad"; then
	echo "not ok - $kver: dmesg clean"
	# Each hit, with the test that was running (guest-init logs it).
	awk 'NR == FNR {
		if ($0 ~ /incrfs-guest: running /) {
			t = $0; sub(/.*running /, "", t)
		}
		test[FNR] = t; next
	     }
	     {
		n = $0; sub(/:.*/, "", n); line = substr($0, length(n) + 2)
		printf "#   %s%s\n", test[n] == "" ? "" : "[" test[n] "] ", line
	     }' "$work/dmesg.txt" "$work/dmesg.bad" | head -n 60
	fail=$((fail + 1))
else
	echo "ok - $kver: dmesg clean"
	pass=$((pass + 1))
fi

# kmemleak's report after the suite: asked for, or there anyway.
if [ "$kmemleak" = 1 ] || grep -q '^@@KMEMLEAK-BEGIN@@' "$work/tests.txt"
then
	sed -n '/^@@KMEMLEAK-BEGIN@@/,/^@@KMEMLEAK-END@@/p' \
		"$work/tests.txt" >"$work/kmemleak.txt"
	if ! grep -q '^@@KMEMLEAK-END@@' "$work/kmemleak.txt"; then
		echo "not ok - $kver: kmemleak clean: no kmemleak report" \
			"after the suite"
		fail=$((fail + 1))
	elif grep -q 'unreferenced object' "$work/kmemleak.txt"; then
		echo "not ok - $kver: kmemleak clean:" \
			"$(grep -c 'unreferenced object' "$work/kmemleak.txt")" \
			"unreferenced objects"
		grep -v '^@@KMEMLEAK-' "$work/kmemleak.txt" | head -n 120 |
			sed 's/^/#   /'
		fail=$((fail + 1))
	else
		echo "ok - $kver: kmemleak clean"
		pass=$((pass + 1))
	fi
fi

echo "# $kver: $pass passed, $fail failed, $skip skipped"
[ -z "$summary" ] || echo "$pass $fail $skip" >"$summary"
[ "$fail" -eq 0 ]
