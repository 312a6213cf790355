// SPDX-License-Identifier: GPL-2.0-only
/*
 * profile.c - read and write access profiles (format in profile.h).
 *
 * Why this exists: the one parser of a file that users copy between
 * machines; it checks every line and says which one is wrong.
 */
#include "profile.h"

#include "hex.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int fail(struct incrfs_profile *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct incrfs_profile *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void incrfs_profile_hex(const uint8_t hash[INCRFS_HASH_SIZE],
			char out[2 * INCRFS_HASH_SIZE + 1])
{
	incrfs_hex(hash, INCRFS_HASH_SIZE, out);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A decimal without sign or spaces; advances *s past it. */
static int parse_dec(const char **s, uint64_t *out)
{
	uint64_t v = 0;
	const char *c = *s;

	if (!isdigit((unsigned char)*c))
		return -1;
	for (; isdigit((unsigned char)*c); c++) {
		if (v > (UINT64_MAX - (uint64_t)(*c - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*c - '0');
	}
	*s = c;
	*out = v;
	return 0;
}

static int parse_header(struct incrfs_profile *p, const char *line,
			const char *name)
{
	size_t n = strlen(INCRFS_PROFILE_MAGIC);
	const char *s = line;
	uint64_t version;
	int i, hi, lo;

	if (strncmp(s, INCRFS_PROFILE_MAGIC, n) || s[n] != ' ')
		return fail(p, "%s: not an incrfs access profile (line 1 does not start with \"%s \")",
			    name, INCRFS_PROFILE_MAGIC);
	s += n + 1;
	if (parse_dec(&s, &version) || *s != ' ')
		return fail(p, "%s: line 1: bad version", name);
	if (version != INCRFS_PROFILE_VERSION)
		return fail(p, "%s: profile version %" PRIu64 " (only %d is supported)",
			    name, version, INCRFS_PROFILE_VERSION);
	s++;
	for (i = 0; i < INCRFS_HASH_SIZE; i++) {
		hi = hex_digit(s[2 * i]);
		lo = hi < 0 ? -1 : hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return fail(p, "%s: line 1: the root hash is not 64 hex digits",
				    name);
		p->root_hash[i] = (uint8_t)(hi << 4 | lo);
	}
	if (s[2 * INCRFS_HASH_SIZE] != '\0')
		return fail(p, "%s: line 1: unexpected text after the root hash",
			    name);
	return 0;
}

static int add_range(struct incrfs_profile *p, uint64_t start, uint64_t len)
{
	struct incrfs_profile_range *r;

	if (p->nr == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 256;

		r = realloc(p->ranges, ncap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		p->ranges = r;
		p->cap = ncap;
	}
	p->ranges[p->nr].start = start;
	p->ranges[p->nr].len = len;
	p->nr++;
	p->blocks += len;
	return 0;
}

static int parse_range(struct incrfs_profile *p, const char *line,
		       unsigned long lineno, const char *name)
{
	const char *s = line;
	uint64_t start, len;

	if (parse_dec(&s, &start) || *s++ != ' ' || parse_dec(&s, &len) ||
	    *s != '\0')
		return fail(p, "%s: line %lu: expected \"START LEN\" (two decimals)",
			    name, lineno);
	if (!len || start + len < start)
		return fail(p, "%s: line %lu: bad range %" PRIu64 " %" PRIu64,
			    name, lineno, start, len);
	if (p->nr >= INCRFS_PROFILE_MAX_RANGES)
		return fail(p, "%s: more than %u ranges", name,
			    INCRFS_PROFILE_MAX_RANGES);
	return add_range(p, start, len);
}

int incrfs_profile_read(struct incrfs_profile *p, FILE *f, const char *name)
{
	unsigned long lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int ret = 0;

	memset(p, 0, sizeof(*p));
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1)
			ret = parse_header(p, line, name);
		else if (len == 0 || line[0] == '#')
			continue;
		else
			ret = parse_range(p, line, lineno, name);
		if (ret)
			break;
	}
	if (!ret && ferror(f))
		ret = -EIO;
	if (!ret && lineno == 0)
		ret = fail(p, "%s: empty file, not an incrfs access profile",
			   name);
	if (ret == -EIO)
		snprintf(p->err, sizeof(p->err), "%s: read error", name);
	else if (ret == -ENOMEM)
		snprintf(p->err, sizeof(p->err), "%s: out of memory", name);
	free(line);
	return ret;
}

void incrfs_profile_free(struct incrfs_profile *p)
{
	free(p->ranges);
	p->ranges = NULL;
	p->nr = p->cap = 0;
}

int incrfs_profile_write_header(FILE *f,
				const uint8_t root_hash[INCRFS_HASH_SIZE])
{
	char hex[2 * INCRFS_HASH_SIZE + 1];

	incrfs_profile_hex(root_hash, hex);
	return fprintf(f, "%s %d %s\n", INCRFS_PROFILE_MAGIC,
		       INCRFS_PROFILE_VERSION, hex) < 0 ? -EIO : 0;
}

int incrfs_profile_write_range(FILE *f, uint64_t start, uint64_t len)
{
	return fprintf(f, "%" PRIu64 " %" PRIu64 "\n", start, len) < 0 ?
		-EIO : 0;
}
