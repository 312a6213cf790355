#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# incrfsctl_cli_test.sh - incrfsctl's command line on the host: --help of
# the program and of every command (manual-page sections, exit 0), usage
# errors (exit 2, a message naming the problem), and paths that are not on
# an incrfs mount (exit 1, "not on an incrfs mount"); paths that are not
# regular files or directories (a symlink to a device) are not opened.
# What the commands print for a real mount is tested in the guest
# (feeder_test.c, node_test.c); attach, detach and feeders also talk to a
# real incrfsd --node here (the ASan build), which needs no mount for it.
#
# Builds tools/out-asan/incrfsctl (ASan/UBSan) first.  Prints TAP 13.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
ctl=$repo/tools/out-asan/incrfsctl

echo "TAP version 13"
echo "1..23"
if ! make -s -C "$repo/tools" O=out-asan SANITIZE=1 out-asan/incrfsctl \
	out-asan/incrfsd >/dev/null 2>&1; then
	for i in $(seq 1 23); do echo "not ok $i build incrfsctl"; done
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/incrfsctl-cli.XXXXXX")
node_pid=
trap '[ -z "$node_pid" ] || kill "$node_pid" 2>/dev/null; rm -rf "$work"' EXIT
echo data >"$work/file"
num=0 failed=0

tool=$ctl
# run, check, manual
. "$repo/tests/lib/cli-check.sh"

run --help
check "incrfsctl --help is a manual page listing every command" \
	'[ $rc = 0 ] && manual EXAMPLES "SEE ALSO" &&
	 (for c in list status info filled timeout profile attach detach feeders; do
		grep -q "^    $c " <<<"$out" || exit 1; done)'
help_main=$out
run help
check "incrfsctl help is the same text" '[ $rc = 0 ] && [ "$out" = "$help_main" ]'

ok=0
for c in list status info filled timeout profile attach detach feeders; do
	run "$c" --help
	[ $rc = 0 ] && manual || { ok=1; break; }
	grep -q "incrfsctl $c" <<<"$out" || { ok=1; break; }
	text=$out
	run help "$c"
	[ $rc = 0 ] && [ "$out" = "$text" ] || { ok=1; break; }
done
check "every command has --help and help COMMAND" '[ $ok = 0 ]'

run timeout --help
check "timeout --help documents its options" \
	'(for o in "--uid UID" "--set MS" "--clear" "CAP_SYS_ADMIN"; do
		grep -q -- "$o" <<<"$out" || exit 1; done)'

run
check "no command: usage error" \
	'[ $rc = 2 ] && grep -q "^incrfsctl: missing command" <<<"$err"'
run frobnicate /
check "unknown command: usage error" \
	'[ $rc = 2 ] && grep -q "unknown command '\''frobnicate'\''" <<<"$err" &&
	 [ -z "$out" ]'

bad=0
while IFS='|' read -r args msg; do
	# shellcheck disable=SC2086
	run $args
	if [ $rc != 2 ] || ! grep -qF -- "$msg" <<<"$err" || [ -n "$out" ]; then
		echo "# incrfsctl $args: exit $rc, stderr: $err"
		bad=1
	fi
done <<EOF
status|incrfsctl status: missing path
info a b|unexpected argument 'b'
filled --bogus x|unknown option '--bogus'
filled --json x|unknown option '--json'
status --json|incrfsctl status: missing path
timeout /|--uid UID is required
timeout / --uid 1 --set 5 --clear|--set and --clear exclude each other
timeout / --uid x|--uid: 'x' is not a numeric uid
timeout / --uid -1|--uid: '-1' is not a numeric uid
timeout / --uid 4294967295|--uid: '4294967295'
timeout / --uid 1 --set 4294967295|--set: 4294967295 ms is more than the longest timeout, 2147483647 ms
timeout / --uid 1 --set 2147483648|--set: 2147483648 ms is more than the longest timeout, 2147483647 ms
timeout / --uid 1 --set 99999999999999999999|--set: '99999999999999999999' is not a number of milliseconds
timeout / --uid 1 --set 1s|--set: '1s'
timeout / --uid|option '--uid' needs an argument
profile|profile: missing action (record)
profile show /|unknown action 'show'
profile record|record: missing MOUNTPOINT
profile record / /x|unexpected argument '/x'
profile --bogus|unknown option '--bogus'
help nosuch|help: no command 'nosuch'
list /|incrfsctl list: unexpected argument '/'
list --bogus|unknown option '--bogus'
attach|incrfsctl attach: missing MOUNT
attach /|missing the mount's incrfsd options
attach --bogus /|unknown option '--bogus'
detach|incrfsctl detach: missing MOUNT
detach / /x|unexpected argument '/x'
feeders x|unexpected argument 'x'
feeders --socket|--socket needs a path
EOF
check "usage errors exit 2 with a message naming the problem" '[ $bad = 0 ]'

