// SPDX-License-Identifier: GPL-2.0-only
/*
 * info.c - incrfsctl info: what identifies a mounted image
 * (INCRFS_IOC_GET_INFO).
 *
 * Why this exists: to find the blob that belongs to a mount, or check
 * one, by root hash and uuid.
 */
#include <stdio.h>
#include <unistd.h>

#include "ctl.h"
#include "hex.h"
#include "json_add.h"
#include "uapi/incrfs.h"

static void info_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfsctl info - identity and settings of a mounted incrfs image\n"
"\n"
"SYNOPSIS\n"
"    incrfsctl info [--json] PATH\n"
"\n"
"DESCRIPTION\n"
"    PATH is the mount point or any file or directory of an incrfs mount.\n"
"    Prints, one \"name: value\" line each:\n"
"\n"
"    root hash    SHA-256 of the image's block hash table, in hex: the blob\n"
"                 that belongs to the image carries the same one\n"
"    uuid         the image's uuid\n"
"    data blocks  4 KiB data blocks in the image, and their size in MiB\n"
"    inodes       inodes in the image\n"
"    timeout      the mount's read timeout in ms (mount option timeout=),\n"
"                 or \"0 (wait forever)\"\n"
"\n"
"OPTIONS\n"
"    --json\n"
"        One JSON object instead, for scripts: root_hash and uuid\n"
"        (strings), data_blocks, inodes and timeout_ms (0: wait forever).\n"
"\n"
"EXIT STATUS\n"
"    0 printed; 1 PATH cannot be opened or is not on an incrfs mount;\n"
"    2 a bad command line.\n",
	      f);
}

static int info_json(const char *hash, const char *uuid,
		     const struct incrfs_info *info)
{
	struct json_object *o = json_object_new_object();

	if (o && (incrfs_json_add(o, "root_hash", json_object_new_string(hash)) ||
		  incrfs_json_add(o, "uuid", json_object_new_string(uuid)) ||
		  incrfs_json_add_u64(o, "data_blocks", info->nr_blocks) ||
		  incrfs_json_add_u64(o, "inodes", info->inode_count) ||
		  incrfs_json_add_u64(o, "timeout_ms", info->timeout_ms))) {
		json_object_put(o);
		o = NULL;
	}
	return ctl_print_json(o);
}

static int info_run(int argc, char *argv[])
{
	struct incrfs_info info;
	const char *path;
	char hash[INCRFS_HASH_HEX], uuid[INCRFS_UUID_TEXT];
	bool json;
	int fd, ret;

	ret = ctl_path_json(argc, argv, &ctl_info, &path, &json);
	if (ret >= 0)
		return ret;
	fd = ctl_open_ioctl(path, INCRFS_IOC_GET_INFO, "INCRFS_IOC_GET_INFO",
			    &info);
	if (fd < 0)
		return CTL_EXIT_ERROR;
	close(fd);
	incrfs_hex(info.root_hash, INCRFS_HASH_SIZE, hash);
	incrfs_uuid_text(info.uuid, uuid);
	if (json)
		return info_json(hash, uuid, &info);
	printf("root hash:   %s\n", hash);
	printf("uuid:        %s\n", uuid);
	printf("data blocks: %llu (%llu MiB)\n",
	       (unsigned long long)info.nr_blocks,
	       (unsigned long long)(info.nr_blocks * INCRFS_BLOCK_SIZE >> 20));
	printf("inodes:      %llu\n", (unsigned long long)info.inode_count);
	if (info.timeout_ms)
		printf("timeout:     %u ms\n", info.timeout_ms);
	else
		printf("timeout:     0 (wait forever)\n");
	return fflush(stdout) ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}

const struct ctl_command ctl_info = {
	.name = "info",
	.summary = "root hash, uuid, blocks, inodes, timeout of a mount",
	.run = info_run,
	.help = info_help,
};
