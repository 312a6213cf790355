#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# debian-image.sh - build, once, the realistic container image of the
# cold-start benchmark (figure 8): three OCI layers made from Debian
# bookworm packages, the way a Dockerfile stacks them:
#   1 base    mmdebstrap --variant=minbase
#   2 python  + python3
#   3 app     + python3-yaml python3-jinja2 python3-requests python3-numpy
#             and /app/main.py, a program using them
# Each layer is the difference between two trees (umoci repack: changed and
# new files, ".wh." whiteouts for files that went away), as an OCI image
# layout and as one tar.zst per layer.
#
# Why this exists: a lazy start only pays off when the image holds far more
# than the program reads, as real images do (Slacker, FAST'16: 6.4 % read
# on average); the guest's own python tree, the older cold-start layer, is
# a third read by python alone.
#
# Network to Debian's archive is needed only the first time: the result is
# cached under $INCRFS_CACHE (default /var/cache/incrfs), keyed by this
# script and by the versions the host's apt lists give for the packages
# named above.  Prints the cache directory on stdout.
set -euo pipefail

prog=debian-image.sh
cache=${INCRFS_CACHE:-/var/cache/incrfs}
suite=bookworm
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
python_pkgs=python3
app_pkgs="python3-yaml python3-jinja2 python3-requests python3-numpy"

usage() {
	cat <<EOF
usage: $prog [--print-key]

Build (or find in $cache) the three-layer Debian image of figure 8 and
print its directory.  It holds oci/ (an OCI image layout, tag "app"),
layer1.tar.zst .. layer3.tar.zst (the layers, uncompressed tar in zstd),
packages (the versions installed) and layers (one line per layer: file,
size, what it adds).  Needs root, mmdebstrap and umoci (make deps) and,
the first time, Debian's archive ($mirror).
EOF
}

case "${1:-}" in
-h|--help) usage; exit 0 ;;
--print-key|'') ;;
*) echo "$prog: unknown argument $1" >&2; usage >&2; exit 2 ;;
esac

for t in mmdebstrap umoci zstd; do
	command -v "$t" >/dev/null ||
		{ echo "$prog: $t not found: make deps" >&2; exit 1; }
done

# The key: this script, and the candidate version of every package named,
# from the host's apt lists (a Debian point release changes them).
versions=$(apt-cache policy $python_pkgs $app_pkgs 2>/dev/null |
	   awk '/^[^ ]/ { p = $1 } /Candidate:/ { print p, $2 }')
key=$( { cat "$0"; echo "$versions"; } | sha256sum | cut -c1-16)
if [ "${1:-}" = --print-key ]; then
	echo "$key"
	exit 0
fi
dir=$cache/debian-image-$key
if [ -e "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$cache"
exec 9>"$dir.lock"
flock 9
if [ -e "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi
work=$(mktemp -d "$cache/debian-image.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The application layer's program: a configuration in YAML rendered by a
# Jinja2 template, a numpy statistic, and requests' version, one line.
cat >"$work/main.py" <<'EOF'
#!/usr/bin/python3
# The cold-start workload of the "app" layer (tests/bench/debian-image.sh).
import yaml, jinja2, requests, numpy
cfg = yaml.safe_load("name: incrfs\nvalues: [3, 1, 4, 1, 5, 9, 2, 6]\n")
t = jinja2.Template("{{ name }}: mean {{ mean }} (requests {{ rv }})")
print(t.render(name=cfg["name"], mean=numpy.mean(cfg["values"]),
               rv=requests.__version__), flush=True)
EOF

tree() {	# tree NAME PACKAGES...: one mmdebstrap tree, as a tar
	local name=$1
	shift
	local inc=
	[ $# -gt 0 ] && inc="--include=$(echo "$@" | tr ' ' ,)"
	echo "$prog: mmdebstrap $name ($*)" >&2
	SOURCE_DATE_EPOCH=1700000000 mmdebstrap --quiet --variant=minbase \
		--mode=root $inc "$suite" "$work/$name.tar" "$mirror" >&2
}
tree base
tree python $python_pkgs
tree app $python_pkgs $app_pkgs

# Layers: each tree unpacked over the bundle's rootfs in turn (the old
# content removed first), and umoci repack records what changed.
oci=$work/oci
umoci init --layout "$oci"
umoci new --image "$oci:app"
umoci unpack --image "$oci:app" "$work/bundle" >/dev/null
n=0
for name in base python app; do
	n=$((n + 1))
	find "$work/bundle/rootfs" -mindepth 1 -delete
	tar -C "$work/bundle/rootfs" --xattrs --xattrs-include='*' \
	    -xpf "$work/$name.tar"
	if [ $name = app ]; then
		mkdir -p "$work/bundle/rootfs/app"
		install -m 0755 "$work/main.py" "$work/bundle/rootfs/app/main.py"
		touch -d @1700000000 "$work/bundle/rootfs/app/main.py" \
			"$work/bundle/rootfs/app"
	fi
	echo "$prog: layer $n: $name" >&2
	umoci repack --refresh-bundle --history.created_by "debian-image.sh: $name" \
		--image "$oci:app" "$work/bundle"
done
umoci config --image "$oci:app" --config.cmd python3 \
	--config.cmd /app/main.py --config.workingdir /app

# The layers as tar.zst, in the manifest's order: what a registry holds
# (recompressed from umoci's gzip, level 3 as "zstd" and docker use).
manifest=$(python3 - "$oci" <<'EOF'
import json, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
m = [x for x in idx["manifests"]
     if x.get("annotations", {}).get("org.opencontainers.image.ref.name") == "app"][0]
man = json.load(open(d + "/blobs/sha256/" + m["digest"].split(":")[1]))
for l in man["layers"]:
    print(l["digest"].split(":")[1])
EOF
)
n=0
: >"$work/layers"
for digest in $manifest; do
	n=$((n + 1))
	gzip -dc "$oci/blobs/sha256/$digest" |
		zstd -q -3 -o "$work/layer$n.tar.zst"
	echo "layer$n.tar.zst $(stat -c %s "$work/layer$n.tar.zst")" \
	     "$(gzip -dc "$oci/blobs/sha256/$digest" | tar -t | wc -l) entries" \
	     >>"$work/layers"
done
[ $n = 3 ] || { echo "$prog: expected 3 layers, the manifest has $n" >&2; exit 1; }
tar -xOf "$work/app.tar" ./var/lib/dpkg/status |
	awk '/^Package:/ { p = $2 } /^Version:/ { print p, $2 }' >"$work/packages"

rm -rf "$work/bundle" "$work"/*.tar "$work/main.py"
rm -rf "$dir"
mv "$work" "$dir"
trap - EXIT
touch "$dir/.done"
echo "$prog: built $dir: $(wc -l <"$dir/packages") packages" >&2
sed "s/^/$prog:   /" "$dir/layers" >&2
echo "$dir"
