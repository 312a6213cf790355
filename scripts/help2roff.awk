# help2roff.awk - turn a tool's man-style --help text into a roff man page.
#
# Why: incrfs-pack, incrfsd and incrfsctl print their manual with --help
# (sections in capitals at column 0, text indented by 4, option lines
# starting with "-" at indent 4, their text at indent 8; a table of
# terms at indent 4, each followed by two or more spaces and its text,
# continued further in).  Generating the
# man pages from that text keeps the two from drifting apart.
# Usage: awk -v name=incrfsd -v section=8 -f help2roff.awk
function esc(s) {
	gsub(/\\/, "\\e", s)
	sub(/^[.']/, "\\\\\\&&", s)
	return s
}
BEGIN {
	printf ".TH %s %s \"\" \"incrfs\" \"incrfs manual\"\n", toupper(name), section
}
/^[A-Z][A-Z ]+$/ { intable = 0; printf ".SH %s\n", $0; next }
/^$/ { intable = 0; print ".PP"; next }
# a table row: a term of one or two words, two spaces or more, its text
# (not the two spaces after a sentence's full stop)
/^    [^ -][^ ]*( [^ ]+)?  +[^ ]/ && match($0, /[^ ]  +/) && RSTART < 24 &&
    substr($0, RSTART, 1) != "." {
	term = substr($0, 5, RSTART - 4)
	text = substr($0, RSTART + RLENGTH)
	printf ".TP\n.B %s\n%s\n", esc(term), esc(text)
	intable = 1
	next
}
intable && /^         / { sub(/^ +/, ""); print esc($0); next }
/^    -/ { sub(/^    /, ""); printf ".TP\n.B %s\n", esc($0); next }
/^        / { sub(/^        /, ""); print esc($0); next }
/^    / { sub(/^    /, ""); print esc($0); next }
{ print esc($0) }
