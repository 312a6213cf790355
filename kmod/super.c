// SPDX-License-Identifier: GPL-2.0-only
/*
 * super.c - mount and unmount of an incrfs image, its super block checks,
 * mount options, statfs, and module init/exit.
 *
 * The image is a regular file given as the mount source; the kernel opens
 * it read-write (the fill path writes blocks and bitmap bits into it) and
 * serves the mount read-only.  Nothing in the super block is trusted until
 * validate_super() has checked it.
 */
#include <linux/module.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/seq_file.h>
#include <linux/statfs.h>
#include <linux/crc32c.h>
#include <linux/backing-dev.h>
#include <linux/fadvise.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "internal.h"

static struct kmem_cache *incrfs_inode_cachep;

struct incrfs_fs_context {
	unsigned int timeout_ms;
	u32 access_log;		/* ranges the access log holds; 0: none */
};

/* Read exactly @len bytes of the image at @pos. */
int incrfs_read_image(struct incrfs_sb_info *sbi, void *buf, size_t len,
		      loff_t pos)
{
	const struct cred *old = override_creds(sbi->image->f_cred);
	ssize_t ret = 0;

	while (len) {
		ret = kernel_read(sbi->image, buf, len, &pos);
		if (ret <= 0)
			break;
		buf += ret;
		len -= ret;
	}
	revert_creds(old);
	if (ret < 0)
		return ret;
	return len ? -EIO : 0;	/* short: the size was checked at mount */
}

/* Read @len bytes at @off of the metadata area, bounds-checked. */
int incrfs_read_meta(struct incrfs_sb_info *sbi, void *buf, size_t len,
		     u64 off)
{
	if (off > sbi->meta_size || len > sbi->meta_size - off)
		return -EFSCORRUPTED;
	return incrfs_read_image(sbi, buf, len, sbi->meta_off + off);
}

/*
 * The crc32c (seed ~0, final xor ~0) of the super block with s_checksum
 * taken as zero: the bytes before the field, four zero bytes, the bytes
 * after it.
 */
static u32 super_checksum(const struct incrfs_super_block *dsb)
{
	static const __le32 zero;
	const size_t before = offsetof(struct incrfs_super_block, s_checksum);
	const size_t after = before + sizeof(dsb->s_checksum);
	u32 crc;

	crc = crc32c(~0U, dsb, before);
	crc = crc32c(crc, &zero, sizeof(zero));
	crc = crc32c(crc, (const u8 *)dsb + after, sizeof(*dsb) - after);
	return ~crc;
}

/* The region @what starts at @off, on a block boundary. */
static bool aligned_ok(struct super_block *sb, const char *what, u64 off)
{
	if (IS_ALIGNED(off, INCRFS_BLOCK_SIZE))
		return true;
	incrfs_err(sb, "%s offset %llu is not block-aligned", what, off);
	return false;
}

/*
 * The region @what, @len bytes at @off, ends at or before @limit, where
 * @next starts.
 */
static bool region_ok(struct super_block *sb, const char *what, u64 off,
		      u64 len, const char *next, u64 limit)
{
	u64 end;

	if (!check_add_overflow(off, len, &end) && end <= limit)
		return true;
	incrfs_err(sb, "%s (%llu bytes at %llu) overruns %s at %llu",
		   what, len, off, next, limit);
	return false;
}

