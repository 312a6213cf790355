#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""report.py - turn the benchmark guest's samples into the table of
"make bench", Documentation/performance.md and a PNG chart.

Why this exists: the guest only prints raw samples ("# bench: SAMPLE fig
series value", one per run); the medians, the ratios between series of one
boot, and the targets of issue 6 live here, in one place, and nowhere in
"make test".

usage: report.py [--doc FILE.md --png-dir DIR] SAMPLES...
  Each SAMPLES file starts with "# bench: KERNEL <release>".
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

# (figure, title, baseline series, subject series, kind, target, unit)
# kind "speed": both are times, ratio = baseline / subject (higher: faster)
# kind "time":  ratio = subject / baseline (lower: better)
# kind "rate":  both are rates, ratio = subject / baseline (higher: better)
# target: (op, value) on the ratio, or None (shown for information)
ROWS = [
    ("seq", "1 populated sequential read, whole tree", "ext4", "incrfs",
     "speed", (">=", 1.0), "s"),
    ("seq", "1 populated sequential read, whole tree", "erofs", "incrfs",
     "speed", (">=", 1.0), "s"),
    ("seq", "1 populated sequential read, incrfs at ext4's 128 KiB "
     "read-ahead", "ext4", "incrfs-ra128", "speed", None, "s"),
    ("rand", "2 populated 4 KiB random reads", "ext4", "incrfs",
     "speed", (">=", 0.95), "s"),
    ("rand", "2 populated 4 KiB random reads", "erofs", "incrfs",
     "speed", (">=", 1.0), "s"),
    ("miss_p50", "3 miss round trip, p50 latency", "fuse", "incrfs",
     "time", ("<=", 1.0), "us"),
    ("miss_p99", "3 miss round trip, p99 latency", "fuse", "incrfs",
     "time", None, "us"),
    ("miss_rate", "3 misses per second, one reader", "fuse", "incrfs",
     "rate", None, "/s"),
    # "fuse" is fuse_loader.c as a fair peer (verifying, threads,
    # read-ahead); "fuse-plain" the loader as it was before (--plain)
    ("miss_p50", "3 miss round trip p50, old FUSE loader (--plain)",
     "fuse-plain", "incrfs", "time", None, "us"),
    # issue 16: <= 0.8x the verifying loader (0.5x was against --plain)
    ("cold", "3 cold read of the whole tree (all missing)", "fuse", "incrfs",
     "time", ("<=", 0.8), "s"),
    ("cold", "3 cold read of the whole tree, old FUSE loader (--plain)",
     "fuse-plain", "incrfs", "time", None, "s"),
    ("warm", "4 populated read after fetching, vs FUSE loader", "fuse",
     "incrfs", "speed", (">=", 1.0), "s"),
    ("warm", "4 populated read: FUSE loader vs ext4", "ext4", "fuse",
     "speed", None, "s"),
    ("warm", "4 old FUSE loader (--plain) populated, vs ext4", "ext4",
     "fuse-plain", "speed", None, "s"),
    # issue 16: the same work with stock tools (zstd -dc | tee | openssl
    # dgst -sha256, bench3_fill_test.c); dd only writes
    ("fill", "5 fill: incrfsd --prefetch all vs zstd | tee | openssl "
     "sha256", "tools", "incrfsd", "speed", (">=", 1.0), "s"),
    ("fill", "5 fill: incrfsd --prefetch all vs dd (writing only)", "dd",
     "incrfsd", "speed", None, "s"),
    ("coldstart", "6 cold start: lazy vs fetch+unpack layer", "unpack",
     "lazy", "time", ("<=", 0.2), "s"),
    ("coldstart", "6 cold start: the program alone (unpacked, cold cache)",
     "unpack", "program", "time", None, "s"),
    ("coldstart_fetched", "6 cold start: share of the layer fetched",
     "layer", "lazy", "time", ("<=", 0.15), "MiB"),
    ("coldstart", "6 cold start: lazy + access profile vs lazy", "lazy",
     "lazy+profile", "time", None, "s"),
    ("coldstart_fetched", "6 cold start: fetched with the profile",
     "lazy", "lazy+profile", "time", None, "MiB"),
    ("coldstart_waited", "6 cold start: time python waited for blocks",
     "lazy", "lazy+profile", "time", None, "s"),
    ("coldstart_misses", "6 cold start: reads that waited (misses)",
     "lazy", "lazy+profile", "time", None, ""),
    ("mount", "7 mount time: 100 000 vs 100 files", "files100",
     "files100000", "time", ("<=", 2.0), "ms"),
    ("mount_abs", "7 mount time of 100 000 files, absolute", "limit",
     "files100000", "time", ("<=", 1.0), "ms"),
]

# Figure 8, per network profile (bench6_network_test.c): its name, the link,
# and the targets of lazy and lazy+profile against pull+unpack, and of lazy
# against stargz-snapshotter (issue 16).
NET_PROFILES = [
    ("local", "files, no server", None, None, None),
    ("lan", "1 Gbit/s, 0.5 ms RTT", ("<=", 0.5), None, ("<=", 0.8)),
    ("wan", "100 Mbit/s, 20 ms RTT", ("<=", 0.25), ("<=", 0.15),
     ("<=", 0.7)),
    ("slow", "10 Mbit/s, 40 ms RTT", None, None, None),
]
# The workloads (B_WORKLOAD): py's figures are named net_<profile>, the
# others net_<profile>_<workload>.
NET_WORKLOADS = [("", "python3 imports"), ("_app", "the app"),
                 ("_small", "many small files")]
for (_w, _wt), (_p, _link, _lazy, _prof, _sgz) in [
        (w, p) for w in NET_WORKLOADS for p in NET_PROFILES]:
    _f = "net_" + _p + _w
    _t = "8 cold start, %s, over %s (%s)" % (_wt, _p, _link)
    _s = "8 %s over %s" % (_wt, _p)
    ROWS += [
        (_f, _t + ": lazy vs pull+unpack", "pull", "lazy",
         "time", _lazy, "s"),
        (_f, _t + ": lazy + profile vs pull+unpack", "pull",
         "lazy+profile", "time", _prof, "s"),
        (_f, _t + ": lazy vs stargz-snapshotter (FUSE)", "stargz",
         "lazy", "time", _sgz, "s"),
        (_f, _t + ": stargz-snapshotter vs pull+unpack", "pull",
         "stargz", "time", None, "s"),
        (_f, _t + ": one connection per layer vs six", "lazy",
         "lazy-1conn", "time", None, "s"),
        (_f, _t + ": layers attached to incrfsd --node vs one incrfsd "
         "each", "lazy", "lazy-node", "time", None, "s"),
        (_f, _t + ": lazy, layers attached to incrfsd --node, vs "
         "pull+unpack", "pull", "lazy-node", "time", _lazy, "s"),
        (_f, _t + ": lazy + profile, layers attached to incrfsd --node, "
         "vs pull+unpack", "pull", "lazy-node+profile", "time", _prof, "s"),
        (_f, _t + ": lazy, layers attached to incrfsd --node, vs "
         "stargz-snapshotter", "stargz", "lazy-node", "time", _sgz, "s"),
        (_f, _t + ": the program alone (unpacked, cold cache)", "pull",
         "program", "time", None, "s"),
        (_f + "_bytes", _s + ": bytes, lazy vs pull", "pull",
         "lazy", "time", ("<=", 1.1), "MiB"),
        (_f + "_bytes", _s + ": bytes, lazy + profile vs pull",
         "pull", "lazy+profile", "time", ("<=", 1.1), "MiB"),
        (_f + "_bytes", _s + ": bytes, lazy vs stargz-snapshotter",
         "stargz", "lazy", "time", None, "MiB"),
        (_f + "_fetched", _s + ": share of the image fetched",
         "layer", "lazy", "time", None, "MiB"),
        (_f + "_misses", _s + ": reads that waited, profile vs none",
         "lazy", "lazy+profile", "time", None, ""),
        (_f + "_setup", _s + ": lazy, time until the program starts",
         "total", "lazy", "time", None, "s"),
    ]

# Where a lazy start's time went (figure 8's .._stages samples, series
# "<series>/<stage>"): the stage, what it is, its unit.
STAGES = [
    ("start", "first output (the whole start)", "s"),
    ("setup", "setup: metadata fetched, layers and overlay mounted, "
     "feeders spawned", "s"),
    ("opened", "the slowest feeder: start until its source answered "
     "(library, connection, size and header)", "s"),
    ("index", "the slowest feeder: start until the blob's index is read",
     "s"),
    ("ready", "the slowest feeder: start until it serves (blob opened, "
     "index read)", "s"),
    ("wait", "readers waited for blocks (summed over readers)", "s"),
    ("misses", "reads that waited (the kernel's misses)", ""),
    ("requests", "chunk reads incrfsd started for a waiting reader", ""),
    ("notify_ms", "per such read: reader waits -> incrfsd reads its "
     "record (mean)", "ms"),
    ("io_ms", "per such read: read started -> its bytes are in (mean)",
     "ms"),
    ("fill_ms", "per such read: bytes in -> decoded and filled (mean)",
     "ms"),
    ("cpu", "CPU busy during the start, both CPUs summed (server, "
     "clients, kernel; pull: with the program's second run)", "s"),
    ("server_cpu", "of which the blob server's", "s"),
]
STAGE_SERIES = ["pull", "lazy", "lazy+profile", "lazy-1conn", "lazy-node",
                "lazy-node+profile", "stargz"]


def stage_tables(samples):
    """[(figure, header, rows)]: medians over the runs of each stage."""
    out = []
    for fig in sorted({f for f, _ in samples if f.endswith("_stages")}):
        cols = [s for s in STAGE_SERIES if (fig, s + "/start") in samples]
        rows = []
        for key, label, unit in STAGES:
            cells = []
            for s in cols:
                v = samples.get((fig, s + "/" + key))
                cells.append(cell(v, unit) if v else "-")
            rows.append([label] + cells)
        out.append((fig, ["stage"] + cols, rows))
    return out


def stage_text(tables):
    out = []
    for fig, hdr, rows in tables:
        w = [max(len(x[i]) for x in [hdr] + rows) for i in range(len(hdr))]
        out.append("where the lazy start's time went: %s" % fig)
        for x in [hdr] + rows:
            out.append("  ".join(x[i].ljust(w[i])
                                 for i in range(len(hdr))).rstrip())
        out.append("")
    return "\n".join(out)


def stage_md(tables):
    out = []
    for fig, hdr, rows in tables:
        out.append("Where the lazy start's time went (%s; medians "
                   "[min..max] over its runs, from each incrfsd's "
                   "--stats-file, the mount's counters and /proc):\n"
                   % fig)
        out.append("| " + " | ".join(hdr) + " |")
        out.append("|" + "---|" * len(hdr))
        out.extend("| " + " | ".join(r) + " |" for r in rows)
        out.append("")
    return "\n".join(out)


def parse(path):
    kernel, samples, info = "?", {}, []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.startswith("# bench: "):
                continue
            rest = line[len("# bench: "):]
            if rest.startswith("KERNEL "):
                kernel = rest[7:].strip()
            elif rest.startswith("SAMPLE "):
                parts = rest.split()
                if len(parts) != 4:
                    continue
                samples.setdefault((parts[1], parts[2]), []).append(
                    float(parts[3]))
            elif rest.startswith("INFO "):
                info.append(rest[5:])
    return kernel, samples, info


def fmt(v, unit):
    if unit == "s":
        return "%.3f s" % v
    if unit == "ms":
        return "%.1f ms" % v
    if unit == "us":
        return "%.0f us" % v
    if unit == "/s":
        return "%.0f/s" % v
    if unit == "MiB":
        return "%.1f MiB" % v
    return "%g" % v


def cell(vals, unit):
    if not vals:
        return "-"
    med = statistics.median(vals)
    if len(vals) == 1:
        return fmt(med, unit)
    return "%s [%s..%s] n=%d" % (fmt(med, unit), fmt(min(vals), unit),
                                 fmt(max(vals), unit), len(vals))


def straddles(b, s, kind, val):
    """Do the series' min..max ranges allow ratios on both sides of val?"""
    if not min(b) or not min(s):
        return False
    if kind == "speed":
        lo, hi = min(b) / max(s), max(b) / min(s)
    else:
        lo, hi = min(s) / max(b), max(s) / min(b)
    return lo < val < hi


def rows_of(samples):
    out = []
    for fig, title, base, subj, kind, target, unit in ROWS:
        b = samples.get((fig, base))
        s = samples.get((fig, subj))
        if not b or not s:
            continue
        mb, ms = statistics.median(b), statistics.median(s)
        if kind == "speed":
            ratio = mb / ms if ms else float("inf")
        else:
            ratio = ms / mb if mb else float("inf")
        if target is None:
            tgt, res = "-", "info"
        else:
            op, val = target
            tgt = "%s %.2fx" % (op, val)
            ok = ratio >= val if op == ">=" else ratio <= val
            res = "PASS" if ok else "FAIL"
            if ok and straddles(b, s, kind, val):
                res = "within noise"
        out.append(dict(fig=fig, title=title, base=base, subj=subj,
                        bcell=cell(b, unit), scell=cell(s, unit),
                        ratio=ratio, target=tgt, result=res, kind=kind))
    return out


def ratio_word(kind):
    return {"speed": "baseline time / incrfs time (>1: incrfs faster)",
            "time": "incrfs / baseline (<1: incrfs better)",
            "rate": "incrfs / baseline (>1: incrfs better)"}[kind]


def text_table(kernel, rows):
    hdr = ("figure", "baseline", "incrfs", "ratio", "target", "result")
    lines = [(r["title"], "%s: %s" % (r["base"], r["bcell"]),
              "%s: %s" % (r["subj"], r["scell"]), "%.2fx" % r["ratio"],
              r["target"], r["result"]) for r in rows]
    w = [max(len(x[i]) for x in [hdr] + lines) for i in range(6)]
    out = ["incrfs benchmarks on %s (QEMU TCG guest; medians [min..max])"
           % kernel]
    for x in [hdr] + lines:
        out.append("  ".join(x[i].ljust(w[i]) for i in range(6)).rstrip())
    return "\n".join(out)


def md_table(rows):
    out = ["| Figure | Baseline | incrfs | Ratio | Target | Result |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        out.append("| %s | %s: %s | %s: %s | %.2fx | %s | %s |" % (
            r["title"], r["base"], r["bcell"], r["subj"], r["scell"],
            r["ratio"], r["target"].replace(">=", "≥").replace("<=", "≤"),
            "**FAIL**" if r["result"] == "FAIL" else r["result"]))
    return "\n".join(out)


