/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_walk.h - mount an image that may be corrupted, touch everything in
 * it, unmount, and note every way a call failed that it should not have.
 *
 * Why this exists: the image fuzzer and the regression test of its
 * crashers both ask the same question of an image -- can the kernel be
 * made to crash, hang, warn or answer nonsense by mounting and reading it?
 * This walker is the reading half: mount(2), statfs, every directory
 * (getdents64, also after a seek), every entry (lstat, a lookup of an
 * absent name), symlinks (readlink), xattrs (listxattr, getxattr of each
 * name listed), regular files (read to the end, pread near the end, mmap,
 * GET_FILLED), then umount(2).  It is bounded: depth, entries and bytes
 * read per file are capped, so a mutated size of 2^63 costs nothing.
 *
 * A failing call is fine when its errno says "corrupted" (EUCLEAN), "could
 * not read it" (EIO), "block missing and no feeder" (ETIMEDOUT), or is what
 * the VFS answers for a strange but well-formed tree; each operation has
 * its list below, with the reason for every entry.  Anything else is a
 * problem, written into the caller's struct fz_report (which may live in
 * shared memory: the walker runs in a disposable child).
 *
 * Options (struct fz_mount_opts): walk through a read-only overlayfs
 * stacked on the image, the way a container runtime uses a layer; FILL
 * the mount through its control fd first; run hooks after mounting and
 * before unmounting (to truncate or rewrite the image under the mount);
 * compare every file the kernel reads whole with what tools/lib's reader
 * returns for the same inode of the same image (a differential oracle:
 * two parsers of one format must agree on every byte they both serve).
 */
#ifndef INCRFS_FUZZ_WALK_H
#define INCRFS_FUZZ_WALK_H

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "uapi/incrfs.h"
#include "tests/kselftest/fuzz_util.h"
#include "image.h"

#define FZ_MAX_DEPTH	10
#define FZ_MAX_ENTRIES	400		/* per image */
#define FZ_READ_CAP	(256 << 10)	/* bytes read() per file */
#define FZ_MMAP_CAP	(64 << 10)
#define FZ_NERRNO	140		/* errno histogram size */
#define FZ_MAX_PROBLEMS	16
#define FZ_PROBLEM_LEN	240

/*
 * Why each errno is acceptable:
 * mount:   EINVAL  not an incrfs image, unsupported version/feature/size
 *          EUCLEAN corrupted super block, tables out of range, bad root
 *          EIO     the image is shorter than a table it must read
 *          EFBIG   a bitmap too large to hold in memory
 *          ENOMEM  an allocation the image asked for failed
 * metadata (lstat, open, getdents64, readlink, listxattr, getxattr):
 *          EUCLEAN a corrupted inode, entry or record, found when read
 *          EIO     a record beyond the end of the image file
 *          ENOMEM  as above
 * lookup:  + ENOENT  an entry that is out of order is invisible to the
 *                    binary search of lookup (readdir still lists it)
 *          + ELOOP   the VFS refuses a directory alias that would make a
 *                    loop (d_splice_alias)
 * read:    + ETIMEDOUT a missing block, and no feeder (timeout=50)
 * listxattr: + E2BIG the list is longer than the VFS's 64 KiB limit
 * getxattr:  + ERANGE  a listed name longer than XATTR_NAME_MAX (255)
 *            (user.* names on anything but files and directories: the VFS
 *              never serves them, ENODATA, not counted as an error)
 *            + EINVAL  security.capability whose value is malformed (the
 *              capability code decodes it)
 */
static const int fz_e_mount[] = { EINVAL, EUCLEAN, EIO, EFBIG, ENOMEM, 0 };
static const int fz_e_meta[] = { EUCLEAN, EIO, ENOMEM, 0 };
static const int fz_e_lookup[] = { EUCLEAN, EIO, ENOMEM, ENOENT, ELOOP, 0 };
static const int fz_e_read[] = { EUCLEAN, EIO, ENOMEM, ETIMEDOUT, 0 };
static const int fz_e_listxattr[] = { EUCLEAN, EIO, ENOMEM, E2BIG, 0 };
static const int fz_e_getxattr[] = { EUCLEAN, EIO, ENOMEM, ERANGE, ENODATA,
				     EINVAL, 0 };
