// SPDX-License-Identifier: GPL-2.0-only
/*
 * list.c - incrfsctl list: every incrfs mount of this mount namespace,
 * with how far it is filled and whether a feeder serves it.
 *
 * Why this exists: a container host has one incrfs mount per layer; an
 * operator needs to see at once which still need their feeder and which
 * have none, without knowing the mount points first.  The mounts come
 * from /proc/self/mounts through getmntent(3), which undoes its octal
 * escapes; the counters from INCRFS_IOC_GET_STATS on each mount point.
 */
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "json_add.h"
#include "uapi/incrfs.h"

#define MOUNTS "/proc/self/mounts"

static void list_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfsctl list - every incrfs mount, how far filled, and its feeder\n"
"\n"
"SYNOPSIS\n"
"    incrfsctl list [--json]\n"
"\n"
"DESCRIPTION\n"
"    Lists the incrfs mounts of this mount namespace, as " MOUNTS "\n"
"    shows them, one line each under a header:\n"
"\n"
"    MOUNT    the mount point\n"
"    PRESENT  data blocks present, in percent (rounded down: 100.0% only\n"
"             when complete)\n"
"    FEEDER   attached while a feeder (incrfsd) holds the mount's control\n"
"             fd; none when no feeder serves it (fine once complete)\n"
"    IMAGE    the image the mount was made from\n"
"\n"
"    A mount whose counters cannot be read (its mount point hidden by\n"
"    another mount, or not readable by the caller) shows \"?\" and the\n"
"    reason is printed on stderr; the exit status is then 1.\n"
"\n"
"OPTIONS\n"
"    --json\n"
"        One JSON array instead, for scripts, of one object per mount:\n"
"        mount, image, options (as " MOUNTS " has them), sysfs,\n"
"        blocks_present, blocks_total, complete and feeder_attached; or\n"
"        mount, image, options and error when its counters cannot be\n"
"        read.\n"
"\n"
"EXIT STATUS\n"
"    0 listed (also when there is no incrfs mount); 1 " MOUNTS " cannot\n"
"    be read, or the counters of a mount cannot; 2 a bad command line.\n"
"\n"
"EXAMPLES\n"
"    incrfsctl list\n"
"    incrfsctl list --json | jq -r '.[] | select(.feeder_attached == false\n"
"        and .complete == false) | .mount'\n",
	      f);
}

struct mount_row {
	char *dir, *image, *opts;
	int err;			/* errno of reading the counters, or 0 */
	struct incrfs_stats st;
	dev_t dev;
};

struct mount_rows {
	struct mount_row *v;
	size_t nr, cap;
};

static void free_rows(struct mount_rows *r)
{
	for (size_t i = 0; i < r->nr; i++) {
		free(r->v[i].dir);
		free(r->v[i].image);
		free(r->v[i].opts);
	}
	free(r->v);
}

/*
 * The counters of the mount at @row->dir.  A directory that answers
 * ENOTTY is another file system mounted over it.
 */
