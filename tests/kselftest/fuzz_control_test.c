// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_control_test.c - the feeder's control channel under abuse: random
 * FILL batches, random ioctls on every kind of fd of a mount, odd reads of
 * the control fd, GET_FILLED and per-uid timeouts with bad arguments, and
 * random mount options.  Afterwards the mount must still work.
 *
 * Why this exists: the control fd is the kernel's second input after the
 * image.  incrfsd is trusted to be correct, but the kernel must not rely
 * on it: a buggy or hostile feeder (CAP_SYS_ADMIN in the mount's user
 * namespace is all it takes) must get clean errors, never a crash, a hang,
 * a block accepted with the wrong content, or a mount left broken.
 *
 * The oracle for FILL is a model: the test knows every data block's
 * content (the same tree packed with --full) and which blocks are present,
 * so for a well-formed batch it predicts each entry's result (0, -EINVAL,
 * -ENOENT, -EFAULT, -EBADMSG) and the number filled, and checks the
 * kernel's answer entry by entry.  Batches with bad arrays are only held
 * to their errno, and the model re-syncs from GET_FILLED.  At the end of
 * every test, every present block must hold exactly its content, a correct
 * FILL of a missing block must work and a reader must see its data.
 *
 * Each test mounts its own copy of the lazy image (timeout=50).  Seeds as
 * in fuzz_util.h (INCRFS_FUZZ_SEED); INCRFS_FUZZ_COUNT scales the number
 * of operations (default 6000, 1200 on a debug kernel: that many FILL
 * batches, as many random ioctls, a quarter as many reads and GET_FILLED
 * calls).
 */
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>
#include "tests/kselftest/harness.h"
#include "tests/kselftest/incrfs_util.h"
#include "tests/kselftest/fuzz_util.h"
#include "image.h"

#define TOP	"/tmp/fuzzctl"
#define SRC	TOP "/src"
#define FULL	TOP "/full.img"
#define LAZY	TOP "/lazy.img"
#define BS	4096
#define MAXB	256		/* data blocks the model can track */
#define PG	4096
#define FZ_NERRNO_CTL	140

/* ---- the image and what we know about it ---- */

struct fc_file {
	uint64_t ino;
	uint64_t size;
	struct incrfs_inode_info ii;
	char path[64];		/* below the mount */
};

static struct {
	uint8_t *full;			/* the --full image, in memory */
	size_t full_len;
	struct incrfs_super_info sb;
	struct fc_file files[16];
	unsigned int nfiles;
	uint64_t dir_ino, link_ino;
	struct incrfs_image img;	/* the full image, open */
} fc;

static int build_tree(void)
{
	if (iu_sh("rm -rf " TOP " && mkdir -p " SRC "/d"))
		return -1;
	if (iu_pattern_file(SRC "/a", 10 * BS, 1) ||
	    iu_pattern_file(SRC "/b", 3 * BS + 100, 2) ||
	    iu_pattern_file(SRC "/d/c", 2 * BS, 3) ||
	    iu_pattern_file(SRC "/small", 100, 4) ||
	    iu_write_file(SRC "/empty", "", 0, 0644) ||
	    iu_pattern_file(SRC "/holes", BS, 5) ||
	    iu_sh("dd if=" SRC "/a of=" SRC "/holes bs=4096 seek=2 count=1 "
		  "conv=notrunc 2>/dev/null") ||
	    symlink("a", SRC "/l") || mkfifo(SRC "/fifo", 0600))
		return -1;
	return iu_sh("SOURCE_DATE_EPOCH=1700000000 incrfs-pack --full " SRC
		     " " FULL " >/dev/null && SOURCE_DATE_EPOCH=1700000000 "
		     "incrfs-pack " SRC " " LAZY " --blob " TOP "/lazy.blob "
		     ">/dev/null");
}

/* Learn the layout from the full image: files, their blocks, content. */
static int load_layout(void)
{
	static const char *const names[] = { "a", "b", "d/c", "small",
					     "empty", "holes" };
	struct incrfs_dirent_info de;
	struct incrfs_inode_info root, dir;
	unsigned int i;
	int fd;

	if (fc.full)
		return 0;
	fc.full = iu_slurp(FULL, &fc.full_len);
	fd = open(FULL, O_RDONLY);
	if (!fc.full || fd < 0 || incrfs_image_open(&fc.img, fd) ||
	    incrfs_image_read_inode(&fc.img, 1, &root))
		return -1;
	fc.sb = fc.img.sb;
	if (fc.sb.nr_blocks > MAXB)
		return -1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct incrfs_inode_info *parent = &root;
		const char *name = names[i];
		struct fc_file *f = &fc.files[fc.nfiles];

		if (!strncmp(name, "d/", 2)) {
			if (incrfs_image_lookup(&fc.img, &root, "d", 1, &de) ||
			    incrfs_image_read_inode(&fc.img, de.ino, &dir))
				return -1;
			fc.dir_ino = de.ino;
			parent = &dir;
			name += 2;
		}
		if (incrfs_image_lookup(&fc.img, parent, name, strlen(name), &de) ||
		    incrfs_image_read_inode(&fc.img, de.ino, &f->ii))
			return -1;
		f->ino = de.ino;
		f->size = f->ii.size;
		snprintf(f->path, sizeof(f->path), "%s", names[i]);
		fc.nfiles++;
	}
	if (incrfs_image_lookup(&fc.img, &root, "l", 1, &de))
		return -1;
	fc.link_ino = de.ino;
	return 0;
}

