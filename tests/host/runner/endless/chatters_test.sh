#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# chatters_test.sh - prints a line every second forever, on purpose: never
# idle, so only the runner's wall-clock limit can stop it.
echo "TAP version 13"
echo "1..1"
while :; do
	echo "# chatters_test: still talking"
	sleep 1
done
