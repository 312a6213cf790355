// SPDX-License-Identifier: GPL-2.0-only
/*
 * xattr.c - extended attributes in the user., trusted. and security.
 * namespaces, read-only.  overlayfs reads trusted.overlay.* through here
 * (opaque directories), so a packed layer stacks as the runtime expects.
 *
 * An inode's xattrs are one record in the metadata area: entries of
 * struct incrfs_xattr_entry, each followed by name and value and padded to
 * INCRFS_XATTR_ALIGN.  The record is walked an entry at a time, each read
 * bounds-checked, and a value is read straight into the caller's buffer:
 * nothing is allocated whatever the record's size on disk says.
 */
#include <linux/xattr.h>
#include <linux/sched/signal.h>
#include "internal.h"

/* Nobody packs this much into one inode: it bounds a walk. */
#define INCRFS_XATTR_RECORD_MAX	(4U << 20)

static const char *const prefixes[] = {
	[INCRFS_XATTR_USER]	= XATTR_USER_PREFIX,
	[INCRFS_XATTR_TRUSTED]	= XATTR_TRUSTED_PREFIX,
	[INCRFS_XATTR_SECURITY]	= XATTR_SECURITY_PREFIX,
};

/* One entry, as next_entry() read it. */
struct xattr_view {
	u8 index;
	u8 name_len;
	u16 value_len;
	u32 value_pos;		/* of the value, in the record */
	char name[XATTR_NAME_MAX];
};

/*
 * Read the entry at *pos of @inode's record; advance *pos.  Returns 1, 0
 * at the end, or < 0 (-EFSCORRUPTED: a bad entry).
 */
static int next_entry(struct inode *inode, u32 *pos, struct xattr_view *x)
{
	struct incrfs_inode_info *ii = INCRFS_I(inode);
	u8 buf[sizeof(struct incrfs_xattr_entry) + XATTR_NAME_MAX];
	const struct incrfs_xattr_entry *e = (const void *)buf;
	u32 len = ii->xattr_len, p = *pos, body;
	int err;

	if (p >= len)
		return 0;
	if (len > INCRFS_XATTR_RECORD_MAX || len - p < sizeof(*e))
		return -EFSCORRUPTED;
	if (fatal_signal_pending(current))
		return -EINTR;
	err = incrfs_read_meta(INCRFS_SB(inode->i_sb), buf,
			       min_t(u32, sizeof(buf), len - p),
			       ii->xattr_off + p);
	if (err)
		return err;
	x->index = e->x_index;
	x->name_len = e->x_name_len;
	x->value_len = le16_to_cpu(e->x_value_len);
	body = sizeof(*e) + x->name_len + x->value_len;
	if (x->index < INCRFS_XATTR_USER || x->index > INCRFS_XATTR_SECURITY ||
	    x->name_len == 0 || body > len - p)
		return -EFSCORRUPTED;
	/* (the name was read: it ends within the record and the buffer) */
	memcpy(x->name, buf + sizeof(*e), x->name_len);
	if (memchr(x->name, '\0', x->name_len))
		return -EFSCORRUPTED;
	x->value_pos = p + sizeof(*e) + x->name_len;
	*pos = p + round_up(body, INCRFS_XATTR_ALIGN);
	return 1;
}

static void xattr_corrupted(struct inode *inode)
{
	incrfs_err(inode->i_sb, "inode %lu has corrupted xattrs",
		   inode->i_ino);
}

static int incrfs_xattr_get(const struct xattr_handler *handler,
			    struct dentry *unused, struct inode *inode,
			    const char *name, void *buffer, size_t size)
{
	struct incrfs_inode_info *ii = INCRFS_I(inode);
	size_t name_len = strlen(name);
	struct xattr_view x;
	u32 pos = 0;
	int ret;

	while ((ret = next_entry(inode, &pos, &x)) > 0) {
		if (x.index != handler->flags || x.name_len != name_len ||
		    memcmp(x.name, name, name_len))
			continue;
		if (!buffer)
			return x.value_len;
		if (x.value_len > size)
			return -ERANGE;
		ret = incrfs_read_meta(INCRFS_SB(inode->i_sb), buffer,
				       x.value_len, ii->xattr_off + x.value_pos);
		return ret ? ret : x.value_len;
	}
	if (ret == -EFSCORRUPTED)
		xattr_corrupted(inode);
	return ret < 0 ? ret : -ENODATA;
}

ssize_t incrfs_listxattr(struct dentry *dentry, char *buf, size_t size)
{
	struct inode *inode = d_inode(dentry);
	bool trusted = capable(CAP_SYS_ADMIN);
	struct xattr_view x;
	ssize_t total = 0;
	u32 pos = 0;
	int ret;

	while ((ret = next_entry(inode, &pos, &x)) > 0) {
		const char *prefix = prefixes[x.index];
		size_t plen = strlen(prefix), n = plen + x.name_len + 1;

		if (x.index == INCRFS_XATTR_TRUSTED && !trusted)
			continue;
		if (buf) {
			if (total + n > size)
				return -ERANGE;
			memcpy(buf + total, prefix, plen);
			memcpy(buf + total + plen, x.name, x.name_len);
			buf[total + n - 1] = '\0';
		}
		total += n;
	}
	if (ret == -EFSCORRUPTED)
		xattr_corrupted(inode);
	return ret < 0 ? ret : total;
}

static const struct xattr_handler incrfs_user_handler = {
	.prefix	= XATTR_USER_PREFIX,
	.flags	= INCRFS_XATTR_USER,
	.get	= incrfs_xattr_get,
};

static const struct xattr_handler incrfs_trusted_handler = {
	.prefix	= XATTR_TRUSTED_PREFIX,
	.flags	= INCRFS_XATTR_TRUSTED,
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
