/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * spool.h - a temporary directory holding the content of a tar's files.
 *
 * Why this exists: a tar archive can only be read once, front to back, but
 * the image writer reads every file's content when it writes the image, at
 * the end.  Each regular file's content is copied into its own spool file
 * (sparse where the archive says so) so that a layer of any size is never
 * held in memory.  The spool lives next to the output image, not in /tmp,
 * which is often a small tmpfs.
 */
#ifndef INCRFS_PACK_SPOOL_H
#define INCRFS_PACK_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool;

/* A new empty spool directory inside @dir, or NULL (errno set). */
struct spool *spool_new(const char *dir);
/* Removes every spool file and the directory. */
void spool_free(struct spool *s);
/* Same, for a fatal signal handler: only async-signal-safe calls. */
void spool_remove_active(void);
const char *spool_dir(const struct spool *s);

/* Creates the next spool file; returns a writable fd and its id. */
int spool_create(struct spool *s, uint64_t *id);
void spool_path(void *spool, uint64_t id, char *buf, size_t len);
/* Deletes spool file @id (its content was replaced). */
void spool_drop(void *spool, uint64_t id);

#endif /* INCRFS_PACK_SPOOL_H */
