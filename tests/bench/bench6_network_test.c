// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench6_network_test.c - figure 8 of "make bench": the cold start of
 * figure 6 with the blobs a network away (coldstart.h: the image, the
 * server, the shaping, and how each system starts).  From nothing on the
 * node to the workload's first line of output, series:
 *   pull          pull_start(): fetch, check, unpack every layer, run
 *   lazy          lazy_start(): metadata, mounts, one incrfsd per layer
 *   lazy+profile  the same, incrfsd --prefetch-profile with the access
 *                 profile of this start (recorded once, locally)
 *   lazy-1conn    lazy with incrfsd --depth 1: one request at a time, one
 *                 connection per layer (information: what connections
 *                 buy; the py workload only, the first three rounds)
 *   lazy-node     lazy with every layer attached (incrfsctl attach) to
 *                 one incrfsd --node started before the first round, as a
 *                 node's service runs before its containers: no process
 *                 started and no library loaded per layer
 *   lazy-node+profile  lazy-node with the access profile: how
 *                 "incrfs-image pull --node" starts an image that has one
 *   stargz        stargz_start(): stargz-snapshotter's own FUSE layer
 *                 store on the image converted to eStargz (B_STARGZ),
 *                 fetching from the same registry, verifying each chunk
 *                 as it does by default (registry server, not local)
 * and the bytes each moved over the link.  The order of the series is
 * rotated every round.  After each pull, the program alone runs from the
 * unpacked layers with caches dropped (series "program", information: no
 * start can be faster); for each lazy start, the time until the program
 * starts (figure .._setup: metadata fetched, everything mounted, feeders
 * started), and where its time went (figure .._stages, per start: the
 * setup, the slowest feeder's start until it served, the readers' summed
 * wait, the misses, and per miss incrfsd served the mean time of each
 * stage, from incrfsd --stats-file).
 *
 * The workloads (B_WORKLOAD, comma-separated): py (python3 importing json,
 * email, http.client), app (the Debian image's /app/main.py: yaml, jinja2,
 * requests, numpy), small (grep through every file of python3's
 * dist-packages: many small files read whole).
 *
 * Why this exists: a local blob makes fetching everything almost free and
 * hides what users feel: each request costs a round trip, and a lazy start
 * that sends its misses one after another multiplies the link's latency.
 *
 * The shaping: netem on lo (MTU 1500) delays each packet by half the round
 * trip and limits the rate; request and answer both cross lo once, so the
 * round trip is the profile's.  B_NET (env, default "wan") picks the
 * profiles, comma-separated: local (files, no server: cp and a blob
 * path), lan (1 Gbit/s, 0.5 ms), wan (100 Mbit/s, 20 ms), slow
 * (10 Mbit/s, 40 ms).
 *
 * The server (B_SERVER): "registry", Debian's docker-registry
 * (distribution 2.x) with the three files pushed as blobs of one
 * repository, fetched through the registry API as users' runtimes do, on
 * connections kept alive; "cdn" (the default), the same registry
 * answering each blob read with a redirect to nginx serving its storage
 * directory, as Docker Hub, GHCR, ECR and GCR send blob reads to a CDN or
 * object storage (each client follows it: wget, incrfsd, stargz); or
 * "httpd", busybox httpd serving the files, which closes the connection
 * after every answer, so each request also pays a TCP handshake (one
 * more round trip per miss).  Under TCG, docker-registry costs about
 * 0.1 s of CPU per request, on the two CPUs the start runs on: the stage
 * table shows the server's CPU beside the guest's.
 */
#include "tests/bench/coldstart.h"

static const char *const series[] = {
	"pull", "lazy", "lazy+profile", "lazy-1conn", "lazy-node",
	"lazy-node+profile", "stargz",
};
/* incrfsd --node of the lazy-node series, or -1 */
static pid_t node_daemon = -1;
/* the blob server (docker-registry or busybox httpd), and its CDN */
static pid_t server_pid = -1, cdn_pid = -1;
/* The stargz peer's image is in the registry (B_STARGZ staged, pushed). */
static bool with_stargz;
#define NSERIES (sizeof(series) / sizeof(series[0]))

/* Figure names: net_<profile>[_<workload>]<suffix>, py unsuffixed. */
static void fig_name(char *buf, size_t len, const struct net_profile *np,
		     const struct workload *w, const char *suffix)
{
	snprintf(buf, len, "net_%s%s%s%s", np->name,
		 strcmp(w->name, "py") ? "_" : "",
		 strcmp(w->name, "py") ? w->name : "", suffix);
}