static int validate_super(struct super_block *sb,
			  const struct incrfs_super_block *dsb, u64 file_size)
{
	struct incrfs_sb_info *sbi = INCRFS_SB(sb);
	u64 image_size, inode_bytes, hash_bytes, data_bytes;
	u32 crc;

	if (le32_to_cpu(dsb->s_magic) != INCRFS_SUPER_MAGIC) {
		incrfs_err(sb, "bad magic");
		return -EINVAL;
	}
	crc = super_checksum(dsb);
	if (crc != le32_to_cpu(dsb->s_checksum)) {
		incrfs_err(sb, "super block checksum mismatch");
		return -EFSCORRUPTED;
	}
	if (le16_to_cpu(dsb->s_major) != INCRFS_MAJOR) {
		incrfs_err(sb, "unsupported format version %u.%u",
			   le16_to_cpu(dsb->s_major),
			   le16_to_cpu(dsb->s_minor));
		return -EINVAL;
	}
	if (le32_to_cpu(dsb->s_feature_incompat) &
	    ~INCRFS_FEATURE_INCOMPAT_SUPP) {
		incrfs_err(sb, "unsupported incompatible features 0x%x",
			   le32_to_cpu(dsb->s_feature_incompat));
		return -EINVAL;
	}
	/*
	 * Read-only compatible features may only be read, and incrfs writes
	 * the image (filled blocks and their bits): no mount at all.
	 */
	if (le32_to_cpu(dsb->s_feature_ro_compat) &
	    ~INCRFS_FEATURE_RO_COMPAT_SUPP) {
		incrfs_err(sb, "unsupported read-only compatible features 0x%x (the image is written by fills)",
			   le32_to_cpu(dsb->s_feature_ro_compat));
		return -EINVAL;
	}
	if (dsb->s_blkszbits != INCRFS_BLOCK_BITS ||
	    le32_to_cpu(dsb->s_inode_size) != sizeof(struct incrfs_inode)) {
		incrfs_err(sb, "unsupported block or inode size");
		return -EINVAL;
	}
	/* so that a later version can give them a meaning */
	if (memchr_inv(dsb->s_reserved0, 0, sizeof(dsb->s_reserved0)) ||
	    memchr_inv(dsb->s_reserved, 0, sizeof(dsb->s_reserved))) {
		incrfs_err(sb, "reserved super block bytes are not zero");
		return -EINVAL;
	}

	image_size = le64_to_cpu(dsb->s_image_size);
	sbi->inode_count = le64_to_cpu(dsb->s_inode_count);
	sbi->inode_off = le64_to_cpu(dsb->s_inode_off);
	sbi->meta_off = le64_to_cpu(dsb->s_meta_off);
	sbi->meta_size = le64_to_cpu(dsb->s_meta_size);
	sbi->hash_off = le64_to_cpu(dsb->s_hash_off);
	sbi->bitmap_off = le64_to_cpu(dsb->s_bitmap_off);
	sbi->bitmap_size = le64_to_cpu(dsb->s_bitmap_size);
	sbi->data_off = le64_to_cpu(dsb->s_data_off);
	sbi->nr_blocks = le64_to_cpu(dsb->s_nr_blocks);
	memcpy(sbi->root_hash, dsb->s_root_hash, INCRFS_HASH_SIZE);
	memcpy(sbi->uuid, dsb->s_uuid, sizeof(sbi->uuid));

	if (sbi->inode_count == 0 || sbi->inode_count > U32_MAX ||
	    le64_to_cpu(dsb->s_root_ino) != INCRFS_ROOT_INO) {
		incrfs_err(sb, "bad inode count or root inode");
		return -EFSCORRUPTED;
	}
	/*
	 * Bit numbers of the little-endian bitops are int on 6.1: a larger
	 * block number would reach before the bitmap.  8 TiB of data.
	 */
	if (sbi->nr_blocks > INCRFS_MAX_DATA_BLOCKS) {
		incrfs_err(sb, "too many data blocks (%llu, at most %u)",
			   sbi->nr_blocks, INCRFS_MAX_DATA_BLOCKS);
		return -EFSCORRUPTED;
	}
	if (image_size > file_size) {
		incrfs_err(sb, "image is truncated (%llu of %llu bytes)",
			   file_size, image_size);
		return -EFSCORRUPTED;
	}
	if (sbi->bitmap_size != DIV_ROUND_UP(sbi->nr_blocks, 8)) {
		incrfs_err(sb, "bitmap size %llu does not fit %llu data blocks",
			   sbi->bitmap_size, sbi->nr_blocks);
		return -EFSCORRUPTED;
	}
	if (!aligned_ok(sb, "inode table", sbi->inode_off) ||
	    !aligned_ok(sb, "bitmap", sbi->bitmap_off) ||
	    !aligned_ok(sb, "data region", sbi->data_off))
		return -EFSCORRUPTED;
	if (sbi->inode_off < INCRFS_BLOCK_SIZE) {
		incrfs_err(sb, "inode table offset %llu is inside the super block's block",
			   sbi->inode_off);
		return -EFSCORRUPTED;
	}
	/*
	 * The regions follow each other in this order, without overlap.
	 * With at most U32_MAX inodes and INCRFS_MAX_DATA_BLOCKS blocks, no
	 * size below overflows.
	 */
	inode_bytes = sbi->inode_count * sizeof(struct incrfs_inode);
	hash_bytes = sbi->nr_blocks * INCRFS_HASH_SIZE;
	data_bytes = sbi->nr_blocks << INCRFS_BLOCK_BITS;
	if (!region_ok(sb, "inode table", sbi->inode_off, inode_bytes,
		       "metadata area", sbi->meta_off) ||
	    !region_ok(sb, "metadata area", sbi->meta_off, sbi->meta_size,
		       "hash table", sbi->hash_off) ||
	    !region_ok(sb, "hash table", sbi->hash_off, hash_bytes,
		       "bitmap", sbi->bitmap_off) ||
	    !region_ok(sb, "bitmap", sbi->bitmap_off, sbi->bitmap_size,
		       "data region", sbi->data_off) ||
	    !region_ok(sb, "data region", sbi->data_off, data_bytes,
		       "image end", image_size))
		return -EFSCORRUPTED;
	return 0;
}

