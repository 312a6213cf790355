// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench6_network_test.c - figure 8 of "make bench": the cold start of
 * figure 6 with the blob a network away.  A server (an OCI registry, see
 * below) serves the layer on the guest's loopback, shaped by netem to a
 * network profile; from nothing on the node to python3's first line of
 * output:
 *   pull          fetch the layer's tar.zst, check its SHA-256, unpack it
 *                 onto ext4, run (what docker pull + run does)
 *   lazy          fetch the incrfs image's metadata, mount it, incrfsd
 *                 fills from the blob over HTTP, run
 *   lazy+profile  the same, incrfsd --prefetch-profile with the access
 *                 profile of this start (recorded once, locally)
 *   lazy-1conn    lazy with incrfsd --depth 1: one request at a time, one
 *                 connection (information: what one connection costs)
 * and the bytes each moved over the link.  The order of the series is
 * rotated every round.
 *
 * Why this exists: a local blob makes fetching everything almost free and
 * hides what users feel: each request costs a round trip, and a lazy start
 * that sends its misses one after another multiplies the link's latency.
 *
 * The shaping: netem on lo (MTU 1500) delays each packet by half the round
 * trip and limits the rate; request and answer both cross lo once, so the
 * round trip is the profile's.  B_NET (env, default "wan") picks the
 * profiles, comma-separated: lan (1 Gbit/s, 0.5 ms), wan (100 Mbit/s,
 * 20 ms), slow (10 Mbit/s, 40 ms).
 *
 * The server (B_SERVER): "registry" (default), Debian's docker-registry
 * (distribution 2.x) with the three files pushed as blobs of one
 * repository, fetched through the registry API as users' runtimes do, on
 * connections kept alive; or "httpd", busybox httpd serving the files,
 * which closes the connection after every answer, so each request also
 * pays a TCP handshake (one more round trip per miss).
 */
#include "tests/kselftest/harness.h"
#include "tests/bench/bench.h"
#include "tests/kselftest/registry_push.h"

#define L	B_ROOT "/layer"
#define SRV	L "/srv"
#define PORT	8471
#define HOST	"127.0.0.1:8471"
#define REPO	"bench/layer"
#define REGISTRY "/usr/bin/docker-registry"

/*
 * Where a start finds the layer: URLs of the image's metadata and of the
 * tar.zst (for wget), incrfsd's --source of the blob, and the tar.zst's
 * SHA-256 (hex), which the pull checks.
 */
static struct {
	char meta[256], tar[256], blob[256], tar_sha[72];
} at;

static const struct net_profile {
	const char *name, *netem;
} profiles[] = {
	{ "lan", "delay 250us rate 1gbit" },
	{ "wan", "delay 10ms rate 100mbit" },
	{ "slow", "delay 20ms rate 10mbit" },
};

static const char *const series[] = {
	"pull", "lazy", "lazy+profile", "lazy-1conn",
};
#define NSERIES (sizeof(series) / sizeof(series[0]))

/* Bytes that crossed lo so far (each byte once: lo's tx is its rx). */
static double lo_bytes(void)
{
	char buf[64] = "";
	int fd = open("/sys/class/net/lo/statistics/tx_bytes", O_RDONLY);

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		close(fd);
	}
	return strtod(buf, NULL);
}

/*
 * iproute2's tc, which run-bench.sh stages in B_BIN: the shell would run
 * busybox's tc applet (no netem) for a plain "tc" whatever PATH says.
 */
static char tc[PATH_MAX];

/* Shape lo with @netem, or (NULL) take the shaping away. */
static int shape(const char *netem)
{
	char cmd[PATH_MAX + 256];

	if (!netem) {
		snprintf(cmd, sizeof(cmd), "%s qdisc del dev lo root; "
			 "ip link set lo mtu 65536", tc);
		return iu_sh(cmd);
	}
	snprintf(cmd, sizeof(cmd), "ip link set lo mtu 1500 && "
		 "%s qdisc replace dev lo root netem %s limit 100000", tc,
		 netem);
	return iu_sh(cmd);
}

/*
 * The layer's files: the blob, the tar.zst (and its digest, which the pull
 * checks), and the image's metadata, i.e. the image up to its data region,
 * which a lazy start fetches before it mounts.  Returns the image's size
 * (the mount needs the whole size, the data region a hole).
 */
