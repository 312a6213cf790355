#!/bin/sh
# gen-man.sh - write the man pages of the tools from their --help text
# into DIR (default Documentation/man).  incrfs(5) is written by hand.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/Documentation/man}
mkdir -p "$out"
for t in incrfs-pack:1 incrfs-image:1 incrfsd:8 incrfsctl:8; do
	name=${t%:*}
	sec=${t#*:}
	"$top/tools/out/$name" --help |
		awk -v name="$name" -v section="$sec" -f "$top/scripts/help2roff.awk" \
		>"$out/$name.$sec"
done
# each command of incrfs-image has a page of its own, as git's do
for c in check inspect convert pull umount profile; do
	"$top/tools/out/incrfs-image" "$c" --help |
		awk -v name="incrfs-image-$c" -v section=1 \
			-f "$top/scripts/help2roff.awk" >"$out/incrfs-image-$c.1"
done
# and so has each command of incrfsctl
for c in list status info filled timeout profile attach detach feeders; do
	"$top/tools/out/incrfsctl" help "$c" |
		awk -v name="incrfsctl-$c" -v section=8 \
			-f "$top/scripts/help2roff.awk" >"$out/incrfsctl-$c.8"
done
