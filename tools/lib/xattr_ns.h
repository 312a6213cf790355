/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xattr_ns.h - the xattr namespaces an incrfs image stores.
 *
 * Why this exists: both packers (a directory tree, walk.c, and a tar
 * archive, from_tar.c) map an xattr's name to the on-disk namespace index
 * (uapi/incrfs.h); one table keeps them from storing the same xattr
 * differently.
 */
#ifndef INCRFS_XATTR_NS_H
#define INCRFS_XATTR_NS_H

#include <string.h>

#include "uapi/incrfs.h"

/*
 * The INCRFS_XATTR_* index of @name's namespace (user., trusted.,
 * security.), @rest pointing at the name after its prefix; 0 for any other
 * namespace, or a prefix with nothing after it.
 */
static inline int incrfs_xattr_index(const char *name, const char **rest)
{
	static const struct { const char *prefix; int index; } ns[] = {
		{ "user.", INCRFS_XATTR_USER },
		{ "trusted.", INCRFS_XATTR_TRUSTED },
		{ "security.", INCRFS_XATTR_SECURITY },
	};

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		size_t n = strlen(ns[i].prefix);

		if (!strncmp(name, ns[i].prefix, n) && name[n]) {
			*rest = name + n;
			return ns[i].index;
		}
	}
	return 0;
}

#endif /* INCRFS_XATTR_NS_H */