/* through an overlay: it passes no incrfs ioctl on */
static const int fz_e_ovl_ioctl[] = { ENOTTY, 0 };
/*
 * The result of one FILL entry on a damaged image: 0 (filled, or present
 * already), EINVAL (a block outside the file or data region, a hole, not
 * a regular file), ENOENT (an inode past the table), EUCLEAN (a corrupted
 * inode), EBADMSG (the data does not match the hash table, which may be
 * the damaged part), EIO (the image is shorter than it says).
 */
static const int fz_e_fill[] = { EINVAL, ENOENT, EUCLEAN, EBADMSG, EIO,
				 ENOMEM, 0 };

/* What a walker saw; summed over many images by the caller. */
struct fz_report {
	uint64_t images;		/* walked (mounted or refused) */
	uint64_t mounted;
	uint64_t entries;		/* lstat'ed */
	uint64_t bytes;			/* read() */
	uint64_t sigbus;		/* mmap touches that faulted */
	uint64_t accepted;		/* passed the userspace reader's check */
	uint64_t compared;		/* files the oracle found identical */
	uint64_t ns_mount, ns_walk, ns_umount;	/* time spent */
	uint64_t mount_errno[FZ_NERRNO];
	uint64_t op_errno[FZ_NERRNO];
	uint32_t nproblems;		/* may exceed FZ_MAX_PROBLEMS */
	uint64_t problem_case[FZ_MAX_PROBLEMS];
	char problem[FZ_MAX_PROBLEMS][FZ_PROBLEM_LEN];
};

struct fz_walk {
	struct fz_report *rep;
	uint64_t case_id;
	const char *mnt;
	int entries_left;
	uint64_t seen_dirs[64];		/* directory inodes walked */
	unsigned int nseen;
	unsigned char *buf;		/* FZ_READ_CAP-sized read buffer */
	struct fz_rng *rng;
	int overlay;			/* walking through an overlay */
	int live;			/* the image changes during the walk */
	struct incrfs_image *oracle;	/* the reader's view, or NULL */
};

static inline uint64_t fz_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline void fz_count(uint64_t *hist, int e)
{
	hist[e > 0 && e < FZ_NERRNO ? e : 0]++;
}

static inline void __attribute__((format(printf, 2, 3)))
fz_problem(struct fz_walk *w, const char *fmt, ...)
{
	struct fz_report *rep = w->rep;
	va_list ap;

	if (rep->nproblems < FZ_MAX_PROBLEMS) {
		va_start(ap, fmt);
		vsnprintf(rep->problem[rep->nproblems], FZ_PROBLEM_LEN, fmt, ap);
		va_end(ap);
		rep->problem_case[rep->nproblems] = w->case_id;
	}
	rep->nproblems++;
}

/* A call failed with errno @e: fine if in @ok, else a problem. */
static inline int fz_failed(struct fz_walk *w, const int *ok, int e, const char *op,
			    const char *path)
{
	fz_count(w->rep->op_errno, e);
	if (!fz_errno_in(e, ok))
		fz_problem(w, "%s %s: unexpected errno %d (%s)", op,
			   path + strlen(w->mnt), e, strerror(e));
	return -1;
}

/* ---- regular files ---- */

static sigjmp_buf fz_bus_env;
static volatile sig_atomic_t fz_bus_armed;

