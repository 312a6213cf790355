// SPDX-License-Identifier: GPL-2.0-only
/*
 * check.c - incrfs-image check: an fsck of an image, and of its blob.
 *
 * Why this exists: a damaged image is refused at mount and a damaged blob
 * shows up as hash failures while readers wait; this finds both first.
 * The image check is tools/lib's incrfs_image_check() with the data of
 * every present block verified; the blob check decodes every chunk and
 * compares every block's SHA-256 with the image's hash table, i.e. what
 * the kernel would accept from a feeder serving that blob.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob.h"
#include "hex.h"
#include "image.h"
#include "image_cmd.h"
#include "sha256.h"

/* Damaged blocks named one by one, at most; the rest are counted. */
#define NAMED_MAX 10

static void check_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfs-image check - check an image, and the blob that belongs to it\n"
"\n"
"SYNOPSIS\n"
"    incrfs-image check [--blob BLOB] [--json] [--quiet] IMAGE\n"
"\n"
"DESCRIPTION\n"
"    Checks IMAGE as a file system checker does: the super block, the\n"
"    root hash against the block hash table, every inode, directory,\n"
"    name, extent and xattr, every inode reachable from the root as often\n"
"    as its link count says, no two files sharing a data block, and the\n"
"    SHA-256 of every data block the bitmap marks present.\n"
"\n"
"    With --blob, also BLOB: its header and chunk index, that it belongs\n"
"    to IMAGE (the same root hash and block count), and that every chunk\n"
"    decodes to blocks whose SHA-256 is the one IMAGE's hash table gives,\n"
"    i.e. that the kernel would accept every block a feeder serves from\n"
"    it.  Damaged blocks are named (chunk, data block), the first ten of\n"
"    them; the rest are counted.\n"
"\n"
"    Nothing is changed: a damaged image is rebuilt with incrfs-pack.\n"
"    On a terminal, a progress line shows how far the blob check is.\n"
"\n"
"OPTIONS\n"
"    -b, --blob BLOB\n"
"        Check BLOB too, against IMAGE.\n"
"\n"
"    -j, --json\n"
"        One JSON object on standard output: clean (true when nothing is\n"
"        wrong), image {path, clean, error, inodes, data_blocks,\n"
"        present_blocks}, and with --blob, blob {path, clean, error,\n"
"        chunks, blocks_checked, bad_blocks}.  error is null when clean.\n"
"\n"
"    -q, --quiet\n"
"        Print nothing; the exit status says it.\n"
"\n"
"    -h, --help\n"
"        Print this help and exit.\n"
"\n"
"EXIT STATUS\n"
"    0 nothing wrong; 1 IMAGE or BLOB is damaged or BLOB belongs to\n"
"    another image; 2 a bad command line; 3 a file cannot be opened or\n"
"    read.\n", f);
}

struct check {
	const char *img_path, *blob_path;
	bool json, quiet, progress;
	/* image */
	int img_status;
	char img_err[INCRFS_ERR_MAX];
	uint64_t inodes, blocks, present;
	/* blob */
	int blob_status;
	char blob_err[INCRFS_ERR_MAX + 64];
	uint64_t chunks, checked, bad;
};

