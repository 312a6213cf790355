/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * json_add.h - add a member to a json-c object without leaking it.
 *
 * Why this exists: json_object_object_add() does not take the value when
 * it fails, and every constructor may return NULL without memory; the
 * tools that write JSON (incrfsd --stats-file, incrfsctl --json) each
 * needed the same few lines to get both cases right.  Header-only, so
 * that only programs that include it link json-c.
 */
#ifndef INCRFS_JSON_ADD_H
#define INCRFS_JSON_ADD_H

#include <stdint.h>

#include <json-c/json.h>

/* Add @v (NULL: out of memory) as @key of @o; 0, or -1 with @v put. */
static inline int incrfs_json_add(struct json_object *o, const char *key,
				  struct json_object *v)
{
	if (!v)
		return -1;
	if (json_object_object_add(o, key, v)) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

/* @v as a JSON integer member @key of @o (as incrfs_json_add()). */
static inline int incrfs_json_add_u64(struct json_object *o, const char *key,
				      uint64_t v)
{
	return incrfs_json_add(o, key, json_object_new_int64((int64_t)v));
}

#endif /* INCRFS_JSON_ADD_H */
