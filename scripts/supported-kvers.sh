#!/bin/sh
# supported-kvers.sh - print the installed kernels incrfs supports (Debian
# 6.1 and 6.12 with headers and a bootable image), oldest first.
# Why: "make test" runs the guest suite on each of them.
for d in /lib/modules/*/build; do
	[ -d "$d" ] || continue
	v=${d#/lib/modules/}
	v=${v%/build}
	case "$v" in
	6.1.*|6.12.*) [ -r "/boot/vmlinuz-$v" ] && echo "$v" ;;
	esac
done | sort -V
