// SPDX-License-Identifier: GPL-2.0-only
/*
 * inode.c - reads an inode from the image's inode table, validates every
 * field before the VFS sees it, and maps file blocks to data blocks.
 *
 * A regular file's extents are loaded once, when the inode is read, so the
 * read path maps a block with a binary search in memory and no I/O.  The
 * copies are charged to the mount and to the reader's memory cgroup: in an
 * image we made every extent record belongs to one file, so the extents of
 * all cached inodes together never exceed the metadata area, and never
 * INCRFS_EXTENT_BYTES_MAX either, whatever the super block claims (a
 * sparse image makes a huge metadata area free).  Loading more is refused
 * as corruption.  The records are read and checked a block at a time: no
 * temporary copy of a record whose size came from disk.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/namei.h>
#include "internal.h"

/* More extents than this in one file is not an image we made. */
#define INCRFS_MAX_EXTENTS	BIT(24)
/* Extent records of one mount's cached inodes, at most: 2.7 M extents. */
#define INCRFS_EXTENT_BYTES_MAX	(64ULL << 20)
/* Records read at a time. */
#define INCRFS_EXTENT_BATCH	(INCRFS_BLOCK_SIZE / sizeof(struct incrfs_extent))

static const struct inode_operations incrfs_file_iops = {
	.listxattr	= incrfs_listxattr,
};

static const struct inode_operations incrfs_symlink_iops = {
	.get_link	= simple_get_link,
	.listxattr	= incrfs_listxattr,
};

static const struct inode_operations incrfs_special_iops = {
	.listxattr	= incrfs_listxattr,
};

static int load_extents(struct inode *inode)
{
	struct incrfs_sb_info *sbi = INCRFS_SB(inode->i_sb);
	struct incrfs_inode_info *ii = INCRFS_I(inode);
	u64 file_blocks = DIV_ROUND_UP_ULL(inode->i_size, INCRFS_BLOCK_SIZE);
	u64 next_lblk = 0, next_pblk = ii->first_block;
	struct incrfs_extent *raw;
	struct incrfs_ext *ext;
	u32 i, n = ii->meta_count;
	int err;

	if (n == 0)
		return ii->nr_blocks ? -EFSCORRUPTED : 0;
	if (n > INCRFS_MAX_EXTENTS || n > ii->nr_blocks ||
	    ii->meta_len != (u64)n * sizeof(*raw))
		return -EFSCORRUPTED;

	if (atomic64_add_return(ii->meta_len, &sbi->extent_bytes) >
	    min(sbi->meta_size, INCRFS_EXTENT_BYTES_MAX)) {
		atomic64_sub(ii->meta_len, &sbi->extent_bytes);
		incrfs_err(inode->i_sb,
			   "inode %lu: extent records shared between files",
			   inode->i_ino);
		return -EFSCORRUPTED;
	}
	raw = kmalloc_array(min_t(u32, n, INCRFS_EXTENT_BATCH), sizeof(*raw),
			    GFP_KERNEL);
	ext = kvmalloc_array(n, sizeof(*ext), GFP_KERNEL_ACCOUNT);
	if (!raw || !ext) {
		err = -ENOMEM;
		goto fail;
	}

	/*
	 * Extents are sorted, disjoint, inside the file, and use the file's
	 * data blocks in order, exactly once each.
	 */
	for (i = 0; i < n; i++) {
		const struct incrfs_extent *r = &raw[i % INCRFS_EXTENT_BATCH];

		if (i % INCRFS_EXTENT_BATCH == 0) {
			err = incrfs_read_meta(sbi, raw,
					       min_t(u32, n - i,
						     INCRFS_EXTENT_BATCH) *
					       sizeof(*raw),
					       ii->meta_off + i * sizeof(*raw));
			if (err)
				goto fail;
			err = -EFSCORRUPTED;
		}
		ext[i].lblk = le64_to_cpu(r->e_lblk);
		ext[i].pblk = le64_to_cpu(r->e_pblk);
		ext[i].len = le32_to_cpu(r->e_len);
		if (ext[i].len == 0 || r->e_reserved ||
		    ext[i].lblk < next_lblk ||
		    ext[i].lblk > file_blocks ||
		    ext[i].len > file_blocks - ext[i].lblk ||
		    ext[i].pblk != next_pblk)
			goto fail;
		next_lblk = ext[i].lblk + ext[i].len;
		next_pblk += ext[i].len;
	}
	if (next_pblk != ii->first_block + ii->nr_blocks)
		goto fail;
	kfree(raw);
	ii->extents = ext;
	return 0;
fail:
	kfree(raw);
	kvfree(ext);
	atomic64_sub(ii->meta_len, &sbi->extent_bytes);
	return err;
}

