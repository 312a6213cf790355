#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# short_plan_test.sh - plans 3 results, prints 1 and exits 0 on purpose:
# the runner must count the missing results as a failure.
echo "TAP version 13"
echo "1..3"
echo "ok 1 the only result"