static int incrfs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct super_block *sb = dentry->d_sb;
	struct incrfs_sb_info *sbi = INCRFS_SB(sb);

	buf->f_type = INCRFS_SUPER_MAGIC;
	buf->f_bsize = INCRFS_BLOCK_SIZE;
	buf->f_frsize = INCRFS_BLOCK_SIZE;
	buf->f_blocks = sbi->nr_blocks;
	buf->f_bfree = 0;
	buf->f_bavail = 0;
	buf->f_files = sbi->inode_count;
	buf->f_ffree = 0;
	buf->f_namelen = INCRFS_NAME_MAX;
	buf->f_fsid = u64_to_fsid(huge_encode_dev(sb->s_dev));
	return 0;
}

static int incrfs_show_options(struct seq_file *m, struct dentry *root)
{
	struct incrfs_sb_info *sbi = INCRFS_SB(root->d_sb);

	seq_printf(m, ",timeout=%u", sbi->timeout_ms);
	if (sbi->access_log)
		seq_printf(m, ",access_log,access_log_max=%u",
			   incrfs_access_log_max(sbi));
	return 0;
}

static void incrfs_evict_inode(struct inode *inode)
{
	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	incrfs_free_extents(inode);
}

static const struct super_operations incrfs_sops = {
	.alloc_inode	= incrfs_alloc_inode,
	.evict_inode	= incrfs_evict_inode,
	.free_inode	= incrfs_free_inode,
	.statfs		= incrfs_statfs,
	.show_options	= incrfs_show_options,
};

/*
 * Open the image named by the mount source and set up what does not need a
 * super block yet: sget_fc() then either hands it to a new super block or,
 * when the image is mounted already, finds that one by the image's inode.
 */
static struct incrfs_sb_info *incrfs_sbi_open(struct fs_context *fc)
{
	struct incrfs_fs_context *ctx = fc->fs_private;
	struct incrfs_sb_info *sbi;
	struct file *image;

	if (!fc->source || !*fc->source)
		return ERR_PTR(invalf(fc, "incrfs: no image file given"));
	image = filp_open(fc->source, O_RDWR | O_LARGEFILE, 0);
	if (IS_ERR(image)) {
		errorf(fc, "incrfs: cannot open image %s: %ld", fc->source,
		       PTR_ERR(image));
		return ERR_CAST(image);
	}
	if (!S_ISREG(file_inode(image)->i_mode) ||
	    !image->f_op->read_iter || !image->f_op->write_iter) {
		fput(image);
		return ERR_PTR(invalf(fc, "incrfs: %s is not a regular file",
				      fc->source));
	}

