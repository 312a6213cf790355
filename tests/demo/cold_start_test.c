// SPDX-License-Identifier: GPL-2.0-only
/*
 * cold_start_test.c - the demo behind "make demo", run in the QEMU guest.
 *
 * What a container runtime does with incrfs, against what it does without:
 * an image of three Debian layers (base, python3, an application; see
 * tests/bench/debian-image.sh) sits in an OCI registry (Debian's
 * docker-registry, sending blob reads to nginx as public registries send
 * them to a CDN) a shaped network away (B_NET: wan by default), and a
 * container starts from it, python3 importing a few modules:
 *   pull + unpack          fetch every layer, check it, unpack it, run
 *   incrfs lazy            mount every layer at once, run while incrfsd
 *                          fetches what is read
 *   incrfs lazy + profile  the same, fetching first what this start read
 *                          last time (an access profile)
 *   incrfs-image pull      the lazy start as a user types it: the image
 *     + crun               converted on the host (incrfs-image convert,
 *                          B_CONVERTED) and pushed, then incrfs-image pull
 *                          and crun run on the bundle it writes
 *   stargz                 stargz-snapshotter's own FUSE layer store on
 *                          the image converted to eStargz (B_STARGZ; not
 *                          with NET=local: it reads from a registry)
 * with the time to the program's first line of output and the bytes that
 * crossed the link.  Then every layer is completed in the background and
 * mounted again with no feeder: once fetched, a layer needs no daemon.
 * One run of each (tests/bench/coldstart.h does the work, exactly as
 * figure 8 of "make bench" measures it with medians and spreads).  Lines
 * starting with "# demo:" are the report; the single TAP result says
 * whether the demo itself worked.
 */
#include "tests/bench/coldstart.h"

#define REPORT(fmt, ...) printf("# demo: " fmt "\n", ##__VA_ARGS__)

#define PULL_REPO	"incrfs/app"
#define PULL_DIR	L "/bundle"

/* MiB of the eStargz layers' blobs (what a full fetch of them moves). */
static double esgz_mib(void)
{
	char cmd[PATH_MAX + 128], *text;
	double mib = 0;

	snprintf(cmd, sizeof(cmd), "cd %s && cat layers.txt | cut -c8- | "
		 "(cd blobs/sha256 && xargs du -cb | tail -n1 | cut -f1) > "
		 "/tmp/esgz.size", getenv("B_STARGZ"));
	if (!iu_sh("%s", cmd)) {
		text = pu_read_text("/tmp/esgz.size");
		mib = text ? strtod(text, NULL) / (1 << 20) : 0;
		free(text);
	}
	return mib;
}

/*
 * The lazy start as a user types it: incrfs-image pull REF DIR -- CMD,
 * then crun run on DIR.  Seconds to the first line of output, or -1; the
 * layers' counters, summed, into @sum.
 */
static double crun_start(const struct workload *w, struct incrfs_stats *sum)
{
	const char *conv = getenv("B_CONVERTED");
	char cmd[8192], m[PATH_MAX], line[256];
	struct incrfs_stats st;
	double t0, first = -1;
	int i, fails = 0;
	FILE *p;

	memset(sum, 0, sizeof(*sum));
	iu_sh("rm -rf " PULL_DIR);
	b_drop_caches();
	t0 = b_now();
	if (cs_local)
		snprintf(cmd, sizeof(cmd), "incrfs-image pull -q oci:%s:app "
			 PULL_DIR " -- %s > /tmp/demo-pull.log 2>&1", conv,
			 w->cmd);
	else
		snprintf(cmd, sizeof(cmd), "incrfs-image pull -q "
			 "--insecure-registry " HOST " " HOST "/" PULL_REPO
			 ":app " PULL_DIR " -- %s > /tmp/demo-pull.log 2>&1",
			 w->cmd);
	if (iu_sh("%s", cmd)) {
		iu_sh("sed 's/^/# demo: pull: /' /tmp/demo-pull.log");
		return -1;
	}
	fflush(NULL);
	p = popen("crun --cgroup-manager=disabled run --no-pivot --bundle "
		  PULL_DIR " demo 2>&1", "r");
	if (p) {
		while (fgets(line, sizeof(line), p))
			if (first < 0)
				first = b_now();
		if (pclose(p))
			first = -1;
	}
	for (i = 0; i < nlayers; i++) {
		snprintf(m, sizeof(m), PULL_DIR "/layers/%d/mnt", i);
		if (!iu_get_stats(m, &st)) {
			sum->blocks_present += st.blocks_present;
			sum->blocks_total += st.blocks_total;
		} else {
			fails++;
		}
	}
	if (iu_sh("incrfs-image umount -q " PULL_DIR))
		fails++;
	return first > 0 && !fails ? first - t0 : -1;
}

