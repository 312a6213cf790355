// SPDX-License-Identifier: GPL-2.0-only
/*
 * main.c - incrfs-pack: pack a directory tree or a tar layer into an incrfs
 * image and a blob.
 *
 * Why this exists: it is how images are made.  This file handles the
 * command line, writes both outputs to temporary files next to their final
 * names, checks the result with the library's own reader, and renames them
 * into place only when everything succeeded, so a failure never leaves a
 * partial image or blob behind.
 */
#include "walk.h"
#include "from_tar.h"
#include "blob.h"
#include "hex.h"
#include "image.h"
#include "number.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

static const char *prog = "incrfs-pack";

static const struct pack_limits default_limits = PACK_LIMITS_DEFAULT;

/* Temporary outputs, removed on failure or on a fatal signal. */
static char *tmp_paths[2];

static void usage(FILE *f)
{
	fprintf(f,
"NAME\n"
"    incrfs-pack - pack a directory tree or a tar layer into an incrfs image\n"
"\n"
"SYNOPSIS\n"
"    incrfs-pack [OPTIONS] DIR OUT.img --blob OUT.blob\n"
"    incrfs-pack [OPTIONS] --full DIR OUT.img [--blob OUT.blob]\n"
"    incrfs-pack [OPTIONS] --from-tar LAYER.tar[.gz|.zst] OUT.img\n"
"                [--full] [--blob OUT.blob]\n"
"\n"
"DESCRIPTION\n"
"    Reads the tree below DIR (without following symlinks; DIR itself may\n"
"    be a symlink to a directory) and writes OUT.img, an image that\n"
"    \"mount -t incrfs OUT.img MNT\" mounts read-only.  A directory that\n"
"    changes into something else while it is read is an error; pack a\n"
"    tree nobody modifies meanwhile (a snapshot of a running container's\n"
"    root, not the root itself).\n"
"\n"
"    By default every data block of the image is missing: the block bitmap\n"
"    is all zero and the data region is a hole (OUT.img is a sparse file of\n"
"    its full size).  The content goes to the blob, OUT.blob: every data\n"
"    block in order, compressed with zstd in independently decodable chunks\n"
"    (one zstd frame each) with an index, from which a feeder (incrfsd)\n"
"    fills the image on demand.  The image's root hash, a SHA-256 over the\n"
"    per-block SHA-256 table, is stored in both files and ties them\n"
"    together.\n"
"\n"
"    With --full the data is written into the image and every block is\n"
"    present, so it needs no feeder; a blob is then optional.\n"
"\n"
"    Preserved: file type, permission bits, owner and group, size, mtime\n"
"    and ctime (seconds and nanoseconds), link counts, device numbers\n"
"    (including overlayfs whiteouts, char 0/0), symlink targets, hard links\n"
"    (by st_dev/st_ino; the link count is the number of links inside the\n"
"    tree), fifos, sockets, and extended attributes in the user., trusted.\n"
"    and security. namespaces (others, e.g. system.posix_acl_access, are\n"
"    skipped with a warning; trusted.* is only visible to root).  atime is\n"
"    not stored.  All-zero 4 KiB blocks of regular files become holes: they\n"
"    take no space and are never fetched.\n"
"\n"
"    With --from-tar the tree comes from a tar archive instead, typically\n"
"    an OCI (Docker) image layer; see PACKING A TAR LAYER.\n"
"\n"
"    The output is deterministic: the same tree gives byte-identical files.\n"
"    The image's creation time is $SOURCE_DATE_EPOCH if set, otherwise the\n"
"    newest mtime in the tree; its UUID is derived from a hash of the\n"
"    content.\n"
"\n"
"    Both files are written to temporary names in their target directories\n"
"    and renamed into place only after the image has passed the incrfs\n"
"    reader's consistency check; on any error nothing is left behind.\n"
"\n"
"PACKING A TAR LAYER\n"
"    --from-tar reads a tar archive (ustar, GNU or PAX; uncompressed or\n"
"    compressed with gzip, zstd, xz or bzip2, detected from the content;\n"
"    \"-\" reads standard input) with libarchive and packs the tree that\n"
"    extracting it into an empty directory would give:\n"
"\n"
"    - Regular files (sparse ones keep their holes), directories, symlinks,\n"
"      hard links, character and block devices and fifos, with mode,\n"
"      owner and group (numeric ids), mtime with nanoseconds (ctime is\n"
"      the PAX ctime if present, else the mtime) and the xattrs of PAX\n"
"      headers (SCHILY.xattr.*, LIBARCHIVE.xattr.*) in the user., trusted.\n"
"      and security. namespaces (others are skipped with a warning).\n"
"    - A path named more than once: the later entry wins, as with tar.  A\n"
"      directory over a directory keeps its content and takes the new\n"
"      attributes; anything else replaces the old entry and all below it.\n"
"      A hard link names the file as it is when the link entry is read.\n"
"    - A parent directory no entry names is created with mode 0755, owner\n"
"      0:0 and time 0; \"./\" sets the root's attributes (else the same).\n"
"    - OCI whiteouts become what overlayfs reads, so that the image can be\n"
"      stacked as a lower layer as a container runtime would stack the\n"
"      extracted layer: an entry DIR/.wh.NAME becomes DIR/NAME, a whiteout\n"
"      (character device 0/0, mode 0000, the entry's owner and times);\n"
"      an entry DIR/.wh..wh..opq makes DIR opaque (xattr\n"
"      trusted.overlay.opaque=\"y\"); other .wh..wh.* entries (aufs\n"
"      metadata) are skipped with a warning.\n"
"    - Absolute paths and paths with a \"..\" component (also as hard link\n"
"      targets) are refused: packing fails and names the entry.\n"
"\n"
"    File content is copied to a temporary spool directory next to\n"
"    OUT.img (.incrfs-pack-spool.XXXXXX), never held in memory; it is\n"
"    removed when incrfs-pack exits.  The output is deterministic: the\n"
"    same archive gives byte-identical files.\n"
"\n"
"LIMITS\n"
"    A layer from an untrusted source can ask for much in little: a sparse\n"
"    entry of a few bytes can declare a file of exabytes, a path of a few\n"
"    KiB can nest thousands of directories.  Holes cost nothing to pack\n"
"    where the file system reports them (SEEK_DATA; elsewhere they are\n"
"    read), but the image declares the sizes to whatever reads it.\n"
"    --max-file-size, --max-total-size and --max-depth refuse such a tree,\n"
"    from a tar or a directory alike: packing fails, names the entry and\n"
"    the limit, and leaves nothing behind.  SIZE is a number of bytes with\n"
"    an optional suffix K, M, G, T, P or E (powers of 1024): 512M, 20G.\n"
"    No tree that tar can extract is as deep as the default, 4096 levels:\n"
"    its paths would be longer than PATH_MAX.\n"
"\n"
"OPTIONS\n"
"    -t, --from-tar LAYER\n"
"        Pack the tar archive LAYER instead of a directory (see above).\n"
"    -b, --blob FILE\n"
"        Write the blob to FILE.  Required without --full.\n"
"    -f, --full\n"
"        Write the data into the image and mark every block present.\n"
"    -c, --chunk-blocks N\n"
"        4 KiB blocks per blob chunk, 1 to 262144 (default 16, i.e. 64 KiB).\n"
"        Larger chunks compress better; smaller ones fetch less per miss.\n"
"    -l, --level N\n"
"        zstd compression level, %d to %d (default 3).\n"
"    --max-file-size SIZE\n"
"        Refuse a regular file larger than SIZE (default: no limit).\n"
"    --max-total-size SIZE\n"
"        Refuse a tree whose regular files take more than SIZE in all, a\n"
"        hard-linked file counted once (default: no limit).\n"
"    --max-depth N\n"
"        Refuse an entry more than N levels below the root; DIR/a/b is 2\n"
"        (default %u).  See LIMITS.\n"
"    -v, --verbose\n"
"        Print a summary of what was packed to stdout.\n"
"    -h, --help\n"
"        Show this help and exit.\n"
"    -V, --version\n"
"        Print the version and exit.\n"
"\n"
"ENVIRONMENT\n"
"    SOURCE_DATE_EPOCH\n"
"        Seconds since the epoch to record as the image's creation time.\n"
"\n"
"EXIT STATUS\n"
"    0 on success; 1 on any error (the message on stderr says what); 2 on\n"
"    a usage error.\n"
"\n"
"EXAMPLES\n"
"    incrfs-pack rootfs/ layer.img --blob layer.blob\n"
"    incrfs-pack --full --level 19 app/ app.img\n"
"    incrfs-pack --from-tar layer.tar.gz layer.img --blob layer.blob\n"
"    mount -t incrfs -o ... l1.img /l1; mount -t incrfs -o ... l2.img /l2\n"
"    mount -t overlay overlay -o lowerdir=/l2:/l1 /merged\n"
"\n"
"SEE ALSO\n"
"    incrfsd(8), incrfsctl(8), Documentation/filesystems/incrfs-format.rst\n",
		ZSTD_minCLevel(), ZSTD_maxCLevel(), default_limits.max_depth);
}

