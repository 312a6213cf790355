// SPDX-License-Identifier: GPL-2.0-only
/*
 * lazy_python_test.c - the demo behind "make demo", run in the QEMU guest.
 *
 * What a container runtime does with incrfs: a layer holding a Python
 * installation is packed into an image (every block missing) and a blob,
 * mounted at once, stacked as the lower layer of an overlayfs root, and a
 * program starts from it while incrfsd fetches only the blocks it reads.
 * Then the same workload runs after fetching the whole layer first, for
 * comparison.  Lines starting with "# demo:" are the report; the single
 * TAP result says whether the demo itself worked.
 */
#include <signal.h>
#include <sys/statfs.h>
#include <time.h>
#include "tests/kselftest/harness.h"
#include "tests/kselftest/incrfs_util.h"

#define T	"/tmp/demo"
#define WORKLOAD "import json, email, http.client, urllib.parse; " \
		 "print('hello from a lazily loaded Python', flush=True)"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define REPORT(fmt, ...) printf("# demo: " fmt "\n", ##__VA_ARGS__)

static long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (long long)st.st_size;
}

static pid_t start_feeder(const char *blob, const char *mnt, int prefetch)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();

	if (pid == 0) {
		const char *argv[] = { "incrfsd", "--source", blob, mnt,
				       prefetch ? "--prefetch" : NULL, "all",
				       "--exit-when-complete", NULL };
		int fd = open(T "/incrfsd.log", O_WRONLY | O_CREAT | O_APPEND,
			      0644);

		dup2(fd, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static int stats_of(const char *mnt, struct incrfs_stats *st)
{
	int fd = open(mnt, O_RDONLY | O_DIRECTORY), ret;

	if (fd < 0)
		return -1;
	ret = ioctl(fd, INCRFS_IOC_GET_STATS, st);
	close(fd);
	return ret;
}

/*
 * Mount @img at @mnt, stack an overlay root on it, run the workload in a
 * chroot; return seconds to its first line of output (*total: to its end).
 */
static double run_workload(const char *root, double *total)
{
	char cmd[1024];
	double t0, first = -1;
	FILE *p;
	char line[256];

	snprintf(cmd, sizeof(cmd),
		 "chroot %s /usr/bin/python3 -c \"%s\" 2>" T "/workload.err",
		 root, WORKLOAD);
	fflush(NULL);
	t0 = now_s();
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		if (first < 0) {
			first = now_s() - t0;
			line[strcspn(line, "\n")] = '\0';
			REPORT("  workload printed: \"%s\"", line);
		}
	if (pclose(p) != 0) {
		iu_sh("sed 's/^/# demo: workload: /' " T "/workload.err | tail -n 15");
		return -1;
	}
	*total = now_s() - t0;
	return first;
}

static int stack_root(const char *lower, const char *dir)
{
	return iu_sh("mkdir -p %s/u %s/w %s/root && "
		     "mount -t overlay overlay -o lowerdir=%s,upperdir=%s/u,"
		     "workdir=%s/w %s/root && mkdir -p %s/root/dev %s/root/proc "
		     "%s/root/tmp && mount --bind /dev %s/root/dev && "
		     "mount -t proc proc %s/root/proc",
		     dir, dir, dir, lower, dir, dir, dir, dir, dir, dir, dir, dir);
}

static void unstack_root(const char *dir)
{
	iu_sh("umount %s/root/proc %s/root/dev %s/root 2>/dev/null", dir, dir,
	      dir);
}

TEST_TIMEOUT(lazy_python_container_start, 900)
{
	struct incrfs_stats st;
	double first, total, full_first, full_total, fetch_s, t0;
	long long img, blob, data;
	pid_t feeder;
	int status;

	REPORT("incrfs demo: start a Python \"container\" from a lazily loaded layer");
	iu_sh("echo \"# demo: kernel $(uname -r)\"");
	/* The layer: Python, its shared libraries and its standard library. */
	/* the guest's own layout: merged /usr or not, copied as it is */
	ASSERT_EQ(iu_sh("rm -rf " T " && mkdir -p " T "/src/usr/bin " T "/src/usr/lib "
			T "/src/tmp && cp /usr/bin/python3 " T "/src/usr/bin/ && "
			"cp -a /usr/lib/python3.11 " T "/src/usr/lib/ && "
			"rm -rf " T "/src/usr/lib/python3.11/test && "
			"for d in /lib /lib64 /usr/lib64 /usr/lib/x86_64-linux-gnu; do "
			"[ -e $d ] || [ -L $d ] || continue; "
			"mkdir -p " T "/src$(dirname $d) && cp -a $d " T "/src$d; done"),
		  0);
	t0 = now_s();
	ASSERT_EQ(iu_sh("incrfs-pack " T "/src " T "/layer.img --blob " T
			"/layer.blob >/dev/null"), 0);
	img = file_size(T "/layer.img");
	blob = file_size(T "/layer.blob");
	ASSERT_EQ(iu_sh("cp " T "/layer.img " T "/full.img"), 0);
	REPORT("packed the layer in %.1f s: image %lld MiB (all blocks missing), "
	       "blob %lld MiB (zstd)", now_s() - t0, img >> 20, blob >> 20);

	/* 1. lazily: mount, stack, run while incrfsd fetches what is read */
	ASSERT_EQ(iu_mount(T "/layer.img", T "/layer", "timeout=60000"), 0);
	ASSERT_EQ(stats_of(T "/layer", &st), 0);
	data = (long long)st.blocks_total * 4096;
	REPORT("mounted: %llu data blocks (%lld MiB), %llu present",
	       (unsigned long long)st.blocks_total, data >> 20,
	       (unsigned long long)st.blocks_present);
	feeder = start_feeder(T "/layer.blob", T "/layer", 0);
	ASSERT_GT(feeder, 0);
	ASSERT_EQ(stack_root(T "/layer", T "/lazy"), 0);
	first = run_workload(T "/lazy/root", &total);
	if (first <= 0)
		iu_sh("sed 's/^/# demo: incrfsd: /' " T "/incrfsd.log | tail -n 20");
	ASSERT_TRUE(first > 0);
	ASSERT_EQ(stats_of(T "/layer", &st), 0);
	REPORT("lazy start:      first output after %.2f s, done after %.2f s",
	       first, total);
	REPORT("  fetched %llu of %llu blocks (%.1f %% of the layer), "
	       "%llu reads waited for a block",
	       (unsigned long long)st.blocks_present,
	       (unsigned long long)st.blocks_total,
	       100.0 * st.blocks_present / st.blocks_total,
	       (unsigned long long)st.misses);
	unstack_root(T "/lazy");
	kill(feeder, SIGTERM);
	waitpid(feeder, &status, 0);
	ASSERT_EQ(umount(T "/layer"), 0);

	/* 2. fetch everything first, then run: what a full pull costs */
	iu_sh("echo 3 > /proc/sys/vm/drop_caches");
	ASSERT_EQ(iu_mount(T "/full.img", T "/full", "timeout=60000"), 0);
	t0 = now_s();
	feeder = start_feeder(T "/layer.blob", T "/full", 1);
	ASSERT_EQ(waitpid(feeder, &status, 0), feeder);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fetch_s = now_s() - t0;
	ASSERT_EQ(stats_of(T "/full", &st), 0);
	ASSERT_EQ(st.complete, 1);
	ASSERT_EQ(stack_root(T "/full", T "/fullroot"), 0);
	full_first = run_workload(T "/fullroot/root", &full_total);
	ASSERT_TRUE(full_first > 0);
	REPORT("full fetch first: fetching the whole layer took %.2f s, then first "
	       "output after %.2f s", fetch_s, full_first);
	REPORT("  time to first output: lazy %.2f s vs full fetch %.2f s "
	       "(%.2fx)", first, fetch_s + full_first,
	       first / (fetch_s + full_first));
	unstack_root(T "/fullroot");
	ASSERT_EQ(umount(T "/full"), 0);
	REPORT("the complete image mounts again with no feeder: a layer is "
	       "daemonless once fetched");
	ASSERT_EQ(iu_mount(T "/full.img", T "/full", "timeout=1000"), 0);
	ASSERT_EQ(stack_root(T "/full", T "/again"), 0);
	ASSERT_TRUE(run_workload(T "/again/root", &full_total) > 0);
	unstack_root(T "/again");
	ASSERT_EQ(umount(T "/full"), 0);
	REPORT("(times are from a QEMU TCG guest: compare them with each other, "
	       "not with real hardware)");
}

TEST_HARNESS_MAIN
