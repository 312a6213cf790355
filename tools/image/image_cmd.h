/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * image_cmd.h - the commands of incrfs-image, and what they share.
 *
 * Why this exists: incrfs-image is the tool for images at rest (not
 * mounted): each command is a file of its own, main.c only dispatches.
 */
#ifndef INCRFS_IMAGE_CMD_H
#define INCRFS_IMAGE_CMD_H

#include <stdbool.h>
#include <stdio.h>

/* Exit statuses, the same for every command. */
enum {
	IMG_EXIT_OK = 0,	/* done; check: nothing wrong */
	IMG_EXIT_CORRUPT = 1,	/* check: the image or the blob is damaged */
	IMG_EXIT_USAGE = 2,	/* a bad command line */
	IMG_EXIT_ERROR = 3,	/* a file cannot be opened or read */
};

struct img_cmd {
	const char *name;
	const char *summary;
	void (*help)(FILE *f);
	int (*run)(int argc, char *argv[]);
};

extern const struct img_cmd img_check, img_inspect, img_convert, img_pull,
	img_umount, img_profile;
extern const char *img_prog;

/* "a/b: message" on stderr, prefixed with the program's name. */
void img_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "incrfs-image: @msg" on stderr: the registry client's notes. */
void img_note(const char *msg);
/*
 * Split "DIR:TAG" (a TAG has no '/') into a new string DIR, returned, and
 * @tag pointing into it (NULL if there is none).  NULL: out of memory.
 */
char *img_split_ref(const char *arg, const char **tag);
/*
 * The companion program @name to run: $@env if set, else the one next to
 * incrfs-image, else @name (found in PATH).
 */
void img_tool_path(const char *name, const char *env, char *buf, size_t len);
/* The exit status for an error of tools/lib: damaged, or not readable. */
int img_exit_for(int err);

#endif /* INCRFS_IMAGE_CMD_H */
