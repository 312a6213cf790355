// SPDX-License-Identifier: GPL-2.0-only
/*
 * status.c - incrfsctl status: how far a mount is filled, and how its
 * readers fared (INCRFS_IOC_GET_STATS).
 *
 * Why this exists: the one command an operator runs to see whether a
 * layer still needs its feeder and whether readers are waiting.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "json_add.h"
#include "uapi/incrfs.h"

static void status_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfsctl status - blocks present and reader counters of a mount\n"
"\n"
"SYNOPSIS\n"
"    incrfsctl status [--json] PATH\n"
"\n"
"DESCRIPTION\n"
"    PATH is the mount point or any file or directory of an incrfs mount.\n"
"    Prints, one \"name: value\" line each:\n"
"\n"
"    mount           PATH and the mount's counters directory in sysfs,\n"
"                    /sys/fs/incrfs/MAJOR:MINOR (its st_dev)\n"
"    blocks present  data blocks present of all, with a percentage\n"
"                    (rounded down: 100.0% only when complete)\n"
"    misses          waiting episodes: a missing block somebody waited for\n"
"    waits           tasks that waited for a missing block\n"
"    timeouts        waits that ended with ETIMEDOUT (or SIGBUS)\n"
"    wait time       total time tasks spent waiting, in seconds\n"
"    fills           blocks written by the feeder\n"
"    hash failures   blocks the kernel refused: SHA-256 mismatch\n"
"    fills lost      blocks filled, then lost to a writeback error of the\n"
"                    image's file system: missing again, fetched again\n"
"    complete        yes when every block is present: the mount needs no\n"
"                    feeder any more, and stays so across remounts\n"
"    feeder          attached while a feeder (incrfsd) holds the mount's\n"
"                    control fd: misses are served; none: a read of a\n"
"                    missing block waits until one attaches or the\n"
"                    mount's timeout passes\n"
"\n"
"    Counters start at zero at each mount.\n"
"\n"
"OPTIONS\n"
"    --json\n"
"        One JSON object instead, for scripts: mount, sysfs, and the\n"
"        counters of struct incrfs_stats by their names (blocks_present,\n"
"        blocks_total, misses, waits, timeouts, wait_ns, fills,\n"
"        hash_failures, fills_lost, image_reads_direct,\n"
"        image_reads_buffered; complete and feeder_attached: true or\n"
"        false).\n"
"\n"
"EXIT STATUS\n"
"    0 printed; 1 PATH cannot be opened or is not on an incrfs mount;\n"
"    2 a bad command line.\n",
	      f);
}

static int status_json(const char *path, const char *sysfs,
		       const struct incrfs_stats *st)
{
	struct json_object *o = json_object_new_object();
	const struct { const char *key; uint64_t v; } n[] = {
		{ "blocks_present", st->blocks_present },
		{ "blocks_total", st->blocks_total },
		{ "misses", st->misses }, { "waits", st->waits },
		{ "timeouts", st->timeouts }, { "wait_ns", st->wait_ns },
		{ "fills", st->fills }, { "hash_failures", st->hash_failures },
		{ "fills_lost", st->fills_lost },
		{ "image_reads_direct", st->image_reads_direct },
		{ "image_reads_buffered", st->image_reads_buffered },
	};
	size_t i;

	if (!o)
		return ctl_print_json(NULL);
	if (incrfs_json_add(o, "mount", json_object_new_string(path)) ||
	    incrfs_json_add(o, "sysfs", json_object_new_string(sysfs)))
		goto fail;
	for (i = 0; i < sizeof(n) / sizeof(n[0]); i++)
		if (incrfs_json_add_u64(o, n[i].key, n[i].v))
			goto fail;
	if (incrfs_json_add(o, "complete",
			    json_object_new_boolean(st->complete)) ||
	    incrfs_json_add(o, "feeder_attached",
			    json_object_new_boolean(st->feeder_attached)))
		goto fail;
	return ctl_print_json(o);
fail:
	json_object_put(o);
	return ctl_print_json(NULL);
}

static int status_run(int argc, char *argv[])
{
	struct incrfs_stats st;
	const char *path;
	char sysfs[64], pct[32];
	struct stat sb;
	bool json;
	int fd, ret;

	ret = ctl_path_json(argc, argv, &ctl_status, &path, &json);
	if (ret >= 0)
		return ret;
	fd = ctl_open_ioctl(path, INCRFS_IOC_GET_STATS, "INCRFS_IOC_GET_STATS",
			    &st);
	if (fd < 0)
		return CTL_EXIT_ERROR;
	if (fstat(fd, &sb) < 0)
		sb.st_dev = 0;
	close(fd);
	ctl_sysfs_dir(sb.st_dev, sysfs, sizeof(sysfs));
	if (json)
		return status_json(path, sysfs, &st);
	ctl_percent_present(&st, pct, sizeof(pct));
	printf("mount:          %s (%s)\n", path, sysfs);
	printf("blocks present: %llu of %llu (%s)\n",
	       (unsigned long long)st.blocks_present,
	       (unsigned long long)st.blocks_total, pct);
	printf("misses:         %llu\n", (unsigned long long)st.misses);
	printf("waits:          %llu\n", (unsigned long long)st.waits);
	printf("timeouts:       %llu\n", (unsigned long long)st.timeouts);
	printf("wait time:      %llu.%03llu s\n",
	       (unsigned long long)(st.wait_ns / 1000000000ULL),
	       (unsigned long long)(st.wait_ns / 1000000ULL % 1000));
	printf("fills:          %llu\n", (unsigned long long)st.fills);
	printf("hash failures:  %llu\n", (unsigned long long)st.hash_failures);
	printf("fills lost:     %llu\n", (unsigned long long)st.fills_lost);
	printf("image reads:    %llu direct, %llu buffered\n",
	       (unsigned long long)st.image_reads_direct,
	       (unsigned long long)st.image_reads_buffered);
	printf("complete:       %s\n", st.complete ? "yes" : "no");
	printf("feeder:         %s\n", st.feeder_attached ? "attached" : "none");
	return fflush(stdout) ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}

const struct ctl_command ctl_status = {
	.name = "status",
	.summary = "blocks present, misses, waits, timeouts, complete, feeder",
	.run = status_run,
	.help = status_help,
};
