// SPDX-License-Identifier: GPL-2.0-only
/*
 * inspect.c - incrfs-image inspect: what an image is, from its super
 * block and bitmap (identity, sizes, how much of its data is present).
 *
 * Why this exists: to tell which blob belongs to an image (root hash),
 * how big its parts are, and how far a lazy mount has filled it, from a
 * script (--json) or a person, without mounting it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hex.h"
#include "image.h"
#include "image_cmd.h"

static void inspect_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfs-image inspect - identity, layout and fill state of an image\n"
"\n"
"SYNOPSIS\n"
"    incrfs-image inspect [--json] IMAGE\n"
"\n"
"DESCRIPTION\n"
"    Reads IMAGE's super block (validated as the kernel does) and its\n"
"    bitmap and prints, one \"name: value\" line each:\n"
"\n"
"    format       on-disk format version, major.minor\n"
"    uuid         the image's uuid\n"
"    root hash    SHA-256 of the block hash table, in hex: the blob that\n"
"                 belongs to the image carries the same one\n"
"    created      when incrfs-pack wrote it (UTC)\n"
"    inodes       inodes in the image\n"
"    data blocks  4 KiB data blocks, and their size in MiB\n"
"    present      data blocks present (bitmap bits set), and the share\n"
"    image size   bytes of the image file as its super block gives it\n"
"    metadata     bytes of inodes, names and extents; hash table; bitmap\n"
"\n"
"    It does not check the rest of the image: incrfs-image check does.\n"
"\n"
"OPTIONS\n"
"    -j, --json\n"
"        One JSON object instead: format, uuid, root_hash, created (Unix\n"
"        seconds), inodes, data_blocks, present_blocks, image_size,\n"
"        metadata_size, hash_table_size, bitmap_size, data_offset.\n"
"\n"
"    -h, --help\n"
"        Print this help and exit.\n"
"\n"
"EXIT STATUS\n"
"    0 printed; 1 IMAGE is not a valid incrfs image; 2 a bad command\n"
"    line; 3 IMAGE cannot be opened or read.\n", f);
}

static void print_json(const struct incrfs_super_info *s, uint64_t present,
		       const char *uuid, const char *hash)
{
	struct json_object *o = json_object_new_object();
	char ver[16];

	snprintf(ver, sizeof(ver), "%u.%u", s->major, s->minor);
	json_object_object_add(o, "format", json_object_new_string(ver));
	json_object_object_add(o, "uuid", json_object_new_string(uuid));
	json_object_object_add(o, "root_hash", json_object_new_string(hash));
	json_object_object_add(o, "created",
			       json_object_new_int64((int64_t)s->mkfs_time));
	json_object_object_add(o, "inodes",
			       json_object_new_int64((int64_t)s->inode_count));
	json_object_object_add(o, "data_blocks",
			       json_object_new_int64((int64_t)s->nr_blocks));
	json_object_object_add(o, "present_blocks",
			       json_object_new_int64((int64_t)present));
	json_object_object_add(o, "image_size",
			       json_object_new_int64((int64_t)s->image_size));
	json_object_object_add(o, "metadata_size",
			       json_object_new_int64((int64_t)s->meta_size));
	json_object_object_add(o, "hash_table_size",
			       json_object_new_int64((int64_t)(s->nr_blocks *
							       INCRFS_HASH_SIZE)));
	json_object_object_add(o, "bitmap_size",
			       json_object_new_int64((int64_t)s->bitmap_size));
	json_object_object_add(o, "data_offset",
			       json_object_new_int64((int64_t)s->data_off));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_text(const struct incrfs_super_info *s, uint64_t present,
		       const char *uuid, const char *hash)
{
	time_t t = (time_t)s->mkfs_time;
	char when[64] = "?";
	struct tm tm;

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("format:      %u.%u\n", s->major, s->minor);
	printf("uuid:        %s\n", uuid);
	printf("root hash:   %s\n", hash);
	printf("created:     %s\n", when);
	printf("inodes:      %llu\n", (unsigned long long)s->inode_count);
	printf("data blocks: %llu (%.1f MiB)\n",
	       (unsigned long long)s->nr_blocks,
	       s->nr_blocks * 4096.0 / (1 << 20));
	printf("present:     %llu (%.1f %%)\n", (unsigned long long)present,
	       s->nr_blocks ? 100.0 * present / s->nr_blocks : 100.0);
	printf("image size:  %llu bytes\n", (unsigned long long)s->image_size);
	printf("metadata:    %llu bytes; hash table %llu bytes; bitmap %llu bytes\n",
	       (unsigned long long)s->meta_size,
	       (unsigned long long)(s->nr_blocks * INCRFS_HASH_SIZE),
	       (unsigned long long)s->bitmap_size);
}

static int inspect_run(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char uuid[INCRFS_UUID_TEXT], hash[INCRFS_HASH_HEX];
	struct incrfs_image img;
	bool json = false;
	uint64_t present;
	int c, fd, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			inspect_help(stdout);
			return IMG_EXIT_OK;
		default:
			return IMG_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		img_err("inspect: one IMAGE is needed (--help)");
		return IMG_EXIT_USAGE;
	}
	fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		img_err("%s: %s", argv[optind], strerror(errno));
		return IMG_EXIT_ERROR;
	}
	err = incrfs_image_open(&img, fd);
	if (!err)
		err = incrfs_image_count_present(&img, &present);
	if (err) {
		img_err("%s: %s: %s", argv[optind],
			img_exit_for(err) == IMG_EXIT_CORRUPT ?
			"not a valid incrfs image" : "cannot be read", img.err);
		incrfs_image_close(&img);
		close(fd);
		return img_exit_for(err);
	}
	incrfs_uuid_text(img.sb.uuid, uuid);
	incrfs_hex(img.sb.root_hash, INCRFS_HASH_SIZE, hash);
	if (json)
		print_json(&img.sb, present, uuid, hash);
	else
		print_text(&img.sb, present, uuid, hash);
	incrfs_image_close(&img);
	close(fd);
	return IMG_EXIT_OK;
}

const struct img_cmd img_inspect = {
	.name = "inspect",
	.summary = "identity, layout and fill state of an image",
	.help = inspect_help,
	.run = inspect_run,
};
