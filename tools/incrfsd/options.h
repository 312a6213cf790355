/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * options.h - incrfsd's command line and exit codes.
 *
 * Why this exists: parsing is separate from running so the host tests can
 * check every option, default and usage error without a mount.
 */
#ifndef INCRFSD_OPTIONS_H
#define INCRFSD_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "source.h"	/* INCRFSD_MAX_MIRRORS */

/* Exit codes, as documented in --help. */
#define INCRFSD_EXIT_OK		0	/* stopped by a signal, mount gone, done */
#define INCRFSD_EXIT_ERROR	1	/* cannot run, or a fatal error */
#define INCRFSD_EXIT_USAGE	2	/* bad command line */
#define INCRFSD_EXIT_MISMATCH	3	/* the blob is not the image's */

#define INCRFSD_DEFAULT_READAHEAD	4
#define INCRFSD_MAX_READAHEAD		4096
#define INCRFSD_MAX_DEPTH		256
#define INCRFSD_MAX_AMPLIFY		(64ULL << 20)
#define INCRFSD_AMPLIFY_DEFAULT		UINT64_MAX	/* the source kind's */
#define INCRFSD_MAX_INSECURE		16	/* --insecure-registry */
/* --node: the state directory, and the memory all mounts may take */
#define INCRFSD_NODE_STATE_DIR		"/run/incrfsd"
#define INCRFSD_NODE_MEMORY_DEFAULT	(1ULL << 30)

enum prefetch_mode {
	PREFETCH_NONE,
	PREFETCH_ALL,
};

/* --mapped: what a fault in a mapped file fetches */
enum mapped_mode {
	MAPPED_DEFAULT,		/* the source kind's */
	MAPPED_WHOLE,		/* the whole file, behind the waited blocks */
	MAPPED_FAULTED,		/* what its faults touch */
};

struct incrfsd_options {
	const char *source;		/* --source BLOB */
	const char *mountpoint;
	unsigned int readahead;		/* chunks after a miss's chunk */
	unsigned int depth;		/* chunk reads in flight; 0: default */
	uint64_t amplify;		/* bytes fetched with a miss */
	enum prefetch_mode prefetch;
	enum mapped_mode mapped;
	const char *profile;		/* --prefetch-profile FILE */
	bool exit_when_complete;
	bool sync;			/* INCRFS_FILL_SYNC every fill */
	const char *ca_file;		/* --ca-file FILE */
	const char *stats_file;		/* --stats-file FILE */
	const char *insecure[INCRFSD_MAX_INSECURE];	/* HOST[:PORT]s */
	unsigned int n_insecure;
	const char *mirrors[INCRFSD_MAX_MIRRORS];	/* HOST[:PORT]s, in order */
	unsigned int n_mirrors;
	int verbose;
	/* --node: one incrfsd for the mounts attached through --socket */
	bool node;
	const char *socket;		/* --socket PATH */
	const char *state_dir;		/* --state-dir DIR */
	uint64_t memory_max;		/* --memory-max SIZE */
	/*
	 * The long names (without "--") of the first option given that only
	 * a node takes (node_opt) and of the first that only one mount takes
	 * (mount_opt): incrfsd
	 * --node refuses the latter, a mount attached to a node the former.
	 */
	const char *node_opt, *mount_opt;
};

/*
 * Parse @argv into @o (defaults first).  With --node, no BLOB or
 * MOUNTPOINT is taken (and per-mount options are refused).  Returns 0 to run, 1 if --help was
 * printed to @out (exit 0), -1 after printing a usage error to @err
 * (exit INCRFSD_EXIT_USAGE).
 */
int incrfsd_parse_options(struct incrfsd_options *o, int argc,
			  char *const argv[], FILE *out, FILE *err);
void incrfsd_help(FILE *f);

#endif /* INCRFSD_OPTIONS_H */