/*
 * CPU seconds spent so far: the guest's, on all CPUs together (every
 * state but idle and iowait), or (@pid > 0) process @pid's and its
 * reaped children's.  Where the start waits for the CPUs the emulated
 * guest shares with its server, not for the link, these say so.
 */
static double cpu_s(pid_t pid)
{
	unsigned long long v[10] = { 0 }, busy = 0;
	char path[64], buf[1024], *p;
	FILE *f;
	int i, n;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(pid > 0 ? path : "/proc/stat", "re");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p)
		return 0;
	if (pid > 0) {
		/* after "(comm)": state is field 3, utime..cstime 14..17 */
		p = strrchr(buf, ')');
		n = p ? sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
			       &v[0], &v[1], &v[2], &v[3]) : 0;
		for (i = 0; i < n; i++)
			busy += v[i];
	} else {
		n = sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7]);
		for (i = 0; i < n; i++)
			if (i != 3 && i != 4)	/* idle, iowait */
				busy += v[i];
	}
	return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds the blob server (and its CDN) spent so far. */
static double server_cpu_s(void)
{
	return cpu_s(server_pid) + cpu_s(cdn_pid);
}

static void run_profile(struct th_test *_metadata,
			const struct net_profile *np,
			const struct workload *w, int runs)
{
	char fig[64], bytes_fig[64], fetched_fig[64], misses_fig[64];
	char setup_fig[64], stages_fig[64], key[64];
	struct lazy_stages sg;
	struct incrfs_stats st;
	unsigned int i;
	double b0, t, setup, cpu0, srv0;
	int run;

	fig_name(fig, sizeof(fig), np, w, "");
	fig_name(bytes_fig, sizeof(bytes_fig), np, w, "_bytes");
	fig_name(fetched_fig, sizeof(fetched_fig), np, w, "_fetched");
	fig_name(misses_fig, sizeof(misses_fig), np, w, "_misses");
	fig_name(setup_fig, sizeof(setup_fig), np, w, "_setup");
	fig_name(stages_fig, sizeof(stages_fig), np, w, "_stages");
	cs_local = !np->netem;
	ASSERT_EQ(shape(np->netem), 0);
	B_INFO("network %s: netem %s on lo, MTU 1500; workload %s: %s",
	       np->name, np->netem, w->name, w->cmd);
	for (run = 0; run < runs; run++) {
		for (i = 0; i < NSERIES; i++) {
			const char *s = series[(i + run) % NSERIES];

			/* what connections buy: py alone, three runs */
			if (!strcmp(s, "lazy-1conn") &&
			    (w != &workloads[0] || run >= 3))
				continue;
			if (!strcmp(s, "stargz") && (!with_stargz || cs_local))
				continue;
			if (!strncmp(s, "lazy-node", 9) && node_daemon <= 0)
				continue;
			b0 = lo_bytes();
			cpu0 = cpu_s(0);
			srv0 = server_cpu_s();
			if (!strcmp(s, "pull")) {
				double prog;

				t = pull_start(w, &prog);
				EXPECT_TRUE(t <= 0 || prog > 0)
					TH_LOG("%s: the program alone failed",
					       w->name);
				if (t > 0 && prog > 0)
					b_sample(fig, "program", prog);
			} else if (!strcmp(s, "stargz")) {
				t = stargz_start(w);
			} else {
				t = lazy_start(s, w, &st, &setup, &sg);
				if (t > 0)
					b_sample(setup_fig, s, setup);
#define STAGE(name, v) do {						\
		snprintf(key, sizeof(key), "%s/%s", s, name);		\
		b_sample(stages_fig, key, v);				\
	} while (0)
				if (t > 0) {
					STAGE("start", t);
					STAGE("setup", setup);
					STAGE("opened", sg.opened_s);
					STAGE("index", sg.index_s);
					STAGE("ready", sg.ready_s);
					STAGE("wait", sg.wait_s);
					STAGE("misses", st.misses);
					STAGE("requests", sg.io_n);
					STAGE("notify_ms", sg.notify_n ?
					      sg.notify_ms / sg.notify_n : 0);
					STAGE("io_ms", sg.io_n ?
					      sg.io_ms / sg.io_n : 0);
					STAGE("fill_ms", sg.fill_n ?
					      sg.fill_ms / sg.fill_n : 0);
				}
#undef STAGE
				if (t > 0 && !strcmp(s, "lazy"))
					b_sample(setup_fig, "total", t);
				b_sample(fetched_fig, s,
					 st.blocks_present * 4096.0 / (1 << 20));
				b_sample(fetched_fig, "layer",
					 st.blocks_total * 4096.0 / (1 << 20));
				b_sample(misses_fig, s, st.misses);
			}
			EXPECT_TRUE(t > 0) TH_LOG("%s %s %s failed", np->name,
						  w->name, s);
			if (t <= 0)
				continue;
			b_sample(fig, s, t);
			if (!cs_local)
				b_sample(bytes_fig, s,
					 (lo_bytes() - b0) / (1 << 20));
			/* every series, the pull's program run included */
			snprintf(key, sizeof(key), "%s/cpu", s);
			b_sample(stages_fig, key, cpu_s(0) - cpu0);
			snprintf(key, sizeof(key), "%s/server_cpu", s);
			b_sample(stages_fig, key, server_cpu_s() - srv0);
			if (strcmp(s, "pull") && strcmp(s, "stargz"))
				continue;
			snprintf(key, sizeof(key), "%s/start", s);
			b_sample(stages_fig, key, t);
		}
	}
	EXPECT_EQ(shape(NULL), 0);
}

