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
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ctl.h"
#include "uapi/incrfs.h"

static void status_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfsctl status - blocks present and reader counters of a mount\n"
"\n"
"SYNOPSIS\n"
"    incrfsctl status PATH\n"
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
"\n"
"    Counters start at zero at each mount.\n"
"\n"
"EXIT STATUS\n"
"    0 printed; 1 PATH cannot be opened or is not on an incrfs mount;\n"
"    2 a bad command line.\n",
	      f);
}

static int status_run(int argc, char *argv[])
{
	struct incrfs_stats st;
	unsigned long long permille;
	const char *path;
	struct stat sb;
	int fd, ret;

	ret = ctl_one_path(argc, argv, &ctl_status, &path);
	if (ret >= 0)
		return ret;
	fd = ctl_open_ioctl(path, INCRFS_IOC_GET_STATS, "INCRFS_IOC_GET_STATS",
			    &st);
	if (fd < 0)
		return CTL_EXIT_ERROR;
	if (fstat(fd, &sb) < 0)
		sb.st_dev = 0;
	close(fd);
	/* rounded down, so 100.0% means every block */
	permille = st.blocks_total ?
		(unsigned long long)(st.blocks_present * 1000 / st.blocks_total) :
		1000;
	printf("mount:          %s (/sys/fs/incrfs/%u:%u)\n", path,
	       major(sb.st_dev), minor(sb.st_dev));
	printf("blocks present: %llu of %llu (%llu.%llu%%)\n",
	       (unsigned long long)st.blocks_present,
	       (unsigned long long)st.blocks_total, permille / 10,
	       permille % 10);
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
	return fflush(stdout) ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}

const struct ctl_command ctl_status = {
	.name = "status",
	.summary = "blocks present, misses, waits, timeouts, complete",
	.run = status_run,
	.help = status_help,
};