static int setup(void)
{
	if (access(TOP "/ready", F_OK) &&
	    (build_tree() || iu_write_file(TOP "/ready", "", 0, 0644)))
		return -1;
	return load_layout();
}

/* Content of data block @b. */
static const uint8_t *block_data(uint64_t b)
{
	return fc.full + fc.sb.data_off + b * BS;
}

/* Data block of file block @lblk of @f: 1 and *pblk, or 0 for a hole. */
static int map_block(const struct fc_file *f, uint64_t lblk, uint64_t *pblk)
{
	return incrfs_image_map_block(&fc.img, &f->ii, lblk, pblk) == 1;
}

/* ---- memory a pointer can point at ---- */

static struct {
	uint8_t *rw;		/* 16 pages, read-write */
	uint8_t *ro;		/* 1 page, read-only */
	uint8_t *none;		/* 1 page, no access */
	uint8_t *edge;		/* 1 rw page followed by a PROT_NONE one */
} mem;

static int map_memory(void)
{
	mem.rw = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mem.ro = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mem.none = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mem.edge = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem.rw == MAP_FAILED || mem.ro == MAP_FAILED ||
	    mem.none == MAP_FAILED || mem.edge == MAP_FAILED ||
	    mprotect(mem.edge + PG, PG, PROT_NONE))
		return -1;
	return 0;
}

/* A pointer nothing valid is behind (user, kernel or non-canonical). */
static uint64_t bad_pointer(struct fz_rng *r)
{
	static const uint64_t kernel[] = {
		0, 1, 4096, 0xffff888000000000ULL, 0xffffffff81000000ULL,
		~0ULL, ~0ULL - 4095, 0x8000000000000000ULL,
		0x00007ffffffff000ULL,
	};

	switch (fz_below(r, 4)) {
	case 0:
		return (uintptr_t)mem.none + fz_below(r, PG);
	case 1:
		/* runs from a valid page into a PROT_NONE one (anything of
		 * 8 bytes or more) */
		return (uintptr_t)mem.edge + PG - 1 - fz_below(r, 7);
	default:
		return kernel[fz_below(r, sizeof(kernel) / sizeof(kernel[0]))];
	}
}

/* ---- a mount of a private copy of the lazy image ---- */

FIXTURE(ctl) {
	char mnt[64], img[80];
	int root, ctl;
	uint8_t present[MAXB];	/* the model */
	struct fz_rng r;
	uint64_t seed;
	int mounted;
};

static int ctl_mount(struct th_test *_metadata, FIXTURE_DATA(ctl) *self)
{
	if (iu_sh("cp " LAZY " %s", self->img))
		return -1;
	if (iu_mount(self->img, self->mnt, "timeout=50"))
		return -1;
	self->mounted = 1;
	self->root = open(self->mnt, O_RDONLY | O_DIRECTORY);
	ASSERT_GE(self->root, 0);
	self->ctl = ioctl(self->root, INCRFS_IOC_OPEN_CONTROL);
	ASSERT_GE(self->ctl, 0);
	memset(self->present, 0, sizeof(self->present));
	return 0;
}

static void ctl_umount(FIXTURE_DATA(ctl) *self)
{
	if (self->ctl > 0)
		close(self->ctl);
	if (self->root > 0)
		close(self->root);
	self->ctl = self->root = -1;
	if (self->mounted)
		umount2(self->mnt, 0);
	self->mounted = 0;
}

FIXTURE_SETUP(ctl)
{
	ASSERT_EQ(setup(), 0);
	ASSERT_EQ(map_memory(), 0);
	snprintf(self->mnt, sizeof(self->mnt), TOP "/m%d", getpid());
	snprintf(self->img, sizeof(self->img), TOP "/i%d.img", getpid());
	self->seed = fz_seed();
	self->r = fz_rng_for(self->seed, 100, 0);
	TH_LOG("seed %llu", (unsigned long long)self->seed);
	ASSERT_EQ(ctl_mount(_metadata, self), 0);
}

FIXTURE_TEARDOWN(ctl)
{
	ctl_umount(self);
	rmdir(self->mnt);
	unlink(self->img);
}

/* Re-read the present blocks from the kernel (GET_FILLED, control fd). */
static void resync(struct th_test *_metadata, FIXTURE_DATA(ctl) *self)
{
	struct incrfs_block_range rg[64];
	struct incrfs_filled_ranges fr = {
		.ranges = (uintptr_t)rg, .capacity = 64,
	};
	uint64_t b;
	uint32_t i;

	memset(self->present, 0, sizeof(self->present));
	do {
		ASSERT_EQ(ioctl(self->ctl, INCRFS_IOC_GET_FILLED, &fr), 0);
		for (i = 0; i < fr.count; i++) {
			ASSERT_LT(rg[i].begin, rg[i].end);
			ASSERT_LE(rg[i].end, fc.sb.nr_blocks);
			for (b = rg[i].begin; b < rg[i].end; b++)
				self->present[b] = 1;
		}
		fr.start = fr.next;
	} while (fr.count == 64);
}