static inline void fz_on_sigbus(int sig)
{
	(void)sig;
	if (fz_bus_armed)
		siglongjmp(fz_bus_env, 1);
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

/* Touch every page of the first FZ_MMAP_CAP bytes; SIGBUS is a read
 * error the page cache could only report that way. */
static inline void fz_touch_mmap(struct fz_walk *w, int fd, uint64_t size)
{
	size_t len = size < FZ_MMAP_CAP ? (size_t)size : FZ_MMAP_CAP;
	volatile unsigned char *m;
	volatile unsigned int sum = 0;
	size_t off;

	if (!len)
		return;
	m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return;
	signal(SIGBUS, fz_on_sigbus);
	if (sigsetjmp(fz_bus_env, 1) == 0) {
		fz_bus_armed = 1;
		for (off = 0; off < len; off += 4096)
			sum += m[off];
		sum += m[len - 1];
	} else {
		w->rep->sigbus++;
	}
	fz_bus_armed = 0;
	munmap((void *)m, len);
}

/*
 * The differential oracle: the @size bytes the kernel just returned for
 * inode @ino (in w->buf) must be the reader's bytes of that inode, block
 * by block: a hole reads as zeroes, a data block as the image holds it
 * (the kernel served it, so it matched its hash).  The reader accepted
 * the whole image, so it must also map every block the kernel read.
 */
static inline void fz_oracle_compare(struct fz_walk *w, const char *path,
				     uint64_t ino, uint64_t size)
{
	struct incrfs_inode_info ii;
	unsigned char blk[INCRFS_BLOCK_SIZE];
	uint64_t off, dblk;
	size_t n;
	int ret;

	if (incrfs_image_read_inode(w->oracle, ino, &ii)) {
		fz_problem(w, "oracle: %s (inode %llu) read, the reader cannot read its inode: %s",
			   path + strlen(w->mnt), (unsigned long long)ino,
			   w->oracle->err);
		return;
	}
	if (ii.size != size) {
		fz_problem(w, "oracle: %s is %llu bytes, %llu for the reader",
			   path + strlen(w->mnt), (unsigned long long)size,
			   (unsigned long long)ii.size);
		return;
	}
	for (off = 0; off < size; off += INCRFS_BLOCK_SIZE) {
		n = size - off < INCRFS_BLOCK_SIZE ? size - off :
						     INCRFS_BLOCK_SIZE;
		ret = incrfs_image_map_block(w->oracle, &ii,
					     off / INCRFS_BLOCK_SIZE, &dblk);
		if (ret == 0)
			memset(blk, 0, sizeof(blk));
		else if (ret < 0 || incrfs_image_read_block(w->oracle, dblk, blk))
			ret = -1;
		if (ret < 0) {
			fz_problem(w, "oracle: %s block %llu read, the reader cannot map or read it: %s",
				   path + strlen(w->mnt),
				   (unsigned long long)(off / INCRFS_BLOCK_SIZE),
				   w->oracle->err);
			return;
		}
		if (memcmp(blk, w->buf + off, n)) {
			fz_problem(w, "oracle: %s block %llu: the kernel's bytes are not the reader's",
				   path + strlen(w->mnt),
				   (unsigned long long)(off / INCRFS_BLOCK_SIZE));
			return;
		}
	}
	w->rep->compared++;
}

static inline void fz_walk_file(struct fz_walk *w, const char *path,
				const struct stat *st)
{
	struct incrfs_block_range ranges[4];
	struct incrfs_filled_ranges fr = {
		.ranges = (uintptr_t)ranges, .capacity = 4,
	};
	uint64_t total = 0, size = (uint64_t)st->st_size;
	int fd, failed = 0;
	ssize_t n;

	/* the many empty files of a tree: now and then is enough */
	if (size == 0 && !fz_one_in(w->rng, 4))
		return;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		fz_failed(w, fz_e_meta, errno, "open", path);
		return;
	}
	while (total < FZ_READ_CAP) {
		/* at the size, confirm the end now and then: a syscall less */
		if (total == size && !fz_one_in(w->rng, 4))
			break;
		n = read(fd, w->buf + total, FZ_READ_CAP - total);
		if (n < 0) {
			fz_failed(w, fz_e_read, errno, "read", path);
			failed = 1;
			break;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
	}
	w->rep->bytes += total;
	/* a clean sequential read returns exactly the file's size */
	if (!failed && total < FZ_READ_CAP && total != size)
		fz_problem(w, "read %s: %llu bytes of a %llu-byte file",
			   path + strlen(w->mnt), (unsigned long long)total,
			   (unsigned long long)size);
	else if (!failed && total == size && w->oracle)
		fz_oracle_compare(w, path, st->st_ino, size);
	if (size > FZ_READ_CAP) {
		/* the end, and somewhere in the middle */
		uint64_t off = fz_below(w->rng, size);

		/* never past the end: pos + count must not overflow */
		if (pread(fd, w->buf, 1, (off_t)(size - 1)) < 0)
			fz_failed(w, fz_e_read, errno, "pread end", path);
		if (pread(fd, w->buf, size - off < 8192 ? size - off : 8192,
			  (off_t)off) < 0)
			fz_failed(w, fz_e_read, errno, "pread", path);
	}
	if (!failed && fz_one_in(w->rng, 3))
		fz_touch_mmap(w, fd, size);
	if (!fz_one_in(w->rng, 3))
		;	/* now and then */
	else if (ioctl(fd, INCRFS_IOC_GET_FILLED, &fr))
		fz_failed(w, w->overlay ? fz_e_ovl_ioctl : fz_e_meta, errno,
			  "GET_FILLED", path);
	else if (fr.count > 4)
		fz_problem(w, "GET_FILLED %s: %u ranges in room for 4",
			   path + strlen(w->mnt), fr.count);
	close(fd);
}

/* ---- xattrs ---- */

static inline void fz_walk_xattrs(struct fz_walk *w, const char *path,
				  const struct stat *st)
{
	static char list[XATTR_LIST_MAX];
	static char value[XATTR_SIZE_MAX];
	ssize_t n, v;
	char *p;

	n = llistxattr(path, list, sizeof(list));
	if (n < 0) {
		fz_failed(w, fz_e_listxattr, errno, "listxattr", path);
		return;
	}
	for (p = list; p < list + n; p += strlen(p) + 1) {
		v = lgetxattr(path, p, NULL, 0);
		if (v >= 0)
			v = lgetxattr(path, p, value, sizeof(value));
		if (v >= 0)
			continue;
		/*
		 * The VFS never serves user.* on anything but files and
		 * directories (xattr_permission(): ENODATA), whatever the
		 * file system lists: the rule, not an error of incrfs.
		 */
		if (errno == ENODATA && !strncmp(p, "user.", 5) &&
		    !S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
			continue;
		/* only where the VFS really answers these (or, when the image
		 * changes under the walk, the record changed in between) */
		if ((errno == ENODATA && !w->live &&
		     (strncmp(p, "user.", 5) ||
		      S_ISREG(st->st_mode) || S_ISDIR(st->st_mode))) ||
		    (errno == EINVAL && strcmp(p, "security.capability")) ||
		    (errno == ERANGE && !w->live &&
		     strlen(p) <= XATTR_NAME_MAX))
			fz_problem(w, "getxattr %s %s: errno %d (%s)",
				   path + strlen(w->mnt), p, errno,
				   strerror(errno));
		else
			fz_failed(w, fz_e_getxattr, errno, "getxattr", path);
	}
	/* a name nobody stored, now and then */
	if (!fz_one_in(w->rng, 8))
		return;
	if (lgetxattr(path, "trusted.incrfs-fuzz-absent", value, 16) >= 0)
		fz_problem(w, "getxattr %s: an absent name was found",
			   path + strlen(w->mnt));
	else if (errno != ENODATA)
		fz_failed(w, fz_e_meta, errno, "getxattr absent", path);
}

/* ---- directories ---- */

struct fz_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static inline void fz_walk_dir(struct fz_walk *w, char *path, size_t plen,
			       int depth);

static inline void fz_walk_entry(struct fz_walk *w, char *path, size_t plen,
				 int depth)
{
	struct stat st;
	char target[INCRFS_SYMLINK_MAX + 2];
	ssize_t n;

	if (w->entries_left-- <= 0)
		return;
	if (lstat(path, &st)) {
		fz_failed(w, fz_e_lookup, errno, "lstat", path);
		return;
	}
	w->rep->entries++;
	fz_walk_xattrs(w, path, &st);
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR:
		fz_walk_dir(w, path, plen, depth + 1);
		break;
	case S_IFREG:
		fz_walk_file(w, path, &st);
		break;
	case S_IFLNK:
		n = readlink(path, target, sizeof(target));
		if (n < 0)
			fz_failed(w, fz_e_meta, errno, "readlink", path);
		else if ((uint64_t)n != (uint64_t)st.st_size)
			fz_problem(w, "readlink %s: %zd bytes, st_size %lld",
				   path + strlen(w->mnt), n,
				   (long long)st.st_size);
		break;
	default:
		break;	/* devices, fifos, sockets: never opened */
	}
}

static inline void fz_walk_dir(struct fz_walk *w, char *path, size_t plen,
			       int depth)
{
	static char dbuf[FZ_MAX_DEPTH + 1][8192];
	char *buf = dbuf[depth];
	struct stat st;
	unsigned int i;
	long n, pos;
	int fd;

	if (depth > FZ_MAX_DEPTH || w->entries_left <= 0)
		return;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0) {
		fz_failed(w, fz_e_meta, errno, "opendir", path);
		return;
	}
	if (fstat(fd, &st) == 0) {
		/* each directory once: aliases would walk it again */
		for (i = 0; i < w->nseen; i++)
			if (w->seen_dirs[i] == st.st_ino)
				goto out;
		if (w->nseen < 64)
			w->seen_dirs[w->nseen++] = st.st_ino;
	}
	/* a lookup that must miss (or meet a corrupted entry) */
	snprintf(path + plen, PATH_MAX - plen, "/\x7f-incrfs-fuzz-absent");
	if (lstat(path, &st) == 0)
		fz_problem(w, "lstat %s: an absent name was found",
			   path + strlen(w->mnt));
	else if (errno != ENOENT)	/* ENOENT is the right answer */
		fz_failed(w, fz_e_lookup, errno, "lstat absent", path);
	path[plen] = '\0';

	for (;;) {
		n = syscall(SYS_getdents64, fd, buf, sizeof(dbuf[0]));
		if (n < 0) {
			fz_failed(w, fz_e_meta, errno, "getdents64", path);
			break;
		}
		if (n == 0)
			break;
		for (pos = 0; pos < n;) {
			struct fz_dirent64 *d = (void *)(buf + pos);
			size_t len = strlen(d->d_name);

			pos += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			if (plen + 1 + len >= PATH_MAX)
				continue;
			path[plen] = '/';
			memcpy(path + plen + 1, d->d_name, len + 1);
			fz_walk_entry(w, path, plen + 1 + len, depth);
			path[plen] = '\0';
			if (w->entries_left <= 0)
				goto out;
		}
	}
	/* readdir from an arbitrary position, now and then */
	pos = (long)fz_below(w->rng, 40);
	if (fz_one_in(w->rng, 3) && lseek(fd, pos, SEEK_SET) == pos &&
	    syscall(SYS_getdents64, fd, buf, sizeof(dbuf[0])) < 0)
		fz_failed(w, fz_e_meta, errno, "getdents64 after seek", path);
out:
	close(fd);
}