static void read_stats(struct mount_row *row)
{
	struct stat sb;
	int fd = open(row->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	row->err = 0;
	if (fd < 0) {
		row->err = errno;
		return;
	}
	if (ioctl(fd, INCRFS_IOC_GET_STATS, &row->st) < 0)
		row->err = errno;
	else if (fstat(fd, &sb) < 0)
		row->err = errno;
	else
		row->dev = sb.st_dev;
	close(fd);
}

static int add_row(struct mount_rows *r, const struct mntent *m)
{
	struct mount_row *row;

	if (r->nr == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;

		row = reallocarray(r->v, cap, sizeof(*row));
		if (!row)
			return -1;
		r->v = row;
		r->cap = cap;
	}
	row = &r->v[r->nr];
	memset(row, 0, sizeof(*row));
	row->dir = strdup(m->mnt_dir);
	row->image = strdup(m->mnt_fsname);
	row->opts = strdup(m->mnt_opts);
	if (!row->dir || !row->image || !row->opts) {
		free(row->dir);
		free(row->image);
		free(row->opts);
		return -1;
	}
	/* a row is counted only once complete: the listings print all */
	r->nr++;
	read_stats(row);
	return 0;
}

static const char *row_error(const struct mount_row *row)
{
	if (row->err == ENOTTY)
		return "hidden by another mount on the same mount point";
	return strerror(row->err);
}

static int list_json(const struct mount_rows *r)
{
	struct json_object *a = json_object_new_array(), *o;
	char sysfs[64];

	if (!a)
		return ctl_print_json(NULL);
	for (size_t i = 0; i < r->nr; i++) {
		const struct mount_row *row = &r->v[i];
		const struct incrfs_stats *st = &row->st;

		o = json_object_new_object();
		if (!o || json_object_array_add(a, o)) {
			json_object_put(o);
			goto fail;
		}
		if (incrfs_json_add(o, "mount", json_object_new_string(row->dir)) ||
		    incrfs_json_add(o, "image", json_object_new_string(row->image)) ||
		    incrfs_json_add(o, "options", json_object_new_string(row->opts)))
			goto fail;
		if (row->err) {
			if (incrfs_json_add(o, "error",
					    json_object_new_string(row_error(row))))
				goto fail;
			continue;
		}
		ctl_sysfs_dir(row->dev, sysfs, sizeof(sysfs));
		if (incrfs_json_add(o, "sysfs", json_object_new_string(sysfs)) ||
		    incrfs_json_add_u64(o, "blocks_present", st->blocks_present) ||
		    incrfs_json_add_u64(o, "blocks_total", st->blocks_total) ||
		    incrfs_json_add(o, "complete",
				    json_object_new_boolean(st->complete)) ||
		    incrfs_json_add(o, "feeder_attached",
				    json_object_new_boolean(st->feeder_attached)))
			goto fail;
	}
	return ctl_print_json(a);
fail:
	json_object_put(a);
	return ctl_print_json(NULL);
}

static void list_text(const struct mount_rows *r)
{
	int w = (int)strlen("MOUNT");

	for (size_t i = 0; i < r->nr; i++)
		if ((int)strlen(r->v[i].dir) > w)
			w = (int)strlen(r->v[i].dir);
	printf("%-*s  %7s  %-8s  %s\n", w, "MOUNT", "PRESENT", "FEEDER", "IMAGE");
	for (size_t i = 0; i < r->nr; i++) {
		const struct mount_row *row = &r->v[i];
		char pct[32];

		if (row->err) {
			printf("%-*s  %7s  %-8s  %s\n", w, row->dir, "?", "?",
			       row->image);
			continue;
		}
		ctl_percent_present(&row->st, pct, sizeof(pct));
		printf("%-*s  %7s  %-8s  %s\n", w, row->dir, pct,
		       row->st.feeder_attached ? "attached" : "none",
		       row->image);
	}
}

static int list_run(int argc, char *argv[])
{
	struct mount_rows rows = { 0 };
	struct mntent *m;
	bool json;
	int ret = ctl_help_option(argc, argv, &ctl_list, &json);
	FILE *f;

	if (ret >= 0)
		return ret;
	if (optind < argc)
		return ctl_usage(ctl_list.name, "unexpected argument '%s'",
				 argv[optind]);
	f = setmntent(MOUNTS, "re");
	if (!f) {
		ctl_err("%s: %s", MOUNTS, strerror(errno));
		return CTL_EXIT_ERROR;
	}
	ret = CTL_EXIT_OK;
	while ((m = getmntent(f))) {
		if (strcmp(m->mnt_type, "incrfs"))
			continue;
		if (add_row(&rows, m)) {
			ctl_err("out of memory");
			ret = CTL_EXIT_ERROR;
			break;
		}
	}
	endmntent(f);
	for (size_t i = 0; i < rows.nr; i++) {
		if (!rows.v[i].err)
			continue;
		ctl_err("%s: %s", rows.v[i].dir, row_error(&rows.v[i]));
		ret = CTL_EXIT_ERROR;
	}
	if (json) {
		if (list_json(&rows) != CTL_EXIT_OK)
			ret = CTL_EXIT_ERROR;
	} else {
		list_text(&rows);
		if (fflush(stdout))
			ret = CTL_EXIT_ERROR;
	}
	free_rows(&rows);
	return ret;
}

const struct ctl_command ctl_list = {
	.name = "list",
	.summary = "every incrfs mount: blocks present, feeder, image",
	.run = list_run,
	.help = list_help,
};
