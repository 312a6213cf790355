// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench4_coldstart_test.c - figure 6 of "make bench": cold start of a real
 * program.  Time to the first output of python3 importing json, email and
 * http.client, run in a chroot of (a) the layer mounted lazily from incrfs
 * while incrfsd fetches what it reads, vs (b) the classic pull: copy the
 * whole layer (tar.zst) and unpack it, then run, vs (c) lazily with an
 * access profile of that start (recorded once with -o access_log and
 * incrfsctl profile record, then incrfsd --prefetch-profile), vs (d) the
 * program alone from the unpacked layer, caches dropped: the floor of any
 * start.  Also how much of the layer the lazy starts fetched.
 *
 * Why this exists: this is the job incrfs is for.  The blob and the
 * tar.zst stand for the registry: both are on the same ext4, read cold.
 */
#include "tests/kselftest/harness.h"
#include "tests/bench/bench.h"

#define L	B_ROOT "/layer"
#define CMD	"python3 -c \"import json, email, http.client; print('up', " \
		"flush=True)\""

/*
 * The b_now() time of the first line CMD prints when run in a chroot of
 * @root, or -1.  The root gets the guest's /dev bound on its /dev, as a
 * container runtime gives one: early after boot the kernel's random pool
 * may not be ready, and python then reads /dev/urandom or aborts.
 */
static double first_output(const char *root)
{
	double first = -1;
	char line[256], dev[256], cmd[512];
	FILE *p;

	snprintf(dev, sizeof(dev), "%s/dev", root);
	snprintf(cmd, sizeof(cmd), "chroot %s /usr/bin/" CMD, root);
	if (mount("/dev", dev, NULL, MS_BIND | MS_REC, NULL)) {
		printf("# bind-mount /dev on %s: %s\n", dev, strerror(errno));
		return -1;
	}
	fflush(NULL);
	p = popen(cmd, "r");
	if (p) {
		while (fgets(line, sizeof(line), p))
			if (first < 0)
				first = b_now();
		if (pclose(p))
			first = -1;
	}
	umount2(dev, MNT_DETACH);
	return first;
}

/* Record L/app.profile: one lazy start on an access_log mount. */
static int record_profile(void)
{
	const char *argv[] = { "incrfsd", "--source", L "/layer.blob",
			       L "/m", NULL };
	pid_t feeder;
	int ret = -1;

	if (b_fresh_image(L "/layer.img", L "/run.img") ||
	    iu_mount(L "/run.img", L "/m", "timeout=60000,access_log")) {
		printf("# record_profile: mount: %s\n", strerror(errno));
		return -1;
	}
	feeder = b_spawn("/tmp/bench4.log", argv);
	if (feeder <= 0)
		printf("# record_profile: cannot start incrfsd\n");
	else if (first_output(L "/m") <= 0)
		printf("# record_profile: the program failed\n");
	else if (iu_sh("incrfsctl profile record " L "/m > " L "/app.profile"))
		printf("# record_profile: incrfsctl profile record failed\n");
	else
		ret = 0;
	if (feeder > 0)
		b_stop(feeder);
	umount(L "/m");
	if (ret)
		iu_sh("sed 's/^/# incrfsd: /' /tmp/bench4.log | tail -n 20");
	return ret;
}

/*
 * One lazy start: a fresh copy of the layer mounted, incrfsd run as
 * @argv, CMD run in a chroot of the mount.  The seconds from the mount to
 * CMD's first output; the mount's counters (before umount) into @st.
 */
static double lazy_start(struct th_test *_metadata, const char *const argv[],
			 struct incrfs_stats *st)
{
	double t0, t;
	pid_t feeder;

	ASSERT_EQ(b_fresh_image(L "/layer.img", L "/run.img"), 0);
	b_drop_caches();
	t0 = b_now();
	ASSERT_EQ(iu_mount(L "/run.img", L "/m", "timeout=60000"), 0);
	feeder = b_spawn("/tmp/bench4.log", argv);
	ASSERT_GT(feeder, 0);
	t = first_output(L "/m");
	ASSERT_TRUE(t > 0);
	ASSERT_EQ(iu_get_stats(L "/m", st), 0);
	b_stop(feeder);
	ASSERT_EQ(umount(L "/m"), 0);
	return t - t0;
}

