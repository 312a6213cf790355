// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_regress_test.c - every image the fuzzers ever caught misbehaving
 * still mounts (or is refused) and reads cleanly.
 *
 * Why this exists: a crasher found once must never crash again.  The
 * images live in tests/kselftest/fuzz_regress/ (also reachable as
 * tests/fuzz/regress/; tests/fuzz/extract-crashers.sh puts them there
 * from a guest log) and reach the guest as $INCRFS_TESTS/fuzz_regress/.
 * Each one (NAME.img, or NAME.img.gz as extract-crashers.sh stores them)
 * is copied or unpacked to /tmp (the kernel opens the image read-write),
 * then mounted, walked and unmounted exactly as the image fuzzer does
 * (fuzz_walk.h), in a child with a time limit: a crash, a hang, an errno
 * outside fuzz_walk.h's lists or a new D/W/L taint fails the test.
 * Images whose name contains "trunc_mounted-" were found by truncating
 * the image under the mount; the test does the same, to the length in
 * the name's "-at<N>" if there is one, else to half the image.  Those
 * with "overlay-" in their name are walked through an overlayfs.  An
 * image with a NAME.img.fill[.gz] next to it (a lazy one) is first FILLed
 * through its control fd from that file, data block 0 first, as the
 * image fuzzer does.
 */
#include <dirent.h>
#include "tests/kselftest/harness.h"
#include "tests/kselftest/incrfs_util.h"
#include "tests/kselftest/fuzz_util.h"
#include "tests/kselftest/fuzz_walk.h"

#define TOP	"/tmp/fuzzregress"

struct trunc_arg {
	const char *image;
	off_t len;
};

static void truncate_image(void *p)
{
	struct trunc_arg *a = p;

	if (truncate(a->image, a->len))
		perror("truncate");
}

/* Mount and walk @path in a child; 0 if all was well. */
static int check_image(const char *dir, const char *name,
		       struct fz_report *rep)
{
	char src[PATH_MAX + 256], image[] = TOP "/image.img", mnt[] = TOP "/mnt";
	struct trunc_arg ta = { image, 0 };
	unsigned char *fill;
	size_t fill_len;
	const char *at;
	struct stat st;
	pid_t pid;
	int status, i;

	snprintf(src, sizeof(src), "%s/%s", dir, name);
	if (iu_sh("gzip -dc '%s' > %s 2>/dev/null || cp '%s' %s", src, image,
		  src, image) || stat(image, &st))
		return -1;
	/* NAME.img.fill[.gz] for NAME.img[.gz] */
	snprintf(src, sizeof(src), "%s/%.*s.fill", dir,
		 (int)(strstr(name, ".img") - name + 4), name);
	iu_sh("gzip -dc '%s.gz' > " TOP "/fill 2>/dev/null || "
	      "cp '%s' " TOP "/fill 2>/dev/null || rm -f " TOP "/fill",
	      src, src);
	fill = iu_slurp(TOP "/fill", &fill_len);
	ta.len = st.st_size / 2;
	at = strstr(name, "-at");
	if (at)
		ta.len = strtoll(at + 3, NULL, 10);
	mkdir(mnt, 0755);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		unsigned char *buf = malloc(FZ_READ_CAP);
		struct fz_rng r = { 1 };

		alarm(60);
		if (!buf)
			_exit(3);
		struct fz_mount_opts mo = {
			.opts = "timeout=50", .arg = &ta,
			.after_mount = strstr(name, "trunc_mounted-") ?
				       truncate_image : NULL,
			.overlay = strstr(name, "overlay-") ? TOP "/ovl" : NULL,
			.overlay_empty = TOP "/empty",
			.fill_src = fill, .fill_blocks = fill_len / 4096,
		};

		mkdir(TOP "/ovl", 0755);
		mkdir(TOP "/empty", 0755);
		fz_mount_walk(rep, 0, image, mnt, &mo, &r, buf);
		_exit(0);
	}
	free(fill);
	/* a child stuck in the kernel may never exit: give up after 90 s */
	for (i = 0; i < 900 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(100000);
	if (i == 900) {
		printf("# %s: still running after 90 s: the kernel hangs\n",
		       name);
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("# %s: the walker died (status 0x%x)\n", name, status);
		umount2(mnt, MNT_DETACH);
		return -1;
	}
	return rep->nproblems ? -1 : 0;
}

TEST_TIMEOUT(regression_images, 900)
{
	const char *tests = getenv("INCRFS_TESTS");
	unsigned long taint0 = fz_tainted();
	struct fz_report *rep;
	struct dirent *de;
	char dir[200];
	int n = 0, bad = 0;
	unsigned int i;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/fuzz_regress", tests ? tests : "/tests");
	ASSERT_EQ(iu_sh("rm -rf " TOP " && mkdir -p " TOP), 0);
	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(rep, MAP_FAILED);
	d = opendir(dir);
	if (!d)
		SKIP(return, "no %s: no regression images shipped", dir);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if ((len < 5 || strcmp(de->d_name + len - 4, ".img")) &&
		    (len < 8 || strcmp(de->d_name + len - 7, ".img.gz")))
			continue;
		memset(rep, 0, sizeof(*rep));
		n++;
		if (check_image(dir, de->d_name, rep) == 0) {
			char errs[256] = "";
			size_t len = 0;
			int e;

			for (e = 1; e < FZ_NERRNO; e++)
				if (rep->op_errno[e] || rep->mount_errno[e])
					len += (size_t)snprintf(errs + len,
						sizeof(errs) - len, " %s:%llu",
						strerrorname_np(e),
						(unsigned long long)(rep->op_errno[e] +
								     rep->mount_errno[e]));
			printf("# %s: %s, %llu entries, errors:%s\n",
			       de->d_name, rep->mounted ? "mounted and walked" :
			       "refused", (unsigned long long)rep->entries,
			       len ? errs : " none");
			continue;
		}
		bad++;
		printf("# %s: FAILED\n", de->d_name);
		for (i = 0; i < rep->nproblems && i < FZ_MAX_PROBLEMS; i++)
			printf("#   %s\n", rep->problem[i]);
	}
	closedir(d);
	if (!n)
		SKIP(return, "no regression images yet in %s", dir);
	EXPECT_EQ(bad, 0);
	EXPECT_EQ((fz_tainted() & ~taint0) & FZ_TAINT_BAD, 0)
		TH_LOG("the kernel got tainted");
}

TEST_HARNESS_MAIN
