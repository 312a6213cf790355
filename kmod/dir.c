// SPDX-License-Identifier: GPL-2.0-only
/*
 * dir.c - directories: readdir and lookup.
 *
 * A directory's record in the metadata area is an array of fixed-size
 * entries sorted by name, followed by the names.  Lookup is a binary search
 * over that array, so a 10 000-entry directory costs 14 probes, not 10 000.
 * Every entry is validated when it is read.
 */
#include <linux/namei.h>
#include "internal.h"

struct incrfs_dentry_view {
	u64 ino;
	u16 namelen;
	u8 type;
	char name[INCRFS_NAME_MAX + 1];
};

/* A type the packer writes: what fs_umode_to_dtype() gives for some mode. */
static bool valid_dtype(u8 type)
{
	switch (type) {
	case DT_REG:
	case DT_DIR:
	case DT_LNK:
	case DT_CHR:
	case DT_BLK:
	case DT_FIFO:
	case DT_SOCK:
		return true;
	}
	return false;
}

static int read_dirent(struct inode *dir, u32 idx,
		       struct incrfs_dentry_view *v)
{
	struct incrfs_sb_info *sbi = INCRFS_SB(dir->i_sb);
	struct incrfs_inode_info *ii = INCRFS_I(dir);
	u32 table = ii->meta_count * sizeof(struct incrfs_dirent);
	struct incrfs_dirent de;
	u32 nameoff;
	int err;

	err = incrfs_read_meta(sbi, &de, sizeof(de),
			       ii->meta_off + (u64)idx * sizeof(de));
	if (err)
		return err;
	v->ino = le64_to_cpu(de.d_ino);
	v->namelen = le16_to_cpu(de.d_namelen);
	v->type = de.d_type;
	nameoff = le32_to_cpu(de.d_nameoff);
	if (v->ino == 0 || v->ino > sbi->inode_count || !valid_dtype(v->type) ||
	    de.d_reserved ||
	    v->namelen == 0 || v->namelen > INCRFS_NAME_MAX ||
	    nameoff < table || nameoff > ii->meta_len ||
	    v->namelen > ii->meta_len - nameoff)
		goto corrupt;
	err = incrfs_read_meta(sbi, v->name, v->namelen,
			       ii->meta_off + nameoff);
	if (err)
		return err;
	v->name[v->namelen] = '\0';
	if (strnlen(v->name, v->namelen) != v->namelen ||
	    memchr(v->name, '/', v->namelen) ||
	    (v->namelen <= 2 && !memcmp(v->name, "..", v->namelen)))
		goto corrupt;
	return 0;
corrupt:
	incrfs_err(dir->i_sb, "directory %lu entry %u is corrupted",
		   dir->i_ino, idx);
	return -EFSCORRUPTED;
}

static int incrfs_readdir(struct file *file, struct dir_context *ctx)
{
	struct inode *dir = file_inode(file);
	struct incrfs_inode_info *ii = INCRFS_I(dir);
	struct incrfs_dentry_view *v;
	int err = 0;

	if (!dir_emit_dots(file, ctx))
		return 0;
	v = kmalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;
	while (ctx->pos - 2 < ii->meta_count) {
		err = read_dirent(dir, ctx->pos - 2, v);
		if (err)
			break;
		if (!dir_emit(ctx, v->name, v->namelen, v->ino, v->type))
			break;
		ctx->pos++;
	}
	kfree(v);
	return err;
}

static int name_cmp(const char *a, unsigned int alen,
		    const char *b, unsigned int blen)
{
	int r = memcmp(a, b, min(alen, blen));

	if (r)
		return r;
	return alen < blen ? -1 : alen > blen;
}

static struct dentry *incrfs_lookup(struct inode *dir, struct dentry *dentry,
				    unsigned int flags)
{
	struct incrfs_inode_info *ii = INCRFS_I(dir);
	struct incrfs_dentry_view *v;
	struct inode *inode = NULL;
	u32 lo = 0, hi = ii->meta_count;
	int err = 0;

	if (dentry->d_name.len > INCRFS_NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	v = kmalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return ERR_PTR(-ENOMEM);
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		int r;

		err = read_dirent(dir, mid, v);
		if (err)
			goto out;
		r = name_cmp(dentry->d_name.name, dentry->d_name.len,
			     v->name, v->namelen);
		if (r == 0)
			break;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo >= hi)
		goto out;	/* negative dentry */

	inode = incrfs_iget(dir->i_sb, v->ino);
	if (IS_ERR(inode)) {
		err = PTR_ERR(inode);
		inode = NULL;
		goto out;
	}
	/* The entry's type must match, and a directory hangs below us only. */
	if (fs_umode_to_dtype(inode->i_mode) != v->type ||
	    (S_ISDIR(inode->i_mode) &&
	     (INCRFS_I(inode)->parent != dir->i_ino ||
	      inode->i_ino == INCRFS_ROOT_INO))) {
		incrfs_err(dir->i_sb,
			   "directory %lu entry '%*pE' does not match inode %llu",
			   dir->i_ino, (int)v->namelen, v->name, v->ino);
		iput(inode);
		inode = NULL;
		err = -EFSCORRUPTED;
	}
out:
	kfree(v);
	if (err)
		return ERR_PTR(err);
	return d_splice_alias(inode, dentry);
}

const struct file_operations incrfs_dir_fops = {
	.llseek		= generic_file_llseek,
	.read		= generic_read_dir,
	.iterate_shared	= incrfs_readdir,
	.unlocked_ioctl	= incrfs_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

const struct inode_operations incrfs_dir_iops = {
	.lookup		= incrfs_lookup,
	.listxattr	= incrfs_listxattr,
};