def chart(kernel, rows, png):
    """Bars: each figure's ratio; the target as a point."""
    with tempfile.NamedTemporaryFile("w", suffix=".dat", delete=False) as d:
        for i, r in enumerate(rows):
            t = r["target"].split()[-1].rstrip("x") if r["target"] != "-" \
                else "NaN"
            label = r["title"].split(",")[0].split(":")[0][:34] + \
                " (%s)" % r["base"]
            d.write('%d "%s" %.4f %s\n' % (i, label.replace('"', "'"),
                                         r["ratio"], t))
        dat = d.name
    script = f"""
set terminal pngcairo size 1100,{200 + 28 * len(rows)} font ",10"
set output "{png}"
set title "incrfs vs baselines on {kernel}: ratio of medians (QEMU TCG guest)"
set style fill solid 0.6
set yrange [{len(rows) - 0.4}:-0.6]
set ytics nomirror
set xlabel "ratio (see the Ratio column of performance.md for each direction)"
set grid xtics
set key outside top center horizontal
plot "{dat}" using (($3)/2):1:(($3)/2):(0.35):yticlabels(2) with boxxyerrorbars title "measured ratio", \\
     "{dat}" using 4:1 with points pt 7 ps 1.5 lc rgb "red" title "target"
"""
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("report.py: gnuplot failed (%s): no chart" % e, file=sys.stderr)
        return False
    finally:
        os.unlink(dat)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--doc")
    ap.add_argument("--png-dir")
    ap.add_argument("samples", nargs="+")
    a = ap.parse_args()
    runs = []
    for p in a.samples:
        kernel, samples, info = parse(p)
        rows = rows_of(samples)
        stages = stage_tables(samples)
        runs.append((kernel, rows, info, stages))
        print(text_table(kernel, rows))
        print()
        if stages:
            print(stage_text(stages))
    failed = sum(r["result"] == "FAIL" for _, rows, _, _ in runs
                 for r in rows)
    print("%d figures below target" % failed)
    if not a.doc:
        return 0
    os.makedirs(a.png_dir, exist_ok=True)
    md = [HEAD]
    for kernel, rows, info, stages in runs:
        png = os.path.join(a.png_dir, "ratios-%s.png" % kernel.split("-")[0]
                           .split("+")[0])
        md.append("## Kernel %s\n" % kernel)
        md.append(md_table(rows) + "\n")
        md.append("Ratios: " + "; ".join(
            "%s: %s" % (k, ratio_word(k)) for k in ("speed", "time", "rate"))
            + ".\n")
        if chart(kernel, rows, png):
            md.append("![ratios on %s](%s)\n" % (
                kernel, os.path.relpath(png, os.path.dirname(a.doc))))
        if stages:
            md.append(stage_md(stages))
        if info:
            md.append("What the guest reported:\n")
            md.extend("- %s" % i for i in info)
            md.append("")
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "notes.md")
    if os.path.exists(notes):
        with open(notes) as f:
            md.append(f.read())
    with open(a.doc, "w") as f:
        f.write("\n".join(md))
    print("report.py: wrote %s and %s" % (a.doc, a.png_dir))
    return 0


HEAD = """# incrfs performance

Generated by `make bench` (tests/bench/run-bench.sh, tests/bench/report.py);
do not edit by hand: the commentary comes from tests/bench/notes.md.

Every figure is measured in one QEMU TCG guest boot (Debian kernel,
2 CPUs, 3 GiB, every image on ext4 on an 8 GiB virtio-blk scratch disk).
TCG makes absolute times meaningless, so each figure is a **ratio**
between the medians of two series measured in the same boot (at least 5
runs each unless noted, shown as median [min..max] n=runs); the page cache
is dropped (`echo 3 > /proc/sys/vm/drop_caches`) before every run, and
the series of a figure take turns within each round.  A row whose median
meets its target while the two series' min..max ranges also allow a ratio
on the other side of it says "within noise", not PASS.
"""

if __name__ == "__main__":
    sys.exit(main())
