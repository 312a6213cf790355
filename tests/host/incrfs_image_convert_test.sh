#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# incrfs_image_convert_test.sh - incrfs-image convert on the host, from
# an OCI image layout of two layers (tests/kselftest/make_oci_layout.sh):
# the converted manifest (pairs of incrfs image and blob, the source's
# config, the source digests in annotations), an image head that becomes
# a sound image with its blob, the same digests from a second conversion,
# reuse of layers converted before (by digest: SRC's copy is not read
# again), a platform picked through an image index, and refusals (a
# tampered layer, an unknown tag, another platform) that leave no index.  And pull's and umount's command-line errors;
# pulling itself needs the module: tests/kselftest/oci_image_test.c.
#
# Builds tools/out-asan (ASan/UBSan) first.  Prints TAP 13.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
tool=$repo/tools/out-asan/incrfs-image
plan=15

echo "TAP version 13"
echo "1..$plan"
if ! make -s -C "$repo/tools" O=out-asan SANITIZE=1 out-asan/incrfs-image \
	out-asan/incrfs-pack >/dev/null 2>&1; then
	for i in $(seq 1 $plan); do echo "not ok $i build incrfs-image"; done
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/incrfs-convert.XXXXXX")
trap 'rm -rf "$work"' EXIT
num=0 failed=0
. "$repo/tests/lib/cli-check.sh"

mkdir -p "$work/l1/bin" "$work/l1/data" "$work/l2/data"
head -c 200000 /dev/urandom >"$work/l1/bin/prog"
seq 1 50000 >"$work/l1/data/nums"
echo old >"$work/l1/data/gone"
echo hello >"$work/l2/data/msg"
: >"$work/l2/data/.wh.gone"
sh "$repo/tests/kselftest/make_oci_layout.sh" "$work/src" app amd64 \
	'{"Cmd":["/bin/prog"]}' "$work/l1" "$work/l2" ||
	echo "# make_oci_layout.sh failed"

# manifest DIR TAG: the manifest of TAG in the layout DIR, as JSON text
manifest() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
d, tag = sys.argv[1], sys.argv[2]
for m in json.load(open(d + "/index.json"))["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
        print(open(d + "/blobs/sha256/" + m["digest"][7:]).read())
EOF
}

run convert "$work/src:app" "$work/dst:v1"
check "convert: exit 0, prints DEST:TAG and the manifest digest" \
	'[ $rc = 0 ] && grep -q "^$work/dst:v1 sha256:[0-9a-f]\{64\}$" <<<"$out" &&
	 grep -q "layer 2/2 .*: image .* KiB to fetch" <<<"$err"'
