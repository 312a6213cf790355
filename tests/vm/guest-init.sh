#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# guest-init.sh - /init of the QEMU test guest: set up, run every test,
# dump dmesg, power off.
#
# Why this exists: the guest suite must boot once per kernel and run all
# tests in that one boot, printing everything the host needs to judge the
# run on a serial port (busybox sh; no bash in the guest).  The host
# (run-guest.sh) reads the tests' output from the second serial port, ttyS1
# (the kernel console is ttyS0, so kernel messages never split a line of
# it), with these markers, each alone on a line:
#   @@GUEST-START <uname -r>@@            init is running
#   @@TEST-BEGIN <name>@@ ... @@TEST-END <name> rc=<status>@@
#                                         one test program and its TAP
#   @@KMEMLEAK-BEGIN@@ ... @@KMEMLEAK-END@@
#                                         kmemleak's report after the suite
#                                         (kernels with kmemleak only)
#   @@DMESG-BEGIN@@ ... @@DMESG-END@@     the kernel log after the suite
#   @@GUEST-DONE@@                        all of it went through
# Init must never exit (that panics the kernel): it ends with "reboot -f",
# which QEMU (-no-reboot) takes as the end; unlike poweroff it needs no
# ACPI, so a minimal debug kernel ends the same way.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TMPDIR=/tmp
export INCRFS_KO=/lib/incrfs/incrfs.ko	# the module under test
export INCRFS_TESTS=/tests		# test programs and their data files

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# All our output goes to ttyS1 (raw: no CR added), the kernel's to ttyS0.
# Warnings and stack traces reach the kernel console too (level 5).
if [ -c /dev/ttyS1 ]; then
	stty -F /dev/ttyS1 115200 raw -echo
	exec </dev/null >/dev/ttyS1 2>&1
else
	echo "guest-init: no /dev/ttyS1: the host will see no test output" \
		>/dev/kmsg
fi
dmesg -n 5
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# an OCI runtime (crun, oci_image_test) wants a cgroup hierarchy
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
ip link set lo up
hostname incrfs-guest

echo "@@GUEST-START $(uname -r)@@"

# Modules incrfs and the tests need, in dependency order (host-made list).
# One that does not fit this machine (e.g. a CPU-specific crc32c) may fail:
# that is only noted; a test that needs it will fail on its own.
while read -r mod; do
	[ -n "$mod" ] || continue
	insmod "$mod" 2>/dev/null ||
		echo "# guest: note: insmod $mod failed, continuing"
done </lib/incrfs/deps.load

incrfs_loaded() {
	grep -qw incrfs /proc/filesystems
}

# Tests: executables named *_test or *_test.sh in /tests, in name order.
# Those named module_* manage the module themselves; every other test
# starts with incrfs loaded.
for t in $(ls /tests | grep -E '_test(\.sh)?$' | sort); do
	path=/tests/$t
	[ -x "$path" ] || continue
	case "$t" in
	module_*) ;;
	*)
		incrfs_loaded || insmod "$INCRFS_KO" ||
			echo "# guest: insmod $INCRFS_KO failed before $t"
		;;
	esac
	# In the kernel log too, so a warning can be blamed on its test.
	echo "incrfs-guest: running $t" >/dev/kmsg
	echo "@@TEST-BEGIN $t@@"
	(cd /tmp && "$path" </dev/null 2>&1)
	rc=$?
	echo "@@TEST-END $t rc=$rc@@"
done

# A kernel with kmemleak (the debug kernel): what the suite leaked.  An
# object is reported once it is 5 s old; the second scan drops false
# positives from pointers that were in transit during the first.
# The read path users run: the image on ext4 on a disk, with cold caches
# (INCRFS_TEST_COLD: every mount first syncs and drops the page cache), so
# readahead reads the image directly where its page cache is empty and
# buffered elsewhere.  The same programs again, /tmp now that ext4, their
# sections named NAME@ext4.  Asked for with run-guest.sh --ondisk.
ondisk_tests="readpath_test feeder_test shared_mount_test"
if [ "$INCRFS_ONDISK" = 1 ]; then
	if [ -b /dev/vda ] && /usr/sbin/mke2fs -q -F -t ext4 /dev/vda &&
	   umount /tmp && mount -t ext4 /dev/vda /tmp; then
		for t in $ondisk_tests; do
			path=/tests/$t
			[ -x "$path" ] || continue
			incrfs_loaded || insmod "$INCRFS_KO"
			echo "incrfs-guest: running $t@ext4" >/dev/kmsg
			echo "@@TEST-BEGIN $t@ext4@@"
			(cd /tmp && INCRFS_TEST_COLD=1 "$path" </dev/null 2>&1)
			rc=$?
			echo "@@TEST-END $t@ext4 rc=$rc@@"
		done
	else
		# a section that fails: the pass was asked for and did not run
		echo "@@TEST-BEGIN ondisk@ext4@@"
		echo "Bail out! no ext4 on /dev/vda for the on-disk pass"
		echo "@@TEST-END ondisk@ext4 rc=1@@"
	fi
fi

if [ -w /sys/kernel/debug/kmemleak ]; then
	sleep 6
	echo scan >/sys/kernel/debug/kmemleak
	sleep 1
	echo scan >/sys/kernel/debug/kmemleak
	echo "@@KMEMLEAK-BEGIN@@"
	cat /sys/kernel/debug/kmemleak
	echo "@@KMEMLEAK-END@@"
fi

echo "@@DMESG-BEGIN@@"
dmesg
echo "@@DMESG-END@@"
echo "@@GUEST-DONE@@"
# Closing the last open file of ttyS1 waits until all of it is sent.
exec >/dev/null 2>&1
sync
reboot -f
# Not reached unless reboot failed; sysrq "b" reboots as well.
sleep 5
echo b >/proc/sysrq-trigger
while :; do sleep 60; done
