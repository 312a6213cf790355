/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bench.h - helpers shared by the benchmark programs run in the QEMU guest.
 *
 * Why this exists: every benchmark needs the same scratch ext4 file system
 * on the virtio-blk disk, the same source tree, cold caches between runs,
 * a clock, and one output format the host (run-bench.sh, report.py) turns
 * into the table.  Each program prints lines starting with "# bench: ":
 *   # bench: SAMPLE <figure> <series> <value>    one measured run
 *   # bench: INFO <free text>                    context for the report
 * Absolute times under TCG mean little; the host only compares series of
 * the same figure measured in the same boot.  Header-only: each *_test.c
 * is built alone.
 */
#ifndef INCRFS_BENCH_H
#define INCRFS_BENCH_H

#include <dirent.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include "tests/kselftest/incrfs_util.h"

#define B_DISK	"/dev/vda"
#define B_ROOT	"/bench"		/* ext4 on the scratch disk */
#define B_TREE	B_ROOT "/tree"		/* the source tree, plain files */
#define B_RUNS	5			/* runs per series (median of them) */

#define B_INFO(fmt, ...) printf("# bench: INFO " fmt "\n", ##__VA_ARGS__)

static inline double b_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void b_sample(const char *fig, const char *series, double v)
{
	printf("# bench: SAMPLE %s %s %.9g\n", fig, series, v);
	fflush(stdout);
}

/* Write back and drop the page cache, dentries and inodes. */
static inline void b_drop_caches(void)
{
	int fd;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "3", 1) != 1)
			perror("bench: drop_caches");
		close(fd);
	}
}

/* An environment knob with a default (run-bench.sh passes them on). */
static inline long b_env(const char *name, long def)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 10) : def;
}

/* Mount the scratch ext4 at B_ROOT, making it on first use. */
static inline int b_disk(void)
{
	struct stat a, b;

	const char *bin = getenv("B_BIN"), *path = getenv("PATH");
	char newpath[4096];

	/* run-bench.sh's own programs: mkfs.ext4, the FUSE loader */
	if (bin && path && !strstr(path, bin)) {
		snprintf(newpath, sizeof(newpath), "%s:%s", bin, path);
		setenv("PATH", newpath, 1);
	}
	mkdir(B_ROOT, 0755);
	if (!stat(B_ROOT, &a) && !stat("/", &b) && a.st_dev != b.st_dev)
		return 0;	/* already mounted */
	if (iu_sh("mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "
		  B_DISK))
		return -1;
	return mount(B_DISK, B_ROOT, "ext4", 0, NULL);
}

/*
 * The source tree of the read benchmarks: Python's standard library (many
 * small files) plus B_LARGE_FILES (env, default 64) files of 2 MiB of
 * incompressible data, like a container layer.  Made once per boot.
 */
static inline int b_tree(void)
{
	long n = b_env("B_LARGE_FILES", 64), i;
	char path[PATH_MAX];

	if (b_disk())
		return -1;
	if (!access(B_TREE "/.done", F_OK))
		return 0;
	if (iu_sh("rm -rf " B_TREE " && mkdir -p " B_TREE "/big && "
		  "cp -a /usr/lib/python3.11 " B_TREE "/ && "
		  "rm -rf " B_TREE "/python3.11/test"))
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), B_TREE "/big/f%03ld", i);
		if (iu_pattern_file(path, 2 << 20, 1000 + i))
			return -1;
	}
	sync();
	return iu_write_file(B_TREE "/.done", "", 0, 0644);
}

/* Every regular file below @dir, into a malloc'd array of paths. */
struct b_files {
	char **path;
	long long *size;
	size_t n, cap;
	long long total;
};

static struct b_files *b_walk_out;

static inline int b_walk_one(const char *p, const struct stat *st, int type,
			     struct FTW *ftw)
{
	struct b_files *f = b_walk_out;

	(void)ftw;
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 1024;
		f->path = realloc(f->path, f->cap * sizeof(*f->path));
		f->size = realloc(f->size, f->cap * sizeof(*f->size));
		if (!f->path || !f->size)
			return -1;
	}
	f->path[f->n] = strdup(p);
	f->size[f->n] = st->st_size;
	f->total += st->st_size;
	f->n++;
	return 0;
}