	/*
	 * incrfs sizes every read of the image itself (one read per run of
	 * present blocks, as large as its own readahead); the image file's
	 * readahead on top of that only reads what nobody asked for.
	 */
	vfs_fadvise(image, 0, 0, POSIX_FADV_RANDOM);

	sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);
	if (!sbi) {
		fput(image);
		return ERR_PTR(-ENOMEM);
	}
	sbi->image = image;
	refcount_set(&sbi->ref, 1);
	init_rwsem(&sbi->fill_rwsem);
	sbi->timeout_ms = ctx->timeout_ms;
	sbi->mount_timeout_ms = ctx->timeout_ms;
	incrfs_bitmap_init(sbi);
	incrfs_wait_init(sbi);
	return sbi;
}

static int incrfs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct incrfs_fs_context *ctx = fc->fs_private;
	struct incrfs_sb_info *sbi = INCRFS_SB(sb);
	struct incrfs_super_block *dsb;
	struct inode *root;
	int err;

	sbi->sb = sb;
	sbi->dev = sb->s_dev;
	/* name the mount after its image in every incrfs: log line */
	strscpy(sb->s_id, kbasename(fc->source), sizeof(sb->s_id));

	/*
	 * A bdi of our own: the default one has no readahead at all.  Its
	 * window is larger than a disk's usual 128 KiB: every window is
	 * one read of the image (see data.c), and fewer, larger reads of
	 * the backing file are what makes sequential reads fast.
	 */
	err = super_setup_bdi(sb);
	if (err)
		return err;
	sb->s_bdi->ra_pages = INCRFS_RA_KB / (PAGE_SIZE / 1024);
	sb->s_bdi->io_pages = sb->s_bdi->ra_pages;

	sb->s_flags |= SB_RDONLY | SB_NOATIME;
	sb->s_magic = INCRFS_SUPER_MAGIC;
	sb->s_blocksize = INCRFS_BLOCK_SIZE;
	sb->s_blocksize_bits = INCRFS_BLOCK_BITS;
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_time_gran = 1;
	sb->s_op = &incrfs_sops;
	sb->s_xattr = INCRFS_XATTR_HANDLERS(incrfs_xattr_handlers);

	dsb = kmalloc(sizeof(*dsb), GFP_KERNEL);
	if (!dsb)
		return -ENOMEM;
	err = incrfs_read_image(sbi, dsb, sizeof(*dsb), 0);
	if (err) {
		pr_err("%s: cannot read super block: %d\n", sb->s_id, err);
		kfree(dsb);
		return err == -EIO ? -EINVAL : err;
	}
	err = validate_super(sb, dsb, i_size_read(file_inode(sbi->image)));
	kfree(dsb);
	if (err)
		return err;

	err = incrfs_bitmap_load(sbi);
	if (err)
		return err;
	if (ctx->access_log) {
		err = incrfs_access_log_init(sbi, ctx->access_log);
		if (err)
			return err;
	}

	root = incrfs_iget(sb, INCRFS_ROOT_INO);
	if (IS_ERR(root))
		return PTR_ERR(root);
	if (!S_ISDIR(root->i_mode)) {
		pr_err("%s: root inode is not a directory\n", sb->s_id);
		iput(root);
		return -EFSCORRUPTED;
	}
	sb->s_root = d_make_root(root);
	if (!sb->s_root)
		return -ENOMEM;
	return incrfs_sysfs_register(sbi);
}

enum { Opt_timeout, Opt_access_log, Opt_access_log_max };

static const struct fs_parameter_spec incrfs_param_specs[] = {
	fsparam_u32("timeout", Opt_timeout),
	fsparam_flag("access_log", Opt_access_log),
	fsparam_u32("access_log_max", Opt_access_log_max),
	{}
};