/* ---- the whole image ---- */

struct fz_mount_opts {
	const char *opts;		/* incrfs mount options */
	/* run once mounted (e.g. to truncate the image under the mount),
	 * and after the walk, before unmounting */
	void (*after_mount)(void *arg);
	void (*before_umount)(void *arg);
	void *arg;
	/*
	 * If set: an overlayfs mount point.  The image is then walked
	 * through a read-only overlay whose lower layers are the image and
	 * @overlay_empty, as a container runtime stacks a layer.
	 */
	const char *overlay;
	const char *overlay_empty;
	/* another process changes the image during the walk: two calls
	 * (listxattr, then getxattr) may see different records */
	int live;
	/*
	 * If set: before the walk, FILL the mount through its control fd:
	 * every data block (up to 64) by data block number with @fill_src's
	 * content of it (the intact image's data region), and a few entries
	 * by inode and file block with arbitrary data.
	 */
	const uint8_t *fill_src;	/* data block 0 */
	uint64_t fill_blocks;		/* data blocks at fill_src */
	/*
	 * If set: the same image open in tools/lib's reader, whose check
	 * accepted it; every file read whole must match it byte for byte.
	 */
	struct incrfs_image *oracle;
};

/* FILL what can be filled; every entry must fail cleanly or work. */
static inline void fz_fill(struct fz_walk *w, const char *mnt,
			   const struct fz_mount_opts *mo, uint64_t inodes)
{
	struct incrfs_fill_block fb[72];
	struct incrfs_fill arg = { .blocks = (uintptr_t)fb };
	uint32_t i, n = 0;
	uint64_t b;
	int root, ctl;

	root = open(mnt, O_RDONLY | O_DIRECTORY);
	if (root < 0)
		return;	/* the walk reports it */
	ctl = ioctl(root, INCRFS_IOC_OPEN_CONTROL);
	close(root);
	if (ctl < 0) {
		fz_problem(w, "OPEN_CONTROL: errno %d (%s)", errno,
			   strerror(errno));
		return;
	}
	for (b = 0; b < mo->fill_blocks && n < 64; b++)
		fb[n++] = (struct incrfs_fill_block){
			.ino = 0, .block = b, .len = INCRFS_BLOCK_SIZE,
			.data = (uintptr_t)(mo->fill_src + b * INCRFS_BLOCK_SIZE),
		};
	while (n < 72) {
		b = fz_below(w->rng, mo->fill_blocks ? mo->fill_blocks : 1);
		fb[n++] = (struct incrfs_fill_block){
			.ino = 1 + fz_below(w->rng, inodes + 1),
			.block = fz_below(w->rng, 4), .len = INCRFS_BLOCK_SIZE,
			.data = (uintptr_t)(mo->fill_src + b * INCRFS_BLOCK_SIZE),
		};
	}
	arg.count = n;
	arg.flags = fz_one_in(w->rng, 2) ? INCRFS_FILL_SYNC : 0;
	if (ioctl(ctl, INCRFS_IOC_FILL, &arg)) {
		fz_problem(w, "FILL: errno %d (%s)", errno, strerror(errno));
	} else {
		for (i = 0; i < n; i++)
			if (fb[i].result &&
			    !fz_errno_in(-fb[i].result, fz_e_fill))
				fz_problem(w, "FILL ino %llu block %llu: %d",
					   (unsigned long long)fb[i].ino,
					   (unsigned long long)fb[i].block,
					   fb[i].result);
		if (arg.filled > n)
			fz_problem(w, "FILL: %u filled of %u", arg.filled, n);
	}
	close(ctl);
}

