#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# kernel_warning_test.sh - passes itself but puts a WARNING line in the
# kernel log on purpose: the runner's dmesg scan must fail the run.
echo "TAP version 13"
echo "1..1"
echo "WARNING: deliberate line from the runner self-test" >/dev/kmsg
echo "ok 1 wrote a WARNING to /dev/kmsg"
