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

/*
 * One lazy start: a fresh copy of the layer mounted, incrfsd run as
 * @argv, B_PY_CMD run in a chroot of the mount.  The seconds from the
 * mount to its first output; the mount's counters (before umount) into @st.
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
	t = b_first_output(L "/m");
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

	ASSERT_EQ(b_python_layer(L), 0);
	ASSERT_EQ(b_record_profile(L), 0);

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
		t = b_first_output(L "/pull/root");
		ASSERT_TRUE(t > 0);
		b_sample("coldstart", "unpack", t - t0);

		/* the program alone, nothing to fetch: what any start needs */
		b_drop_caches();
		t0 = b_now();
		t = b_first_output(L "/pull/root");
		ASSERT_TRUE(t > 0);
		b_sample("coldstart", "program", t - t0);
	}
	iu_sh("rm -rf " L "/pull");
}

TEST_HARNESS_MAIN
