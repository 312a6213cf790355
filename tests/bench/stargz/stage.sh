#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# stage.sh - the stargz peer for a cold-start guest (make bench, make
# demo): build stargz-peer (main.go, against Debian's stargz-snapshotter
# sources) into BIN, convert the Debian image's OCI layout to eStargz
# (cached next to BIN, keyed by main.go and the image), list both in the
# guest-files list FILES, and print the eStargz layout's directory
# (B_STARGZ).  Prints nothing, with the reason on stderr, where Go or the
# sources are missing: the stargz rows are then left out and say so.
#
# usage: stage.sh BIN IMAGE_DIR FILES
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=$1 image=$2 files=$3
src=/usr/share/gocode/src/github.com/containerd/stargz-snapshotter
if ! command -v go >/dev/null || [ ! -d "$src/store" ]; then
	echo "stargz: no golang-go or golang-github-containerd-stargz-snapshotter-dev (make deps): no stargz rows" >&2
	exit 0
fi
key=$(cat "$here/main.go" "$image/oci/index.json" | sha256sum | cut -c1-16)
out=$(dirname "$bin")/esgz-$key
if [ ! -x "$bin/stargz-peer" ] || [ "$here/main.go" -nt "$bin/stargz-peer" ]; then
	echo "stargz: building stargz-peer (Go, offline)..." >&2
	(cd "$here" && GO111MODULE=off GOPATH=/usr/share/gocode \
		GOCACHE=$(dirname "$bin")/gocache go build -o "$bin/stargz-peer" .) >&2
fi
if [ ! -e "$out/layers.txt" ]; then
	echo "stargz: converting the image to eStargz..." >&2
	rm -rf "$out" "$out.tmp"
	"$bin/stargz-peer" convert "$image/oci:app" "$out.tmp:app" \
		>/dev/null 2>"$out.log" || { cat "$out.log" >&2; exit 1; }
	mv "$out.tmp" "$out"
fi
{ echo "$bin/stargz-peer"; echo "$out"; } >>"$files"
echo "$out"
