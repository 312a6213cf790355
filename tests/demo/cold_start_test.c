// SPDX-License-Identifier: GPL-2.0-only
/*
 * cold_start_test.c - the demo behind "make demo", run in the QEMU guest.
 *
 * What a container runtime does with incrfs, against what it does without:
 * an image of three Debian layers (base, python3, an application; see
 * tests/bench/debian-image.sh) sits in an OCI registry (Debian's
 * docker-registry) a shaped network away (B_NET: wan by default), and a
 * container starts from it, python3 importing a few modules:
 *   pull + unpack          fetch every layer, check it, unpack it, run
 *   incrfs lazy            mount every layer at once, run while incrfsd
 *                          fetches what is read
 *   incrfs lazy + profile  the same, fetching first what this start read
 *                          last time (an access profile)
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

	memset(st, 0, sizeof(*st));
	*t = !strcmp(series, "pull") ? pull_start(w, &prog) :
				       lazy_start(series, w, st, &setup);
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
	char get[PATH_MAX + 640];
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
		fetch_cmd(get, sizeof(get), LAYER_AT(&layers[i], meta), run);
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
	static const char *const series[] = { "pull", "lazy", "lazy+profile" };
	static const char *const label[] = {
		"pull + unpack        ", "incrfs lazy          ",
		"incrfs lazy + profile",
	};
	const char *net = getenv("B_NET") && *getenv("B_NET") ?
			  getenv("B_NET") : "wan";
	const struct net_profile *np = profile_named(net);
	const struct workload *w = &workloads[0];
	double t[3], mib[3], took, t0;
	struct incrfs_stats st[3];
	pid_t srv = -1;
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
		REPORT("network: local (the files on this machine, no server)");
	} else {
		ASSERT_EQ(access(REGISTRY, X_OK), 0)
			TH_LOG(REGISTRY " is missing (make deps)");
		srv = start_registry();
		ASSERT_GT(srv, 0) TH_LOG("docker-registry did not start");
		ASSERT_EQ(shape(np->netem), 0)
			TH_LOG("netem does not work here (%s, sch_netem)", tc);
		REPORT("network: %s (netem %s), blobs in docker-registry",
		       np->name, np->netem);
	}
	REPORT("workload: %s", w->cmd);
	REPORT("");
	REPORT("                       first output   over the link   image fetched");
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(one_start(series[i], w, &t[i], &mib[i], &st[i]), 0)
			TH_LOG("%s failed", series[i]);
		if (i == 0)
			REPORT("%s  %7.2f s       %7.1f MiB     all of it",
			       label[i], t[i], mib[i]);
		else
			REPORT("%s  %7.2f s %5.2fx %7.1f MiB     %4.1f %%",
			       label[i], t[i], t[i] / t[0], mib[i],
			       100.0 * st[i].blocks_present /
			       st[i].blocks_total);
	}
	REPORT("");
	took = complete_then_run_daemonless(w);
	ASSERT_GT(took, 0) TH_LOG("completing the layers or the daemonless run failed");
	REPORT("incrfsd --prefetch all completed every layer in %.1f s; the "
	       "completed images then mounted again with no feeder and the "
	       "program ran: once fetched, a layer needs no daemon", took);
	if (srv > 0) {
		EXPECT_EQ(shape(NULL), 0);
		b_stop(srv);
	}
	REPORT("(one run each, in a TCG guest, where CPU work such as SHA-256 "
	       "is far slower than on real hardware: compare the rows with each "
	       "other; make bench measures medians)");
}

TEST_HARNESS_MAIN
