#!/bin/bash
# install-deps.sh - install every Debian package incrfs needs to build and test.
#
# Why this exists: the kernel tests boot Debian's own 6.1 and 6.12 kernels
# under QEMU, so a fresh bookworm machine needs both kernel images and their
# headers, plus the toolchain and libraries of the userspace tools.  The 6.12
# kernel lives in bookworm-backports; its apt source is derived from the
# machine's existing Debian entry so that no mirror name is written here.
# Idempotent: running it twice changes nothing the second time.
set -euo pipefail

SOURCES=/etc/apt/sources.list.d/debian.sources
BACKPORTS=/etc/apt/sources.list.d/incrfs-backports.sources

log() { echo "install-deps: $*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: must run as root (apt-get install)" >&2
	exit 1
fi

# Derive a bookworm-backports entry from the first stanza whose Suites
# include plain "bookworm".  Same URI, same keyring.
add_backports() {
	[ -f "$BACKPORTS" ] && return 0
	if grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		return 0
	fi
	local uri keyring
	uri=$(awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)/ {print u; exit}' "$SOURCES")
	keyring=$(awk '/^Signed-By:/ {print $2; exit}' "$SOURCES")
	if [ -z "$uri" ]; then
		echo "install-deps: no bookworm entry in $SOURCES to derive backports from" >&2
		return 1
	fi
	log "adding bookworm-backports (derived from $SOURCES)"
	{
		echo "Types: deb"
		echo "URIs: $uri"
		echo "Suites: bookworm-backports"
		echo "Components: main"
		[ -n "$keyring" ] && echo "Signed-By: $keyring"
	} >"$BACKPORTS"
}

PKGS=(
	build-essential bc bison flex libelf-dev libssl-dev dwarves kmod
	linux-image-amd64 linux-headers-amd64
	qemu-system-x86 busybox-static cpio
	libzstd-dev liburing-dev zstd xz-utils pkg-config
	libarchive-dev libarchive-tools
	sparse linux-source-6.1 python3 e2fsprogs attr
	clang libclang-rt-14-dev
	libfuse3-dev erofs-utils gnuplot-nox
	libcurl4-openssl-dev libjson-c-dev libcap-ng-dev libseccomp-dev docker-registry curl
	nginx-light
	apparmor iproute2 dkms mmdebstrap umoci crun
	golang-go golang-github-containerd-stargz-snapshotter-dev
)

export DEBIAN_FRONTEND=noninteractive
add_backports
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null

# The 6.12 kernel from bookworm-backports, by exact package name.
ver=$(apt-cache search --names-only '^linux-image-6\.12\..*\+deb12-amd64$' |
	awk '{print $1}' | grep -v -- '-dbg$' | grep -v -- '-unsigned$' |
	sed 's/^linux-image-//' | sort -V | tail -n1)
if [ -z "$ver" ]; then
	echo "install-deps: no linux-image-6.12.*+deb12-amd64 in bookworm-backports" >&2
	exit 1
fi
apt-get install -y -qq --no-install-recommends \
	"linux-image-$ver" "linux-headers-$ver" >/dev/null
log "installed; kernels with headers:"
for d in /lib/modules/*/build; do
	[ -e "$d" ] && log "  $(basename "$(dirname "$d")")"
done
exit 0
