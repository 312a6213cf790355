#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# make_oci_layout.sh - write a small OCI image layout from directories, as
# a guest test's source image: each directory becomes a tar+gzip layer
# (bottom first), the config gets CONFIG (the JSON of its "config" member:
# Cmd, Env, ...), the index names the manifest TAG.
#
# Why this exists: the guest has busybox, not skopeo or umoci; an image
# layout is a few JSON files and digests, which busybox tar, gzip and
# sha256sum make.  Busybox sh only.
#
#   make_oci_layout.sh OUT TAG ARCH CONFIG DIR...
set -eu

out=$1 tag=$2 arch=$3 config=$4
shift 4
rm -rf "$out"
mkdir -p "$out/blobs/sha256"
out=$(cd "$out" && pwd)
printf '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"

# put FILE: store FILE as a blob; prints "sha256:HEX SIZE"
put() {
	h=$(sha256sum "$1" | cut -d' ' -f1)
	s=$(wc -c <"$1" | tr -d ' ')
	mv "$1" "$out/blobs/sha256/$h"
	echo "sha256:$h $s"
}

layers= diffs=
for d in "$@"; do
	t=$out/layer.tar
	(cd "$d" && tar -cf "$t" .)
	diff=sha256:$(sha256sum "$t" | cut -d' ' -f1)
	gzip -n "$t"
	set -- $(put "$t.gz")
	layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$1\",\"size\":$2}"
	diffs="$diffs${diffs:+,}\"$diff\""
done

printf '{"architecture":"%s","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]}}' \
	"$arch" "$config" "$diffs" >"$out/config.json"
set -- $(put "$out/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
	"$1" "$2" "$layers" >"$out/manifest.json"
set -- $(put "$out/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
	"$1" "$2" "$tag" >"$out/index.json"