/* Paths are relative to @dir so one list serves every mount of the tree. */
static inline int b_list(const char *dir, struct b_files *f)
{
	size_t i, skip = strlen(dir);

	memset(f, 0, sizeof(*f));
	b_walk_out = f;
	if (nftw(dir, b_walk_one, 64, FTW_PHYS))
		return -1;
	for (i = 0; i < f->n; i++)
		memmove(f->path[i], f->path[i] + skip,
			strlen(f->path[i] + skip) + 1);
	return 0;
}

/* Read every listed file below @root to its end; bytes read or -1. */
static inline long long b_read_all(const char *root, const struct b_files *f)
{
	static char buf[1 << 17];
	char path[PATH_MAX];
	long long total = 0;
	size_t i;
	ssize_t r;

	for (i = 0; i < f->n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s%s", root, f->path[i]);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			return -1;
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			total += r;
		close(fd);
		if (r < 0)
			return -1;
	}
	return total;
}

/*
 * 0 if every listed file reads the same below @root as below @src (data
 * only); else prints the first that differs and returns -1.
 */
static inline int b_same_tree(const char *root, const char *src,
			      const struct b_files *f)
{
	char a[PATH_MAX], b[PATH_MAX];
	size_t i, la, lb;

	for (i = 0; i < f->n; i++) {
		unsigned char *da, *db;
		int same;

		snprintf(a, sizeof(a), "%s%s", root, f->path[i]);
		snprintf(b, sizeof(b), "%s%s", src, f->path[i]);
		da = iu_slurp(a, &la);
		db = iu_slurp(b, &lb);
		same = da && db && la == lb && !memcmp(da, db, la);
		free(da);
		free(db);
		if (!same) {
			printf("# %s differs from %s (or cannot be read)\n", a, b);
			return -1;
		}
	}
	return 0;
}

/* Start a program in the background, stderr to @log; its pid. */
static inline pid_t b_spawn(const char *log, const char *const argv[])
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static inline int b_stop(pid_t pid)
{
	int st;

	kill(pid, SIGTERM);
	return waitpid(pid, &st, 0) == pid ? st : -1;
}

/* Wait until @dir is a mount point of another file system (max 20 s). */
static inline int b_wait_mounted(const char *dir, dev_t parent)
{
	struct stat st;
	int i;

	for (i = 0; i < 2000; i++) {
		if (!stat(dir, &st) && st.st_dev != parent)
			return 0;
		usleep(10000);
	}
	return -1;
}

static inline int b_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * A fresh copy of a lazy image @src at @dst: everything before the data
 * region, then a hole up to the size (every block missing again).
 */
static inline int b_fresh_image(const char *src, const char *dst)
{
	struct incrfs_super_block sb;
	static char buf[1 << 16];
	int in = open(src, O_RDONLY), out, ret = -1;
	uint64_t left;
	struct stat st;

	if (in < 0)
		return -1;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0 || pread(in, &sb, sizeof(sb), 0) != sizeof(sb) ||
	    fstat(in, &st))
		goto out;
	for (left = le64toh(sb.s_data_off); left;) {
		ssize_t n = read(in, buf, left < sizeof(buf) ? left : sizeof(buf));

		if (n <= 0 || write(out, buf, n) != n)
			goto out;
		left -= n;
	}
	ret = ftruncate(out, st.st_size);
out:
	if (out >= 0)
		close(out);
	close(in);
	return ret;
}

/*
 * The cold-start workload of figures 6 and 8: python3 importing json,
 * email and http.client and printing a line.
 */
#define B_PY_CMD "python3 -c \"import json, email, http.client; " \
		 "print('up', flush=True)\""

/*
 * The b_now() time of the first line the shell command @cmd prints when
 * run in a chroot of @root, or -1 (also when @cmd fails).  The root gets
 * the guest's /dev bound on its /dev, and a proc on its /proc if it has
 * one, as a container runtime gives them: early after boot the kernel's
 * random pool may not be ready, and python then reads /dev/urandom or
 * aborts.
 */