static void say(const struct check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(const struct check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet || c->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static void check_image(struct check *c, struct incrfs_image *img)
{
	int err = incrfs_image_check(img, true);

	if (!err)
		err = incrfs_image_count_present(img, &c->present);
	c->inodes = img->sb.inode_count;
	c->blocks = img->sb.nr_blocks;
	c->img_status = img_exit_for(err);
	if (err)
		snprintf(c->img_err, sizeof(c->img_err), "%s", img->err);
}

/* Every block of every chunk against the image's hash table. */
static int verify_chunks(struct check *c, struct incrfs_image *img,
			 struct incrfs_blob *b)
{
	uint8_t want[INCRFS_HASH_SIZE], have[INCRFS_HASH_SIZE];
	size_t cap = (size_t)b->chunk_blocks * 4096;
	struct incrfs_chunk_info ci;
	uint64_t ch, i;
	char *buf = malloc(cap ? cap : 1);
	int err = 0;

	if (!buf) {
		snprintf(c->blob_err, sizeof(c->blob_err), "out of memory");
		return -ENOMEM;
	}
	for (ch = 0; ch < b->nr_chunks; ch++) {
		if (c->progress && (ch % 64 == 0 || ch + 1 == b->nr_chunks))
			fprintf(stderr, "\r%s: blob: chunk %llu of %llu",
				img_prog, (unsigned long long)ch + 1,
				(unsigned long long)b->nr_chunks);
		err = incrfs_blob_chunk(b, ch, &ci);
		if (!err)
			err = incrfs_blob_read_chunk(b, ch, buf, cap);
		if (err == -EUCLEAN) {
			/* a chunk that does not decode: all its blocks */
			if (c->bad < NAMED_MAX)
				say(c, "%s: chunk %llu: %s\n", c->blob_path,
				    (unsigned long long)ch, b->err);
			c->bad += b->chunk_blocks;
			if (!c->blob_err[0])
				snprintf(c->blob_err, sizeof(c->blob_err),
					 "chunk %llu: %s",
					 (unsigned long long)ch, b->err);
			err = 0;
			continue;
		}
		if (err) {
			snprintf(c->blob_err, sizeof(c->blob_err),
				 "chunk %llu: %s", (unsigned long long)ch,
				 b->err);
			break;
		}
		c->chunks++;
		for (i = 0; i < ci.nr_blocks; i++) {
			uint64_t blk = ci.first_block + i;

			err = incrfs_image_block_hash(img, blk, want);
			if (!err)
				err = incrfs_sha256(buf + i * 4096, 4096, have);
			if (err) {
				snprintf(c->blob_err, sizeof(c->blob_err),
					 "data block %llu: %s",
					 (unsigned long long)blk,
					 img->err[0] ? img->err : strerror(-err));
				goto out;
			}
			c->checked++;
			if (!memcmp(want, have, sizeof(want)))
				continue;
			if (c->bad < NAMED_MAX)
				say(c, "%s: chunk %llu, data block %llu: SHA-256 is not the image's\n",
				    c->blob_path, (unsigned long long)ch,
				    (unsigned long long)blk);
			if (!c->bad)
				snprintf(c->blob_err, sizeof(c->blob_err),
					 "chunk %llu, data block %llu: SHA-256 is not the image's",
					 (unsigned long long)ch,
					 (unsigned long long)blk);
			c->bad++;
		}
	}
out:
	if (c->progress)
		fputc('\n', stderr);
	free(buf);
	return err;
}

static void check_blob(struct check *c, struct incrfs_image *img)
{
	struct incrfs_blob b;
	int fd, err;

	memset(&b, 0, sizeof(b));
	fd = open(c->blob_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(c->blob_err, sizeof(c->blob_err), "%s",
			 strerror(errno));
		c->blob_status = IMG_EXIT_ERROR;
		return;
	}
	err = incrfs_blob_open(&b, fd);
	if (err) {
		snprintf(c->blob_err, sizeof(c->blob_err), "%s", b.err);
		c->blob_status = img_exit_for(err);
		goto out;
	}
	if (memcmp(b.root_hash, img->sb.root_hash, INCRFS_HASH_SIZE) ||
	    b.nr_blocks != img->sb.nr_blocks) {
		char want[INCRFS_HASH_HEX], have[INCRFS_HASH_HEX];

		incrfs_hex(img->sb.root_hash, INCRFS_HASH_SIZE, want);
		incrfs_hex(b.root_hash, INCRFS_HASH_SIZE, have);
		snprintf(c->blob_err, sizeof(c->blob_err),
			 "belongs to another image: root hash %.16s..., %llu blocks; the image's: %.16s..., %llu blocks",
			 have, (unsigned long long)b.nr_blocks, want,
			 (unsigned long long)img->sb.nr_blocks);
		c->blob_status = IMG_EXIT_CORRUPT;
		goto out;
	}
	err = verify_chunks(c, img, &b);
	c->blob_status = err ? img_exit_for(err) :
			 c->bad ? IMG_EXIT_CORRUPT : IMG_EXIT_OK;
out:
	incrfs_blob_close(&b);
	close(fd);
}

static void report_json(const struct check *c)
{
	struct json_object *o = json_object_new_object();
	struct json_object *i = json_object_new_object();
	bool clean = !c->img_status && !c->blob_status;

	json_object_object_add(o, "clean", json_object_new_boolean(clean));
	json_object_object_add(i, "path", json_object_new_string(c->img_path));
	json_object_object_add(i, "clean",
			       json_object_new_boolean(!c->img_status));
	json_object_object_add(i, "error", c->img_status ?
			       json_object_new_string(c->img_err) : NULL);
	json_object_object_add(i, "inodes",
			       json_object_new_int64((int64_t)c->inodes));
	json_object_object_add(i, "data_blocks",
			       json_object_new_int64((int64_t)c->blocks));
	json_object_object_add(i, "present_blocks",
			       json_object_new_int64((int64_t)c->present));
	json_object_object_add(o, "image", i);
	if (c->blob_path) {
		struct json_object *b = json_object_new_object();

		json_object_object_add(b, "path",
				       json_object_new_string(c->blob_path));
		json_object_object_add(b, "clean",
				       json_object_new_boolean(!c->blob_status));
		json_object_object_add(b, "error", c->blob_status ?
				       json_object_new_string(c->blob_err) :
				       NULL);
		json_object_object_add(b, "chunks",
				       json_object_new_int64((int64_t)c->chunks));
		json_object_object_add(b, "blocks_checked",
				       json_object_new_int64((int64_t)c->checked));
		json_object_object_add(b, "bad_blocks",
				       json_object_new_int64((int64_t)c->bad));
		json_object_object_add(o, "blob", b);
	}
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void report_text(const struct check *c)
{
	if (c->img_status)
		say(c, "%s: damaged: %s\n", c->img_path, c->img_err);
	else
		say(c, "%s: clean: %llu inodes, %llu data blocks, %llu present and verified\n",
		    c->img_path, (unsigned long long)c->inodes,
		    (unsigned long long)c->blocks,
		    (unsigned long long)c->present);
	if (!c->blob_path)
		return;
	if (c->blob_status == IMG_EXIT_CORRUPT && c->bad)
		say(c, "%s: damaged: %llu of %llu data blocks would be refused\n",
		    c->blob_path, (unsigned long long)c->bad,
		    (unsigned long long)c->blocks);
	else if (c->blob_status)
		say(c, "%s: %s: %s\n", c->blob_path,
		    c->blob_status == IMG_EXIT_CORRUPT ? "damaged" :
		    "cannot be read", c->blob_err);
	else
		say(c, "%s: clean: %llu chunks, every one of %llu data blocks is the image's\n",
		    c->blob_path, (unsigned long long)c->chunks,
		    (unsigned long long)c->checked);
}

static int check_run(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "blob", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct check c = { 0 };
	struct incrfs_image img;
	int ch, fd, err;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "b:jqh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			c.blob_path = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 'q':
			c.quiet = true;
			break;
		case 'h':
			check_help(stdout);
			return IMG_EXIT_OK;
		default:
			return IMG_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		img_err("check: one IMAGE is needed (--help)");
		return IMG_EXIT_USAGE;
	}
	c.img_path = argv[optind];
	c.progress = !c.quiet && !c.json && isatty(STDERR_FILENO);
	fd = open(c.img_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		img_err("%s: %s", c.img_path, strerror(errno));
		return IMG_EXIT_ERROR;
	}
	err = incrfs_image_open(&img, fd);
	if (err) {
		c.img_status = img_exit_for(err);
		snprintf(c.img_err, sizeof(c.img_err), "%s", img.err);
	} else {
		check_image(&c, &img);
		/* a blob is checked against the hash table, sound or not */
		if (c.blob_path)
			check_blob(&c, &img);
	}
	if (c.json)
		report_json(&c);
	else
		report_text(&c);
	incrfs_image_close(&img);
	close(fd);
	if (c.img_status == IMG_EXIT_ERROR || c.blob_status == IMG_EXIT_ERROR)
		return IMG_EXIT_ERROR;
	return c.img_status || c.blob_status ? IMG_EXIT_CORRUPT : IMG_EXIT_OK;
}

const struct img_cmd img_check = {
	.name = "check",
	.summary = "check an image, and the blob that belongs to it (fsck)",
	.help = check_help,
	.run = check_run,
};
