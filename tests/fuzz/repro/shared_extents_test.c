// SPDX-License-Identifier: GPL-2.0-only
/*
 * shared_extents_test.c - reproduces a kernel memory amplification found
 * while fuzzing; NOT part of the suite (nothing runs tests/fuzz/repro/)
 * while the bug is open.  Move it to tests/kselftest/ with the fix.
 *
 * Every inode of an image may point at the same extent record (the kernel
 * validates each inode's extents on their own; that data-block ranges of
 * different files are disjoint is only checked by the userspace reader).
 * incrfs_iget() -> load_extents() keeps a private copy of the record per
 * inode (24 bytes per extent, kvmalloc, not memcg-accounted) for as long
 * as the inode is cached.  This image is 6 MB of metadata in a sparse
 * file; lstat of its 64 files pins ~400 MB of vmalloc memory, 6.4 MB per
 * file; a few hundred files exhaust a 2 GB guest, and open files keep it
 * pinned.  The test expects less than 64 MB: it fails today.  Run it with
 *   tests/vm/run-guest.sh --tests tests/fuzz/repro KVER
 */
#include <dirent.h>
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

TEST_TIMEOUT(shared_extent_record, 600)
{
	const uint64_t bs = 4096, ninodes = NINO + 1;
	uint64_t inode_off = bs, meta_off = inode_off + ninodes * 128;
	uint64_t dir_len = NINO * 16 + NINO * 8, ext_len = (uint64_t)NEXT * 24;
	uint64_t meta_size = dir_len + ext_len;
	uint64_t nr_blocks = NEXT, hash_off = meta_off + meta_size;
	uint64_t bitmap_off = (hash_off + nr_blocks * 32 + bs - 1) / bs * bs;
	uint64_t bitmap_size = (nr_blocks + 7) / 8;
	uint64_t data_off = (bitmap_off + bitmap_size + bs - 1) / bs * bs;
	uint64_t image_size = data_off + nr_blocks * bs;
	struct incrfs_super_block sb = { 0 };
	struct incrfs_extent *e;
	struct incrfs_inode in;
	char name[16], p[64];
	struct stat st;
	long before, after;
	int fd, i;

	fd = open("/tmp/amp.img", O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, image_size), 0);	/* sparse */
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
	ASSERT_EQ(pwrite(fd, &sb, sizeof(sb), 0), (ssize_t)sizeof(sb));
	memset(&in, 0, sizeof(in));
	in.i_mode = htole16(S_IFDIR | 0755);
	in.i_nlink = htole32(2);
	in.i_meta_len = htole32(dir_len);
	in.i_meta_count = htole32(NINO);
	in.i_parent = htole64(1);
	ASSERT_EQ(pwrite(fd, &in, 128, inode_off), 128);
	for (i = 0; i < NINO; i++) {
		struct incrfs_dirent de = { 0 };

		/* every file: the same data blocks, the same extent record */
		memset(&in, 0, sizeof(in));
		in.i_mode = htole16(S_IFREG | 0644);
		in.i_nlink = htole32(1);
		in.i_size = htole64(2ULL * NEXT * bs);
		in.i_meta_off = htole64(dir_len);
		in.i_meta_len = htole32(ext_len);
		in.i_meta_count = htole32(NEXT);
		in.i_nr_blocks = htole64(NEXT);
		ASSERT_EQ(pwrite(fd, &in, 128, inode_off + (i + 1) * 128), 128);
		snprintf(name, sizeof(name), "f%07d", i);
		de.d_ino = htole64(i + 2);
		de.d_nameoff = htole32(NINO * 16 + i * 8);
		de.d_namelen = htole16(8);
		de.d_type = DT_REG;
		ASSERT_EQ(pwrite(fd, &de, 16, meta_off + i * 16), 16);
		ASSERT_EQ(pwrite(fd, name, 8, meta_off + NINO * 16 + i * 8), 8);
	}
	/* block 2i of the file is data block i: NEXT extents of one block */
	e = calloc(NEXT, sizeof(*e));
	ASSERT_NOT_NULL(e);
	for (i = 0; i < (int)NEXT; i++) {
		e[i].e_lblk = htole64(2ULL * i);
		e[i].e_pblk = htole64(i);
		e[i].e_len = htole32(1);
	}
	ASSERT_EQ(pwrite(fd, e, ext_len, meta_off + dir_len), (ssize_t)ext_len);
	free(e);
	close(fd);
	TH_LOG("image: %llu bytes apparent, %llu of metadata",
	       (unsigned long long)image_size, (unsigned long long)meta_size);
	ASSERT_EQ(iu_mount("/tmp/amp.img", "/tmp/ampm", "timeout=50"), 0);
	sync();
	iu_sh("echo 3 > /proc/sys/vm/drop_caches");
	before = mem_avail_kb();
	for (i = 0; i < NINO; i++) {
		snprintf(p, sizeof(p), "/tmp/ampm/f%07d", i);
		ASSERT_EQ(lstat(p, &st), 0);
	}
	after = mem_avail_kb();
	TH_LOG("MemAvailable %ld kB -> %ld kB after lstat of %d files: %ld kB (%ld kB a file)",
	       before, after, NINO, before - after, (before - after) / NINO);
	iu_sh("grep -E 'VmallocUsed' /proc/meminfo | sed 's/^/# /'");
	umount("/tmp/ampm");
	/* with the fix, a few MB at most */
	EXPECT_LT(before - after, 64 * 1024);
}

TEST_HARNESS_MAIN
