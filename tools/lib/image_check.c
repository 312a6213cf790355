// SPDX-License-Identifier: GPL-2.0-only
/*
 * image_check.c - incrfs_image_check(): verify a whole image, the way
 * fsck does.
 *
 * Why this exists: the per-call checks of the reader look at one inode or
 * one entry; some invariants only show across the image (link counts,
 * reachability, cycles, directory order, disjoint data ranges, the root
 * hash).  incrfsctl, the packer's self-test and the unit tests call this.
 */
#include "image_priv.h"
#include "sha256.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct range {
	uint64_t first, nr, ino;
};

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

struct check {
	struct incrfs_image *img;
	uint64_t n;			/* inode count */
	uint32_t *mode;			/* [ino] */
	uint32_t *nlink;		/* [ino] stored link count */
	uint64_t *parent;		/* [ino] stored i_parent */
	uint32_t *links;		/* [ino] entries naming it */
	uint32_t *subdirs;		/* [ino] subdirectories */
	uint64_t *queue;		/* directories to walk */
	uint64_t qhead, qtail;
	struct range *ranges;
	uint64_t nr_ranges;
};

static int fail(struct check *c, const char *what, uint64_t ino)
{
	return incrfs_img_fail(c->img, -EUCLEAN, "inode %llu: %s",
			       (unsigned long long)ino, what);
}

static int check_xattrs(struct check *c, const struct incrfs_inode_info *ii)
{
	struct incrfs_xattr_info x, prev = { 0 };
	uint32_t pos = 0;
	int ret, first = 1;

	while ((ret = incrfs_image_xattr_next(c->img, ii, &pos, &x)) > 0) {
		if (!first && (x.index < prev.index ||
			       (x.index == prev.index &&
				incrfs_name_cmp(x.name, x.name_len, prev.name,
						prev.name_len) <= 0)))
			return fail(c, "xattrs not sorted or duplicated", ii->ino);
		prev = x;
		first = 0;
	}
	return ret;
}

static int walk_dir(struct check *c, const struct incrfs_inode_info *dir)
{
	struct incrfs_dirent_info d, prev = { 0 };

	for (uint32_t i = 0; i < dir->meta_count; i++) {
		int err = incrfs_image_dirent(c->img, dir, i, &d);

		if (err)
			return err;
		if (i && incrfs_name_cmp(prev.name, prev.name_len, d.name,
					 d.name_len) >= 0)
			return fail(c, "directory entries not sorted or duplicated",
				    dir->ino);
		prev = d;
		if (incrfs_mode_to_dtype(c->mode[d.ino]) != d.type)
			return incrfs_img_fail(c->img, -EUCLEAN,
					       "directory %llu: entry %u type does not match inode %llu",
					       (unsigned long long)dir->ino, i,
					       (unsigned long long)d.ino);
		if (c->links[d.ino] == UINT32_MAX)
			return fail(c, "too many links", d.ino);
		c->links[d.ino]++;
		if (S_ISDIR(c->mode[d.ino])) {
			if (d.ino == INCRFS_ROOT_INO || c->links[d.ino] > 1 ||
			    c->parent[d.ino] != dir->ino)
				return incrfs_img_fail(c->img, -EUCLEAN,
						       "directory %llu: subdirectory %llu is linked twice or has another parent",
						       (unsigned long long)dir->ino,
						       (unsigned long long)d.ino);
			c->subdirs[dir->ino]++;
			c->queue[c->qtail++] = d.ino;
		}
	}
	return 0;
}

static int load_inodes(struct check *c)
{
	struct incrfs_inode_info ii;

	for (uint64_t ino = 1; ino <= c->n; ino++) {
		int err = incrfs_image_read_inode(c->img, ino, &ii);

		if (err)
			return err;
		err = check_xattrs(c, &ii);
		if (err)
			return err;
		c->mode[ino] = ii.mode;
		c->nlink[ino] = ii.nlink;
		c->parent[ino] = ii.parent;
		if (S_ISREG(ii.mode) && ii.nr_blocks)
			c->ranges[c->nr_ranges++] = (struct range){
				ii.first_block, ii.nr_blocks, ino };
	}
	return 0;
}