first=${out##* }
check "the manifest: image and blob per layer, the source's config and digests" \
	'python3 - "$(manifest "$work/dst" v1)" "$(manifest "$work/src" app)" <<"EOF"
import json, sys
m, s = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert m["config"]["digest"] == s["config"]["digest"]
ls = m["layers"]
assert [l["mediaType"] for l in ls] == [
    "application/vnd.incrfs.image.v1+zstd",
    "application/vnd.incrfs.blob.v1"] * 2
for i, src in enumerate(s["layers"]):
    im, bl = ls[2 * i], ls[2 * i + 1]
    a = im["annotations"]
    assert a["io.incrfs.source.digest"] == src["digest"]
    assert a["io.incrfs.blob.digest"] == bl["digest"]
    assert int(a["io.incrfs.image.size"]) > im["size"]
    assert len(a["io.incrfs.root-hash"]) == 64
assert m["annotations"]["io.incrfs.source.manifest"].startswith("sha256:")
EOF'

# the head of layer 0, expanded and extended to its size, is the image of
# its blob
python3 - "$work/dst" "$(manifest "$work/dst" v1)" "$work/l0.img" \
	"$work/l0.blob" <<'EOF'
import json, os, subprocess, sys
d, m = sys.argv[1], json.loads(sys.argv[2])
im, bl = m["layers"][0], m["layers"][1]
subprocess.run(["zstd", "-dqf", "-o", sys.argv[3],
                d + "/blobs/sha256/" + im["digest"][7:]], check=True)
os.truncate(sys.argv[3], int(im["annotations"]["io.incrfs.image.size"]))
os.symlink(d + "/blobs/sha256/" + bl["digest"][7:], sys.argv[4])
EOF
run check --blob "$work/l0.blob" "$work/l0.img"
check "a layer's image head, extended, and its blob: clean" \
	'[ $rc = 0 ] && grep -q "l0.img: clean" <<<"$out" &&
	 grep -q "l0.blob: clean" <<<"$out"'

run convert --quiet "$work/src:app" "$work/other:v1"
check "a second conversion gives the same manifest digest" \
	'[ $rc = 0 ] && [ "${out##* }" = "$first" ] && [ -z "$err" ]'

run convert --json "$work/src:app" "$work/dst:v2"
check "converting into the same DEST again reuses both layers (--json)" \
	'[ $rc = 0 ] && python3 -c "import json,sys
o = json.loads(sys.argv[1])
assert o[\"tag\"] == \"v2\" and o[\"manifest\"] == sys.argv[2]
assert [l[\"reused\"] for l in o[\"layers\"]] == [True, True]
" "$out" "$first"'

# an image index naming two platforms (both entries the same manifest)
python3 - "$work/src" <<'EOF'
import hashlib, json, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
m = dict(idx["manifests"][0])
m.pop("annotations")
a = dict(m, platform={"os": "linux", "architecture": "amd64"})
b = dict(m, platform={"os": "linux", "architecture": "arm64"})
body = json.dumps({"schemaVersion": 2, "mediaType":
    "application/vnd.oci.image.index.v1+json", "manifests": [b, a]}).encode()
h = hashlib.sha256(body).hexdigest()
open(d + "/blobs/sha256/" + h, "wb").write(body)
idx["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json",
    "digest": "sha256:" + h, "size": len(body),
    "annotations": {"org.opencontainers.image.ref.name": "multi"}})
json.dump(idx, open(d + "/index.json", "w"))
EOF
run convert --quiet --platform linux/amd64 "$work/src:multi" "$work/dst:multi"
check "through an image index, the manifest of --platform" \
	'[ $rc = 0 ] && [ "${out##* }" = "$first" ]'
run convert --platform linux/s390x "$work/src:multi" "$work/x1"
check "no image for the platform: exit 1, the platforms there named" \
	'[ $rc = 1 ] && grep -q "no image for linux/s390x (it has: linux/arm64, linux/amd64)" <<<"$err" &&
	 [ ! -e "$work/x1" ]'
run convert --platform linux/arm64 "$work/src:app" "$work/x2"
check "an image of another platform: exit 1, DEST not created" \
	'[ $rc = 1 ] && grep -q "is an image for linux/amd64, not linux/arm64" <<<"$err" &&
	 [ ! -e "$work/x2" ]'
run convert "$work/src:nope" "$work/x3"
check "an unknown tag: exit 1, the tags there named" \
	'[ $rc = 1 ] && grep -q "no image tagged .nope. (tags: app, multi)" <<<"$err"'

cp -a "$work/src" "$work/bad"
layer=$(python3 -c 'import json,sys
print(json.loads(sys.argv[1])["layers"][1]["digest"][7:])' "$(manifest "$work/src" app)")
printf 'X' | dd of="$work/bad/blobs/sha256/$layer" bs=1 seek=20 conv=notrunc 2>/dev/null
run convert "$work/bad:app" "$work/fresh:v1"
check "a tampered layer: exit 1, named, no index and no temporary left" \
	'[ $rc = 1 ] && grep -q "content does not match its digest" <<<"$err" &&
	 [ ! -e "$work/fresh/index.json" ] &&
	 ! ls -a "$work/fresh/blobs/sha256" | grep -q "^\.tmp"'

run convert "$work/src:app" docker://repo/name:tag
check "convert to a registry reference without a host: exit 2, says so" \
	'[ $rc = 2 ] && grep -q "name the registry" <<<"$err"'
mkdir -p "$work/tmp"
TMPDIR=$work/tmp run convert --insecure-registry 127.0.0.1:1 \
	docker://127.0.0.1:1/nothing:here "$work/x4"
check "a registry that does not answer: exit 3, the URL named, no temporary left" \
	'[ $rc = 3 ] && grep -q "http://127.0.0.1:1/v2/nothing/manifests/here" <<<"$err" &&
	 [ -z "$(ls -A "$work/tmp")" ] && [ ! -e "$work/x4" ]'

run pull "$work/dst:v1"
check "pull without DIR: exit 2" '[ $rc = 2 ]'
run pull repo/name:tag "$work/b"
check "pull of a reference without a registry host: exit 2, says so" \
	'[ $rc = 2 ] && grep -q "name the registry" <<<"$err" && [ ! -e "$work/b" ]'
run umount "$work"
check "umount of a directory that holds no pull: exit 3" \
	'[ $rc = 3 ] && grep -q "does DIR hold a pull" <<<"$err"'
exit $failed