static inline double b_first_output_of(const char *root, const char *cmd)
{
	double first = -1;
	char line[256], dev[PATH_MAX + 8], proc[PATH_MAX + 8];
	char sh[PATH_MAX + 512];
	bool have_proc;
	FILE *p;

	snprintf(dev, sizeof(dev), "%s/dev", root);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(sh, sizeof(sh), "chroot %s %s", root, cmd);
	if (mount("/dev", dev, NULL, MS_BIND | MS_REC, NULL)) {
		printf("# bind-mount /dev on %s: %s\n", dev, strerror(errno));
		return -1;
	}
	have_proc = !access(proc, F_OK);
	if (have_proc && mount("proc", proc, "proc", 0, NULL)) {
		printf("# mount proc on %s: %s\n", proc, strerror(errno));
		umount2(dev, MNT_DETACH);
		return -1;
	}
	fflush(NULL);
	p = popen(sh, "r");
	if (p) {
		while (fgets(line, sizeof(line), p))
			if (first < 0)
				first = b_now();
		if (pclose(p))
			first = -1;
	}
	if (have_proc)
		umount2(proc, MNT_DETACH);
	umount2(dev, MNT_DETACH);
	return first;
}

/* The same for B_PY_CMD. */
static inline double b_first_output(const char *root)
{
	return b_first_output_of(root, "/usr/bin/" B_PY_CMD);
}

/*
 * The cold-start layer in @dir: src/ (python3, its libraries and stdlib,
 * the guest's layout), layer.img + layer.blob (incrfs-pack), layer.tar.zst
 * (what a registry would hold), all on the scratch ext4.  Made once per
 * boot.
 */
static inline int b_python_layer(const char *dir)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
		 "set -e; L=%s; if [ ! -e $L/.done ]; then "
		 "rm -rf $L; mkdir -p $L/src/usr/bin $L/src/usr/lib "
		 "$L/src/tmp $L/src/dev $L/m; "
		 "cp /usr/bin/python3 $L/src/usr/bin/; "
		 "cp -a /usr/lib/python3.11 $L/src/usr/lib/; "
		 "rm -rf $L/src/usr/lib/python3.11/test; "
		 "for d in /lib /lib64 /usr/lib64 /usr/lib/x86_64-linux-gnu; do "
		 "[ -e $d ] || [ -L $d ] || continue; "
		 "mkdir -p $L/src$(dirname $d); cp -a $d $L/src$d; done; "
		 "incrfs-pack $L/src $L/layer.img --blob $L/layer.blob >/dev/null; "
		 "tar -C $L/src -cf - . | zstd -q -3 -o $L/layer.tar.zst; "
		 "touch $L/.done; fi; "
		 "echo \"# bench: INFO cold start layer: $(du -sm $L/src | cut -f1) "
		 "MiB tree, tar.zst $(du -m $L/layer.tar.zst | cut -f1) MiB, "
		 "blob $(du -m $L/layer.blob | cut -f1) MiB\"", dir);
	return b_disk() ? -1 : iu_sh(cmd);
}

/*
 * Record @dir/app.profile: one lazy start of B_PY_CMD on an access_log
 * mount of @dir/layer.img, filled from the local @dir/layer.blob.
 */
static inline int b_record_profile(const char *dir)
{
	char img[PATH_MAX], run[PATH_MAX], m[PATH_MAX], blob[PATH_MAX];
	char cmd[PATH_MAX + 128];
	const char *argv[] = { "incrfsd", "--source", blob, m, NULL };
	pid_t feeder;
	int ret = -1;

	snprintf(img, sizeof(img), "%s/layer.img", dir);
	snprintf(run, sizeof(run), "%s/run.img", dir);
	snprintf(m, sizeof(m), "%s/m", dir);
	snprintf(blob, sizeof(blob), "%s/layer.blob", dir);
	if (b_fresh_image(img, run) ||
	    iu_mount(run, m, "timeout=60000,access_log")) {
		printf("# record_profile: mount: %s\n", strerror(errno));
		return -1;
	}
	feeder = b_spawn("/tmp/record-profile.log", argv);
	snprintf(cmd, sizeof(cmd), "incrfsctl profile record %s > %s/app.profile",
		 m, dir);
	if (feeder <= 0)
		printf("# record_profile: cannot start incrfsd\n");
	else if (b_first_output(m) <= 0)
		printf("# record_profile: the program failed\n");
	else if (iu_sh(cmd))
		printf("# record_profile: incrfsctl profile record failed\n");
	else
		ret = 0;
	if (feeder > 0)
		b_stop(feeder);
	umount(m);
	if (ret)
		iu_sh("sed 's/^/# incrfsd: /' /tmp/record-profile.log | tail -n 20");
	snprintf(cmd, sizeof(cmd),
		 "echo \"# bench: INFO cold start profile: $(grep -c '^[0-9]' "
		 "%s/app.profile) ranges\"", dir);
	if (!ret)
		iu_sh(cmd);
	return ret;
}

#endif /* INCRFS_BENCH_H */
