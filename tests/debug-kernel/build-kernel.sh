#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-kernel.sh - build the debug kernel of "make test-debug" once, and
# reuse it ever after.
#
# Why this exists: the debug kernel (KASAN, lockdep, kmemleak, UBSAN,
# failslab) takes minutes to build, and CI runs in a fresh clone each
# time.  The built tree is therefore cached outside the clone, in a
# directory named after a hash of everything that shapes it (the config
# fragment, the build recipe below, the kernel source package and the
# compiler), so a second run, in any clone, finds it and builds nothing.
set -euo pipefail

prog=build-kernel.sh
here=$(cd "$(dirname "$0")" && pwd)
# Bump when a change to the build steps below changes the kernel built.
recipe=1

usage() {
	cat <<EOF
usage: $prog [--cache DIR] [--jobs N] [--key] [--check-config FILE]

Build, or find already built, the debug kernel: Debian's linux-source-6.1
configured with "make tinyconfig" plus tests/debug-kernel/debug.config,
then "make bzImage modules" so that out-of-tree modules build against it.
Print the kernel's directory on stdout (progress goes to stderr).  That
directory holds:
  bzImage         the kernel image to boot
  kernelrelease   its release string (uname -r)
  linux/          the built tree: KDIR for "make -C linux M=... modules"
  build.log       the build's output

Every line of the fragment must hold in the final .config (an option the
kernel's Kconfig silently dropped would make the run test less than it
claims): if one does not, the build fails and names it.

The cache directory is debug-kernel-<hash> under the cache root, <hash>
covering the fragment, the build recipe, the linux-source-6.1 version and
the compiler version: change any of them and the kernel is rebuilt.  A
concurrent run waits for the one building.

Options:
  --cache DIR          cache root (default: \$INCRFS_CACHE, else
                       /var/cache/incrfs if writable, else
                       \${XDG_CACHE_HOME:-~/.cache}/incrfs)
  --jobs N             parallel make jobs (default: number of CPUs)
  --key                only print the cache directory the kernel would
                       have; exit 1 if it is not built yet
  --check-config FILE  only check that FILE (a .config) satisfies the
                       fragment; exit 1 naming each option that does not
  -h, --help           this help

Needs: /usr/src/linux-source-6.1.tar.xz (package linux-source-6.1), gcc,
make, bc, bison, flex, libelf-dev, libssl-dev ("make deps").
EOF
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

fragment=$here/debug.config
tarball=/usr/src/linux-source-6.1.tar.xz
cache=${INCRFS_CACHE:-}
jobs=$(nproc)
key_only=0 check_only=
while [ $# -gt 0 ]; do
	case "$1" in
	--cache) cache=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--key) key_only=1; shift ;;
	--check-config) check_only=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

# check_config CONFIG: every "CONFIG_X=v" line of the fragment is in
# CONFIG exactly, every "# CONFIG_X is not set" line has no CONFIG_X=.
check_config() {
	local config=$1 bad=0 line opt have
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF -- "$line" "$config" && continue
			opt=${line%%=*}
			have=$(grep -E "^$opt=|^# $opt is not set" "$config" ||
				echo "absent")
			echo "$prog: wanted $line, got: $have" >&2
			bad=1
			;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			grep -q "^$opt=" "$config" || continue
			echo "$prog: wanted $opt off, got: $(grep "^$opt=" "$config")" >&2
			bad=1
			;;
		esac
	done <"$fragment"
	return "$bad"
}

if [ -n "$check_only" ]; then
	check_config "$check_only" || die "$check_only does not satisfy $fragment"
	exit 0
fi

if [ -z "$cache" ]; then
	cache=/var/cache/incrfs
	if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
		cache=${XDG_CACHE_HOME:-$HOME/.cache}/incrfs
	fi
fi
[ -r "$tarball" ] ||
	die "$tarball not found; run 'make deps' (package linux-source-6.1)"
srcver=$(dpkg-query -W -f '${Version}' linux-source-6.1 2>/dev/null ||
	stat -c '%s %Y' "$tarball")
ccver=$(gcc --version | head -n1)
key=$( { cat "$fragment"; echo "recipe $recipe"; echo "$srcver";
	echo "$ccver"; } |
	sha256sum | cut -c1-16)
dir=$cache/debug-kernel-$key

if [ "$key_only" = 1 ]; then
	echo "$dir"
	[ -r "$dir/complete" ]
	exit
fi

mkdir -p "$cache" || die "cannot create the cache root $cache"
exec 9>"$cache/debug-kernel-$key.lock"
flock 9
if [ -r "$dir/complete" ]; then
	echo "$prog: reusing $dir ($(cat "$dir/kernelrelease"))" >&2
	echo "$dir"
	exit 0
fi

# Built in place (its objects keep their paths); only the file "complete",
# written last, makes it count: a half-built kernel (interrupted, failed)
# is started again from scratch.

rm -rf "$dir"
mkdir -p "$dir"
log=$dir/build.log
start=$SECONDS
echo "$prog: building the debug kernel in $dir (a few minutes;" \
	"output in $log)" >&2
step() {
	echo "$prog: $* ($((SECONDS - start)) s)" >&2
	"$@" >>"$log" 2>&1 || {
		tail -n 40 "$log" >&2
		die "failed: $* (full output in $log)"
	}
}
step tar -C "$dir" -xf "$tarball"
[ -d "$dir/linux-source-6.1" ] || die "$tarball: no linux-source-6.1/ in it"
mv "$dir/linux-source-6.1" "$dir/linux"
k=(make -C "$dir/linux" ARCH=x86_64 -j"$jobs")
step "${k[@]}" tinyconfig
step "$dir/linux/scripts/kconfig/merge_config.sh" -m -O "$dir/linux" \
	"$dir/linux/.config" "$fragment"
step "${k[@]}" olddefconfig
check_config "$dir/linux/.config" ||
	die "the kernel's Kconfig does not give what $fragment asks (above)"
step "${k[@]}" bzImage
step "${k[@]}" modules
cp "$dir/linux/arch/x86/boot/bzImage" "$dir/bzImage"
"${k[@]}" -s kernelrelease >"$dir/kernelrelease"
cp "$dir/linux/.config" "$dir/config"
date -u +%FT%TZ >"$dir/complete"
echo "$prog: built $(cat "$dir/kernelrelease") in $((SECONDS - start)) s" >&2
echo "$dir"
