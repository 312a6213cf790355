# help2roff.awk - turn a tool's man-style --help text into a roff man page.
#
# Why: incrfs-pack, incrfsd and incrfsctl print their manual with --help
# (sections in capitals at column 0, text indented by 4, option lines
# starting with "-" at indent 4, their text at indent 8).  Generating the
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
/^[A-Z][A-Z ]+$/ { printf ".SH %s\n", $0; next }
/^$/ { print ".PP"; next }
/^    -/ { sub(/^    /, ""); printf ".TP\n.B %s\n", esc($0); next }
/^        / { sub(/^        /, ""); print esc($0); next }
/^    / { sub(/^    /, ""); print esc($0); next }
{ print esc($0) }
