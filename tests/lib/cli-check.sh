# SPDX-License-Identifier: GPL-2.0-only
#
# cli-check.sh - sourced by the host tests of a command line tool
# (tests/host/*_cli_test.sh): run the tool, judge what it did, print one
# TAP result per check.
#
# The sourcing script sets $tool (the program) and $work (a scratch
# directory) and starts num=0 failed=0.  Why this exists: the tests of
# incrfsctl and incrfs-image judge their tools the same way.

# run ARGS...: sets rc, out (stdout) and err (stderr) of "$tool ARGS".
run() {
	"$tool" "$@" >"$work/out" 2>"$work/err"
	rc=$?
	out=$(cat "$work/out")
	err=$(cat "$work/err")
}

# check DESCRIPTION COND...: one TAP result; COND is a shell command list.
check() {
	local desc=$1
	shift
	num=$((num + 1))
	if eval "$@"; then
		echo "ok $num $desc"
	else
		failed=1
		echo "not ok $num $desc"
		echo "# failed: $*"
		echo "# exit $rc; stdout:"
		sed 's/^/#   /' "$work/out" | head -n 20
		echo "# stderr:"
		sed 's/^/#   /' "$work/err" | head -n 20
	fi
}

# manual SECTION...: does $out have these sections of a manual page, and
# NAME, SYNOPSIS, DESCRIPTION and EXIT STATUS, with nothing on stderr?
manual() {
	local s
	for s in NAME SYNOPSIS DESCRIPTION "EXIT STATUS" "$@"; do
		grep -q "^$s" <<<"$out" || { echo "# no '$s'"; return 1; }
	done
	[ -z "$err" ]
}
