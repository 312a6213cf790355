#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run-host-fuzz.sh - build the libFuzzer targets of the userspace readers
# and run each for a bounded time.
#
# Why this exists: the image and blob readers (tools/lib) parse untrusted
# bytes on the host, in incrfsctl and incrfsd.  This builds each
# tests/fuzz/*_fuzz.c with clang -fsanitize=fuzzer,address,undefined
# against those sources, makes a seed corpus from real incrfs-pack output
# (small trees: files, holes, a hard link, symlinks, a fifo, xattrs; full
# and lazy images, blobs with 1- and 2-block chunks), replays the
# regression images (tests/fuzz/regress/*.img) and then fuzzes.
set -euo pipefail

prog=run-host-fuzz.sh
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() {
	cat <<EOF
usage: $prog [-t SECONDS] [-r RUNS] [-o DIR] [TARGET...]

Build and run the libFuzzer targets tests/fuzz/TARGET.c (default: all of
them: $(cd "$here" && ls *_fuzz.c | sed 's/\.c$//' | tr '\n' ' '))
and print one line per target: "ok TARGET: ..." or "FAIL TARGET: ...".

For each target: build DIR/TARGET (clang, -fsanitize=fuzzer,address,
undefined, -O1 -g, with the tools/lib sources it needs); make a seed corpus
in DIR/seeds-TARGET from incrfs-pack output (tools/out/incrfs-pack: run
"make tools" first); run every seed and every tests/fuzz/regress/*.img[.gz]
once;
then fuzz, growing the corpus DIR/corpus-TARGET (kept between runs), for
SECONDS of wall-clock time or RUNS inputs, whichever ends first.  A crash,
leak, sanitizer report, timeout (10 s per input) or out-of-memory (2 GiB)
fails the target; its input is saved as DIR/crash-TARGET-* and shown with
the sanitizer report.  Add a crashing image to tests/fuzz/regress/ once
fixed.

Options:
  -t SECONDS  fuzzing time per target (default 60)
  -r RUNS     stop after RUNS inputs instead (default: no limit)
  -o DIR      build and corpus directory (default: build/fuzz)
  -h          this help
Exit status: 0 if every target passed, 1 if one failed, 2 on a usage
error or a missing tool.
EOF
}

secs=60 runs=-1 out=$repo/build/fuzz
while getopts "t:r:o:h" opt; do
	case "$opt" in
	t) secs=$OPTARG ;;
	r) runs=$OPTARG ;;
	o) out=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[[ "$secs" =~ ^[0-9]+$ && "$runs" =~ ^-?[0-9]+$ ]] ||
	{ echo "$prog: -t and -r take numbers" >&2; exit 2; }
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for c in "$here"/*_fuzz.c; do
		targets+=("$(basename "$c" .c)")
	done
fi

CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null ||
	{ echo "$prog: $CC not found; run 'make deps'" >&2; exit 2; }
pack=$repo/tools/out/incrfs-pack
[ -x "$pack" ] || { echo "$prog: $pack missing; run 'make tools'" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The reader sources each target needs (not libincrfs.a: libFuzzer wants
# them instrumented too).
declare -A srcs=(
	[image_reader_fuzz]="image image_records image_check crc32c sha256"
	[blob_reader_fuzz]="blob crc32c"
)
declare -A libs=(
	[image_reader_fuzz]="-lcrypto"
	[blob_reader_fuzz]="-lzstd"
)
cflags=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g
	-fno-omit-frame-pointer -I"$repo" -I"$repo/tools/lib")

build() {	# build TARGET
	local t=$1 bin=$out/$1 inputs=("$here/$1.c") s
	for s in ${srcs[$t]:-}; do
		inputs+=("$repo/tools/lib/$s.c")
	done
	# rebuild when a source or header is newer than the binary
	if [ -x "$bin" ] && [ -z "$(find "${inputs[@]}" "$repo"/tools/lib/*.h \
		"$repo/uapi/incrfs.h" -newer "$bin" 2>/dev/null)" ]; then
		return 0
	fi
	"$CC" "${cflags[@]}" -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o "$bin.tmp" "${inputs[@]}" \
		${libs[$t]:-} && mv -f "$bin.tmp" "$bin"
}

# Small trees, packed: the seeds.  Deterministic (SOURCE_DATE_EPOCH,
# fixed times), so a corpus stays meaningful between runs.
make_seeds() {
	local dir=$out/seeds-src s
	[ -f "$out/seeds.done" ] && [ "$out/seeds.done" -nt "$pack" ] && return 0
	rm -rf "$dir" "$out"/seeds-image_reader_fuzz "$out"/seeds-blob_reader_fuzz
	mkdir -p "$dir" "$out/seeds-image_reader_fuzz" "$out/seeds-blob_reader_fuzz"
	# 1: one small file
	mkdir -p "$dir/t1" && printf 'hello\n' >"$dir/t1/f"
	# 2: directories, a symlink, a hard link, an empty file, a fifo, xattrs
	mkdir -p "$dir/t2/d/e" && seq 1 2000 >"$dir/t2/d/e/numbers" &&
		ln -s d/e/numbers "$dir/t2/link" &&
		ln "$dir/t2/d/e/numbers" "$dir/t2/hard" &&
		: >"$dir/t2/empty" && mkfifo "$dir/t2/fifo"
	setfattr -n user.color -v blue "$dir/t2/d" 2>/dev/null || true
	setfattr -n user.x -v 1234567 "$dir/t2/empty" 2>/dev/null || true
	# 3: a file with a hole, several files in one directory
	mkdir -p "$dir/t3/many" && for s in a b c d e f g; do
		printf '%s\n' "$s" >"$dir/t3/many/$s"
	done
	printf 'head' >"$dir/t3/holes" && truncate -s 12288 "$dir/t3/holes" &&
		printf 'tail' >>"$dir/t3/holes"
	find "$dir" -exec touch -h -d @1700000000 {} +
	for s in t1 t2 t3; do
		SOURCE_DATE_EPOCH=1700000000 "$pack" --full "$dir/$s" \
			"$out/seeds-image_reader_fuzz/$s-full.img" >/dev/null
		SOURCE_DATE_EPOCH=1700000000 "$pack" "$dir/$s" \
			"$out/seeds-image_reader_fuzz/$s-lazy.img" \
			--blob "$out/seeds-blob_reader_fuzz/$s-c16.blob" >/dev/null
		SOURCE_DATE_EPOCH=1700000000 "$pack" -c 1 "$dir/$s" \
			"$out/seeds-src/$s-c1.img" \
			--blob "$out/seeds-blob_reader_fuzz/$s-c1.blob" >/dev/null
		SOURCE_DATE_EPOCH=1700000000 "$pack" -c 2 --level 1 "$dir/$s" \
			"$out/seeds-src/$s-c2.img" \
			--blob "$out/seeds-blob_reader_fuzz/$s-c2.blob" >/dev/null
	done
	touch "$out/seeds.done"
}

fail=0
make_seeds || { echo "$prog: making the seed corpus failed" >&2; exit 2; }
for t in "${targets[@]}"; do
	if [ ! -f "$here/$t.c" ]; then
		echo "$prog: no target $t" >&2
		exit 2
	fi
	log=$out/$t.log
	if ! build "$t" >"$log" 2>&1; then
		echo "FAIL $t: does not build:"
		sed 's/^/    /' "$log"
		fail=1
		continue
	fi
	corpus=$out/corpus-$t
	mkdir -p "$corpus"
	replay=("$out/seeds-$t"/*)
	if [ "$t" = image_reader_fuzz ]; then
		rm -rf "$out/regress" && mkdir -p "$out/regress"
		for r in "$here"/regress/*.img "$here"/regress/*.img.gz; do
			[ -e "$r" ] || continue
			n=$out/regress/$(basename "$r" .gz)
			gzip -dc "$r" >"$n" 2>/dev/null || cp "$r" "$n"
			replay+=("$n")
		done
	fi
	# Every seed and regression input once, then fuzz.
	opts=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048
	      -artifact_prefix="$out/crash-$t-" -print_final_stats=1)
	if ! "$out/$t" "${opts[@]}" -runs=0 "${replay[@]}" >"$log" 2>&1 ||
	   ! "$out/$t" "${opts[@]}" -max_total_time="$secs" -runs="$runs" \
		"$corpus" "$out/seeds-$t" >>"$log" 2>&1; then
		echo "FAIL $t: see $log; the input:"
		ls "$out/crash-$t-"* 2>/dev/null | sed 's/^/    /'
		grep -E 'ERROR|SUMMARY|#[0-9]+ +0x|^    #' "$log" | head -40 |
			sed 's/^/    /'
		fail=1
		continue
	fi
	stats=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	echo "ok $t: ${stats:-?} inputs in ${secs} s, corpus $(ls "$corpus" | wc -l) files, ${#replay[@]} seeds and regression images replayed"
done
exit $fail
