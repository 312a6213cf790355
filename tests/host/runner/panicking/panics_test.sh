#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# panics_test.sh - crashes the kernel on purpose (sysrq "c"): QEMU exits at
# once (panic=-1, -no-reboot) and the runner must fail the run.
echo "TAP version 13"
echo "1..1"
echo "# panics_test: about to crash the kernel"
echo c >/proc/sysrq-trigger
sleep 100000
