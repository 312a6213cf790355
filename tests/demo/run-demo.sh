#!/bin/bash
# run-demo.sh - "make demo": boot the guest on one kernel, run the lazy
# loading demo (tests/demo/lazy_python_test.c), and print its report.
#
# Why this exists: the demo needs a real kernel with incrfs loaded, which
# only the QEMU guest gives; this script hides the runner's test output and
# keeps the demo's report lines.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
kver=${1:-$("$repo/scripts/supported-kvers.sh" | tail -n1)}
if [ -z "$kver" ]; then
	echo "run-demo.sh: no supported kernel installed; run 'make deps'" >&2
	exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "incrfs demo: booting Debian's $kver under QEMU (about a minute)..."
"$repo/tests/vm/run-guest.sh" --tests "$here" "$kver" >"$log" 2>&1
rc=$?
sed -n 's/^# demo: //p' "$log"
if [ $rc -ne 0 ]; then
	echo "run-demo.sh: the demo failed; the guest's output follows" >&2
	grep -E '^(not ok|# )' "$log" | tail -n 40 >&2
fi
exit $rc