static const struct net_profile *profile_named(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (!strcmp(profiles[i].name, name))
			return &profiles[i];
	return NULL;
}

/* One start of @series; its time, bytes and counters.  0 or -1. */
static int one_start(const char *series, const struct workload *w,
		     double *t, double *mib, struct incrfs_stats *st)
{
	double b0 = lo_bytes(), prog, setup;
	struct lazy_stages sg;

	memset(st, 0, sizeof(*st));
	*t = !strcmp(series, "pull") ? pull_start(w, &prog) :
	     !strcmp(series, "crun") ? crun_start(w, st) :
	     !strcmp(series, "stargz") ? stargz_start(w) :
				       lazy_start(series, w, st, &setup, &sg);
	*mib = (lo_bytes() - b0) / (1 << 20);
	return *t > 0 ? 0 : -1;
}

/*
 * Complete every layer (incrfsd --prefetch all --exit-when-complete over
 * the link), then mount the completed images with no feeder at all and
 * run @w on their overlay.  Seconds the completion took, or -1.
 */
static double complete_then_run_daemonless(const struct workload *w)
{
	char run[PATH_MAX], m[PATH_MAX], lower[PATH_MAX * MAX_LAYERS];
	char get[2 * PATH_MAX + 1024];
	pid_t feeder[MAX_LAYERS] = { 0 };
	struct incrfs_stats st;
	double t0, took = -1;
	int i, status;

	t0 = b_now();
	for (i = 0; i < nlayers; i++) {
		const char *argv[] = { "incrfsd", "--insecure-registry", HOST,
				       "--prefetch", "all",
				       "--exit-when-complete", "--source",
				       LAYER_AT(&layers[i], blob), m, NULL };

		snprintf(run, sizeof(run), L "/done%d.img", i + 1);
		snprintf(m, sizeof(m), L "/m%d", i + 1);
		fetch_meta_cmd(get, sizeof(get), LAYER_AT(&layers[i], meta),
			       run);
		if (iu_sh(get) || truncate(run, layers[i].img_size) ||
		    iu_mount(run, m, "timeout=120000"))
			goto out;
		feeder[i] = b_spawn("/tmp/demo-complete.log", argv);
		if (feeder[i] <= 0)
			goto out;
	}
	for (i = 0; i < nlayers; i++) {
		if (waitpid(feeder[i], &status, 0) != feeder[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			goto out;
		feeder[i] = 0;
		snprintf(m, sizeof(m), L "/m%d", i + 1);
		if (iu_get_stats(m, &st) || !st.complete)
			goto out;
	}
	took = b_now() - t0;
out:
	for (i = nlayers - 1; i >= 0; i--) {
		snprintf(m, sizeof(m), L "/m%d", i + 1);
		if (feeder[i] > 0)
			b_stop(feeder[i]);
		umount(m);
	}
	if (took < 0) {
		iu_sh("tail -n 20 /tmp/demo-complete.log | sed 's/^/# demo: incrfsd: /'");
		return -1;
	}
	/* no feeder from here on: a short timeout would show any miss */
	for (i = 0; i < nlayers; i++) {
		snprintf(run, sizeof(run), L "/done%d.img", i + 1);
		snprintf(m, sizeof(m), L "/m%d", i + 1);
		if (iu_mount(run, m, "timeout=1000"))
			took = -1;
	}
	lower_list(lower, sizeof(lower), L "/m%d");
	if (took > 0 && (mount_root(lower) ||
			 b_first_output_of(L "/root", w->cmd) <= 0 ||
			 umount(L "/root")))
		took = -1;
	for (i = nlayers - 1; i >= 0; i--) {
		snprintf(m, sizeof(m), L "/m%d", i + 1);
		umount(m);
	}
	return took;
}

TEST_TIMEOUT(container_cold_start, 1800)
{
	static const char *const series[] = { "pull", "lazy", "lazy+profile",
					      "crun", "stargz" };
	static const char *const label[] = {
		"pull + unpack        ", "incrfs lazy          ",
		"incrfs lazy + profile", "incrfs-image + crun  ",
		"stargz (FUSE)        ",
	};
	const char *conv = getenv("B_CONVERTED");
	bool with[5] = { true, true, true, conv && *conv, stargz_ready() };
	const char *net = getenv("B_NET") && *getenv("B_NET") ?
			  getenv("B_NET") : "wan";
	const struct net_profile *np = profile_named(net);
	const struct workload *w = &workloads[0];
	double t[5], mib[5], took, t0;
	struct incrfs_stats st[5];
	pid_t srv = -1, cdn = -1;
	size_t i;

	ASSERT_NOT_NULL(np) TH_LOG("B_NET=%s: not local, lan, wan or slow", net);
	REPORT("incrfs demo: a container's cold start from a registry, lazily and not");
	iu_sh("echo \"# demo: kernel $(uname -r), a QEMU TCG guest\"");
	snprintf(tc, sizeof(tc), "%s/tc", getenv("B_BIN") ? getenv("B_BIN") :
		 "/usr/sbin");
	ASSERT_EQ(b_disk(), 0);
	t0 = b_now();
	ASSERT_EQ(image_files(), 0);
	REPORT("image: %d layers (%s), packed for incrfs in %.0f s",
	       nlayers, getenv("B_IMAGE") && *getenv("B_IMAGE") ?
	       "Debian bookworm: base, python3, an app" : "a python tree",
	       b_now() - t0);
	ASSERT_EQ(record_profiles(w), 0);
	if (!np->netem) {
		cs_local = true;
		with[4] = false;	/* stargz reads from a registry */
		REPORT("network: local (the files on this machine, no server)");
	} else {
		const char *why = "";

		srv = start_servers(true, &cdn, &why);
		ASSERT_GT(srv, 0) TH_LOG("%s", why);
		if (with[3])
			ASSERT_EQ(push_layout(conv, PULL_REPO), 0);
		if (with[4])
			ASSERT_EQ(push_layout(getenv("B_STARGZ"), SG_REPO), 0);
		ASSERT_EQ(shape(np->netem), 0)
			TH_LOG("netem does not work here (%s, sch_netem)", tc);
		REPORT("network: %s (netem %s), blobs in docker-registry, "
		       "read from nginx where it redirects them (a CDN)",
		       np->name, np->netem);
	}
	REPORT("workload: %s", w->cmd);
	REPORT("");
	REPORT("                       first output   over the link   image fetched");
	for (i = 0; i < 5; i++) {
		if (!with[i])
			continue;
		ASSERT_EQ(one_start(series[i], w, &t[i], &mib[i], &st[i]), 0)
			TH_LOG("%s failed", series[i]);
		if (i == 0)
			REPORT("%s  %7.2f s       %7.1f MiB     all of it",
			       label[i], t[i], mib[i]);
		else if (!strcmp(series[i], "stargz"))
			REPORT("%s  %7.2f s %5.2fx %7.1f MiB     (%.1f MiB of %.1f MiB eStargz)",
			       label[i], t[i], t[i] / t[0], mib[i], mib[i],
			       esgz_mib());
		else
			REPORT("%s  %7.2f s %5.2fx %7.1f MiB     %4.1f %%",
			       label[i], t[i], t[i] / t[0], mib[i],
			       100.0 * st[i].blocks_present /
			       st[i].blocks_total);
	}
	if (with[3])
		REPORT("(incrfs-image + crun: the lazy start as a user types it, "
		       "\"incrfs-image pull\" of the image converted on the host, "
		       "then \"crun run\" on the bundle it wrote)");
	if (with[4])
		REPORT("(stargz: stargz-snapshotter's own layer store, as "
		       "stargz-store runs it, its default configuration: chunks "
		       "verified against the TOC, background fetch on)");
	else
		REPORT("(stargz: left out: %s)", cs_local ?
		       "it reads from a registry, NET=local has none" :
		       "stargz-peer was not built (make deps: golang-go, "
		       "golang-github-containerd-stargz-snapshotter-dev)");
	REPORT("");
	took = complete_then_run_daemonless(w);
	ASSERT_TRUE(took > 0)
		TH_LOG("completing the layers or the daemonless run failed");
	REPORT("incrfsd --prefetch all completed every layer in %.1f s; the "
	       "completed images then mounted again with no feeder and the "
	       "program ran: once fetched, a layer needs no daemon", took);
	if (srv > 0) {
		EXPECT_EQ(shape(NULL), 0);
		b_stop(srv);
	}
	if (cdn > 0)
		b_stop(cdn);
	REPORT("(one run each, in a TCG guest, where CPU work such as SHA-256 "
	       "is far slower than on real hardware: compare the rows with each "
	       "other; make bench measures medians)");
}

TEST_HARNESS_MAIN
