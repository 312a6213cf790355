// SPDX-License-Identifier: GPL-2.0-only
/*
 * crafted_image_test.c - images made by hand, field by field, to hold
 * what incrfs-pack never writes but a hostile image can: properties the
 * image fuzzer only hits by luck.
 *
 * shared_extent_record: every file of the image points at one 6 MB extent
 * record (the kernel validates each inode's extents on their own; that the
 * data-block ranges of different files are disjoint is only checked by the
 * userspace reader).  The kernel once kept a private copy of the record
 * per cached inode, uncharged: lstat of the 64 files pinned ~400 MB, a few
 * hundred files exhausted the guest.  Now the extents of all cached inodes
 * together may not exceed the metadata area: the first file loads, the
 * others fail with EUCLEAN, memory stays bounded, and the budget comes back
 * when the inode is evicted.
 *
 * bad_dtype: a directory entry whose type is no DT_* the packer writes;
 * readdir once handed it to userspace as it was.
 *
 * too_many_data_blocks: 2^31 + 5 data blocks (a sparse 8 TiB image, which
 * ext4 and tmpfs allow).  On 6.1 the kernel's little-endian bitops take an
 * int bit number, so block 2^31 reached 256 MiB before the bitmap: the
 * mount itself wrote there.  Images are now limited to INT_MAX blocks.
 *
 * sparse_extent_area: one file claims 2^22 extents (a 96 MiB record of
 * zeroes in a sparse metadata area).  An lstat once allocated a copy of
 * the whole record and the extent array, 192 MiB, the copy uncharged,
 * before looking at the first record; now the record is read a block at
 * a time, and a mount's extents may not pass 64 MiB whatever the super
 * block says: the lstat fails with EUCLEAN even in a 16 MiB memory cgroup
 * (ENOMEM there before).
 *
 * feature_flags: an unknown ro_compat bit once mounted, and the module
 * then wrote fills and bitmap bits into an image whose format it only
 * knew well enough to read.  Unknown incompat and ro_compat bits are both
 * refused now (EINVAL); an unknown compat bit is ignored.
 */
#include <dirent.h>
#include <stddef.h>
#include "tests/kselftest/harness.h"
#include "tests/kselftest/incrfs_util.h"
#include "crc32c.h"

#define NEXT	(1u << 18)	/* extents in the shared record (6 MB) */
#define NINO	64		/* files sharing it */