static int incrfs_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct incrfs_fs_context *ctx = fc->fs_private;
	struct fs_parse_result result;
	int opt;

	opt = fs_parse(fc, incrfs_param_specs, param, &result);
	if (opt < 0)
		return opt;
	switch (opt) {
	case Opt_timeout:
		ctx->timeout_ms = result.uint_32;
		break;
	/* at mount only; a remount keeps the log as it is */
	case Opt_access_log:
		if (!ctx->access_log)
			ctx->access_log = INCRFS_ACCESS_LOG_MAX;
		break;
	case Opt_access_log_max:
		if (!result.uint_32 || result.uint_32 > INCRFS_ACCESS_LOG_MAX)
			return invalfc(fc, "access_log_max must be 1 to %u",
				       INCRFS_ACCESS_LOG_MAX);
		ctx->access_log = result.uint_32;
		break;
	}
	return 0;
}

/*
 * The inode holding an image's bytes: for an image opened through
 * overlayfs, the real (upper) inode, which is also what the upper path
 * itself opens.
 */
static struct inode *image_real_inode(struct file *image)
{
	return d_real_inode(image->f_path.dentry);
}

/* One super block per image file, however many times it is mounted. */
static int incrfs_test_super(struct super_block *sb, struct fs_context *fc)
{
	struct incrfs_sb_info *sbi = INCRFS_SB(sb), *new = fc->s_fs_info;

	return image_real_inode(sbi->image) == image_real_inode(new->image);
}

/*
 * A second mount of an image shares the first one's super block, as a block
 * device's file system does: two super blocks would each keep their own
 * bitmap and overwrite each other's bits in the image.  Its options must
 * match the first mount's (as given at mount, not as changed by a remount
 * since), or it would silently run with the first mount's.
 */
static int incrfs_get_tree(struct fs_context *fc)
{
	struct incrfs_fs_context *ctx = fc->fs_private;
	struct incrfs_sb_info *sbi;
	struct super_block *sb;
	int err;

	sbi = incrfs_sbi_open(fc);
	if (IS_ERR(sbi))
		return PTR_ERR(sbi);
	fc->s_fs_info = sbi;	/* sget_fc() takes it for a new super block */
	sb = sget_fc(fc, incrfs_test_super, set_anon_super_fc);
	if (IS_ERR(sb))
		return PTR_ERR(sb);
	if (sb->s_root) {
		/* a remount's timeout is not the options the image has */
		if (INCRFS_SB(sb)->mount_timeout_ms != ctx->timeout_ms ||
		    incrfs_access_log_max(INCRFS_SB(sb)) != ctx->access_log) {
			deactivate_locked_super(sb);
			errorf(fc, "incrfs: %s is mounted already, with other options",
			       fc->source);
			return -EBUSY;
		}
	} else {
		err = incrfs_fill_super(sb, fc);
		if (err) {
			deactivate_locked_super(sb);
			return err;
		}
		sb->s_flags |= SB_ACTIVE;
	}
	fc->root = dget(sb->s_root);
	return 0;
}

static int incrfs_reconfigure(struct fs_context *fc)
{
	struct incrfs_fs_context *ctx = fc->fs_private;
	struct super_block *sb = fc->root->d_sb;

	WRITE_ONCE(INCRFS_SB(sb)->timeout_ms, ctx->timeout_ms);
	fc->sb_flags |= SB_RDONLY;
	return 0;
}

static void incrfs_free_fc(struct fs_context *fc)
{
	/* an image opened for a mount that did not need it */
	if (fc->s_fs_info)
		incrfs_sbi_put(fc->s_fs_info);
	kfree(fc->fs_private);
}

static const struct fs_context_operations incrfs_context_ops = {
	.parse_param	= incrfs_parse_param,
	.get_tree	= incrfs_get_tree,
	.reconfigure	= incrfs_reconfigure,
	.free		= incrfs_free_fc,
};

static int incrfs_init_fs_context(struct fs_context *fc)
{
	struct incrfs_fs_context *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ctx->timeout_ms = INCRFS_DEFAULT_TIMEOUT_MS;
	if (fc->purpose == FS_CONTEXT_FOR_RECONFIGURE)
		ctx->timeout_ms = INCRFS_SB(fc->root->d_sb)->timeout_ms;
	fc->fs_private = ctx;
	fc->ops = &incrfs_context_ops;
	return 0;
}

