#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# extract-crashers.sh - turn the images a guest fuzz test printed into
# regression images.
#
# Why this exists: the image fuzzer runs in a QEMU guest with no disk the
# host can read.  When it finds an image that crashes, hangs or upsets the
# kernel, it prints the image, gzip'd and base64'd, between two marker
# lines of its TAP output (tests/kselftest/fuzz_util.h, fz_dump_file).
# This script finds those blocks in a log (build/<KVER>/guest-tests.log,
# or anything holding that output) and writes each image to the
# regression directory, where fuzz_regress_test mounts and walks it on
# every run.
set -euo pipefail

prog=extract-crashers.sh
here=$(cd "$(dirname "$0")" && pwd)
out=$here/regress

usage() {
	cat <<USAGE
usage: $prog [-o DIR] LOG...

Write every image printed in LOG (between "# @@FUZZ-FILE-BEGIN NAME@@"
and "# @@FUZZ-FILE-END NAME@@" lines) to DIR/NAME.gz (gzip'd, as it was
printed; images of a small tree compress 10 to 1), by default
tests/fuzz/regress/ (= tests/kselftest/fuzz_regress/, which the guest
gets as /tests/fuzz_regress/).  Existing files are not overwritten.
Prints the names written; exit status 1 if a block is incomplete or
corrupted, 0 otherwise (also when there was nothing to extract).
USAGE
}

while [ $# -gt 0 ]; do
	case "$1" in
	-o) out=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "$prog: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { usage >&2; exit 2; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Split the logs into one base64 file per image.
cat -- "$@" | tr -d '\r' | awk -v dir="$tmp" '
	/^# @@FUZZ-FILE-BEGIN .*@@$/ {
		name = $0; sub(/^# @@FUZZ-FILE-BEGIN /, "", name); sub(/@@$/, "", name)
		gsub(/[^A-Za-z0-9._-]/, "_", name); file = dir "/" name; next
	}
	/^# @@FUZZ-FILE-END / {
		if (file != "" && $0 ~ /\(incomplete\)$/) print "" > (file ".bad")
		if (file != "") close(file)
		file = ""; next
	}
	file != "" && /^# b64 / { sub(/^# b64 /, ""); print > file }
'
rc=0
for f in "$tmp"/*; do
	[ -e "$f" ] || continue
	case "$f" in *.bad) continue ;; esac
	name=$(basename "$f")
	if [ -e "$f.bad" ] || ! base64 -d <"$f" >"$tmp/img.gz" 2>/dev/null ||
	   ! gzip -t "$tmp/img.gz" 2>/dev/null; then
		echo "$prog: $name: incomplete or corrupted in the log" >&2
		rc=1
		continue
	fi
	if [ -e "$out/$name.gz" ]; then
		echo "$prog: $out/$name.gz exists, not overwritten" >&2
		continue
	fi
	cp "$tmp/img.gz" "$out/$name.gz"
	echo "$out/$name.gz"
done
exit $rc