/*
 * The whole mount is still sound: every present block holds its content
 * (read through the mount), a correct FILL of a missing block works, and
 * a reader then gets its data.
 */
static void check_mount_works(struct th_test *_metadata,
			      FIXTURE_DATA(ctl) *self)
{
	struct incrfs_fill_block fb;
	struct incrfs_fill arg = { .blocks = (uintptr_t)&fb, .count = 1 };
	uint8_t buf[BS];
	unsigned int i, tried = 0;
	uint64_t lblk, pblk;
	char p[128];
	int fd;

	/* no per-uid timeout left over for us: a miss must time out */
	struct incrfs_uid_timeout t = { .uid = 0, .timeout_ms = ~0U };

	ASSERT_EQ(ioctl(self->root, INCRFS_IOC_SET_UID_TIMEOUT, &t), 0);
	resync(_metadata, self);
	for (i = 0; i < fc.nfiles; i++) {
		const struct fc_file *f = &fc.files[i];

		snprintf(p, sizeof(p), "%s/%s", self->mnt, f->path);
		fd = open(p, O_RDONLY);
		ASSERT_GE(fd, 0);
		for (lblk = 0; lblk * BS < f->size; lblk++) {
			size_t want = f->size - lblk * BS < BS ?
				      f->size - lblk * BS : BS;

			if (!map_block(f, lblk, &pblk))
				continue;	/* a hole */
			if (!self->present[pblk]) {
				if (tried++)
					continue;
				/* fill it correctly: it must work */
				fb = (struct incrfs_fill_block){
					.ino = f->ino, .block = lblk, .len = BS,
					.data = (uintptr_t)block_data(pblk),
				};
				arg.filled = 0;
				ASSERT_EQ(ioctl(self->ctl, INCRFS_IOC_FILL, &arg), 0);
				ASSERT_EQ(fb.result, 0);
				ASSERT_EQ(arg.filled, 1);
				self->present[pblk] = 1;
			}
			ASSERT_EQ(pread(fd, buf, BS, (off_t)(lblk * BS)),
				  (ssize_t)want) TH_LOG("%s block %llu", f->path,
							(unsigned long long)lblk);
			ASSERT_EQ(memcmp(buf, block_data(pblk), want), 0)
				TH_LOG("%s block %llu: wrong data", f->path,
				       (unsigned long long)lblk);
		}
		close(fd);
	}
}

/* ---- FILL ---- */

/* One entry of a batch, and what the model says the kernel answers. */
static int32_t make_entry(struct fz_rng *r, FIXTURE_DATA(ctl) *self,
			  struct incrfs_fill_block *fb, uint8_t *pending)
{
	const struct fc_file *f = &fc.files[fz_below(r, fc.nfiles)];
	uint64_t pblk = ~0ULL, nfb = (f->size + BS - 1) / BS;
	int data_kind = (int)fz_below(r, 10);
	int has_block;

	memset(fb, 0, sizeof(*fb));
	fb->result = (int32_t)fz_next(r);
	switch (fz_below(r, 10)) {
	case 0: case 1: case 2:
		/* by data block */
		fb->ino = 0;
		/* often just inside or just past the last data block */
		fb->block = fz_one_in(r, 6) ? fc.sb.nr_blocks - 1 + fz_below(r, 3) :
			    fz_below(r, fc.sb.nr_blocks);
		if (fz_one_in(r, 20))
			fb->block = fz_next(r);
		has_block = fb->block < fc.sb.nr_blocks;
		pblk = fb->block;
		break;
	case 3:
		/* not a regular file, or out of the inode table */
		switch (fz_below(r, 5)) {
		case 0: fb->ino = 1; break;
		case 1: fb->ino = fc.dir_ino; break;
		case 2: fb->ino = fc.link_ino; break;
		case 3: fb->ino = fc.sb.inode_count + 1 + fz_below(r, 3); break;
		default: fb->ino = fz_next(r) | (1ULL << 40); break;
		}
		fb->block = fz_below(r, 4);
		has_block = 0;
		break;
	default:
		/* a file block: inside, a hole, past the end, or far away */
		fb->ino = f->ino;
		fb->block = fz_one_in(r, 8) ? nfb + fz_below(r, 3) :
			    fz_one_in(r, 20) ? fz_next(r) : fz_below(r, nfb + 1);
		has_block = map_block(f, fb->block, &pblk);
		break;
	}
	/* the data: right, wrong, or not there */
	if (data_kind < 6 && has_block)
		fb->data = (uintptr_t)block_data(pblk);
	else if (data_kind < 8)
		/* another block's content, or this one's shifted by a byte */
		fb->data = (uintptr_t)block_data(fz_below(r, fc.sb.nr_blocks - 1)) +
			   (fz_one_in(r, 4) ? 1 : 0);
	else
		fb->data = bad_pointer(r);
	fb->len = BS;
	if (fz_one_in(r, 12)) {
		static const uint32_t lens[] = { 0, 1, BS - 1, BS + 1, 8192,
						 0xffffffff };

		fb->len = lens[fz_below(r, 6)];
	}

