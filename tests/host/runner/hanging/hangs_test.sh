#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# hangs_test.sh - says it is about to hang, then sleeps forever on purpose:
# the runner's idle watchdog must kill the guest and show this line.
echo "TAP version 13"
echo "1..1"
echo "# hangs_test: about to hang"
exec sleep 100000