static long mem_avail_kb(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/*
 * craft - write an image of one root directory holding @nino files named
 * f0000000..., each pointing at the same record of @next one-block extents
 * (block 2i of each file is data block i); entry 0's type is @dtype0.
 * Sparse: the data area is never written, nor the extent record if
 * @no_extents.
 */
static int craft_ext(const char *path, int nino, uint32_t next,
		     uint8_t dtype0, int no_extents)
{
	const uint64_t bs = 4096, ninodes = nino + 1;
	uint64_t inode_off = bs, meta_off = inode_off + ninodes * 128;
	uint64_t dir_len = nino * 16 + nino * 8, ext_len = (uint64_t)next * 24;
	uint64_t meta_size = dir_len + ext_len;
	uint64_t nr_blocks = next, hash_off = meta_off + meta_size;
	uint64_t bitmap_off = (hash_off + nr_blocks * 32 + bs - 1) / bs * bs;
	uint64_t bitmap_size = (nr_blocks + 7) / 8;
	uint64_t data_off = (bitmap_off + bitmap_size + bs - 1) / bs * bs;
	uint64_t image_size = data_off + nr_blocks * bs;
	struct incrfs_super_block sb = { 0 };
	struct incrfs_extent *e;
	struct incrfs_inode in;
	char name[16];
	int fd, i, ok = 1;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, image_size))
		return -1;
	sb.s_magic = htole32(INCRFS_SUPER_MAGIC);
	sb.s_major = htole16(INCRFS_MAJOR);
	sb.s_blkszbits = INCRFS_BLOCK_BITS;
	sb.s_inode_size = htole32(128);
	sb.s_inode_count = htole64(ninodes);
	sb.s_root_ino = htole64(1);
	sb.s_image_size = htole64(image_size);
	sb.s_inode_off = htole64(inode_off);
	sb.s_meta_off = htole64(meta_off);
	sb.s_meta_size = htole64(meta_size);
	sb.s_hash_off = htole64(hash_off);
	sb.s_bitmap_off = htole64(bitmap_off);
	sb.s_bitmap_size = htole64(bitmap_size);
	sb.s_data_off = htole64(data_off);
	sb.s_nr_blocks = htole64(nr_blocks);
	sb.s_checksum = htole32(incrfs_crc32c(0, &sb, sizeof(sb)));
	ok &= pwrite(fd, &sb, sizeof(sb), 0) == (ssize_t)sizeof(sb);
	memset(&in, 0, sizeof(in));
	in.i_mode = htole16(S_IFDIR | 0755);
	in.i_nlink = htole32(2);
	in.i_meta_len = htole32(dir_len);
	in.i_meta_count = htole32(nino);
	in.i_parent = htole64(1);
	ok &= pwrite(fd, &in, 128, inode_off) == 128;
	for (i = 0; i < nino; i++) {
		struct incrfs_dirent de = { 0 };

		memset(&in, 0, sizeof(in));
		in.i_mode = htole16(S_IFREG | 0644);
		in.i_nlink = htole32(1);
		in.i_size = htole64(2ULL * next * bs);
		in.i_meta_off = htole64(dir_len);
		in.i_meta_len = htole32(ext_len);
		in.i_meta_count = htole32(next);
		in.i_nr_blocks = htole64(next);
		ok &= pwrite(fd, &in, 128, inode_off + (i + 1) * 128) == 128;
		snprintf(name, sizeof(name), "f%07d", i);
		de.d_ino = htole64(i + 2);
		de.d_nameoff = htole32(nino * 16 + i * 8);
		de.d_namelen = htole16(8);
		de.d_type = i ? DT_REG : dtype0;
		ok &= pwrite(fd, &de, 16, meta_off + i * 16) == 16;
		ok &= pwrite(fd, name, 8, meta_off + nino * 16 + i * 8) == 8;
	}
	if (no_extents)
		return close(fd) == 0 && ok ? 0 : -1;
	e = calloc(next, sizeof(*e));
	if (!e) {
		close(fd);
		return -1;
	}
	for (i = 0; i < (int)next; i++) {
		e[i].e_lblk = htole64(2ULL * i);
		e[i].e_pblk = htole64(i);
		e[i].e_len = htole32(1);
	}
	ok &= pwrite(fd, e, ext_len, meta_off + dir_len) == (ssize_t)ext_len;
	free(e);
	ok &= close(fd) == 0;
	return ok ? 0 : -1;
}

static int craft(const char *path, int nino, uint32_t next, uint8_t dtype0)
{
	return craft_ext(path, nino, next, dtype0, 0);
}

TEST(sparse_extent_area)
{
	const char *cg = "/sys/fs/cgroup/incrfs-crafted";
	struct stat st;
	char p[128];
	pid_t pid;
	int status;

	mkdir("/sys/fs/cgroup", 0755);
	mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL);
	iu_sh("echo +memory > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null");
	mkdir(cg, 0755);
	snprintf(p, sizeof(p), "%s/memory.max", cg);
	if (iu_write_file(p, "16M", 3, 0644)) {
		rmdir(cg);
		SKIP(return, "no memory cgroup controller in this kernel");
	}
	ASSERT_EQ(craft_ext("/tmp/sparse.img", 1, 1u << 22, DT_REG, 1), 0);
	ASSERT_EQ(iu_mount("/tmp/sparse.img", "/tmp/sparsem", "timeout=50"),
		  0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char me[32];

		snprintf(p, sizeof(p), "%s/cgroup.procs", cg);
		snprintf(me, sizeof(me), "%d", getpid());
		if (iu_write_file(p, me, strlen(me), 0644))
			_exit(100);
		errno = 0;
		if (lstat("/tmp/sparsem/f0000000", &st) == 0)
			_exit(0);
		_exit(errno);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(EUCLEAN, WEXITSTATUS(status))
		TH_LOG("lstat: %s", strerror(WEXITSTATUS(status)));
	EXPECT_EQ(umount("/tmp/sparsem"), 0);
	rmdir(cg);
	unlink("/tmp/sparse.img");
}

