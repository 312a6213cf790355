#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# incrfs_image_cli_test.sh - incrfs-image on the host: --help of the
# program and of each command (manual-page sections), usage errors (exit
# 2), check of a sound image and blob (exit 0), of a blob with a damaged
# chunk, a blob of another image and an image with a damaged super block
# (exit 1, the damage named), a missing file (exit 3), and inspect's
# text and --json output against what incrfs-pack wrote.
#
# Builds tools/out-asan (ASan/UBSan) first.  Prints TAP 13.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
img_tool=$repo/tools/out-asan/incrfs-image
pack=$repo/tools/out-asan/incrfs-pack
plan=17

echo "TAP version 13"
echo "1..$plan"
if ! make -s -C "$repo/tools" O=out-asan SANITIZE=1 out-asan/incrfs-image \
	out-asan/incrfs-pack >/dev/null 2>&1; then
	for i in $(seq 1 $plan); do echo "not ok $i build incrfs-image"; done
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/incrfs-image-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
num=0 failed=0

tool=$img_tool
# run, check, manual
. "$repo/tests/lib/cli-check.sh"

# a tree of three files, packed twice with different content
mkdir -p "$work/a/d" "$work/b"
seq 1 200000 >"$work/a/d/nums"
head -c 300000 /dev/urandom >"$work/a/random"
echo hello >"$work/a/small"
echo other >"$work/b/small"
"$pack" "$work/a" "$work/a.img" --blob "$work/a.blob" >/dev/null &&
	"$pack" "$work/b" "$work/b.img" --blob "$work/b.blob" >/dev/null ||
	echo "# incrfs-pack failed"

run --help
check "incrfs-image --help is a manual page listing every command" \
	'[ $rc = 0 ] && manual OPTIONS && grep -q "^    check " <<<"$out" &&
	 grep -q "^    inspect " <<<"$out" && grep -q "^    convert " <<<"$out" &&
	 grep -q "^    pull " <<<"$out" && grep -q "^    umount " <<<"$out" &&
	 grep -q "^    profile " <<<"$out"'
ok=0
for c in check inspect convert pull umount profile; do
	run "$c" --help
	[ $rc = 0 ] && manual OPTIONS && grep -q "incrfs-image $c" <<<"$out" || ok=1
done
check "each command's --help is a manual page" '[ $ok = 0 ]'
run
check "no command: exit 2, says what is needed" \
	'[ $rc = 2 ] && grep -q "a command is needed" <<<"$err"'
run fsck "$work/a.img"
check "an unknown command: exit 2, named" \
	'[ $rc = 2 ] && grep -q "unknown command .fsck." <<<"$err"'
run check
check "check without an image: exit 2" '[ $rc = 2 ]'

run check --blob "$work/a.blob" "$work/a.img"
check "a sound image and its blob: exit 0, both clean" \
	'[ $rc = 0 ] && grep -q "a.img: clean: 5 inodes" <<<"$out" &&
	 grep -q "a.blob: clean: .* chunks" <<<"$out"'
run check --blob "$work/b.blob" "$work/a.img"
check "a blob of another image: exit 1, says so" \
	'[ $rc = 1 ] && grep -q "belongs to another image" <<<"$out"'

cp "$work/a.blob" "$work/bad.blob"
# a byte inside chunk 0's zstd frame (chunks follow the 128-byte header)
printf '\xff' | dd of="$work/bad.blob" bs=1 seek=300 conv=notrunc 2>/dev/null
run check --blob "$work/bad.blob" "$work/a.img"
check "a damaged chunk: exit 1, chunk 0 named" \
	'[ $rc = 1 ] && grep -q "bad.blob: chunk 0" <<<"$out" &&
	 grep -q "bad.blob: damaged" <<<"$out"'
run check --json --blob "$work/bad.blob" "$work/a.img"
check "check --json: clean false, the image clean, bad blocks counted" \
	'[ $rc = 1 ] && python3 -c "import json,sys
o = json.loads(sys.argv[1])
assert o[\"clean\"] is False and o[\"image\"][\"clean\"] is True
assert o[\"image\"][\"error\"] is None
assert o[\"blob\"][\"bad_blocks\"] > 0 and \"chunk 0\" in o[\"blob\"][\"error\"]
" "$out"'
run check --quiet --blob "$work/bad.blob" "$work/a.img"
check "check --quiet prints nothing, exit 1" '[ $rc = 1 ] && [ -z "$out$err" ]'

cp "$work/a.img" "$work/bad.img"
printf '\0\0\0\0' | dd of="$work/bad.img" bs=1 seek=0 conv=notrunc 2>/dev/null
run check "$work/bad.img"
check "an image with a damaged super block: exit 1, damaged" \
	'[ $rc = 1 ] && grep -q "bad.img: damaged: " <<<"$out"'
"$pack" --full "$work/a" "$work/full.img" >/dev/null || echo "# --full failed"
run check "$work/full.img"
check "a full image: every block present and verified" \
	'[ $rc = 0 ] && grep -q "clean: 5 inodes, \([0-9]*\) data blocks, \1 present" <<<"$out"'
data_off=$("$img_tool" inspect --json "$work/full.img" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["data_offset"])')
printf '\xff\xff' | dd of="$work/full.img" bs=1 seek=$((data_off + 5)) \
	conv=notrunc 2>/dev/null
run check "$work/full.img"
check "a present block that is not its hash's: exit 1, damaged" \
	'[ $rc = 1 ] && grep -q "full.img: damaged: " <<<"$out"'
run check "$work/none.img"
check "a missing image: exit 3, the error named" \
	'[ $rc = 3 ] && grep -q "none.img: No such file or directory" <<<"$err"'

run inspect "$work/a.img"
check "inspect: format, root hash, inodes, blocks, nothing present" \
	'[ $rc = 0 ] && grep -q "^root hash:   [0-9a-f]\{64\}$" <<<"$out" &&
	 grep -q "^uuid:        [0-9a-f]\{8\}\(-[0-9a-f]\{4\}\)\{3\}-[0-9a-f]\{12\}$" <<<"$out" &&
	 grep -q "^inodes:      5$" <<<"$out" &&
	 grep -q "^present:     0 (0.0 %)$" <<<"$out"'
text=$out
run inspect --json "$work/a.img"
check "inspect --json agrees with the text" \
	'[ $rc = 0 ] && python3 -c "import json,sys
o = json.loads(sys.argv[1])
t = dict(l.split(\":\", 1) for l in sys.argv[2].splitlines())
assert o[\"root_hash\"] == t[\"root hash\"].strip()
assert o[\"inodes\"] == 5 and o[\"present_blocks\"] == 0
assert str(o[\"data_blocks\"]) == t[\"data blocks\"].split()[0]
" "$out" "$text"'
run --version
check "--version prints the release, from dkms.conf" \
	'[ $rc = 0 ] && [ "$out" = "incrfs-image $(sed -n "s/^PACKAGE_VERSION=\"\(.*\)\"/\1/p" "$repo/dkms.conf") (incrfs)" ]'
exit $failed