/* Called from evict: give back what load_extents() charged to the mount. */
void incrfs_free_extents(struct inode *inode)
{
	struct incrfs_inode_info *ii = INCRFS_I(inode);

	if (!ii->extents)
		return;
	atomic64_sub(ii->meta_len, &INCRFS_SB(inode->i_sb)->extent_bytes);
	kvfree(ii->extents);
	ii->extents = NULL;
}

static int load_symlink(struct inode *inode)
{
	struct incrfs_sb_info *sbi = INCRFS_SB(inode->i_sb);
	struct incrfs_inode_info *ii = INCRFS_I(inode);
	char *target;
	int err;

	if (ii->meta_len == 0 || ii->meta_len > INCRFS_SYMLINK_MAX ||
	    inode->i_size != ii->meta_len)
		return -EFSCORRUPTED;
	target = kmalloc(ii->meta_len + 1, GFP_KERNEL_ACCOUNT);
	if (!target)
		return -ENOMEM;
	err = incrfs_read_meta(sbi, target, ii->meta_len, ii->meta_off);
	if (!err && strnlen(target, ii->meta_len) != ii->meta_len)
		err = -EFSCORRUPTED;
	if (err) {
		kfree(target);
		return err;
	}
	target[ii->meta_len] = '\0';
	inode->i_link = target;
	return 0;
}

static int check_dinode(struct incrfs_sb_info *sbi,
			const struct incrfs_inode *di, umode_t mode)
{
	struct incrfs_inode_info tmp;
	u64 end;

	if (le16_to_cpu(di->i_flags) & ~INCRFS_INODE_FLAGS_SUPP ||
	    memchr_inv(di->i_reserved, 0, sizeof(di->i_reserved)))
		return -EFSCORRUPTED;
	if (le32_to_cpu(di->i_nlink) == 0 ||
	    le32_to_cpu(di->i_mtime_nsec) >= NSEC_PER_SEC ||
	    le32_to_cpu(di->i_ctime_nsec) >= NSEC_PER_SEC ||
	    le64_to_cpu(di->i_size) > MAX_LFS_FILESIZE)
		return -EFSCORRUPTED;
	switch (mode & S_IFMT) {
	case S_IFREG:
	case S_IFDIR:
	case S_IFLNK:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	default:
		return -EFSCORRUPTED;
	}
	tmp.meta_off = le64_to_cpu(di->i_meta_off);
	tmp.meta_len = le32_to_cpu(di->i_meta_len);
	tmp.xattr_off = le64_to_cpu(di->i_xattr_off);
	tmp.xattr_len = le32_to_cpu(di->i_xattr_len);
	if (check_add_overflow(tmp.meta_off, (u64)tmp.meta_len, &end) ||
	    end > sbi->meta_size ||
	    check_add_overflow(tmp.xattr_off, (u64)tmp.xattr_len, &end) ||
	    end > sbi->meta_size)
		return -EFSCORRUPTED;
	if (S_ISREG(mode)) {
		u64 first = le64_to_cpu(di->i_first_block);
		u64 nr = le64_to_cpu(di->i_nr_blocks);

		if (check_add_overflow(first, nr, &end) ||
		    end > sbi->nr_blocks)
			return -EFSCORRUPTED;
	}
	if (S_ISDIR(mode)) {
		u64 parent = le64_to_cpu(di->i_parent);

		if (parent == 0 || parent > sbi->inode_count)
			return -EFSCORRUPTED;
	}
	return 0;
}