	/* what fill_one() must answer, in its order of checks */
	if (fb->len != BS)
		return -EINVAL;
	if (fb->ino == 0 && fb->block >= fc.sb.nr_blocks)
		return -EINVAL;
	if (fb->ino > fc.sb.inode_count)
		return -ENOENT;
	if (fb->ino) {
		unsigned int i;
		int reg = 0;

		for (i = 0; i < fc.nfiles; i++)
			reg |= fc.files[i].ino == fb->ino;
		/* any regular file is in fc.files; all others are not */
		if (!reg)
			return -EINVAL;
		if (!has_block)
			return -EINVAL;
	}
	if (self->present[pblk] || pending[pblk])
		return 0;
	if ((uint64_t)fb->data >= (uintptr_t)fc.full &&
	    (uint64_t)fb->data < (uintptr_t)fc.full + fc.full_len) {
		if (memcmp((void *)(uintptr_t)fb->data, block_data(pblk), BS))
			return -EBADMSG;
		pending[pblk] = 1;
		return 1;	/* newly filled */
	}
	return -EFAULT;
}

static const int fill_errnos[] = { EINVAL, EFAULT, ENOMEM, 0 };

TEST_F_TIMEOUT(ctl, fill_batches, 600)
{
	uint64_t n = fz_cases(6000), it;
	struct incrfs_fill_block *blocks = (void *)mem.rw;
	const unsigned int cap = INCRFS_FILL_MAX;
	int32_t want[16 * PG / sizeof(struct incrfs_fill_block)];
	uint64_t checked = 0, filled = 0, odd = 0;
	struct fz_rng *r = &self->r;

	for (it = 0; it < n; it++) {
		struct incrfs_fill arg = { 0 };
		uint8_t pending[MAXB] = { 0 };
		uint32_t count, i, newly = 0, exotic = 0;
		long ret;

		if (it && it % 500 == 0) {
			/* a fresh image now and then: blocks go missing again */
			check_mount_works(_metadata, self);
			ctl_umount(self);
			ASSERT_EQ(ctl_mount(_metadata, self), 0);
		}
		switch (fz_below(r, 12)) {
		case 0: count = 0; break;
		case 1: count = (uint32_t)fz_below(r, 64); break;
		case 2: count = cap; break;
		default: count = 1 + (uint32_t)fz_below(r, 8); break;
		}
		for (i = 0; i < count; i++) {
			want[i] = make_entry(r, self, &blocks[i], pending);
			if (want[i] > 0)
				newly++;
		}
		arg.blocks = (uintptr_t)blocks;
		arg.count = count;
		arg.flags = fz_one_in(r, 4) ? INCRFS_FILL_SYNC : 0;
		switch (fz_below(r, 24)) {
		case 0:
			/* a bit past the known flags */
			arg.flags = (uint32_t)fz_next(r) |
				    (INCRFS_FILL_FLAGS + 1);
			exotic = 1;	/* EINVAL */
			break;
		case 1:
			arg.left = 1 + (uint32_t)fz_below(r, 1000);
			exotic = 1;
			break;
		case 2:
			arg.filled = 1 + (uint32_t)fz_below(r, 1000);
			exotic = 1;
			break;
		case 3:
			arg.count = fz_one_in(r, 2) ? INCRFS_FILL_MAX + 1 :
				    (uint32_t)fz_next(r) | 0x80000000u;
			exotic = 1;
			break;
		case 4: case 5:
			if (!count)
				break;
			/* the array itself is bad, read-only or cut short */
			exotic = 2;
			switch (fz_below(r, 3)) {
			case 0:
				arg.blocks = bad_pointer(r);
				break;
			case 1: {
				/* the last entry runs into a PROT_NONE page */
				size_t len = sizeof(*blocks) * count - 8;

				if (len > PG)
					break;
				memcpy(mem.edge + PG - len, blocks, len);
				arg.blocks = (uintptr_t)(mem.edge + PG - len);
				break;
			}
			default:
				if (count * sizeof(*blocks) > PG)
					break;
				/* read-only: the results cannot be written */
				mprotect(mem.ro, PG, PROT_READ | PROT_WRITE);
				memcpy(mem.ro, blocks, count * sizeof(*blocks));
				mprotect(mem.ro, PG, PROT_READ);
				arg.blocks = (uintptr_t)mem.ro;
				break;
			}
			break;
		default:
			break;
		}
		if (exotic == 2 && fz_one_in(r, 4)) {
			/* the argument struct itself */
			ret = ioctl(self->ctl, INCRFS_IOC_FILL,
				    (void *)(uintptr_t)bad_pointer(r));
			ASSERT_EQ(ret, -1);
			ASSERT_EQ(errno, EFAULT);
		}
		ret = ioctl(self->ctl, INCRFS_IOC_FILL, &arg);
		if (ret < 0)
			ASSERT_TRUE(fz_errno_in(errno, fill_errnos))
				TH_LOG("FILL: errno %d (%s)", errno,
				       strerror(errno));
		if (exotic) {
			/* only the errno is predictable; the model re-syncs */
			if (exotic == 1) {
				ASSERT_EQ(ret, -1);
				ASSERT_EQ(errno, EINVAL);
			}
			if (ret == 0)
				odd++;
			resync(_metadata, self);
			continue;
		}
		ASSERT_EQ(ret, 0) TH_LOG("FILL: errno %d (%s), batch %llu",
					 errno, strerror(errno),
					 (unsigned long long)it);
		ASSERT_EQ(arg.filled, newly);
		for (i = 0; i < count; i++) {
			int32_t w = want[i] > 0 ? 0 : want[i];

			ASSERT_EQ(blocks[i].result, w)
				TH_LOG("batch %llu entry %u: ino %llu block %llu len %u",
				       (unsigned long long)it, i,
				       (unsigned long long)blocks[i].ino,
				       (unsigned long long)blocks[i].block,
				       blocks[i].len);
			checked++;
		}
		for (i = 0; i < MAXB; i++)
			self->present[i] |= pending[i];
		filled += newly;
	}
	TH_LOG("%llu batches, %llu entries checked against the model, %llu blocks filled, %llu odd batches accepted",
	       (unsigned long long)n, (unsigned long long)checked,
	       (unsigned long long)filled, (unsigned long long)odd);
	check_mount_works(_metadata, self);
}

