// SPDX-License-Identifier: GPL-2.0-only
/*
 * image_reader_fuzz.c - libFuzzer target: the userspace image reader
 * (tools/lib/image.h) on arbitrary bytes.
 *
 * Why this exists: incrfsctl, incrfsd and the packer's self-check read
 * images that may come from anywhere, through this reader.  Its promise is
 * "a malformed image yields an error, never a crash"; libFuzzer with ASan
 * and UBSan holds it to that.  The input is an image file: it is opened
 * (incrfs_image_open, from a memfd so the reader's pread/fstat paths run),
 * then every API is exercised: each inode, each directory entry and a
 * lookup of it and of absent names, symlink targets, xattrs, extents and
 * block mapping, hashes, bitmap bits and data blocks, the root hash, and
 * the full check (incrfs_image_check with data verification).  Every
 * returned pointer is read over its whole length, so ASan sees a record
 * that points outside the metadata area.
 *
 * The super block is covered by a CRC-32C that random mutations almost
 * never keep right, so each input also runs a second time with the
 * checksum recomputed: the fuzzer then reaches every field's checks.
 *
 * Built and run by tests/fuzz/run-host-fuzz.sh (clang -fsanitize=fuzzer,
 * address,undefined).
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"

#define MAX_INODES	256
#define MAX_ENTRIES	256
#define MAX_EXTENTS	64
#define MAX_XATTRS	64

static volatile unsigned int sink;

/* Touch every byte of a returned buffer. */
static void consume(const void *p, size_t len)
{
	const unsigned char *c = p;
	unsigned int s = 0;

	for (size_t i = 0; i < len; i++)
		s += c[i];
	sink += s;
}

/* Only errors the reader documents. */
static void check_err(int err)
{
	switch (err) {
	case 0: case -EUCLEAN: case -EIO: case -ENOENT: case -ERANGE:
	case -EINVAL: case -EFBIG: case -ENOMEM: case -ENAMETOOLONG:
		return;
	}
	abort();
}

static void walk_dir(struct incrfs_image *img,
		     const struct incrfs_inode_info *dir)
{
	struct incrfs_dirent_info d, l;
	uint32_t i, n = dir->meta_count < MAX_ENTRIES ? dir->meta_count :
			MAX_ENTRIES;
	int err;

	for (i = 0; i < n; i++) {
		err = incrfs_image_dirent(img, dir, i, &d);
		check_err(err);
		if (err)
			continue;
		consume(d.name, d.name_len);
		/* what readdir listed, lookup finds (or the order is broken) */
		err = incrfs_image_lookup(img, dir, d.name, d.name_len, &l);
		check_err(err);
		if (!err)
			consume(l.name, l.name_len);
	}
	check_err(incrfs_image_lookup(img, dir, "", 0, &l));
	check_err(incrfs_image_lookup(img, dir, "\xff\xff", 2, &l));
}

static void walk_file(struct incrfs_image *img,
		      const struct incrfs_inode_info *f)
{
	struct incrfs_extent_info e;
	uint64_t blocks = f->size / INCRFS_BLOCK_SIZE + 1, b, lblk;
	uint32_t i, n = f->meta_count < MAX_EXTENTS ? f->meta_count :
			MAX_EXTENTS;
	int ret;

	for (i = 0; i < n; i++)
		check_err(incrfs_image_extent(img, f, i, &e));
	for (lblk = 0; lblk < blocks && lblk < 8; lblk++) {
		ret = incrfs_image_map_block(img, f, lblk, &b);
		if (ret < 0)
			check_err(ret);
		else if (ret == 1 && b >= img->sb.nr_blocks)
			abort();	/* mapped outside the data region */
	}
	ret = incrfs_image_map_block(img, f, ~0ULL, &b);
	if (ret < 0)
		check_err(ret);
}

static void walk_inode(struct incrfs_image *img, uint64_t ino)
{
	struct incrfs_inode_info ii;
	struct incrfs_xattr_info x;
	const char *target;
	uint32_t pos = 0, n = 0;
	size_t len;
	int ret;

	ret = incrfs_image_read_inode(img, ino, &ii);
	check_err(ret);
	if (ret)
		return;
	while (n++ < MAX_XATTRS &&
	       (ret = incrfs_image_xattr_next(img, &ii, &pos, &x)) > 0) {
		consume(x.name, x.name_len);
		consume(x.value, x.value_len);
		if (!incrfs_xattr_prefix(x.index))
			abort();
	}
	if (ret < 0)
		check_err(ret);
	switch (ii.mode & S_IFMT) {
	case S_IFDIR:
		walk_dir(img, &ii);
		break;
	case S_IFREG:
		walk_file(img, &ii);
		break;
	case S_IFLNK:
		ret = incrfs_image_symlink(img, &ii, &target, &len);
		check_err(ret);
		if (!ret)
			consume(target, len);
		break;
	}
}

static void run(int fd, const uint8_t *data, size_t size)
{
	struct incrfs_image img;
	uint8_t hash[INCRFS_HASH_SIZE], *block;
	uint64_t ino, present, b;
	int ret;

	if (ftruncate(fd, 0) ||
	    (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	ret = incrfs_image_open(&img, fd);
	if (ret) {
		check_err(ret);
		incrfs_image_close(&img);
		return;
	}
	for (ino = 0; ino <= img.sb.inode_count + 1 && ino <= MAX_INODES; ino++)
		walk_inode(&img, ino);
	block = malloc(INCRFS_BLOCK_SIZE);
	if (!block)
		abort();
	for (b = 0; b < 4; b++) {
		uint64_t which = b < 2 ? b : img.sb.nr_blocks - 3 + b;

		check_err(incrfs_image_block_hash(&img, which, hash));
		ret = incrfs_image_block_present(&img, which);
		if (ret < 0)
			check_err(ret);
		check_err(incrfs_image_read_block(&img, which, block));
	}
	free(block);
	ret = incrfs_image_count_present(&img, &present);
	check_err(ret);
	if (!ret && present > img.sb.nr_blocks)
		abort();
	check_err(incrfs_image_compute_root_hash(&img, hash));
	check_err(incrfs_image_check(&img, true));
	incrfs_image_close(&img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct incrfs_super_block *sb;
	uint8_t *copy;

	if (fd < 0) {
		fd = memfd_create("image", 0);
		if (fd < 0)
			abort();
	}
	run(fd, data, size);
	if (size < sizeof(*sb))
		return 0;
	/* again with a valid checksum, if it was not */
	copy = malloc(size);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	sb = (struct incrfs_super_block *)copy;
	if (sb->s_checksum != htole32(incrfs_super_checksum(sb))) {
		sb->s_checksum = htole32(incrfs_super_checksum(sb));
		run(fd, copy, size);
	}
	free(copy);
	return 0;
}
