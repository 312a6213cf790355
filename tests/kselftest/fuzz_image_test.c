// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_image_test.c - thousands of corrupted images, mounted and read in
 * the real kernel: no oops, no WARNING, no hang, only clean errors.
 *
 * Why this exists: an image comes from elsewhere (a registry, a cache, a
 * disk that lies), and the kernel parses it.  A small but feature-rich
 * tree (nested directories, a 12-entry directory, empty/1-byte/4096/4097
 * byte files, holes, a hard link, short and long and dangling symlinks,
 * fifo, devices, an overlayfs whiteout, a socket, trusted.* and
 * security.* xattrs) is packed once with incrfs-pack --full; a copy with
 * two blocks missing serves as the "lazy" base.  Each test then mutates
 * copies of a base image in one way (fuzz_mutate.h: bit flips,
 * truncation, every field of every on-disk struct, type confusion, ...),
 * and for each one mounts it (timeout=50, so a missing block costs 50 ms),
 * walks it (fuzz_walk.h: readdir, lstat, readlink, xattrs, read, mmap,
 * ioctl) and unmounts it.  Images of the lazy base are first FILLed
 * through the control fd as a feeder would (every data block, and a few
 * blocks by inode), so the fill path meets the damage too.  Errors must have an errno from fuzz_walk.h's
 * lists; a crash, a case running past FZ_CASE_SECS or a hang fails the
 * test, prints the image (tests/fuzz/extract-crashers.sh turns it into a
 * regression image) and stops.  The kernel's taint flags must not gain
 * D, W or L; run-guest.sh scans dmesg as well.
 *
 * Cases run in FZ_WORKERS child processes at once (one image file and
 * mount point each), FZ_BATCH cases per child, so a kernel bug that kills
 * the child is caught and pinned to its case without a fork per image.
 *
 * Reproducing: every case has its own random stream from (seed, kind,
 * index), so it can be replayed alone.  Environment:
 *   INCRFS_FUZZ_SEED     the seed (default: a new one every run, printed)
 *   INCRFS_FUZZ_COUNT    images in total (default 10000, 2000 on a debug
 *                        kernel: fuzz_util.h), shared by the kinds by
 *                        fz_weight; the lazy base gets a quarter of
 *                        that again for its kinds
 *   INCRFS_FUZZ_FIRST    index of the first case of each kind (default 0)
 *   INCRFS_FUZZ_ONLY     kind,kind,... : only these tests (their TAP names,
 *                        e.g. inode,lazy_multi); the others skip
 *   INCRFS_FUZZ_VERBOSE  1: print every case before it is mounted
 *   INCRFS_FUZZ_DUMP     1: print every case's image too (20 at most)
 *   INCRFS_FUZZ_LOUD     1: keep kernel messages on the console
 *   INCRFS_FUZZ_SELFTEST crash, slow or hang: a worker fakes that at its
 *                        fourth case; the tests must then fail, naming
 *                        the case and printing its image
 * Through run-guest.sh: --append "INCRFS_FUZZ_SEED=5 INCRFS_FUZZ_ONLY=dirent".
 */
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include "tests/kselftest/harness.h"
#include "tests/kselftest/incrfs_util.h"
#include "tests/kselftest/fuzz_util.h"
#include "tests/kselftest/fuzz_walk.h"
#include "tests/kselftest/fuzz_mutate.h"

#define TOP		"/tmp/fuzzimg"
#define SRC		TOP "/src"
#define FULL		TOP "/full.img"
#define LAZY		TOP "/lazy.img"
#define FZ_WORKERS	2	/* = guest CPUs */
#define FZ_MAX_WORKERS	6	/* for kinds that mostly wait for timeouts */
#define FZ_BATCH	250
#define FZ_CASE_SECS	20	/* one image; alarm in the worker */
#define FZ_HANG_SECS	60	/* no progress at all: the kernel hangs */
#define FZ_OPTS		"timeout=50"
#define FZ_SLACK	(8 * 4096)	/* room to extend an image */

/* ---- the base tree and images ---- */

/*
 * A file of @len bytes of numbered text lines: it compresses well, so a
 * crasher printed into the test output stays short.
 */
static int text_file(const char *path, size_t len, unsigned int seed)
{
	char *buf = malloc(len + 64);
	size_t n = 0;
	int ret;

	if (!buf)
		return -1;
	while (n < len)
		n += (size_t)sprintf(buf + n, "file %u line %zu\n", seed, n);
	ret = iu_write_file(path, buf, len, 0644);
	free(buf);
	return ret;
}

static int fixed_mtime(const char *path, const struct stat *st, int type,
		       struct FTW *ftw)
{
	const struct timespec ts[2] = { { 1700000000, 123456789 },
					{ 1700000000, 123456789 } };