/*
 * FILL whose data lives in a mapping of a file of the same mount: a
 * present block copies like any memory, a missing one faults into
 * read_folio, times out (50 ms) and the entry gets -EFAULT.  No deadlock.
 */
TEST_F(ctl, fill_from_a_mapping_of_the_mount)
{
	const struct fc_file *a = &fc.files[0];	/* "a", 10 blocks */
	struct incrfs_fill_block fb[2];
	struct incrfs_fill arg = { .blocks = (uintptr_t)fb, .count = 1 };
	uint64_t p0, p1;
	uint8_t *map;
	char p[128];
	int fd;

	ASSERT_TRUE(map_block(a, 0, &p0) && map_block(a, 1, &p1));
	snprintf(p, sizeof(p), "%s/a", self->mnt);
	fd = open(p, O_RDONLY);
	ASSERT_GE(fd, 0);
	map = mmap(NULL, 2 * BS, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(map, MAP_FAILED);
	/* block 1 from its own (missing) page: the fault times out */
	fb[0] = (struct incrfs_fill_block){ .ino = a->ino, .block = 1,
					    .data = (uintptr_t)(map + BS),
					    .len = BS };
	arg.filled = 0;
	ASSERT_EQ(ioctl(self->ctl, INCRFS_IOC_FILL, &arg), 0);
	ASSERT_EQ(fb[0].result, -EFAULT);
	ASSERT_EQ(arg.filled, 0);
	/* fill block 0 correctly; then block 0's page is the data of a
	 * FILL of block 1: present, copied, and refused by its hash */
	fb[0].block = 0;
	fb[0].data = (uintptr_t)block_data(p0);
	arg.filled = 0;
	ASSERT_EQ(ioctl(self->ctl, INCRFS_IOC_FILL, &arg), 0);
	ASSERT_EQ(fb[0].result, 0);
	fb[0].block = 1;
	fb[0].data = (uintptr_t)map;
	arg.filled = 0;
	ASSERT_EQ(ioctl(self->ctl, INCRFS_IOC_FILL, &arg), 0);
	ASSERT_EQ(fb[0].result, -EBADMSG);
	/* the blocks array itself in the mapping: page 0 of "a" read as
	 * an entry is refused, and its result cannot be written back */
	arg.blocks = (uintptr_t)map;
	arg.filled = 0;
	ASSERT_EQ(ioctl(self->ctl, INCRFS_IOC_FILL, &arg), -1);
	ASSERT_EQ(errno, EFAULT);
	/* the array in the missing page 1: the fault times out */
	arg.blocks = (uintptr_t)(map + BS);
	arg.filled = 0;
	ASSERT_EQ(ioctl(self->ctl, INCRFS_IOC_FILL, &arg), -1);
	ASSERT_EQ(errno, EFAULT);
	ASSERT_EQ(arg.filled, 0);
	(void)p1;
	munmap(map, 2 * BS);
	close(fd);
	check_mount_works(_metadata, self);
}

/* ---- random ioctls ---- */

static const unsigned int incrfs_cmds[] = {
	INCRFS_IOC_OPEN_CONTROL, INCRFS_IOC_FILL, INCRFS_IOC_GET_FILLED,
	INCRFS_IOC_GET_STATS, INCRFS_IOC_SET_UID_TIMEOUT,
	INCRFS_IOC_GET_UID_TIMEOUT, INCRFS_IOC_GET_INFO,
	INCRFS_IOC_FAIL_READS,
};
#define NR_CMDS (sizeof(incrfs_cmds) / sizeof(incrfs_cmds[0]))

static unsigned int random_cmd(struct fz_rng *r)
{
	unsigned int cmd;

	switch (fz_below(r, 4)) {
	case 0:
		return incrfs_cmds[fz_below(r, NR_CMDS)];
	case 1:
		/* an incrfs number with another size or direction */
		cmd = incrfs_cmds[fz_below(r, NR_CMDS)];
		return _IOC(fz_below(r, 4), INCRFS_IOC_MAGIC, _IOC_NR(cmd),
			    fz_one_in(r, 2) ? fz_below(r, 80) :
			    _IOC_SIZE(cmd) ^ (1u << fz_below(r, 7)));
	case 2:
		return _IOC(fz_below(r, 4), INCRFS_IOC_MAGIC, fz_below(r, 256),
			    fz_below(r, 1 << 14));
	default:
		cmd = (unsigned int)fz_next(r);
		/* FIFREEZE/FITHAW would freeze the mount: not ours to test */
		if (_IOC_TYPE(cmd) == 'X')
			cmd ^= 1u << _IOC_TYPESHIFT;
		return cmd;
	}
}

/*
 * Why each errno is fine for a random ioctl:
 *   ENOTTY     unknown command (incrfs and the VFS both say so)
 *   EINVAL     bad argument, GET_FILLED on a directory
 *   EFAULT     bad pointer
 *   EBUSY      OPEN_CONTROL while the control fd is open
 *   ENOENT     GET_UID_TIMEOUT of a uid without one
 *   EOPNOTSUPP VFS ioctls of a feature incrfs lacks (fiemap, fileattr)
 *   EROFS      VFS ioctls that would change the read-only mount
 *   EBADF, EXDEV, EPERM  VFS clone/dedupe ioctls with a random source fd
 *   ENOMEM     an allocation failed
 *   ENOIOCTLCMD never reaches userspace; ENOSYS does not belong here
 */
static const int ioctl_errnos[] = { ENOTTY, EINVAL, EFAULT, EBUSY, ENOENT,
				    EOPNOTSUPP, EROFS, EBADF, EXDEV, EPERM,
				    ENOMEM, 0 };

TEST_F_TIMEOUT(ctl, random_ioctls, 600)
{
	uint64_t n = fz_cases(6000), it;
	uint64_t hist[FZ_NERRNO_CTL] = { 0 }, ok = 0;
	struct fz_rng *r = &self->r;
	int fds[4];
	char p[128];
	int e;

	fds[0] = self->ctl;
	fds[1] = self->root;
	snprintf(p, sizeof(p), "%s/a", self->mnt);
	fds[2] = open(p, O_RDONLY);
	snprintf(p, sizeof(p), "%s/d", self->mnt);
	fds[3] = open(p, O_RDONLY | O_DIRECTORY);
	ASSERT_GE(fds[2], 0);
	ASSERT_GE(fds[3], 0);
	for (it = 0; it < n; it++) {
		unsigned int cmd = random_cmd(r);
		int fd = fds[fz_below(r, 4)];
		uint64_t arg;
		long ret;

		switch (fz_below(r, 4)) {
		case 0: case 1:
			for (e = 0; e < 64; e++)
				((uint64_t *)mem.rw)[e] = fz_one_in(r, 2) ?
					fz_below(r, 64) : fz_next(r);
			arg = (uintptr_t)mem.rw;
			break;
		case 2:
			arg = (uintptr_t)mem.ro;
			break;
		default:
			arg = bad_pointer(r);
			break;
		}
		ret = ioctl(fd, cmd, (void *)(uintptr_t)arg);
		if (ret >= 0) {
			ok++;
			/* a new control fd (ours was closed by FIOCLEX? no:
			 * only if OPEN_CONTROL succeeded) */
			if (cmd == INCRFS_IOC_OPEN_CONTROL && ret > 2)
				close((int)ret);
			continue;
		}
		e = errno;
		hist[e < FZ_NERRNO_CTL ? e : 0]++;
		ASSERT_TRUE(fz_errno_in(e, ioctl_errnos))
			TH_LOG("ioctl(fd %d, 0x%08x, 0x%llx): errno %d (%s)",
			       fd, cmd, (unsigned long long)arg, e,
			       strerror(e));
	}
	{
		char line[512];
		size_t len = 0;

		for (e = 0; e < FZ_NERRNO_CTL; e++)
			if (hist[e])
				len += (size_t)snprintf(line + len,
					sizeof(line) - len, " %s:%llu",
					strerrorname_np(e) ?: "?",
					(unsigned long long)hist[e]);
		line[len] = '\0';
		TH_LOG("%llu ioctls, %llu succeeded; errors:%s",
		       (unsigned long long)n, (unsigned long long)ok, line);
	}
	close(fds[2]);
	close(fds[3]);
	/* the fds still work */
	ASSERT_EQ(fcntl(self->ctl, F_SETFL, 0), 0);
	check_mount_works(_metadata, self);
}

/* ---- reads of the control fd ---- */

/* A reader of a random missing block, in the background: a record. */
static pid_t start_reader(FIXTURE_DATA(ctl) *self, struct fz_rng *r)
{
	const struct fc_file *f = &fc.files[fz_below(r, 2)];	/* a, b */
	uint64_t lblk = fz_below(r, (f->size + BS - 1) / BS);
	pid_t pid = fork();

	if (pid == 0) {
		char p[128], buf[BS];
		int fd;

		snprintf(p, sizeof(p), "%s/%s", self->mnt, f->path);
		fd = open(p, O_RDONLY);
		/* fails with ETIMEDOUT after 50 ms, or reads */
		if (fd >= 0 && pread(fd, buf, BS, (off_t)(lblk * BS)) < 0 &&
		    errno != ETIMEDOUT)
			_exit(1);
		_exit(0);
	}
	return pid;
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST_F_TIMEOUT(ctl, control_reads, 600)
{
	uint64_t n = fz_cases(6000) / 4, it;
	static const size_t sizes[] = {
		0, 1, 55, 56, 57, 111, 112, 4096, 64 * 56, 64 * 56 + 1,
		1 << 20, (size_t)1 << 40, ~(size_t)0 >> 1,
	};
	struct sigaction sa = { .sa_handler = on_alarm };	/* no restart */
	struct fz_rng *r = &self->r;
	uint64_t records = 0, last_seq = 0, efault = 0;
	pid_t readers[8] = { 0 };
	int st;

	sigaction(SIGALRM, &sa, NULL);
	for (it = 0; it < n; it++) {
		size_t size = sizes[fz_below(r, sizeof(sizes) / sizeof(sizes[0]))];
		unsigned int slot = (unsigned int)fz_below(r, 8);
		int nonblock = fz_one_in(r, 2), bad = fz_one_in(r, 8);
		void *buf = mem.rw;
		ssize_t ret;
		size_t i;

		if (readers[slot] && waitpid(readers[slot], &st, WNOHANG) ==
		    readers[slot]) {
			ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
			readers[slot] = 0;
		}
		if (!readers[slot] && fz_one_in(r, 3))
			readers[slot] = start_reader(self, r);
		if (size > 16 * PG && !bad)
			buf = mem.rw;	/* the kernel writes at most 64 records */
		if (bad)
			buf = (void *)(uintptr_t)bad_pointer(r);
		ASSERT_EQ(fcntl(self->ctl, F_SETFL, nonblock ? O_NONBLOCK : 0), 0);
		/* a blocking read with nothing queued ends by the alarm */
		setitimer(ITIMER_REAL, &(struct itimerval){
			.it_value = { 0, 100000 } }, NULL);
		ret = read(self->ctl, buf, size);
		setitimer(ITIMER_REAL, &(struct itimerval){ 0 }, NULL);
		if (ret < 0) {
			int e = errno;

			if (size < sizeof(struct incrfs_pending_read)) {
				/* the VFS checks the buffer first */
				ASSERT_EQ(e, bad && e == EFAULT ? EFAULT : EINVAL);
			} else if (e == EFAULT) {
				/* a bad buffer, or one the VFS finds runs past
				 * the end of user space (access_ok) */
				ASSERT_TRUE(bad || size >= ((size_t)1 << 40));
				efault++;
			} else if (nonblock)
				ASSERT_EQ(e, EAGAIN);
			else
				ASSERT_EQ(e, EINTR);
			continue;
		}
		ASSERT_FALSE(bad && ret > 0);
		ASSERT_GE(size, sizeof(struct incrfs_pending_read));
		ASSERT_EQ(ret % sizeof(struct incrfs_pending_read), 0);
		ASSERT_LE((size_t)ret, size);
		ASSERT_LE((size_t)ret, 64 * sizeof(struct incrfs_pending_read));
		for (i = 0; i < (size_t)ret / sizeof(struct incrfs_pending_read); i++) {
			const struct incrfs_pending_read *pr =
				(const void *)((uint8_t *)buf + i * sizeof(*pr));

			ASSERT_GE(pr->ino, 1);
			ASSERT_LE(pr->ino, fc.sb.inode_count);
			ASSERT_LT(pr->data_block, fc.sb.nr_blocks);
			ASSERT_GE(pr->count, 1);
			ASSERT_LE(pr->data_block + pr->count, fc.sb.nr_blocks);
			ASSERT_EQ(pr->flags & ~INCRFS_PENDING_READAHEAD, 0);
			ASSERT_GT(pr->seq, last_seq);
			last_seq = pr->seq;
			records++;
		}
	}
	for (unsigned int i = 0; i < 8; i++)
		if (readers[i])
			waitpid(readers[i], &st, 0);
	TH_LOG("%llu reads, %llu records, %llu EFAULT", (unsigned long long)n,
	       (unsigned long long)records, (unsigned long long)efault);
	ASSERT_GT(records, 0);
	ASSERT_EQ(fcntl(self->ctl, F_SETFL, 0), 0);
	check_mount_works(_metadata, self);
}

/* ---- GET_FILLED and per-uid timeouts with odd arguments ---- */

TEST_F_TIMEOUT(ctl, get_filled_and_uid_timeouts, 600)
{
	uint64_t n = fz_cases(6000) / 4, it;
	struct incrfs_block_range *rg = (void *)mem.rw;
	struct fz_rng *r = &self->r;
	uint32_t uids[8] = { 0 }, tmo[8] = { 0 };
	uint8_t set[8] = { 0 };
	int fds[3];
	char p[128];

	fds[0] = self->ctl;
	snprintf(p, sizeof(p), "%s/a", self->mnt);
	fds[1] = open(p, O_RDONLY);
	snprintf(p, sizeof(p), "%s/holes", self->mnt);
	fds[2] = open(p, O_RDONLY);
	ASSERT_GE(fds[1], 0);
	ASSERT_GE(fds[2], 0);
	for (unsigned int i = 0; i < 8; i++)
		uids[i] = i ? (uint32_t)fz_next(r) : 4321;
	for (it = 0; it < n; it++) {
		struct incrfs_filled_ranges fr = { 0 };
		struct incrfs_uid_timeout t;
		int fd = fds[fz_below(r, 3)];
		unsigned int u = (unsigned int)fz_below(r, 8);
		uint32_t i;
		long ret;

		/* a few blocks present, so there are ranges */
		if (fz_one_in(r, 20)) {
			const struct fc_file *f = &fc.files[fz_below(r, 2)];
			uint64_t lblk = fz_below(r, (f->size + BS - 1) / BS), pb;
			struct incrfs_fill_block fb = {
				.ino = f->ino, .block = lblk, .len = BS,
			};
			struct incrfs_fill a = { .blocks = (uintptr_t)&fb,
						 .count = 1 };

			ASSERT_TRUE(map_block(f, lblk, &pb));
			fb.data = (uintptr_t)block_data(pb);
			ASSERT_EQ(ioctl(self->ctl, INCRFS_IOC_FILL, &a), 0);
			ASSERT_EQ(fb.result, 0);
		}
		fr.capacity = fz_one_in(r, 3) ? ~0U : (uint32_t)fz_below(r, 70);
		fr.start = fz_one_in(r, 4) ? fz_next(r) : fz_below(r, 12);
		fr.ranges = fz_one_in(r, 6) ? bad_pointer(r) : (uintptr_t)rg;
		fr.count = (uint32_t)fz_next(r);
		fr.next = fz_next(r);
		ret = ioctl(fd, INCRFS_IOC_GET_FILLED, &fr);
		if (ret) {
			ASSERT_EQ(errno, EFAULT);
			ASSERT_NE(fr.ranges, (uintptr_t)rg);
		} else {
			ASSERT_LE(fr.count, fr.capacity);
			ASSERT_LE(fr.count, 16 * PG / sizeof(*rg));
			for (i = 0; i < fr.count; i++) {
				ASSERT_LT(rg[i].begin, rg[i].end);
				ASSERT_GE(rg[i].begin, fr.start);
				ASSERT_LE(rg[i].end, fr.next);
				if (i)
					ASSERT_GT(rg[i].begin, rg[i - 1].end);
			}
		}

		/* per-uid timeouts: the last SET is what GET returns */
		t.uid = uids[u];
		if (fz_one_in(r, 2)) {
			t.timeout_ms = fz_one_in(r, 4) ? ~0U :
				       (uint32_t)fz_below(r, 100000);
			ret = ioctl(fds[1 + fz_below(r, 2)],
				    INCRFS_IOC_SET_UID_TIMEOUT, &t);
			ASSERT_EQ(ret, 0);
			set[u] = t.timeout_ms != ~0U;
			tmo[u] = t.timeout_ms;
			/* the control fd does not take it */
			ASSERT_EQ(ioctl(self->ctl, INCRFS_IOC_SET_UID_TIMEOUT, &t), -1);
			ASSERT_EQ(errno, ENOTTY);
		} else {
			t.timeout_ms = (uint32_t)fz_next(r);
			ret = ioctl(fds[1], INCRFS_IOC_GET_UID_TIMEOUT, &t);
			if (set[u]) {
				ASSERT_EQ(ret, 0);
				ASSERT_EQ(t.timeout_ms, tmo[u]);
			} else {
				ASSERT_EQ(ret, -1);
				ASSERT_EQ(errno, ENOENT);
			}
		}
		if (fz_one_in(r, 16)) {
			ASSERT_EQ(ioctl(fds[1], INCRFS_IOC_SET_UID_TIMEOUT,
					(void *)(uintptr_t)bad_pointer(r)), -1);
			ASSERT_EQ(errno, EFAULT);
		}
	}
	close(fds[1]);
	close(fds[2]);
	check_mount_works(_metadata, self);
}

/* ---- mount options ---- */

TEST(random_mount_options)
{
	static const char *const opts[] = {
		"", "timeout=0", "timeout=1", "timeout=4294967295",
		"timeout=4294967296", "timeout=-1", "timeout=", "timeout",
		"timeout=0x10", "timeout=10,timeout=20", "nosuchoption",
		"timeout=10,nosuchoption", "ro", "rw", "timeout=1e3",
		",,,,", "timeout=99999999999999999999999",
	};
	struct fz_rng r = fz_rng_for(fz_seed(), 101, 0);
	char mnt[64], img[80], opt[512];
	unsigned int i, j;
	int ok = 0, refused = 0;

	ASSERT_EQ(setup(), 0);
	snprintf(mnt, sizeof(mnt), TOP "/o%d", getpid());
	snprintf(img, sizeof(img), TOP "/o%d.img", getpid());
	ASSERT_EQ(iu_sh("cp " LAZY " %s", img), 0);
	for (i = 0; i < 200; i++) {
		if (i < sizeof(opts) / sizeof(opts[0])) {
			snprintf(opt, sizeof(opt), "%s", opts[i]);
		} else {
			size_t len = fz_below(&r, sizeof(opt) - 1);

			for (j = 0; j < len; j++)
				opt[j] = (char)(1 + fz_below(&r, 255));
			opt[len] = '\0';
			if (fz_one_in(&r, 2))
				memcpy(opt, "timeout=", len < 8 ? len : 8);
		}
		if (iu_mount(img, mnt, opt) == 0) {
			ok++;
			/* and remount with something random */
			mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY,
			      opts[fz_below(&r, sizeof(opts) / sizeof(opts[0]))]);
			ASSERT_EQ(umount(mnt), 0);
		} else {
			refused++;
			ASSERT_EQ(errno, EINVAL) TH_LOG("options '%s': %s", opt,
							strerror(errno));
		}
	}
	TH_LOG("%d mounted, %d refused", ok, refused);
	ASSERT_GT(ok, 0);
	unlink(img);
	rmdir(mnt);
}

TEST_HARNESS_MAIN
