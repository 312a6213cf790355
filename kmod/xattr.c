// SPDX-License-Identifier: GPL-2.0-only
/*
 * xattr.c - extended attributes in the user., trusted. and security.
 * namespaces, read-only.  overlayfs reads trusted.overlay.* through here
 * (opaque directories), so a packed layer stacks as the runtime expects.
 *
 * An inode's xattrs are one record in the metadata area: entries of
 * struct incrfs_xattr_entry, each followed by name and value and padded to
 * INCRFS_XATTR_ALIGN.  The record is read and walked whole, bounds-checked.
 */
#include <linux/xattr.h>
#include <linux/slab.h>
#include "internal.h"

/* Nobody packs this much into one inode; refuse rather than allocate. */
#define INCRFS_XATTR_RECORD_MAX	(4U << 20)

static const char *const prefixes[] = {
	[INCRFS_XATTR_USER]	= XATTR_USER_PREFIX,
	[INCRFS_XATTR_TRUSTED]	= XATTR_TRUSTED_PREFIX,
	[INCRFS_XATTR_SECURITY]	= XATTR_SECURITY_PREFIX,
};

struct xattr_view {
	u8 index;
	const char *name;
	u8 name_len;
	const void *value;
	u16 value_len;
};

static void *load_record(struct inode *inode)
{
	struct incrfs_inode_info *ii = INCRFS_I(inode);
	void *buf;
	int err;

	if (ii->xattr_len > INCRFS_XATTR_RECORD_MAX)
		return ERR_PTR(-EUCLEAN);
	buf = kvmalloc(ii->xattr_len, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	err = incrfs_read_meta(INCRFS_SB(inode->i_sb), buf, ii->xattr_len,
			       ii->xattr_off);
	if (err) {
		kvfree(buf);
		return ERR_PTR(err);
	}
	return buf;
}

/* Decode the entry at *pos; advance *pos.  Returns 1, 0 at the end, or < 0. */
static int next_entry(const u8 *rec, u32 len, u32 *pos, struct xattr_view *x)
{
	const struct incrfs_xattr_entry *e;
	u32 p = *pos, body;

	if (p >= len)
		return 0;
	if (len - p < sizeof(*e))
		return -EUCLEAN;
	e = (const void *)(rec + p);
	x->index = e->x_index;
	x->name_len = e->x_name_len;
	x->value_len = le16_to_cpu(e->x_value_len);
	body = sizeof(*e) + x->name_len + x->value_len;
	if (x->index < INCRFS_XATTR_USER || x->index > INCRFS_XATTR_SECURITY ||
	    x->name_len == 0 || body > len - p)
		return -EUCLEAN;
	x->name = (const char *)(rec + p + sizeof(*e));
	x->value = x->name + x->name_len;
	if (memchr(x->name, '\0', x->name_len))
		return -EUCLEAN;
	*pos = p + round_up(body, INCRFS_XATTR_ALIGN);
	return 1;
}

static int incrfs_xattr_get(const struct xattr_handler *handler,
			    struct dentry *unused, struct inode *inode,
			    const char *name, void *buffer, size_t size)
{
	u32 len = INCRFS_I(inode)->xattr_len, pos = 0;
	size_t name_len = strlen(name);
	struct xattr_view x;
	u8 *rec;
	int ret;

	if (!len)
		return -ENODATA;
	rec = load_record(inode);
	if (IS_ERR(rec))
		return PTR_ERR(rec);
	while ((ret = next_entry(rec, len, &pos, &x)) > 0) {
		if (x.index != handler->flags || x.name_len != name_len ||
		    memcmp(x.name, name, name_len))
			continue;
		ret = x.value_len;
		if (buffer) {
			if (x.value_len > size)
				ret = -ERANGE;
			else
				memcpy(buffer, x.value, x.value_len);
		}
		kvfree(rec);
		return ret;
	}
	kvfree(rec);
	return ret < 0 ? ret : -ENODATA;
}

ssize_t incrfs_listxattr(struct dentry *dentry, char *buf, size_t size)
{
	struct inode *inode = d_inode(dentry);
	u32 len = INCRFS_I(inode)->xattr_len, pos = 0;
	bool trusted = capable(CAP_SYS_ADMIN);
	struct xattr_view x;
	ssize_t total = 0;
	u8 *rec;
	int ret;

	if (!len)
		return 0;
	rec = load_record(inode);
	if (IS_ERR(rec))
		return PTR_ERR(rec);
	while ((ret = next_entry(rec, len, &pos, &x)) > 0) {
		const char *prefix = prefixes[x.index];
		size_t plen = strlen(prefix), n = plen + x.name_len + 1;

		if (x.index == INCRFS_XATTR_TRUSTED && !trusted)
			continue;
		if (buf) {
			if (total + n > size) {
				ret = -ERANGE;
				break;
			}
			memcpy(buf + total, prefix, plen);
			memcpy(buf + total + plen, x.name, x.name_len);
			buf[total + n - 1] = '\0';
		}
		total += n;
	}
	kvfree(rec);
	if (ret < 0) {
		if (ret == -EUCLEAN)
			pr_err("%s: inode %lu has corrupted xattrs\n",
			       inode->i_sb->s_id, inode->i_ino);
		return ret;
	}
	return total;
}

static const struct xattr_handler incrfs_user_handler = {
	.prefix	= XATTR_USER_PREFIX,
	.flags	= INCRFS_XATTR_USER,
	.get	= incrfs_xattr_get,
};

static bool incrfs_trusted_list(struct dentry *dentry)
{
	return capable(CAP_SYS_ADMIN);
}

static const struct xattr_handler incrfs_trusted_handler = {
	.prefix	= XATTR_TRUSTED_PREFIX,
	.flags	= INCRFS_XATTR_TRUSTED,
	.list	= incrfs_trusted_list,
	.get	= incrfs_xattr_get,
};

static const struct xattr_handler incrfs_security_handler = {
	.prefix	= XATTR_SECURITY_PREFIX,
	.flags	= INCRFS_XATTR_SECURITY,
	.get	= incrfs_xattr_get,
};

const struct xattr_handler * const incrfs_xattr_handlers[] = {
	&incrfs_user_handler,
	&incrfs_trusted_handler,
	&incrfs_security_handler,
	NULL,
};