TEST_TIMEOUT(shared_extent_record, 600)
{
	char p[64];
	struct stat st;
	long before, after;
	int i, refused = 0;

	ASSERT_EQ(craft("/tmp/amp.img", NINO, NEXT, DT_REG), 0);
	ASSERT_EQ(iu_mount("/tmp/amp.img", "/tmp/ampm", "timeout=50"), 0);
	sync();
	iu_sh("echo 3 > /proc/sys/vm/drop_caches");
	before = mem_avail_kb();
	ASSERT_EQ(lstat("/tmp/ampm/f0000000", &st), 0);
	EXPECT_EQ(st.st_size, 2LL * NEXT * 4096);
	for (i = 1; i < NINO; i++) {
		snprintf(p, sizeof(p), "/tmp/ampm/f%07d", i);
		errno = 0;
		if (lstat(p, &st) == -1 && errno == EUCLEAN)
			refused++;
	}
	after = mem_avail_kb();
	TH_LOG("MemAvailable %ld kB -> %ld kB after lstat of %d files: %ld kB",
	       before, after, NINO, before - after);
	EXPECT_EQ(refused, NINO - 1);
	EXPECT_LT(before - after, 64 * 1024);

	/* evicting the first file gives its budget back to the next one */
	iu_sh("echo 2 > /proc/sys/vm/drop_caches");
	EXPECT_EQ(lstat("/tmp/ampm/f0000001", &st), 0)
		TH_LOG("lstat after eviction: %s", strerror(errno));
	EXPECT_EQ(umount("/tmp/ampm"), 0);
}

TEST(bad_dtype)
{
	DIR *d;
	struct dirent *de;
	int n = 0;

	ASSERT_EQ(craft("/tmp/dt.img", 2, 1, 42), 0);
	ASSERT_EQ(iu_mount("/tmp/dt.img", "/tmp/dtm", "timeout=50"), 0);
	d = opendir("/tmp/dtm");
	ASSERT_NOT_NULL(d);
	errno = 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	EXPECT_EQ(errno, EUCLEAN);
	EXPECT_EQ(n, 0);
	closedir(d);
	/* lookup refuses it too; the good entry still works */
	EXPECT_EQ(access("/tmp/dtm/f0000000", F_OK), -1);
	EXPECT_EQ(errno, EUCLEAN);
	EXPECT_EQ(access("/tmp/dtm/f0000001", F_OK), 0);
	EXPECT_EQ(umount("/tmp/dtm"), 0);
	unlink("/tmp/dt.img");
}

/* Set one feature word of the image's super block, checksum it again. */
static int set_feature(const char *path, size_t field_off, uint32_t bits)
{
	struct incrfs_super_block sb;
	uint32_t le = htole32(bits);
	int fd, ok;

	fd = open(path, O_RDWR);
	if (fd < 0)
		return -1;
	ok = pread(fd, &sb, sizeof(sb), 0) == (ssize_t)sizeof(sb);
	memcpy((char *)&sb + field_off, &le, sizeof(le));
	sb.s_checksum = 0;
	sb.s_checksum = htole32(incrfs_crc32c(0, &sb, sizeof(sb)));
	ok &= pwrite(fd, &sb, sizeof(sb), 0) == (ssize_t)sizeof(sb);
	ok &= close(fd) == 0;
	return ok ? 0 : -1;
}