TEST_TIMEOUT(cold_start, 3000)
{
	int runs = b_env("B_RUNS", B_RUNS), run;
	struct incrfs_stats st;
	double t0, t;

	ASSERT_EQ(b_disk(), 0);
	/* the layer: python3, its libraries and stdlib, the guest's layout */
	ASSERT_EQ(iu_sh("rm -rf " L " && mkdir -p " L "/src/usr/bin "
			L "/src/usr/lib " L "/src/tmp " L "/src/dev && "
			"cp /usr/bin/python3 " L "/src/usr/bin/ && "
			"cp -a /usr/lib/python3.11 " L "/src/usr/lib/ && "
			"rm -rf " L "/src/usr/lib/python3.11/test && "
			"for d in /lib /lib64 /usr/lib64 /usr/lib/x86_64-linux-gnu; do "
			"[ -e $d ] || [ -L $d ] || continue; "
			"mkdir -p " L "/src$(dirname $d) && cp -a $d " L "/src$d; "
			"done"), 0);
	ASSERT_EQ(iu_sh("incrfs-pack " L "/src " L "/layer.img --blob " L
			"/layer.blob >/dev/null"), 0);
	ASSERT_EQ(iu_sh("tar -C " L "/src -cf - . | zstd -q -3 -o " L
			"/layer.tar.zst"), 0);
	iu_sh("echo \"# bench: INFO cold start layer: $(du -sm " L "/src | "
	      "cut -f1) MiB tree, tar.zst $(du -m " L "/layer.tar.zst | "
	      "cut -f1) MiB, blob $(du -m " L "/layer.blob | cut -f1) MiB\"");
	ASSERT_EQ(record_profile(), 0);
	iu_sh("echo \"# bench: INFO cold start profile: $(grep -c '^[0-9]' "
	      L "/app.profile) ranges\"");

	for (run = 0; run < runs; run++) {
		const char *argv[] = { "incrfsd", "--source", L "/layer.blob",
				       L "/m", NULL };
		const char *pargv[] = { "incrfsd", "--prefetch-profile",
					L "/app.profile", "--source",
					L "/layer.blob", L "/m", NULL };

		/* (a) lazily: mount, feeder, run */
		b_sample("coldstart", "lazy", lazy_start(_metadata, argv, &st));
		b_sample("coldstart_fetched", "lazy",
			 st.blocks_present * 4096.0 / (1 << 20));
		b_sample("coldstart_waited", "lazy", st.wait_ns / 1e9);
		b_sample("coldstart_misses", "lazy", st.misses);
		b_sample("coldstart_fetched", "layer",
			 st.blocks_total * 4096.0 / (1 << 20));

		/* (c) lazily, the profile's blocks fetched first */
		b_sample("coldstart", "lazy+profile",
			 lazy_start(_metadata, pargv, &st));
		b_sample("coldstart_fetched", "lazy+profile",
			 st.blocks_present * 4096.0 / (1 << 20));
		b_sample("coldstart_waited", "lazy+profile", st.wait_ns / 1e9);
		b_sample("coldstart_misses", "lazy+profile", st.misses);

		/* (b) pull the whole layer, unpack, run */
		iu_sh("rm -rf " L "/pull");
		b_drop_caches();
		t0 = b_now();
		ASSERT_EQ(iu_sh("mkdir -p " L "/pull/root && cp " L
				"/layer.tar.zst " L "/pull/ && zstd -q -dc " L
				"/pull/layer.tar.zst | tar -C " L
				"/pull/root -xf -"), 0);
		t = first_output(L "/pull/root");
		ASSERT_TRUE(t > 0);
		b_sample("coldstart", "unpack", t - t0);

		/* the program alone, nothing to fetch: what any start needs */
		b_drop_caches();
		t0 = b_now();
		t = first_output(L "/pull/root");
		ASSERT_TRUE(t > 0);
		b_sample("coldstart", "program", t - t0);
	}
	iu_sh("rm -rf " L "/pull");
}

TEST_HARNESS_MAIN