static int check_tree(struct check *c)
{
	struct incrfs_inode_info ii;

	c->queue[c->qtail++] = INCRFS_ROOT_INO;
	while (c->qhead < c->qtail) {
		int err = incrfs_image_read_inode(c->img, c->queue[c->qhead++], &ii);

		if (err)
			return err;
		err = walk_dir(c, &ii);
		if (err)
			return err;
	}
	for (uint64_t ino = 1; ino <= c->n; ino++) {
		if (S_ISDIR(c->mode[ino])) {
			if (ino != INCRFS_ROOT_INO && c->links[ino] != 1)
				return fail(c, "directory not reachable from the root", ino);
			if (c->nlink[ino] != 2 + c->subdirs[ino])
				return fail(c, "directory link count is not 2 + subdirectories", ino);
		} else {
			if (c->links[ino] == 0)
				return fail(c, "not reachable from the root", ino);
			if (c->nlink[ino] != c->links[ino])
				return fail(c, "link count does not match its directory entries", ino);
		}
	}
	return 0;
}

static int check_ranges(struct check *c)
{
	uint64_t next = 0;

	qsort(c->ranges, c->nr_ranges, sizeof(*c->ranges), range_cmp);
	for (uint64_t i = 0; i < c->nr_ranges; i++) {
		if (c->ranges[i].first != next)
			return incrfs_img_fail(c->img, -EUCLEAN,
					       "data block %llu is %s",
					       (unsigned long long)(c->ranges[i].first < next ?
								    c->ranges[i].first : next),
					       c->ranges[i].first < next ?
					       "owned by two files" : "owned by no file");
		next += c->ranges[i].nr;
	}
	if (next != c->img->sb.nr_blocks)
		return incrfs_img_fail(c->img, -EUCLEAN, "data block %llu is owned by no file",
				       (unsigned long long)next);
	return 0;
}

static int check_data(struct incrfs_image *img)
{
	uint8_t want[INCRFS_HASH_SIZE], got[INCRFS_HASH_SIZE];
	uint8_t *buf = malloc(INCRFS_BLOCK_SIZE);
	int err = buf ? 0 : -ENOMEM;

	for (uint64_t b = 0; !err && b < img->sb.nr_blocks; b++) {
		err = incrfs_image_block_present(img, b);
		if (err <= 0)
			continue;
		err = incrfs_image_read_block(img, b, buf);
		if (!err)
			err = incrfs_image_block_hash(img, b, want);
		if (!err)
			err = incrfs_sha256(buf, INCRFS_BLOCK_SIZE, got);
		if (!err && memcmp(want, got, sizeof(got)))
			err = incrfs_img_fail(img, -EUCLEAN,
					      "data block %llu does not match its hash",
					      (unsigned long long)b);
	}
	free(buf);
	return err < 0 ? err : 0;
}

int incrfs_image_check(struct incrfs_image *img, bool verify_data)
{
	uint8_t root[INCRFS_HASH_SIZE];
	struct check c = { .img = img, .n = img->sb.inode_count };
	int err;

	if (!img->meta)
		return incrfs_img_fail(img, -EINVAL, "image is not open");
	err = incrfs_image_compute_root_hash(img, root);
	if (err)
		return err;
	if (memcmp(root, img->sb.root_hash, sizeof(root)))
		return incrfs_img_fail(img, -EUCLEAN,
				       "root hash does not match the hash table");

	c.mode = calloc(c.n + 1, sizeof(*c.mode));
	c.nlink = calloc(c.n + 1, sizeof(*c.nlink));
	c.parent = calloc(c.n + 1, sizeof(*c.parent));
	c.links = calloc(c.n + 1, sizeof(*c.links));
	c.subdirs = calloc(c.n + 1, sizeof(*c.subdirs));
	c.queue = calloc(c.n + 1, sizeof(*c.queue));
	c.ranges = calloc(c.n + 1, sizeof(*c.ranges));
	if (!c.mode || !c.nlink || !c.parent || !c.links || !c.subdirs ||
	    !c.queue || !c.ranges) {
		err = incrfs_img_fail(img, -ENOMEM, "out of memory");
		goto out;
	}
	err = load_inodes(&c);
	if (!err)
		err = check_tree(&c);
	if (!err)
		err = check_ranges(&c);
	if (!err && verify_data)
		err = check_data(img);
out:
	free(c.mode);
	free(c.nlink);
	free(c.parent);
	free(c.links);
	free(c.subdirs);
	free(c.queue);
	free(c.ranges);
	return err;
}