void incrfs_sbi_free(struct incrfs_sb_info *sbi)
{
	incrfs_wait_destroy(sbi);
	incrfs_bitmap_free(sbi);
	fput(sbi->image);
	kfree(sbi);
}

static void incrfs_kill_sb(struct super_block *sb)
{
	struct incrfs_sb_info *sbi = INCRFS_SB(sb);

	if (sbi) {
		/* no FILL runs after this; the control fd sees EOF/POLLHUP */
		down_write(&sbi->fill_rwsem);
		sbi->dead = true;
		up_write(&sbi->fill_rwsem);
		wake_up_interruptible_all(&sbi->control_wq);
		incrfs_sysfs_unregister(sbi);
		/*
		 * The last bitmap commit while the super block is still
		 * listed and s_umount held: a new mount of the image waits
		 * for it in sget_fc() and then loads every bit set here.
		 */
		if (sbi->bitmap)
			incrfs_bitmap_shutdown(sbi);
	}
	kill_anon_super(sb);
	if (!sbi)
		return;
	incrfs_access_log_free(sbi);
	incrfs_sbi_put(sbi);
}

static struct file_system_type incrfs_fs_type = {
	.owner			= THIS_MODULE,
	.name			= "incrfs",
	.init_fs_context	= incrfs_init_fs_context,
	.parameters		= incrfs_param_specs,
	.kill_sb		= incrfs_kill_sb,
};
MODULE_ALIAS_FS("incrfs");

static void incrfs_inode_init_once(void *p)
{
	struct incrfs_inode_info *ii = p;

	inode_init_once(&ii->vfs_inode);
}

struct inode *incrfs_alloc_inode(struct super_block *sb)
{
	struct incrfs_inode_info *ii;

	ii = alloc_inode_sb(sb, incrfs_inode_cachep, GFP_KERNEL);
	if (!ii)
		return NULL;
	ii->extents = NULL;
	ii->flags = 0;
	return &ii->vfs_inode;
}

void incrfs_free_inode(struct inode *inode)
{
	struct incrfs_inode_info *ii = INCRFS_I(inode);

	if (S_ISLNK(inode->i_mode))
		kfree(inode->i_link);
	kmem_cache_free(incrfs_inode_cachep, ii);
}

static int __init incrfs_init(void)
{
	int err;

	/*
	 * Every folio of a file is one data block: readahead reads and
	 * hints folio by folio, and the mappings never take large folios.
	 */
	BUILD_BUG_ON(PAGE_SIZE != INCRFS_BLOCK_SIZE);

	incrfs_inode_cachep = kmem_cache_create("incrfs_inode",
						sizeof(struct incrfs_inode_info),
						0, SLAB_RECLAIM_ACCOUNT |
						SLAB_ACCOUNT,
						incrfs_inode_init_once);
	if (!incrfs_inode_cachep)
		return -ENOMEM;
	err = incrfs_sysfs_init();
	if (err)
		goto out_cache;
	err = incrfs_verify_init();
	if (err)
		goto out_sysfs;
	err = incrfs_bitmap_wq_init();
	if (err)
		goto out_verify;
	err = register_filesystem(&incrfs_fs_type);
	if (err)
		goto out_wq;
	return 0;
out_wq:
	incrfs_bitmap_wq_exit();
out_verify:
	incrfs_verify_exit();
out_sysfs:
	incrfs_sysfs_exit();
out_cache:
	kmem_cache_destroy(incrfs_inode_cachep);
	return err;
}

static void __exit incrfs_exit(void)
{
	unregister_filesystem(&incrfs_fs_type);
	incrfs_bitmap_wq_exit();
	incrfs_verify_exit();
	incrfs_sysfs_exit();
	rcu_barrier();	/* inodes are freed by RCU */
	kmem_cache_destroy(incrfs_inode_cachep);
}

module_init(incrfs_init);
module_exit(incrfs_exit);

MODULE_DESCRIPTION("incrfs: incremental, lazily loaded read-only file system");
MODULE_LICENSE("GPL");