/* Mounting the overlay: EINVAL is overlayfs refusing a lower layer it
 * cannot use; the others are incrfs failing to read its root. */
static const int fz_e_ovl_mount[] = { EINVAL, EUCLEAN, EIO, ENOMEM, 0 };

/*
 * Mount @image at @mnt (which exists), walk it, unmount.  Returns 1 if it
 * mounted, 0 if refused (with an acceptable errno or not: see @rep).
 */
static inline int fz_mount_walk(struct fz_report *rep, uint64_t case_id,
				const char *image, const char *mnt,
				const struct fz_mount_opts *mo,
				struct fz_rng *rng, unsigned char *buf)
{
	struct fz_walk w = {
		.rep = rep, .case_id = case_id, .mnt = mnt,
		.entries_left = FZ_MAX_ENTRIES, .buf = buf, .rng = rng,
		.live = mo->live, .oracle = mo->oracle,
	};
	static char path[PATH_MAX], opts[PATH_MAX + 64];
	struct incrfs_stats stats;
	struct statfs sf;
	uint64_t t0 = fz_ns(), t1;
	int fd, ret;

	rep->images++;
	ret = mount(image, mnt, "incrfs", MS_RDONLY, mo->opts);
	t1 = fz_ns();
	rep->ns_mount += t1 - t0;
	if (ret) {
		int e = errno;

		fz_count(rep->mount_errno, e);
		if (!fz_errno_in(e, fz_e_mount))
			fz_problem(&w, "mount: unexpected errno %d (%s)", e,
				   strerror(e));
		return 0;
	}
	rep->mounted++;
	if (mo->after_mount)
		mo->after_mount(mo->arg);
	if (statfs(mnt, &sf))
		fz_problem(&w, "statfs: errno %d (%s)", errno, strerror(errno));
	fd = open(mnt, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		fz_failed(&w, fz_e_meta, errno, "open", mnt);
	} else {
		if (ioctl(fd, INCRFS_IOC_GET_STATS, &stats))
			fz_problem(&w, "GET_STATS: errno %d (%s)", errno,
				   strerror(errno));
		else if (stats.blocks_total != sf.f_blocks ||
			 stats.blocks_present > stats.blocks_total)
			fz_problem(&w, "GET_STATS: %llu of %llu blocks, statfs %llu",
				   (unsigned long long)stats.blocks_present,
				   (unsigned long long)stats.blocks_total,
				   (unsigned long long)sf.f_blocks);
		close(fd);
	}
	if (mo->fill_src)
		fz_fill(&w, mnt, mo, sf.f_files);
	if (mo->overlay) {
		snprintf(opts, sizeof(opts), "lowerdir=%s:%s", mnt,
			 mo->overlay_empty);
		if (mount("overlay", mo->overlay, "overlay", MS_RDONLY, opts)) {
			fz_failed(&w, fz_e_ovl_mount, errno, "mount overlay",
				  mnt);
			goto out;
		}
		w.mnt = mo->overlay;
		w.overlay = 1;
	}
	snprintf(path, sizeof(path), "%s", w.mnt);
	fz_walk_xattrs(&w, path, &(struct stat){ .st_mode = S_IFDIR });
	fz_walk_dir(&w, path, strlen(path), 0);
	if (mo->overlay && umount2(mo->overlay, 0)) {
		fz_problem(&w, "umount overlay: errno %d (%s)", errno,
			   strerror(errno));
		umount2(mo->overlay, MNT_DETACH);
	}
out:
	if (mo->before_umount)
		mo->before_umount(mo->arg);
	t0 = fz_ns();
	rep->ns_walk += t0 - t1;
	if (umount2(mnt, 0)) {
		fz_problem(&w, "umount: errno %d (%s)", errno, strerror(errno));
		umount2(mnt, MNT_DETACH);
	}
	rep->ns_umount += fz_ns() - t0;
	return 1;
}

#endif /* INCRFS_FUZZ_WALK_H */