	(void)st;
	(void)type;
	(void)ftw;
	return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

static int build_tree(void)
{
	char path[PATH_MAX], longtarget[1001];
	int i;

	if (iu_sh("rm -rf " TOP " && mkdir -p " SRC "/d/e " SRC "/many "
		  SRC "/opaque " SRC "/emptydir"))
		return -1;
	if (iu_write_file(SRC "/empty", "", 0, 0644) ||
	    text_file(SRC "/one", 1, 1) ||
	    text_file(SRC "/exact", 4096, 2) ||
	    text_file(SRC "/plus1", 4097, 3) ||
	    text_file(SRC "/multi", 5 * 4096 + 7, 4) ||
	    text_file(SRC "/d/e/deep", 5000, 5) ||
	    text_file(SRC "/opaque/inner", 10, 6) ||
	    text_file(SRC "/small", 100, 7))
		return -1;
	/* blocks 0 and 2 written, 1 a hole, 3 a hole with a short tail */
	if (text_file(SRC "/holes", 4096, 8) ||
	    iu_sh("dd if=" SRC "/exact of=" SRC "/holes bs=4096 seek=2 "
		  "count=1 conv=notrunc 2>/dev/null") ||
	    truncate(SRC "/holes", 4 * 4096 + 10))
		return -1;
	/* 8 extents: blocks 0, 2, 4, ... 14 written, the others holes */
	if (text_file(SRC "/sparse", 4096, 9))
		return -1;
	for (i = 2; i < 16; i += 2)
		if (iu_sh("dd if=" SRC "/exact of=" SRC "/sparse bs=4096 "
			  "seek=%d count=1 conv=notrunc 2>/dev/null", i))
			return -1;
	for (i = 0; i < 12; i++) {
		snprintf(path, sizeof(path), SRC "/many/f%02d", i);
		if (text_file(path, i % 3 ? 0 : (size_t)i + 1, 20 + i))
			return -1;
	}
	memset(longtarget, 'x', 1000);
	longtarget[1000] = '\0';
	if (link(SRC "/plus1", SRC "/hard2") ||
	    symlink("exact", SRC "/link") ||
	    symlink("../d/e/deep", SRC "/d/uplink") ||
	    symlink("nowhere/at/all", SRC "/dangling") ||
	    symlink(longtarget, SRC "/longlink") ||
	    mkfifo(SRC "/fifo", 0600) ||
	    mknod(SRC "/null", S_IFCHR | 0666, makedev(1, 3)) ||
	    mknod(SRC "/whiteout", S_IFCHR, makedev(0, 0)) ||
	    mknod(SRC "/blockdev", S_IFBLK | 0600, makedev(7, 200)) ||
	    mknod(SRC "/sock", S_IFSOCK | 0600, 0))
		return -1;
	memset(longtarget, 'v', 300);
	if (setxattr(SRC "/opaque", "trusted.overlay.opaque", "y", 1, 0) ||
	    setxattr(SRC "/small", "trusted.t1", "value-one", 9, 0) ||
	    setxattr(SRC "/small", "trusted.empty", "", 0, 0) ||
	    setxattr(SRC "/small", "trusted.long", longtarget, 300, 0) ||
	    setxattr(SRC "/small", "security.s1", "sec", 3, 0) ||
	    setxattr(SRC "/d", "trusted.dir", "dv", 2, 0) ||
	    setxattr(SRC "/d/e/deep", "security.deep", "x", 1, 0))
		return -1;
	/* tmpfs has user.* xattrs only from 6.6 on */
	setxattr(SRC "/small", "user.color", "blue", 4, 0);
	/* fixed mtimes, so the same seed mutates the same bytes the same
	 * way on every run (fix_ctimes does the ctimes after packing) */
	return nftw(SRC, fixed_mtime, 16, FTW_PHYS);
}

/* The packer stores the source's ctimes, which are now: make them fixed
 * too (no checksum covers inodes). */
static int fix_ctimes(const char *image)
{
	struct incrfs_super_block sb;
	uint64_t i, off;
	uint8_t t[12];
	int fd = open(image, O_RDWR), ret = -1;

	fz_put(t, 4, 123456789);		/* i_ctime_nsec */
	fz_put(t + 4, 8, 1700000000);		/* i_ctime */
	if (fd < 0 || pread(fd, &sb, sizeof(sb), 0) != sizeof(sb))
		goto out;
	for (i = 0; i < le64toh(sb.s_inode_count); i++) {
		off = le64toh(sb.s_inode_off) + i * sizeof(struct incrfs_inode) +
		      offsetof(struct incrfs_inode, i_ctime_nsec);
		if (pwrite(fd, t, sizeof(t), (off_t)off) != sizeof(t))
			goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * The lazy base: the full image with two data blocks missing (bitmap bit
 * clear, data zeroed), as if a feeder had filled all but those.
 */
static int make_lazy(const struct fz_layout *L)
{
	static const char *const victims[] = { "multi", "d/e/deep" };
	uint8_t zero[4096] = { 0 }, byte;
	char path[PATH_MAX];
	unsigned int i;
	struct stat st;
	int fd, ret = -1;

	if (iu_sh("cp " FULL " " LAZY))
		return -1;
	fd = open(LAZY, O_RDWR);
	if (fd < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		uint64_t b;

		snprintf(path, sizeof(path), SRC "/%s", victims[i]);
		if (lstat(path, &st))
			goto out;
		/* the file's last data block: find its inode by size */
		for (b = 0; b < L->ninodes; b++)
			if (S_ISREG(L->inodes[b].ii.mode) &&
			    L->inodes[b].ii.size == (uint64_t)st.st_size &&
			    L->inodes[b].ii.nr_blocks)
				break;
		if (b == L->ninodes)
			goto out;
		b = L->inodes[b].ii.first_block + L->inodes[b].ii.nr_blocks - 1;
		if (pwrite(fd, zero, 4096, (off_t)(L->sb.data_off + b * 4096)) != 4096 ||
		    pread(fd, &byte, 1, (off_t)(L->sb.bitmap_off + b / 8)) != 1)
			goto out;
		byte &= (uint8_t)~(1u << (b % 8));
		if (pwrite(fd, &byte, 1, (off_t)(L->sb.bitmap_off + b / 8)) != 1)
			goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

struct fz_base {
	struct fz_layout L;
	uint8_t *bytes;		/* the image, with FZ_SLACK zero bytes after */
};

static struct fz_base fz_full, fz_lazy;

static int load_base(struct fz_base *b, const char *path, char *err,
		     size_t errlen)
{
	size_t len;
	uint8_t *p;

	if (fz_layout_load(&b->L, path, err, errlen))
		return -1;
	p = iu_slurp(path, &len);
	if (!p || len != b->L.size) {
		snprintf(err, errlen, "%s: cannot read it", path);
		return -1;
	}
	b->bytes = calloc(1, len + FZ_SLACK);
	if (!b->bytes)
		return -1;
	memcpy(b->bytes, p, len);
	free(p);
	return 0;
}

/* Build (first time) and load both base images. */
static int setup(char *err, size_t errlen)
{
	if (fz_full.bytes)
		return 0;
	if (access(TOP "/ready", F_OK)) {
		if (build_tree() ||
		    iu_sh("SOURCE_DATE_EPOCH=1700000000 incrfs-pack --full "
			  SRC " " FULL " >/dev/null") || fix_ctimes(FULL)) {
			snprintf(err, errlen, "building the base image failed");
			return -1;
		}
		if (load_base(&fz_full, FULL, err, errlen) ||
		    make_lazy(&fz_full.L) ||
		    iu_write_file(TOP "/ready", "", 0, 0644))
			return -1;
	} else if (load_base(&fz_full, FULL, err, errlen)) {
		return -1;
	}
	return load_base(&fz_lazy, LAZY, err, errlen);
}

/* ---- running cases in disposable workers ---- */

/* One worker's state, in memory shared with the parent. */
struct fz_slot {
	volatile uint64_t current;	/* case in progress */
	volatile uint64_t progress;	/* bumped at every case */
	char desc[FZ_DESC_LEN];		/* what the current case changed */
	struct fz_report rep;
};

struct fz_run {
	enum fz_kind kind;
	unsigned int workers;
	const struct fz_base *base;
	uint64_t seed, first, count;
	int verbose;
	const char *selftest;		/* INCRFS_FUZZ_SELFTEST */
	struct fz_slot *slots;		/* FZ_WORKERS, shared */
};

/* Build case @i into @buf; returns its length. */
static uint64_t fz_build_case(const struct fz_run *run, uint64_t i,
			      uint8_t *buf, char *desc, struct fz_rng *r)
{
	const struct fz_base *b = run->base;

	*r = fz_rng_for(run->seed, run->kind + (b == &fz_lazy ? 32 : 0), i);
	memcpy(buf, b->bytes, b->L.size + FZ_SLACK);
	desc[0] = '\0';
	return fz_mutate(run->kind, r, &b->L, buf, b->L.size, desc);
}

static int fz_write_image(const char *path, const uint8_t *buf, uint64_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n = fd < 0 ? -1 : write(fd, buf, len);

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

struct fz_trunc_arg {
	const char *image;
	uint64_t len;
	/* FZ_LIVE: the metadata range and the flipping process */
	uint64_t lo, hi, seed;
	pid_t flipper;
};

static void fz_truncate_image(void *p)
{
	struct fz_trunc_arg *a = p;

	if (truncate(a->image, (off_t)a->len))
		perror("truncate");
}

/* A process that flips bytes of [lo, hi) of the image until killed. */
static void fz_start_flipper(void *p)
{
	struct fz_trunc_arg *a = p;
	struct fz_rng r = { a->seed };
	int fd;

	a->flipper = fork();
	if (a->flipper)
		return;
	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive the worker */
	fd = open(a->image, O_RDWR);
	for (;;) {
		uint8_t b = (uint8_t)fz_next(&r);
		off_t off = (off_t)(a->lo + fz_below(&r, a->hi - a->lo));

		if (fd < 0 || pwrite(fd, &b, 1, off) != 1)
			_exit(1);
		if (fz_one_in(&r, 16))
			usleep(100);
	}
}

static void fz_stop_flipper(void *p)
{
	struct fz_trunc_arg *a = p;

	if (a->flipper > 0) {
		kill(a->flipper, SIGKILL);
		waitpid(a->flipper, NULL, 0);
	}
	a->flipper = 0;
}

/*
 * A second opinion: the userspace reader (tools/lib/image.h) claims to be
 * at least as strict as the kernel.  An image its full check accepts must
 * mount, and its walk may then fail only where a block is missing
 * (ETIMEDOUT); the kernel refusing it, or finding it corrupted, is a bug
 * in one of the two.  The reader stays open during the walk, and every
 * file the kernel reads whole must be the reader's bytes (fz_walk.h's
 * fz_oracle_compare).  Not for kinds that change the image once mounted,
 * nor through an overlay, nor for an image with unknown ro_compat
 * features: a reader may read it, the kernel, which writes every image it
 * mounts, refuses it.
 */
struct fz_oracle {
	int accepted, fd;
	uint64_t mounted, errors;
	struct incrfs_image img;
};

static uint64_t fz_walk_errors(const struct fz_report *rep)
{
	uint64_t n = 0;
	int e;

	for (e = 0; e < FZ_NERRNO; e++)
		if (e != ETIMEDOUT)
			n += rep->op_errno[e];
	return n;
}

static void fz_oracle_before(enum fz_kind kind, const char *image,
			     const struct fz_report *rep, struct fz_oracle *o)
{
	o->accepted = 0;
	o->fd = -1;
	o->mounted = rep->mounted;
	o->errors = fz_walk_errors(rep);
	if (kind == FZ_TRUNC_MOUNTED || kind == FZ_LIVE || kind == FZ_OVERLAY)
		return;
	o->fd = open(image, O_RDONLY);
	if (o->fd < 0)
		return;
	if (incrfs_image_open(&o->img, o->fd) == 0)
		o->accepted = incrfs_image_check(&o->img, false) == 0 &&
			      !(o->img.sb.feature_ro_compat &
				~(uint32_t)INCRFS_FEATURE_RO_COMPAT_SUPP);
	if (!o->accepted) {
		incrfs_image_close(&o->img);
		close(o->fd);
		o->fd = -1;
	}
}

static void fz_oracle_after(struct fz_report *rep, uint64_t case_id,
			    struct fz_oracle *o)
{
	struct fz_walk w = { .rep = rep, .case_id = case_id, .mnt = "" };

	if (!o->accepted)
		return;
	incrfs_image_close(&o->img);
	close(o->fd);
	rep->accepted++;
	if (rep->mounted == o->mounted)
		fz_problem(&w, "the reader's full check accepts the image, the kernel refused to mount it");
	else if (fz_walk_errors(rep) != o->errors)
		fz_problem(&w, "the reader's full check accepts the image, the kernel's walk met %llu errors",
			   (unsigned long long)(fz_walk_errors(rep) - o->errors));
}

/*
 * INCRFS_FUZZ_SELFTEST=crash|slow|hang: the worker misbehaves at its
 * fourth case as a kernel bug would make it, to check that the fuzzer
 * notices, names the case and prints its image.
 */
static void fz_selftest(const char *what)
{
	sigset_t all;

	if (!strcmp(what, "crash"))
		raise(SIGSEGV);
	if (!strcmp(what, "slow")) {
		alarm(1);
		pause();
	}
	if (!strcmp(what, "hang")) {
		/* not even the alarm ends it, as in an uninterruptible wait */
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		for (;;)
			pause();
	}
}

static void fz_worker(const struct fz_run *run, unsigned int w,
		      uint64_t from, uint64_t to)
{
	struct fz_slot *slot = &run->slots[w];
	const struct fz_base *b = run->base;
	char image[64], mnt[64], ovl[64];
	uint8_t *buf = malloc(b->L.size + FZ_SLACK);
	unsigned char *rbuf = malloc(FZ_READ_CAP);
	struct fz_oracle oracle;
	struct fz_rng r;
	uint64_t i, len;

	if (!buf || !rbuf)
		_exit(3);
	snprintf(image, sizeof(image), TOP "/w%u.img", w);
	snprintf(mnt, sizeof(mnt), TOP "/m%u", w);
	mkdir(mnt, 0755);
	snprintf(ovl, sizeof(ovl), TOP "/o%u", w);
	mkdir(ovl, 0755);
	mkdir(TOP "/empty", 0755);
	for (i = from; i < to; i++) {
		struct fz_trunc_arg ta = {
			image, 0, b->L.sb.inode_off, b->L.sb.hash_off, 0, 0,
		};
		struct fz_mount_opts mo = {
			.opts = FZ_OPTS, .arg = &ta,
			.after_mount = run->kind == FZ_TRUNC_MOUNTED ?
				       fz_truncate_image :
				       run->kind == FZ_LIVE ? fz_start_flipper :
				       NULL,
			.before_umount = run->kind == FZ_LIVE ?
					 fz_stop_flipper : NULL,
			.live = run->kind == FZ_LIVE,
			/* a lazy image gets what a feeder would give it */
			.fill_src = b == &fz_lazy ? fz_full.bytes +
				    fz_full.L.sb.data_off : NULL,
			.fill_blocks = fz_full.L.sb.nr_blocks,
			.overlay = run->kind == FZ_OVERLAY ? ovl : NULL,
			.overlay_empty = TOP "/empty",
		};

		slot->current = i;
		len = fz_build_case(run, i, buf, slot->desc, &r);
		if (run->kind == FZ_TRUNC_MOUNTED) {
			ta.len = fz_below(&r, b->L.size);
			snprintf(slot->desc, FZ_DESC_LEN,
				 "truncated to %llu while mounted",
				 (unsigned long long)ta.len);
		}
		if (run->kind == FZ_LIVE) {
			ta.seed = fz_next(&r);
			snprintf(slot->desc, FZ_DESC_LEN,
				 "metadata flipped while mounted (not replayable)");
		}
		slot->progress++;
		if (run->verbose) {
			printf("# case %s %llu: %s\n", fz_kind_name[run->kind],
			       (unsigned long long)i, slot->desc);
			fflush(stdout);
		}
		if (fz_write_image(image, buf, len))
			_exit(4);
		fz_oracle_before(run->kind, image, &slot->rep, &oracle);
		mo.oracle = oracle.accepted ? &oracle.img : NULL;
		if (i == run->first + 3 && run->selftest)
			fz_selftest(run->selftest);
		alarm(FZ_CASE_SECS);
		fz_mount_walk(&slot->rep, i, image, mnt, &mo, &r, rbuf);
		alarm(0);
		fz_oracle_after(&slot->rep, i, &oracle);
	}
	slot->current = ~0ULL;
	_exit(0);
}

/* Print case @i's image so it can become a regression image. */
static void fz_dump_case(const struct fz_run *run, uint64_t i, const char *why)
{
	const struct fz_base *b = run->base;
	uint8_t *buf = malloc(b->L.size + FZ_SLACK);
	char desc[FZ_DESC_LEN], name[128], path[160];
	struct fz_rng r;
	uint64_t len;

	if (!buf)
		return;
	len = fz_build_case(run, i, buf, desc, &r);
	if (run->kind == FZ_LIVE)
		printf("# (a live case: the image printed is only where it started)\n");
	printf("# %s: case %s %llu (seed %llu%s): %s\n", why,
	       fz_kind_name[run->kind], (unsigned long long)i,
	       (unsigned long long)run->seed,
	       b == &fz_lazy ? ", lazy base" : "", desc);
	/* the regression test reads the truncation length from the name */
	snprintf(name, sizeof(name), "%s-%s-s%llu-%llu", why,
		 fz_kind_name[run->kind], (unsigned long long)run->seed,
		 (unsigned long long)i);
	if (run->kind == FZ_TRUNC_MOUNTED)
		snprintf(name + strlen(name), sizeof(name) - strlen(name),
			 "-at%llu", (unsigned long long)fz_below(&r, b->L.size));
	if (b == &fz_lazy)
		snprintf(name + strlen(name), sizeof(name) - strlen(name),
			 "-lazy");
	snprintf(name + strlen(name), sizeof(name) - strlen(name), ".img");
	snprintf(path, sizeof(path), TOP "/%s", name);
	if (fz_write_image(path, buf, len) == 0)
		fz_dump_file(path, name);
	if (b == &fz_lazy) {
		/* what the walk filled it with: NAME.img.fill */
		strcat(path, ".fill");
		strcat(name, ".fill");
		if (fz_write_image(path, fz_full.bytes + fz_full.L.sb.data_off,
				   fz_full.L.sb.nr_blocks * 4096) == 0)
			fz_dump_file(path, name);
	}
	free(buf);
}

static double fz_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fz_sum(struct fz_report *to, const struct fz_report *r)
{
	unsigned int i;

	to->images += r->images;
	to->mounted += r->mounted;
	to->entries += r->entries;
	to->bytes += r->bytes;
	to->sigbus += r->sigbus;
	to->accepted += r->accepted;
	to->compared += r->compared;
	to->ns_mount += r->ns_mount;
	to->ns_walk += r->ns_walk;
	to->ns_umount += r->ns_umount;
	for (i = 0; i < FZ_NERRNO; i++) {
		to->mount_errno[i] += r->mount_errno[i];
		to->op_errno[i] += r->op_errno[i];
	}
	for (i = 0; i < r->nproblems && i < FZ_MAX_PROBLEMS; i++) {
		if (to->nproblems < FZ_MAX_PROBLEMS) {
			memcpy(to->problem[to->nproblems], r->problem[i],
			       FZ_PROBLEM_LEN);
			to->problem_case[to->nproblems] = r->problem_case[i];
		}
		to->nproblems++;
	}
	to->nproblems += r->nproblems > FZ_MAX_PROBLEMS ?
			 r->nproblems - FZ_MAX_PROBLEMS : 0;
}

static void fz_print_hist(const char *what, const uint64_t *h)
{
	char line[512];
	size_t n = 0;
	int e;

	line[0] = '\0';
	for (e = 0; e < FZ_NERRNO; e++)
		if (h[e])
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %s:%llu",
					      e ? strerrorname_np(e) : "other",
					      (unsigned long long)h[e]);
	printf("#   %s:%s\n", what, n ? line : " none");
}

/*
 * Run cases [first, first + count) of @kind on @base.  Returns 0, or -1
 * after printing why (the offending image included).
 */
static int fz_run_kind(enum fz_kind kind, const struct fz_base *base,
		       uint64_t count, unsigned int workers)
{
	struct fz_run run = {
		.kind = kind, .workers = workers, .base = base, .seed = fz_seed(),
		.first = fz_env_u64("INCRFS_FUZZ_FIRST", 0), .count = count,
		.verbose = (int)fz_env_u64("INCRFS_FUZZ_VERBOSE", 0),
		.selftest = getenv("INCRFS_FUZZ_SELFTEST"),
	};
	pid_t pid[FZ_MAX_WORKERS] = { 0 };
	uint64_t last_progress[FZ_MAX_WORKERS] = { 0 };
	double last_change[FZ_MAX_WORKERS] = { 0 };
	uint64_t next = run.first, end = run.first + count, i;
	/* batches of FZ_BATCH, smaller if that keeps every worker busy */
	uint64_t batch = (count + workers - 1) / workers < FZ_BATCH ?
			 (count + workers - 1) / workers : FZ_BATCH;
	unsigned long taint0 = fz_tainted();
	struct fz_report sum = { 0 };
	double t0 = fz_now();
	int failed = 0, active = 0;
	unsigned int w;

	run.slots = mmap(NULL, FZ_MAX_WORKERS * sizeof(struct fz_slot),
			 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			 -1, 0);
	if (run.slots == MAP_FAILED)
		return -1;
	memset(run.slots, 0, FZ_MAX_WORKERS * sizeof(struct fz_slot));
	fflush(NULL);
	while (!failed && (next < end || active)) {
		for (w = 0; w < workers && next < end; w++) {
			uint64_t to = next + batch < end ? next + batch : end;

			if (pid[w])
				continue;
			run.slots[w].current = ~0ULL;
			pid[w] = fork();
			if (pid[w] < 0) {
				printf("# fork: %s\n", strerror(errno));
				failed = 1;
				pid[w] = 0;
				break;
			}
			if (pid[w] == 0)
				fz_worker(&run, w, next, to);
			next = to;
			active++;
			last_change[w] = fz_now();
		}
		usleep(20000);
		for (w = 0; w < workers; w++) {
			struct fz_slot *s = &run.slots[w];
			int st;

			if (!pid[w])
				continue;
			if (waitpid(pid[w], &st, WNOHANG) == pid[w]) {
				pid[w] = 0;
				active--;
				if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
					continue;
				failed = 1;
				if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM) {
					printf("# worker %u: case ran past %d s\n",
					       w, FZ_CASE_SECS);
					fz_dump_case(&run, s->current, "slow");
				} else if (WIFSIGNALED(st)) {
					printf("# worker %u killed by signal %d (%s)\n",
					       w, WTERMSIG(st),
					       strsignal(WTERMSIG(st)));
					if (s->current != ~0ULL)
						fz_dump_case(&run, s->current,
							     "crash");
				} else {
					printf("# worker %u exited with %d\n", w,
					       WEXITSTATUS(st));
				}
				continue;
			}
			if (s->progress != last_progress[w]) {
				last_progress[w] = s->progress;
				last_change[w] = fz_now();
			} else if (fz_now() - last_change[w] > FZ_HANG_SECS) {
				printf("# worker %u: no progress for %d s, the kernel hangs\n",
				       w, FZ_HANG_SECS);
				fz_dump_case(&run, s->current, "hang");
				/* the tests after this one would hang too */
				iu_write_file(TOP "/kernel-hung", "", 0, 0644);
				failed = 1;
			}
		}
	}
	for (w = 0; w < workers; w++) {
		if (!pid[w])
			continue;
		kill(pid[w], SIGKILL);
		/* a task stuck in the kernel may never go: do not wait long */
		for (i = 0; i < 50 && waitpid(pid[w], NULL, WNOHANG) == 0; i++)
			usleep(20000);
	}
	for (w = 0; w < workers; w++)
		fz_sum(&sum, &run.slots[w].rep);
	{
		double dt = fz_now() - t0;

		printf("# %s%s: seed %llu, %llu images in %.1f s (%.0f/s), %llu mounted, %llu passed the reader's check (%llu files read equal to the reader's), %llu entries, %llu KiB read, %llu SIGBUS\n",
		       fz_kind_name[kind], base == &fz_lazy ? " (lazy)" : "",
		       (unsigned long long)run.seed,
		       (unsigned long long)sum.images, dt,
		       dt > 0 ? (double)sum.images / dt : 0.0,
		       (unsigned long long)sum.mounted,
		       (unsigned long long)sum.accepted,
		       (unsigned long long)sum.compared,
		       (unsigned long long)sum.entries,
		       (unsigned long long)(sum.bytes >> 10),
		       (unsigned long long)sum.sigbus);
	}
	printf("#   time per image: mount %.2f ms, walk %.2f ms, umount %.2f ms\n",
	       sum.images ? sum.ns_mount / 1e6 / sum.images : 0.0,
	       sum.mounted ? sum.ns_walk / 1e6 / sum.mounted : 0.0,
	       sum.mounted ? sum.ns_umount / 1e6 / sum.mounted : 0.0);
	fz_print_hist("mount refused", sum.mount_errno);
	fz_print_hist("walk errors", sum.op_errno);
	for (i = 0; i < sum.nproblems && i < FZ_MAX_PROBLEMS; i++)
		printf("# problem in case %llu: %s\n",
		       (unsigned long long)sum.problem_case[i], sum.problem[i]);
	if (sum.nproblems) {
		printf("# %u problems (seed %llu)\n", sum.nproblems,
		       (unsigned long long)run.seed);
		fz_dump_case(&run, sum.problem_case[0], "errno");
		failed = 1;
	}
	/* INCRFS_FUZZ_DUMP=1: print every case (to harvest regression images) */
	if (fz_env_u64("INCRFS_FUZZ_DUMP", 0) && count <= 20)
		for (i = run.first; i < end; i++)
			fz_dump_case(&run, i, "case");
	if ((fz_tainted() & ~taint0) & FZ_TAINT_BAD) {
		printf("# the kernel got tainted: %lu -> %lu (D: oops, W: warning, L: soft lockup)\n",
		       taint0, fz_tainted());
		failed = 1;
	}
	munmap(run.slots, FZ_MAX_WORKERS * sizeof(struct fz_slot));
	return failed ? -1 : 0;
}

/* ---- how many images of each kind ---- */

static const unsigned int fz_weight[FZ_NKINDS] = {
	[FZ_BITFLIP] = 8, [FZ_BITFLIP_META] = 10, [FZ_TRUNCATE] = 3,
	[FZ_SUPER] = 10, [FZ_SUPER_CONSISTENT] = 5, [FZ_INODE] = 15,
	[FZ_DIRENT] = 12, [FZ_EXTENT] = 7, [FZ_XATTR] = 7, [FZ_SYMLINK] = 3,
	[FZ_BITMAP] = 1, [FZ_HASH] = 1, [FZ_REDIRECT] = 7, [FZ_MULTI] = 9,
	[FZ_TRUNC_MOUNTED] = 1, [FZ_OVERLAY] = 4, [FZ_LIVE] = 2,
};

static uint64_t fz_count_for(enum fz_kind kind)
{
	uint64_t total = fz_cases(10000), wsum = 0;
	unsigned int k;

	for (k = 0; k < FZ_NKINDS; k++)
		wsum += fz_weight[k];
	return (total * fz_weight[kind] + wsum - 1) / wsum;
}

/*
 * The console level while fuzzing: every corrupted record costs a kernel
 * log line, and printing thousands of them on the emulated serial console
 * would take longer than the fuzzing.  They all still go to the kernel
 * log, which run-guest.sh scans; only messages below KERN_ERR (emergency,
 * alert, critical) still reach the console at once.
 */
static int fz_console_level(int level)
{
	int old = -1;
	FILE *f = fopen("/proc/sys/kernel/printk", "r");

	if (f) {
		if (fscanf(f, "%d", &old) != 1)
			old = -1;
		fclose(f);
	}
	if (level >= 0) {
		f = fopen("/proc/sys/kernel/printk", "w");
		if (f) {
			fprintf(f, "%d", level);
			fclose(f);
		}
	}
	return old;
}

static void fz_test(struct th_test *_metadata, enum fz_kind kind, int lazy)
{
	const char *only = getenv("INCRFS_FUZZ_ONLY");
	char err[512], name[64];
	uint64_t n = fz_count_for(kind);
	int level, ret;

	snprintf(name, sizeof(name), ",%s%s,", lazy ? "lazy_" : "",
		 fz_kind_name[kind]);
	snprintf(err, sizeof(err), ",%s,", only ? only : "");
	if (only && *only && !strstr(err, name))
		SKIP(return, "not in INCRFS_FUZZ_ONLY=%s", only);

	ASSERT_NE(access(TOP "/kernel-hung", F_OK), 0)
		TH_LOG("an earlier test left a task hung in the kernel");
	ASSERT_EQ(setup(err, sizeof(err)), 0) TH_LOG("setup: %s", err);
	if (lazy)
		n = n / 4 + 1;
	level = fz_console_level(fz_env_u64("INCRFS_FUZZ_LOUD", 0) ? -1 : 3);
	/* a kind that mostly sleeps in 50 ms timeouts runs more at once */
	ret = fz_run_kind(kind, lazy ? &fz_lazy : &fz_full, n,
			  kind == FZ_BITMAP ? FZ_MAX_WORKERS : FZ_WORKERS);
	fz_console_level(level);
	ASSERT_EQ(ret, 0);
}

/* Directory entries in the image: what a walk lstat()s. */
static uint64_t fz_entries(const struct fz_layout *L)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < L->ndirs; i++)
		n += L->inodes[L->dirs[i]].ii.meta_count;
	return n;
}

/* The walker itself: the intact images give no error at all. */
TEST(base_images_walk_cleanly)
{
	struct fz_report rep = { 0 };
	unsigned char *rbuf = malloc(FZ_READ_CAP);
	struct fz_mount_opts mo = { .opts = FZ_OPTS };
	struct fz_rng r = { 1 };
	struct incrfs_image img;
	char err[512];
	int fd;

	ASSERT_NOT_NULL(rbuf);
	ASSERT_EQ(setup(err, sizeof(err)), 0) TH_LOG("setup: %s", err);
	mkdir(TOP "/m0", 0755);
	/* with the oracle: every file read whole equals the reader's */
	fd = open(FULL, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(incrfs_image_open(&img, fd), 0);
	mo.oracle = &img;
	ASSERT_EQ(fz_mount_walk(&rep, 0, FULL, TOP "/m0", &mo, &r, rbuf), 1);
	mo.oracle = NULL;
	incrfs_image_close(&img);
	close(fd);
	EXPECT_EQ(rep.nproblems, 0) TH_LOG("%s", rep.problem[0]);
	EXPECT_GT(rep.compared, 5);
	EXPECT_EQ(rep.entries, fz_entries(&fz_full.L));
	EXPECT_EQ(rep.sigbus, 0);
	EXPECT_GT(rep.bytes, 40000);
	for (int e = 0; e < FZ_NERRNO; e++)
		EXPECT_EQ(rep.op_errno[e], 0) TH_LOG("errno %d", e);
	/* the lazy one: two reads time out, nothing else fails */
	memset(&rep, 0, sizeof(rep));
	ASSERT_EQ(fz_mount_walk(&rep, 0, LAZY, TOP "/m0", &mo, &r, rbuf), 1);
	EXPECT_EQ(rep.nproblems, 0) TH_LOG("%s", rep.problem[0]);
	EXPECT_EQ(rep.op_errno[ETIMEDOUT], 2);
	free(rbuf);
}

#define FZ_TEST(name, kind)						\
	TEST_TIMEOUT(name, 600) { fz_test(_metadata, kind, 0); }
#define FZ_TEST_LAZY(name, kind)					\
	TEST_TIMEOUT(lazy_##name, 600) { fz_test(_metadata, kind, 1); }

FZ_TEST(bitflip, FZ_BITFLIP)
FZ_TEST(bitflip_meta, FZ_BITFLIP_META)
FZ_TEST(truncate, FZ_TRUNCATE)
FZ_TEST(super, FZ_SUPER)
FZ_TEST(super_consistent, FZ_SUPER_CONSISTENT)
FZ_TEST(inode, FZ_INODE)
FZ_TEST(dirent, FZ_DIRENT)
FZ_TEST(extent, FZ_EXTENT)
FZ_TEST(xattr, FZ_XATTR)
FZ_TEST(symlink, FZ_SYMLINK)
FZ_TEST(bitmap, FZ_BITMAP)
FZ_TEST(hash, FZ_HASH)
FZ_TEST(redirect, FZ_REDIRECT)
FZ_TEST(multi, FZ_MULTI)
FZ_TEST(trunc_mounted, FZ_TRUNC_MOUNTED)
FZ_TEST(overlay, FZ_OVERLAY)
FZ_TEST(live, FZ_LIVE)
FZ_TEST_LAZY(inode, FZ_INODE)
FZ_TEST_LAZY(extent, FZ_EXTENT)
FZ_TEST_LAZY(bitmap, FZ_BITMAP)
FZ_TEST_LAZY(hash, FZ_HASH)
FZ_TEST_LAZY(multi, FZ_MULTI)

TEST_HARNESS_MAIN