TEST(feature_flags)
{
	const size_t compat = offsetof(struct incrfs_super_block,
				       s_feature_compat);
	const size_t incompat = offsetof(struct incrfs_super_block,
					 s_feature_incompat);
	const size_t ro_compat = offsetof(struct incrfs_super_block,
					  s_feature_ro_compat);

	ASSERT_EQ(craft("/tmp/ff.img", 1, 1, DT_REG), 0);
	ASSERT_EQ(set_feature("/tmp/ff.img", ro_compat, 1u << 31), 0);
	errno = 0;
	EXPECT_EQ(iu_mount("/tmp/ff.img", "/tmp/ffm", "timeout=50"), -1);
	EXPECT_EQ(errno, EINVAL);
	ASSERT_EQ(set_feature("/tmp/ff.img", ro_compat, 0), 0);
	ASSERT_EQ(set_feature("/tmp/ff.img", incompat, 1), 0);
	errno = 0;
	EXPECT_EQ(iu_mount("/tmp/ff.img", "/tmp/ffm", "timeout=50"), -1);
	EXPECT_EQ(errno, EINVAL);
	ASSERT_EQ(set_feature("/tmp/ff.img", incompat, 0), 0);
	ASSERT_EQ(set_feature("/tmp/ff.img", compat, 0xffffffff), 0);
	ASSERT_EQ(iu_mount("/tmp/ff.img", "/tmp/ffm", "timeout=50"), 0)
		TH_LOG("an unknown compat bit: %s", strerror(errno));
	EXPECT_EQ(access("/tmp/ffm/f0000000", F_OK), 0);
	EXPECT_EQ(umount("/tmp/ffm"), 0);
	unlink("/tmp/ff.img");
}

TEST(too_many_data_blocks)
{
	const uint64_t bs = 4096, nr = (1ULL << 31) + 5;
	uint64_t inode_off = bs, meta_off = inode_off + 128;
	uint64_t bitmap_off = (meta_off + nr * 32 + bs - 1) / bs * bs;
	uint64_t data_off = (bitmap_off + (nr + 7) / 8 + bs - 1) / bs * bs;
	uint64_t image_size = data_off + nr * bs;
	struct incrfs_super_block sb = { 0 };
	struct incrfs_inode in = { 0 };
	int fd;

	fd = open("/tmp/big.img", O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, image_size), 0)
		TH_LOG("a sparse %llu-byte file: %s",
		       (unsigned long long)image_size, strerror(errno));
	sb.s_magic = htole32(INCRFS_SUPER_MAGIC);
	sb.s_major = htole16(INCRFS_MAJOR);
	sb.s_blkszbits = INCRFS_BLOCK_BITS;
	sb.s_inode_size = htole32(128);
	sb.s_inode_count = htole64(1);
	sb.s_root_ino = htole64(1);
	sb.s_image_size = htole64(image_size);
	sb.s_inode_off = htole64(inode_off);
	sb.s_meta_off = htole64(meta_off);
	sb.s_meta_size = htole64(0);
	sb.s_hash_off = htole64(meta_off);
	sb.s_bitmap_off = htole64(bitmap_off);
	sb.s_bitmap_size = htole64((nr + 7) / 8);
	sb.s_data_off = htole64(data_off);
	sb.s_nr_blocks = htole64(nr);
	sb.s_checksum = htole32(incrfs_crc32c(0, &sb, sizeof(sb)));
	ASSERT_EQ(pwrite(fd, &sb, sizeof(sb), 0), (ssize_t)sizeof(sb));
	in.i_mode = htole16(S_IFDIR | 0755);
	in.i_nlink = htole32(2);
	in.i_parent = htole64(1);
	ASSERT_EQ(pwrite(fd, &in, 128, inode_off), 128);
	ASSERT_EQ(close(fd), 0);
	errno = 0;
	EXPECT_EQ(iu_mount("/tmp/big.img", "/tmp/bigm", "timeout=50"), -1);
	EXPECT_EQ(errno, EUCLEAN);
	unlink("/tmp/big.img");
}

TEST_HARNESS_MAIN
