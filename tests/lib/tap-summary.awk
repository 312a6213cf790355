# SPDX-License-Identifier: GPL-2.0-only
#
# tap-summary.awk - count the results of test programs from their TAP output.
#
# Why this exists: the host runner and the QEMU guest runner both turn a log
# of test programs into "passed / failed / skipped" with the same rules, so
# they share this one parser.  The log holds one section per program:
#
#   @@TEST-BEGIN name@@
#   ...the program's TAP 13 output...
#   @@TEST-END name rc=N@@
#
# Lines outside sections (kernel messages, boot noise) are ignored.  Only
# top-level TAP lines count ("ok", "not ok", "1..N"; indented subtest lines
# do not).  Rules, each adding one failure when broken:
#   - a program must print a plan ("1..N"); "1..0 # SKIP why" is one skip;
#   - it must print exactly N results;
#   - it must exit 0 unless it reported a failure itself;
#   - its section must end (a missing END marker means it crashed the
#     machine or hung);
#   - "Bail out!" is a failure.
# "ok ... # SKIP" counts as skipped, never as passed.
#
# Variables: -v prefix=STR   put before every reported name (e.g. a kernel)
#            -v out=FILE     write "PASSED FAILED SKIPPED" there at the end
# Stdout: "not ok - NAME: why" for every failure and a "# NAME: ..." count
# line per program.

function begin_section(name) {
	cur = name; in_sec = 1
	plan = -1; nres = 0; p = 0; f = 0; s = 0; planskip = 0
}

function fail_line(why) {
	printf "not ok - %s%s: %s\n", prefix, cur, why
	f++
}

function end_section(rc, finished) {
	if (!finished)
		fail_line("did not finish (crash, hang or machine died)")
	if (plan < 0)
		fail_line("printed no TAP plan (1..N)")
	else if (plan == 0 && planskip && nres == 0)
		s++
	else if (nres != plan)
		fail_line(sprintf("planned %d results, printed %d", plan, nres))
	if (finished && rc != 0 && f == 0)
		fail_line(sprintf("exited with status %s", rc))
	printf "# %s%s: %d passed, %d failed, %d skipped\n", prefix, cur, p, f, s
	P += p; F += f; S += s
	in_sec = 0
}

{ sub(/\r+$/, "") }

/^@@TEST-BEGIN .*@@$/ {
	if (in_sec)
		end_section(0, 0)
	name = $0
	sub(/^@@TEST-BEGIN /, "", name); sub(/@@$/, "", name)
	begin_section(name)
	next
}

/^@@TEST-END .* rc=[0-9]+@@$/ {
	if (!in_sec)
		next
	rc = $0
	sub(/^.* rc=/, "", rc); sub(/@@$/, "", rc)
	end_section(rc + 0, 1)
	next
}

!in_sec { next }

/^1\.\.[0-9]+/ {
	if (plan < 0) {
		plan = $0
		sub(/^1\.\./, "", plan); sub(/[^0-9].*$/, "", plan)
		plan += 0
		if (plan == 0 && tolower($0) ~ /# *skip/)
			planskip = 1
	}
	next
}

/^not ok( |$)/ {
	nres++
	t = $0; sub(/^not ok [0-9]* */, "", t)
	printf "not ok - %s%s: %s\n", prefix, cur, t
	f++
	next
}

/^ok( |$)/ {
	nres++
	if (tolower($0) ~ /# *skip/)
		s++
	else
		p++
	next
}

/^Bail out!/ { fail_line($0); next }

END {
	if (in_sec)
		end_section(0, 0)
	if (out != "")
		printf "%d %d %d\n", P, F, S > out
}
