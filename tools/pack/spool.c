// SPDX-License-Identifier: GPL-2.0-only
/*
 * spool.c - temporary per-file content store for packing from a tar.
 *
 * Why this exists: see spool.h.  Files are named by a counter (0, 1, ...)
 * in a mkdtemp(3) directory, so cleaning up needs no list of names and
 * can run from a signal handler.
 */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct spool {
	char dir[PATH_MAX];
	int dirfd;
	uint64_t next;
};

static struct spool *active;

struct spool *spool_new(const char *dir)
{
	struct spool *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (snprintf(s->dir, sizeof(s->dir), "%s/.incrfs-pack-spool.XXXXXX",
		     dir) >= (int)sizeof(s->dir)) {
		free(s);
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (!mkdtemp(s->dir)) {
		free(s);
		return NULL;
	}
	s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		int e = errno;

		rmdir(s->dir);
		free(s);
		errno = e;
		return NULL;
	}
	active = s;
	return s;
}

/* Async-signal-safe decimal formatting. */
static void id_name(uint64_t id, char *buf)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + id % 10);
		id /= 10;
	} while (id);
	for (int i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
}

static void remove_all(struct spool *s)
{
	char name[24];

	for (uint64_t id = 0; id < s->next; id++) {
		id_name(id, name);
		unlinkat(s->dirfd, name, 0);
	}
	rmdir(s->dir);
}

void spool_free(struct spool *s)
{
	if (!s)
		return;
	if (active == s)
		active = NULL;
	remove_all(s);
	close(s->dirfd);
	free(s);
}

void spool_remove_active(void)
{
	if (active)
		remove_all(active);
}

const char *spool_dir(const struct spool *s)
{
	return s->dir;
}

int spool_create(struct spool *s, uint64_t *id)
{
	char name[24];
	int fd;

	id_name(s->next, name);
	fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	*id = s->next++;
	return fd;
}

void spool_path(void *spool, uint64_t id, char *buf, size_t len)
{
	struct spool *s = spool;
	char name[24];

	id_name(id, name);
	snprintf(buf, len, "%s/%s", s->dir, name);
}

void spool_drop(void *spool, uint64_t id)
{
	struct spool *s = spool;
	char name[24];

	id_name(id, name);
	unlinkat(s->dirfd, name, 0);
}