static void remove_tmps(void)
{
	for (int i = 0; i < 2; i++) {
		if (tmp_paths[i])
			unlink(tmp_paths[i]);
	}
	spool_remove_active();
}

static void on_signal(int sig)
{
	remove_tmps();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int parse_num(const char *opt, const char *s, long min, long max,
		     long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "%s: %s: '%s' is not a number from %ld to %ld\n",
			prog, opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_size(const char *opt, const char *s, uint64_t *out)
{
	if (incrfs_parse_size(s, UINT64_MAX, out)) {
		fprintf(stderr, "%s: %s: '%s' is not a size (a number of bytes, or with K, M, G, T, P or E)\n",
			prog, opt, s);
		return -1;
	}
	return 0;
}

static int64_t mkfs_time(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	if (!s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0) {
		fprintf(stderr, "%s: SOURCE_DATE_EPOCH='%s' is not a number of seconds\n",
			prog, s);
		return -2;
	}
	return v;
}

/* A temporary file next to @path, mode 0666 & ~umask like a new file. */
static int open_tmp(const char *path, char **tmp)
{
	mode_t mask = umask(0);
	int fd;

	umask(mask);
	if (asprintf(tmp, "%s.tmp.XXXXXX", path) < 0) {
		*tmp = NULL;
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	fd = mkostemp(*tmp, O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot create %s: %s\n", prog, *tmp,
			strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	if (fchmod(fd, 0666 & ~mask) < 0) {
		fprintf(stderr, "%s: %s: chmod: %s\n", prog, *tmp, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads the outputs back with the library's reader: they must pass. */
static int self_check(int img_fd, int blob_fd, const char *img_path,
		      const char *blob_path)
{
	struct incrfs_image img;
	struct incrfs_blob blob;
	int err = incrfs_image_open(&img, img_fd);

	if (!err)
		err = incrfs_image_check(&img, false);
	if (err) {
		fprintf(stderr, "%s: %s: the written image fails its check: %s\n",
			prog, img_path, img.err);
		incrfs_image_close(&img);
		return -1;
	}
	if (blob_fd >= 0) {
		err = incrfs_blob_open(&blob, blob_fd);
		if (!err && (blob.nr_blocks != img.sb.nr_blocks ||
			     memcmp(blob.root_hash, img.sb.root_hash,
				    INCRFS_HASH_SIZE))) {
			snprintf(blob.err, sizeof(blob.err), "does not match the image");
			err = -EUCLEAN;
		}
		if (err)
			fprintf(stderr, "%s: %s: the written blob fails its check: %s\n",
				prog, blob_path, blob.err);
		incrfs_blob_close(&blob);
	}
	incrfs_image_close(&img);
	return err ? -1 : 0;
}

/*
 * The signals that remove the temporary files (on_signal): held back
 * while the outputs are renamed, so that a signal never leaves a new blob
 * beside an old image, nor finds a temporary path half freed.
 */
static void hold_signals(bool hold)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGHUP);
	sigprocmask(hold ? SIG_BLOCK : SIG_UNBLOCK, &s, NULL);
}

/* Make a rename in @path's directory durable. */
static int sync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd = copy ? open(dirname(copy), O_RDONLY | O_DIRECTORY |
			     O_CLOEXEC) : -1;
	int ret = fd >= 0 && !fsync(fd) ? 0 : -1;

	if (ret)
		fprintf(stderr, "%s: %s: cannot sync its directory: %s\n", prog,
			path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(copy);
	return ret;
}

static int finish(int fd, const char *tmp, const char *path)
{
	if (fsync(fd) < 0) {
		fprintf(stderr, "%s: %s: fsync: %s\n", prog, tmp, strerror(errno));
		return -1;
	}
	if (rename(tmp, path) < 0) {
		fprintf(stderr, "%s: cannot rename %s to %s: %s\n", prog, tmp, path,
			strerror(errno));
		return -1;
	}
	return 0;
}

static void summary(const struct walk_stats *st, int img_fd, int blob_fd)
{
	char hash[INCRFS_HASH_HEX];
	struct incrfs_image img;
	struct stat s;

	if (incrfs_image_open(&img, img_fd))
		return;
	printf("inodes: %llu (%llu dirs, %llu files, %llu symlinks, %llu special), "
	       "%llu hard links, %llu xattrs (%llu skipped)\n",
	       (unsigned long long)img.sb.inode_count, st->dirs, st->files,
	       st->symlinks, st->specials, st->hardlinks, st->xattrs,
	       st->skipped_xattrs);
	printf("data blocks: %llu (%llu bytes), image: %llu bytes\n",
	       (unsigned long long)img.sb.nr_blocks,
	       (unsigned long long)img.sb.nr_blocks * INCRFS_BLOCK_SIZE,
	       (unsigned long long)img.sb.image_size);
	if (blob_fd >= 0 && !fstat(blob_fd, &s))
		printf("blob: %lld bytes\n", (long long)s.st_size);
	incrfs_hex(img.sb.root_hash, INCRFS_HASH_SIZE, hash);
	printf("root hash: %s\n", hash);
	incrfs_image_close(&img);
}

/* getopt values of the options without a short name */
enum {
	OPT_MAX_FILE_SIZE = 256,
	OPT_MAX_TOTAL_SIZE,
	OPT_MAX_DEPTH,
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "blob", required_argument, NULL, 'b' },
		{ "from-tar", required_argument, NULL, 't' },
		{ "full", no_argument, NULL, 'f' },
		{ "chunk-blocks", required_argument, NULL, 'c' },
		{ "level", required_argument, NULL, 'l' },
		{ "max-file-size", required_argument, NULL, OPT_MAX_FILE_SIZE },
		{ "max-total-size", required_argument, NULL, OPT_MAX_TOTAL_SIZE },
		{ "max-depth", required_argument, NULL, OPT_MAX_DEPTH },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct incrfs_write_opts wo = { .image_fd = -1, .blob_fd = -1,
					.chunk_blocks = 16, .level = 3 };
	const char *blob_path = NULL, *dir = NULL, *img_path, *tar = NULL;
	struct pack_limits lim = default_limits;
	struct spool *spool = NULL;
	struct incrfs_writer *w = NULL;
	struct walk_stats st;
	int verbose = 0, ret = 1, c;
	long v;

	while ((c = getopt_long(argc, argv, "b:t:fc:l:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			blob_path = optarg;
			break;
		case 't':
			tar = optarg;
			break;
		case 'f':
			wo.full = true;
			break;
		case 'c':
			if (parse_num("--chunk-blocks", optarg, 1, 1L << 18, &v))
				return 2;
			wo.chunk_blocks = (uint32_t)v;
			break;
		case 'l':
			if (parse_num("--level", optarg, ZSTD_minCLevel(),
				      ZSTD_maxCLevel(), &v))
				return 2;
			wo.level = (int)v;
			break;
		case OPT_MAX_FILE_SIZE:
			if (parse_size("--max-file-size", optarg, &lim.max_file_size))
				return 2;
			break;
		case OPT_MAX_TOTAL_SIZE:
			if (parse_size("--max-total-size", optarg, &lim.max_total_size))
				return 2;
			break;
		case OPT_MAX_DEPTH:
			if (parse_num("--max-depth", optarg, 1, INT_MAX, &v))
				return 2;
			lim.max_depth = (uint32_t)v;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			fputs(INCRFS_VERSION_LINE("incrfs-pack"), stdout);
			return 0;
		default:
			fprintf(stderr, "Try '%s --help'.\n", prog);
			return 2;
		}
	}
	if (argc - optind != (tar ? 1 : 2)) {
		fprintf(stderr, "%s: expected %s\nTry '%s --help'.\n", prog,
			tar ? "OUT.img after --from-tar LAYER" : "DIR and OUT.img",
			prog);
		return 2;
	}
	if (!tar)
		dir = argv[optind++];
	img_path = argv[optind];
	if (!wo.full && !blob_path) {
		fprintf(stderr, "%s: without --full the data goes only to the blob: give --blob FILE\n",
			prog);
		return 2;
	}
	if (blob_path && !strcmp(blob_path, img_path)) {
		fprintf(stderr, "%s: the image and the blob must be different files\n",
			prog);
		return 2;
	}
	wo.mkfs_time = mkfs_time();
	if (wo.mkfs_time == -2)
		return 2;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	if (tar) {
		char *copy = strdup(img_path);

		spool = copy ? spool_new(dirname(copy)) : NULL;
		if (!spool)
			fprintf(stderr, "%s: cannot create a spool directory next to %s: %s\n",
				prog, img_path, strerror(errno));
		free(copy);
		if (!spool)
			goto out;
		w = from_tar(prog, tar, spool, &lim, &st);
	} else {
		w = walk_tree(prog, dir, &lim, &st);
	}
	if (!w)
		goto out;
	wo.image_fd = open_tmp(img_path, &tmp_paths[0]);
	if (wo.image_fd < 0)
		goto out;
	if (blob_path) {
		wo.blob_fd = open_tmp(blob_path, &tmp_paths[1]);
		if (wo.blob_fd < 0)
			goto out;
	}
	if (incrfs_writer_write(w, &wo)) {
		fprintf(stderr, "%s: %s\n", prog, incrfs_writer_error(w));
		goto out;
	}
	if (self_check(wo.image_fd, wo.blob_fd, img_path, blob_path))
		goto out;
	/* the blob first: an image is never there without its blob */
	hold_signals(true);
	if (blob_path && finish(wo.blob_fd, tmp_paths[1], blob_path)) {
		hold_signals(false);
		goto out;
	}
	free(tmp_paths[1]);
	tmp_paths[1] = NULL;
	if (finish(wo.image_fd, tmp_paths[0], img_path)) {
		hold_signals(false);
		goto out;
	}
	free(tmp_paths[0]);
	tmp_paths[0] = NULL;
	hold_signals(false);
	if ((blob_path && sync_dir_of(blob_path)) || sync_dir_of(img_path))
		goto out;
	if (verbose)
		summary(&st, wo.image_fd, wo.blob_fd);
	ret = 0;
out:
	remove_tmps();
	for (int i = 0; i < 2; i++)
		free(tmp_paths[i]);
	if (wo.image_fd >= 0)
		close(wo.image_fd);
	if (wo.blob_fd >= 0)
		close(wo.blob_fd);
	incrfs_writer_free(w);
	spool_free(spool);
	return ret;
}