static off_t layer_files(void)
{
	struct incrfs_super_block sb;
	struct stat st;
	FILE *f;
	int fd;

	if (iu_sh("rm -rf " SRV " && mkdir -p " SRV " && "
		  "ln " L "/layer.blob " L "/layer.tar.zst " SRV "/ && "
		  "sha256sum " L "/layer.tar.zst | cut -d' ' -f1 > "
		  L "/layer.tar.zst.sha256") ||
	    b_fresh_image(L "/layer.img", SRV "/layer.meta"))
		return -1;
	f = fopen(L "/layer.tar.zst.sha256", "r");
	if (!f || fscanf(f, "%64s", at.tar_sha) != 1) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	fd = open(SRV "/layer.meta", O_RDWR);
	if (fd < 0 || fstat(fd, &st) ||
	    pread(fd, &sb, sizeof(sb), 0) != sizeof(sb) ||
	    ftruncate(fd, le64toh(sb.s_data_off))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	B_INFO("network: image metadata %.2f MiB of a %.1f MiB image",
	       le64toh(sb.s_data_off) / 1048576.0, st.st_size / 1048576.0);
	return st.st_size;
}

/* Is the server up?  It answers a GET of @path with 200. */
static int wait_answer(pid_t pid, const char *path)
{
	char resp[1024];
	int i;

	for (i = 0; pid > 0 && i < 1500; i++) {	/* 30 s: TCG is slow */
		if (rp_request(PORT, "GET", path, NULL, 0, resp,
			       sizeof(resp)) == 200)
			return 0;
		usleep(20000);
	}
	return -1;
}

static pid_t start_httpd(void)
{
	const char *argv[] = { "busybox", "httpd", "-f", "-p", HOST, "-h",
			       SRV, NULL };
	pid_t pid = b_spawn("/tmp/bench6-httpd.log", argv);

	if (wait_answer(pid, "/layer.meta")) {
		if (pid > 0)
			b_stop(pid);
		return -1;
	}
	snprintf(at.meta, sizeof(at.meta), "http://" HOST "/layer.meta");
	snprintf(at.tar, sizeof(at.tar), "http://" HOST "/layer.tar.zst");
	snprintf(at.blob, sizeof(at.blob), "http://" HOST "/layer.blob");
	return pid;
}

/* Push the file @name of SRV to the registry; its digest into @digest. */
static int push(const char *name, char digest[72])
{
	char path[PATH_MAX], why[512];
	unsigned char *blob;
	size_t len;
	int ret;

	snprintf(path, sizeof(path), SRV "/%s", name);
	blob = iu_slurp(path, &len);
	if (!blob)
		return -1;
	ret = rp_push_blob(PORT, REPO, blob, len, digest, why, sizeof(why));
	free(blob);
	if (ret)
		B_INFO("network: pushing %s failed: %s", name, why);
	return ret;
}

static pid_t start_registry(void)
{
	static const char config[] =
		"version: 0.1\n"
		"log:\n"
		"  level: warn\n"
		"storage:\n"
		"  filesystem:\n"
		"    rootdirectory: " L "/registry\n"
		"http:\n"
		"  addr: " HOST "\n";
	const char *argv[] = { REGISTRY, "serve", L "/registry.yml", NULL };
	char meta[72], tar[72], blob[72];
	pid_t pid;

	if (iu_sh("rm -rf " L "/registry") ||
	    iu_write_file(L "/registry.yml", config, sizeof(config) - 1,
			  0644))
		return -1;
	pid = b_spawn("/tmp/bench6-registry.log", argv);
	if (wait_answer(pid, "/v2/") || push("layer.meta", meta) ||
	    push("layer.tar.zst", tar) || push("layer.blob", blob)) {
		if (pid > 0)
			b_stop(pid);
		return -1;
	}
	snprintf(at.meta, sizeof(at.meta),
		 "http://" HOST "/v2/" REPO "/blobs/%s", meta);
	snprintf(at.tar, sizeof(at.tar),
		 "http://" HOST "/v2/" REPO "/blobs/%s", tar);
	snprintf(at.blob, sizeof(at.blob), "registry://" HOST "/" REPO "@%s",
		 blob);
	return pid;
}

/* pull: fetch, check the digest, unpack, run.  Seconds, or -1. */
static double pull_start(void)
{
	char cmd[1024];
	double t0, t;

	iu_sh("rm -rf " L "/pull && mkdir -p " L "/pull/root");
	b_drop_caches();
	t0 = b_now();
	snprintf(cmd, sizeof(cmd), "cd " L "/pull && "
		 "wget -q -O layer.tar.zst '%s' && "
		 "echo '%s  layer.tar.zst' | sha256sum -c -s - && "
		 "zstd -q -dc layer.tar.zst | tar -C root -xf -",
		 at.tar, at.tar_sha);
	if (iu_sh(cmd))
		return -1;
	t = b_first_output(L "/pull/root");
	return t > 0 ? t - t0 : -1;
}

/*
 * A lazy start as series @s: fetch the metadata, mount, incrfsd, run.
 * Seconds, or -1; the mount's counters into @st.
 */
static double lazy_start(const char *s, off_t img_size,
			 struct incrfs_stats *st)
{
	const char *argv[12] = { "incrfsd", "--source", at.blob };
	int argc = 3, fails = 0;
	char cmd[512];
	double t0, t;
	pid_t feeder;

	if (!strcmp(s, "lazy+profile")) {
		argv[argc++] = "--prefetch-profile";
		argv[argc++] = L "/app.profile";
	} else if (!strcmp(s, "lazy-1conn")) {
		argv[argc++] = "--depth";
		argv[argc++] = "1";
	}
	argv[argc++] = L "/m";
	argv[argc] = NULL;
	unlink(L "/run.img");
	b_drop_caches();
	t0 = b_now();
	snprintf(cmd, sizeof(cmd), "wget -q -O " L "/run.img '%s'", at.meta);
	if (iu_sh(cmd) ||
	    truncate(L "/run.img", img_size) ||
	    iu_mount(L "/run.img", L "/m", "timeout=120000"))
		return -1;
	feeder = b_spawn("/tmp/bench6.log", argv);
	t = feeder > 0 ? b_first_output(L "/m") : -1;
	if (t <= 0)
		iu_sh("tail -n 20 /tmp/bench6.log | sed 's/^/# incrfsd: /'");
	if (iu_get_stats(L "/m", st))
		fails++;
	if (feeder > 0)
		b_stop(feeder);
	if (umount(L "/m"))
		fails++;
	return t > 0 && !fails ? t - t0 : -1;
}

static void run_profile(struct th_test *_metadata,
			const struct net_profile *np, off_t img_size,
			int runs)
{
	char fig[64], bytes_fig[64], fetched_fig[64], misses_fig[64];
	struct incrfs_stats st;
	unsigned int i;
	double b0, t;
	int run;

	snprintf(fig, sizeof(fig), "net_%s", np->name);
	snprintf(bytes_fig, sizeof(bytes_fig), "net_%s_bytes", np->name);
	snprintf(fetched_fig, sizeof(fetched_fig), "net_%s_fetched",
		 np->name);
	snprintf(misses_fig, sizeof(misses_fig), "net_%s_misses", np->name);
	ASSERT_EQ(shape(np->netem), 0);
	B_INFO("network %s: netem %s on lo, MTU 1500", np->name, np->netem);
	for (run = 0; run < runs; run++) {
		for (i = 0; i < NSERIES; i++) {
			const char *s = series[(i + run) % NSERIES];

			b0 = lo_bytes();
			if (!strcmp(s, "pull")) {
				t = pull_start();
			} else {
				t = lazy_start(s, img_size, &st);
				b_sample(fetched_fig, s,
					 st.blocks_present * 4096.0 / (1 << 20));
				b_sample(fetched_fig, "layer",
					 st.blocks_total * 4096.0 / (1 << 20));
				b_sample(misses_fig, s, st.misses);
			}
			EXPECT_TRUE(t > 0) TH_LOG("%s %s failed", np->name, s);
			if (t <= 0)
				continue;
			b_sample(fig, s, t);
			b_sample(bytes_fig, s, (lo_bytes() - b0) / (1 << 20));
		}
	}
	EXPECT_EQ(shape(NULL), 0);
}

TEST_TIMEOUT(network_cold_start, 5000)
{
	const char *want = getenv("B_NET") ? getenv("B_NET") : "wan";
	const char *server = getenv("B_SERVER") ? getenv("B_SERVER") :
			     "registry";
	int runs = b_env("B_RUNS", B_RUNS);
	char list[256];
	off_t img_size;
	pid_t srv;
	size_t i;

	snprintf(tc, sizeof(tc), "%s/tc", getenv("B_BIN") ? getenv("B_BIN") :
		 "/usr/sbin");
	ASSERT_EQ(shape("delay 1ms"), 0)
		TH_LOG("netem does not work here (%s, sch_netem)", tc);
	ASSERT_EQ(shape(NULL), 0);
	ASSERT_EQ(b_python_layer(L), 0);
	ASSERT_EQ(b_record_profile(L), 0);
	img_size = layer_files();
	ASSERT_GT(img_size, 0);
	if (!strcmp(server, "httpd")) {
		srv = start_httpd();
		ASSERT_GT(srv, 0) TH_LOG("busybox httpd did not answer");
	} else {
		ASSERT_STREQ(server, "registry");
		ASSERT_EQ(access(REGISTRY, X_OK), 0)
			TH_LOG(REGISTRY " is missing (make deps)");
		srv = start_registry();
		ASSERT_GT(srv, 0) TH_LOG("docker-registry did not start");
	}
	B_INFO("network: server %s, blob %s", server, at.blob);
	snprintf(list, sizeof(list), ",%s,", want);
	for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		char pat[32];

		snprintf(pat, sizeof(pat), ",%s,", profiles[i].name);
		if (strstr(list, pat))
			run_profile(_metadata, &profiles[i], img_size, runs);
	}
	b_stop(srv);
	iu_sh("rm -rf " L "/pull " L "/run.img " L "/registry");
}

TEST_HARNESS_MAIN