static int incrfs_read_inode(struct inode *inode)
{
	struct incrfs_sb_info *sbi = INCRFS_SB(inode->i_sb);
	struct incrfs_inode_info *ii = INCRFS_I(inode);
	struct incrfs_inode di;
	struct timespec64 mtime, ctime;
	umode_t mode;
	int err;

	err = incrfs_read_image(sbi, &di, sizeof(di), sbi->inode_off +
				(inode->i_ino - 1) * sizeof(di));
	if (err)
		return err;
	mode = le16_to_cpu(di.i_mode);
	err = check_dinode(sbi, &di, mode);
	if (err)
		return err;

	inode->i_mode = mode;
	i_uid_write(inode, le32_to_cpu(di.i_uid));
	i_gid_write(inode, le32_to_cpu(di.i_gid));
	set_nlink(inode, le32_to_cpu(di.i_nlink));
	inode->i_size = le64_to_cpu(di.i_size);
	mtime.tv_sec = (s64)le64_to_cpu(di.i_mtime);
	mtime.tv_nsec = le32_to_cpu(di.i_mtime_nsec);
	ctime.tv_sec = (s64)le64_to_cpu(di.i_ctime);
	ctime.tv_nsec = le32_to_cpu(di.i_ctime_nsec);
	incrfs_set_inode_times(inode, mtime, ctime);

	ii->meta_off = le64_to_cpu(di.i_meta_off);
	ii->meta_len = le32_to_cpu(di.i_meta_len);
	ii->meta_count = le32_to_cpu(di.i_meta_count);
	ii->xattr_off = le64_to_cpu(di.i_xattr_off);
	ii->xattr_len = le32_to_cpu(di.i_xattr_len);
	ii->first_block = le64_to_cpu(di.i_first_block);
	ii->nr_blocks = le64_to_cpu(di.i_nr_blocks);
	ii->parent = le64_to_cpu(di.i_parent);

	switch (mode & S_IFMT) {
	case S_IFREG:
		err = load_extents(inode);
		if (err)
			return err;
		inode->i_blocks = ii->nr_blocks << (INCRFS_BLOCK_BITS - 9);
		inode->i_op = &incrfs_file_iops;
		inode->i_fop = &incrfs_file_fops;
		inode->i_mapping->a_ops = &incrfs_aops;
		break;
	case S_IFDIR:
		if ((u64)ii->meta_count * sizeof(struct incrfs_dirent) >
		    ii->meta_len)
			return -EFSCORRUPTED;
		inode->i_op = &incrfs_dir_iops;
		inode->i_fop = &incrfs_dir_fops;
		break;
	case S_IFLNK:
		err = load_symlink(inode);
		if (err)
			return err;
		inode->i_op = &incrfs_symlink_iops;
		break;
	default:
		inode->i_op = &incrfs_special_iops;
		init_special_inode(inode, mode,
				   new_decode_dev(le32_to_cpu(di.i_rdev)));
		break;
	}
	return 0;
}

struct inode *incrfs_iget(struct super_block *sb, u64 ino)
{
	struct incrfs_sb_info *sbi = INCRFS_SB(sb);
	struct inode *inode;
	int err;

	if (ino == 0 || ino > sbi->inode_count) {
		incrfs_err(sb, "inode number %llu out of range", ino);
		return ERR_PTR(-EFSCORRUPTED);
	}
	inode = iget_locked(sb, ino);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!(inode->i_state & I_NEW))
		return inode;

	err = incrfs_read_inode(inode);
	if (err) {
		if (err == -EFSCORRUPTED)
			incrfs_err(sb, "inode %llu is corrupted", ino);
		iget_failed(inode);
		return ERR_PTR(err);
	}
	unlock_new_inode(inode);
	return inode;
}

/*
 * incrfs_map_block - find where file block @lblk lives
 * @pblk: out: its data block, or U64_MAX for a hole
 * @run: out: how many following file blocks (this one included) map the
 *	same way: consecutive data blocks, or all holes
 */
void incrfs_map_block(struct inode *inode, u64 lblk, u64 *pblk, u32 *run)
{
	struct incrfs_inode_info *ii = INCRFS_I(inode);
	const struct incrfs_ext *ext = ii->extents;
	u32 lo = 0, hi = ii->meta_count;
	u64 file_blocks = DIV_ROUND_UP_ULL(i_size_read(inode),
					   INCRFS_BLOCK_SIZE);

	/* first extent ending after lblk */
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (ext[mid].lblk + ext[mid].len <= lblk)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ii->meta_count && ext[lo].lblk <= lblk) {
		*pblk = ext[lo].pblk + (lblk - ext[lo].lblk);
		*run = min_t(u64, U32_MAX, ext[lo].lblk + ext[lo].len - lblk);
		return;
	}
	*pblk = U64_MAX;
	if (lo < ii->meta_count)
		*run = min_t(u64, U32_MAX, ext[lo].lblk - lblk);
	else
		*run = lblk < file_blocks ?
		       min_t(u64, U32_MAX, file_blocks - lblk) : 1;
}