/* Is @name in the comma-separated @list? */
static bool listed(const char *list, const char *name)
{
	char l[256], pat[64];

	snprintf(l, sizeof(l), ",%s,", list);
	snprintf(pat, sizeof(pat), ",%s,", name);
	return strstr(l, pat);
}

TEST_TIMEOUT(network_cold_start, 7000)
{
	const char *want = getenv("B_NET") ? getenv("B_NET") : "wan";
	const char *server = getenv("B_SERVER") ? getenv("B_SERVER") :
			     "cdn";
	const char *wl = getenv("B_WORKLOAD") && *getenv("B_WORKLOAD") ?
			 getenv("B_WORKLOAD") : "py";
	int runs = b_env("B_RUNS", B_RUNS);
	size_t i, j;

	snprintf(tc, sizeof(tc), "%s/tc", getenv("B_BIN") ? getenv("B_BIN") :
		 "/usr/sbin");
	ASSERT_EQ(shape("delay 1ms"), 0)
		TH_LOG("netem does not work here (%s, sch_netem)", tc);
	ASSERT_EQ(shape(NULL), 0);
	ASSERT_EQ(b_disk(), 0);
	ASSERT_EQ(image_files(), 0);
	for (j = 0; j < sizeof(workloads) / sizeof(workloads[0]); j++)
		if (listed(wl, workloads[j].name))
			ASSERT_EQ(record_profiles(&workloads[j]), 0);
	if (!strcmp(server, "httpd")) {
		server_pid = start_httpd();
		ASSERT_GT(server_pid, 0) TH_LOG("busybox httpd did not answer");
	} else {
		bool cdn = !strcmp(server, "cdn");
		const char *why = "";

		if (!cdn)
			ASSERT_STREQ(server, "registry");
		server_pid = start_servers(cdn, &cdn_pid, &why);
		ASSERT_GT(server_pid, 0) TH_LOG("%s", why);
		if (stargz_ready()) {
			ASSERT_EQ(push_layout(getenv("B_STARGZ"), SG_REPO), 0);
			with_stargz = true;
		}
	}
	if (!with_stargz)
		B_INFO("network: no stargz series (%s)", stargz_ready() ?
		       "it needs the registry server" :
		       "stargz-peer not staged: make deps");
	node_daemon = start_node_daemon();
	EXPECT_GT(node_daemon, 0) TH_LOG("incrfsd --node did not start");
	B_INFO("network: server %s, %d layers, top blob %s", server, nlayers,
	       layers[nlayers - 1].blob);
	for (j = 0; j < sizeof(workloads) / sizeof(workloads[0]); j++) {
		if (!listed(wl, workloads[j].name))
			continue;
		for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
			if (listed(want, profiles[i].name))
				run_profile(_metadata, &profiles[i],
					    &workloads[j], runs);
	}
	if (node_daemon > 0)
		b_stop(node_daemon);
	b_stop(server_pid);
	if (cdn_pid > 0)
		b_stop(cdn_pid);
	iu_sh("rm -rf " L "/pull " L "/run*.img " L "/registry " L
	      "/node-state " L "/nginx");
}

TEST_HARNESS_MAIN