bad=0
for c in status info "timeout --uid 0" "timeout --uid 0 --set 5" \
	"timeout --uid 0 --clear" "profile record"; do
	for p in "$work" "$work/file"; do
		# shellcheck disable=SC2086
		run $c "$p"
		if [ $rc != 1 ] || [ "$err" != "incrfsctl: $p: not on an incrfs mount" ] ||
		   [ -n "$out" ]; then
			echo "# incrfsctl $c $p: exit $rc, stderr: $err"
			bad=1
		fi
	done
done
check "status, info, timeout, profile: a path not on incrfs fails clearly" '[ $bad = 0 ]'

# the host cannot load the module: no incrfs mount (the guest lists some)
run list
check "list without incrfs mounts: the header, exit 0" \
	'[ $rc = 0 ] && [ -z "$err" ] &&
	 [ "$(tr -s " " <<<"$out")" = "MOUNT PRESENT FEEDER IMAGE" ]'
run list --json
check "list --json without incrfs mounts: an empty array" \
	'[ $rc = 0 ] && [ "$out" = "[]" ]'

run profile --help
check "profile --help documents the format and the mount option" \
	'(for o in "incrfs-profile 1 ROOT_HASH" "START LEN" "access_log" \
		"--prefetch-profile" "CAP_SYS_ADMIN"; do
		grep -q -- "$o" <<<"$out" || exit 1; done)'

run filled "$work/file"
check "filled: a file not on incrfs fails clearly" \
	'[ $rc = 1 ] && [ "$err" = "incrfsctl: $work/file: not on an incrfs mount" ]'
run filled "$work"
check "filled: a directory is not a regular file" \
	'[ $rc = 1 ] && [ "$err" = "incrfsctl: $work: not a regular file" ]'
run status "$work/none"
check "a missing path says so" \
	'[ $rc = 1 ] && [ "$err" = "incrfsctl: $work/none: No such file or directory" ]'
mkfifo "$work/fifo"
run filled "$work/fifo"
check "filled on a fifo does not block" \
	'[ $rc = 1 ] && grep -q "not a regular file" <<<"$err"'
ln -s /dev/null "$work/devlink"
run status "$work/devlink"
check "a symlink to a device is not opened" \
	'[ $rc = 1 ] && [ "$err" = "incrfsctl: $work/devlink: not a regular file or directory" ]'
ln -s file "$work/filelink"
run filled "$work/filelink"
check "a symlink to a regular file is followed" \
	'[ $rc = 1 ] && [ "$err" = "incrfsctl: $work/filelink: not on an incrfs mount" ]'
# a real node daemon, with nothing attached
sock=$work/run/node.sock
run feeders --socket "$sock"
check "feeders without a daemon says none listens there" \
	'[ $rc = 1 ] && grep -q "^incrfsctl: $sock: .*(no incrfsd --node listens there)" <<<"$err"'
run attach --socket "$sock" "$work" --source x
check "attach of a path not on incrfs fails before asking the daemon" \
	'[ $rc = 1 ] && [ "$err" = "incrfsctl: $work: not on an incrfs mount" ]'
# (LeakSanitizer stops the world with ptrace, which incrfsd's seccomp
# filter refuses once it serves: leaks are not looked for at its exit)
ASAN_OPTIONS=detect_leaks=0 "$repo/tools/out-asan/incrfsd" --node \
	--socket "$sock" --state-dir "$work/state" 2>"$work/node.log" &
node_pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
run feeders --socket "$sock" --json
check "feeders --json of an empty node: no mounts, the memory budget" \
	'[ $rc = 0 ] && [ "$out" = "{\"memory_used\":0,\"memory_max\":1073741824,\"mounts\":[]}" ]'
run detach --socket "$sock" /nowhere
check "detach of a mount the node does not serve fails clearly" \
	'[ $rc = 1 ] && [ "$err" = "incrfsctl: /nowhere: not attached to this node" ]'
kill "$node_pid"
wait "$node_pid"
node_rc=$?
node_pid=
check "the node daemon stops on SIGTERM, exit 0, socket removed" \
	'[ $node_rc = 0 ] && [ ! -e "$sock" ] &&
	 grep -q "stopping on Terminated" "$work/node.log"' ||
	sed 's/^/#   /' "$work/node.log"

run --version
check "--version prints the release, from dkms.conf" \
	'[ $rc = 0 ] && [ "$out" = "incrfsctl $(sed -n "s/^PACKAGE_VERSION=\"\(.*\)\"/\1/p" "$repo/dkms.conf") (incrfs)" ]'
exit $failed
