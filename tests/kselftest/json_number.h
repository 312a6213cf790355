/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * json_number.h - a number from a JSON object the tools wrote (incrfsd
 * --stats-file, incrfsctl --json), for the tests and benchmarks that read
 * them.
 *
 * Why this exists: the guest tests, the host tests and the benchmark read
 * the same files; one lookup keeps them reading them the same way.
 * Header-only (static inline) because each *_test.c is built alone.
 */
#ifndef INCRFS_JSON_NUMBER_H
#define INCRFS_JSON_NUMBER_H

#include <json-c/json.h>

/*
 * Member @key of @o, or of its object member @sub if @sub is not NULL, as
 * a double (true/false as 1/0); @missing if there is no such member.
 */
static inline double jn_number(struct json_object *o, const char *sub,
			       const char *key, double missing)
{
	struct json_object *v;

	if (sub && !json_object_object_get_ex(o, sub, &o))
		return missing;
	if (!json_object_object_get_ex(o, key, &v))
		return missing;
	return json_object_get_double(v);
}

#endif /* INCRFS_JSON_NUMBER_H */
