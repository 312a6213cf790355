// SPDX-License-Identifier: GPL-2.0-only
/*
 * convert.c - incrfs-image convert: turn an OCI image (an OCI image layout
 * directory) into one whose layers incrfs mounts lazily.
 *
 * Why this exists: a container user has images, not directories.  Every
 * layer goes through incrfs-pack --from-tar (the one packer there is), and
 * the results are stored as OCI blobs (converted.h) next to the image's own
 * config, so the converted image can be pushed to any registry with the
 * tools users already have (skopeo copy oci:DIR docker://...).  Sources are
 * read only through their digests, and checked; the output is
 * deterministic, and a layer converted before (into the same layout, with
 * the same options) is taken as it is, not packed again.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "converted.h"
#include "hex.h"
#include "image.h"
#include "image_cmd.h"
#include "oci_layout.h"

#define ERRLEN 512

static void convert_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfs-image convert - convert an OCI image for lazy loading by incrfs\n"
"\n"
"SYNOPSIS\n"
"    incrfs-image convert [OPTION]... SRC[:TAG] DEST[:TAG]\n"
"\n"
"DESCRIPTION\n"
"    SRC and DEST are OCI image layout directories, as\n"
"    \"skopeo copy docker://REF oci:DIR:TAG\" or umoci write them.  From\n"
"    SRC, the image tagged TAG (the only one if no TAG is given) is read;\n"
"    through an image index, its manifest for --platform.  Every layer\n"
"    (tar, tar+gzip or tar+zstd) is packed with\n"
"    \"incrfs-pack --from-tar\" into an incrfs image whose blocks are all\n"
"    missing and a blob, and both are stored in DEST as blobs: the image\n"
"    only up to its data region (a few KiB per thousand files: what a\n"
"    node fetches before mounting), the blob as incrfs-pack wrote it (what\n"
"    incrfsd fills the image from).  The converted manifest keeps the\n"
"    source's config (command, environment, user...) and records in\n"
"    annotations the digest of every source layer and of the source\n"
"    manifest; it is added to DEST's index under TAG (DEST's, or SRC's,\n"
"    or \"latest\"), replacing an image of that tag.  Push DEST to a\n"
"    registry with \"skopeo copy oci:DEST:TAG docker://HOST/REPO:TAG\";\n"
"    Documentation/oci-images.rst describes the format.\n"
"\n"
"    Every blob of SRC is checked against its digest and size before it\n"
"    is used; a layer with URLs (non-distributable) is refused.  The\n"
"    output is deterministic: the same image gives the same digests.  A\n"
"    layer already converted into DEST with the same options (by an\n"
"    image that shares it) is reused by its digest: neither packed nor\n"
"    read from SRC again.  Nothing in DEST\n"
"    changes but new blobs until the index is replaced, atomically, at\n"
"    the end.\n"
"\n"
"OPTIONS\n"
"    -p, --platform OS/ARCH[/VARIANT]\n"
"        The platform to take from an image index (default: this\n"
"        machine's, e.g. linux/amd64).  An image of another platform is\n"
"        refused.\n"
"\n"
"    -c, --chunk-blocks N\n"
"    -l, --level N\n"
"        Passed to incrfs-pack: 4 KiB blocks per blob chunk, zstd level.\n"
"\n"
"    -j, --json\n"
"        Print one JSON object: manifest (digest), tag, layers (for each:\n"
"        source, image, blob digests, image_size, blob_size, reused).\n"
"\n"
"    -q, --quiet\n"
"        No progress lines on stderr.\n"
"\n"
"    -h, --help\n"
"        Print this help and exit.\n"
"\n"
"ENVIRONMENT\n"
"    INCRFS_PACK\n"
"        The incrfs-pack to run (default: the one next to incrfs-image,\n"
"        else incrfs-pack from PATH).\n"
"\n"
"EXIT STATUS\n"
"    0 converted; 1 SRC is damaged (a blob does not match its digest, a\n"
"    malformed manifest) or cannot be converted; 2 a bad command line;\n"
"    3 a file cannot be read or written, or incrfs-pack failed.\n", f);
}

struct convert {
	const char *platform;
	const char *chunk_blocks, *level;
	char options[64];		/* INCRFS_AN_PACK_OPTIONS */
	bool json, quiet;
	struct oci_layout src, dst;
	const char *dst_dir;
	struct json_object *reuse;	/* source digest -> [image, blob] */
	char err[ERRLEN];
};

static bool layer_type_ok(const char *mt)
{
	static const char *const ok[] = {
		"application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.v1.tar+zstd",
		"application/vnd.docker.image.rootfs.diff.tar",
		"application/vnd.docker.image.rootfs.diff.tar.gzip",
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(mt, ok[i]))
			return true;
	return false;
}

static void annotate(struct json_object *desc, const char *key,
		     const char *val)
{
	struct json_object *an;

	if (!json_object_object_get_ex(desc, "annotations", &an)) {
		an = json_object_new_object();
		json_object_object_add(desc, "annotations", an);
	}
	json_object_object_add(an, key, json_object_new_string(val));
}

static const char *annotation(struct json_object *desc, const char *key)
{
	struct json_object *an;

	if (!json_object_object_get_ex(desc, "annotations", &an))
		return NULL;
	return oci_str(an, key);
}

/*
 * Layers DEST's images converted with our options, by source digest, so
 * that a shared layer is packed once.  Images whose blobs are gone or
 * damaged are simply not reused.
 */
static void load_reuse(struct convert *cv)
{
	struct json_object *idx = NULL, *arr;
	size_t i, n, j, k;
	char err[ERRLEN];

	cv->reuse = json_object_new_object();
	if (oci_index_load(&cv->dst, &idx, err, sizeof(err)))
		return;
	json_object_object_get_ex(idx, "manifests", &arr);
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct json_object *m = NULL, *layers;
		struct oci_desc d;

		if (oci_desc_parse(json_object_array_get_idx(arr, i), &d, err,
				   sizeof(err)) ||
		    strcmp(d.media_type, OCI_MT_MANIFEST) ||
		    oci_read_json(&cv->dst, &d, &m, err, sizeof(err)))
			continue;
		if (!json_object_object_get_ex(m, "layers", &layers) ||
		    !json_object_is_type(layers, json_type_array)) {
			json_object_put(m);
			continue;
		}
		k = json_object_array_length(layers);
		for (j = 0; j + 1 < k; j++) {
			struct json_object *im, *bl, *pair;
			const char *src, *opt, *blob, *bdig;

			im = json_object_array_get_idx(layers, j);
			bl = json_object_array_get_idx(layers, j + 1);
			src = annotation(im, INCRFS_AN_SOURCE);
			opt = annotation(im, INCRFS_AN_PACK_OPTIONS);
			blob = annotation(im, INCRFS_AN_BLOB);
			bdig = oci_str(bl, "digest");
			if (!src || !opt || !blob || !bdig ||
			    strcmp(opt, cv->options) || strcmp(blob, bdig) ||
			    json_object_object_get_ex(cv->reuse, src, NULL))
				continue;
			pair = json_object_new_array();
			json_object_array_add(pair, json_object_get(im));
			json_object_array_add(pair, json_object_get(bl));
			json_object_object_add(cv->reuse, src, pair);
		}
		json_object_put(m);
	}
	json_object_put(idx);
}

/* Both blobs of a reused pair still there, with their sizes? */
static bool pair_present(struct convert *cv, struct json_object *pair)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		struct json_object *o = json_object_array_get_idx(pair, i);
		char rel[128];
		struct oci_desc d;
		struct stat st;

		if (oci_desc_parse(o, &d, cv->err, sizeof(cv->err)))
			return false;
		oci_blob_relpath(d.digest, rel, sizeof(rel));
		if (fstatat(cv->dst.dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode) || st.st_size != d.size)
			return false;
	}
	return true;
}

/* incrfs-pack --from-tar - (the verified layer on stdin) IMG --blob BLOB */
static int run_pack(struct convert *cv, int layer_fd, const char *img,
		    const char *blob)
{
	char pack[PATH_MAX];
	const char *argv[12];
	int argc = 0, status;
	pid_t pid;

	img_tool_path("incrfs-pack", "INCRFS_PACK", pack, sizeof(pack));
	argv[argc++] = pack;
	argv[argc++] = "--from-tar";
	argv[argc++] = "-";
	if (cv->chunk_blocks) {
		argv[argc++] = "--chunk-blocks";
		argv[argc++] = cv->chunk_blocks;
	}
	if (cv->level) {
		argv[argc++] = "--level";
		argv[argc++] = cv->level;
	}
	argv[argc++] = img;
	argv[argc++] = "--blob";
	argv[argc++] = blob;
	argv[argc] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		if (lseek(layer_fd, 0, SEEK_SET) ||
		    dup2(layer_fd, STDIN_FILENO) < 0)
			_exit(127);
		execvp(pack, (char *const *)argv);
		fprintf(stderr, "%s: cannot run %s: %s\n", img_prog, pack,
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	snprintf(cv->err, sizeof(cv->err), "%.300s %s %d", pack,
		 WIFEXITED(status) ? "exited with status" : "was killed by signal",
		 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return -EIO;
}

/*
 * Store the image IMG (up to its data region) and the blob as blobs of
 * DEST, and describe them in @im and @bl.
 */
static int store_pair(struct convert *cv, const char *img_rel,
		      const char *blob_rel, struct oci_desc *im,
		      struct oci_desc *bl, uint64_t *image_size,
		      char root_hash[INCRFS_HASH_HEX])
{
	struct incrfs_image img = { 0 };
	uint64_t want;
	int fd, ret;

	fd = openat(cv->dst.dirfd, img_rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(cv->err, sizeof(cv->err), "%.300s/%s: %s", cv->dst.path,
			 img_rel, strerror(errno));
		return -errno;
	}
	ret = incrfs_image_open(&img, fd);
	if (ret) {
		snprintf(cv->err, sizeof(cv->err), "incrfs-pack's image: %s",
			 img.err);
		goto out;
	}
	/* the data region is last: the head is everything else */
	want = img.sb.data_off + img.sb.nr_blocks * INCRFS_BLOCK_SIZE;
	if (img.sb.image_size != want) {
		snprintf(cv->err, sizeof(cv->err),
			 "incrfs-pack's image does not end with its data region");
		ret = -EBADMSG;
		goto out;
	}
	*image_size = img.sb.image_size;
	incrfs_hex(img.sb.root_hash, INCRFS_HASH_SIZE, root_hash);
	ret = oci_put_fd(&cv->dst, fd, img.sb.data_off, im, cv->err,
			 sizeof(cv->err));
	if (!ret)
		ret = oci_adopt(&cv->dst, blob_rel, bl, cv->err,
				sizeof(cv->err));
out:
	incrfs_image_close(&img);
	close(fd);
	return ret;
}

/* Convert layer @i (@src) into the pair @out gets; @rep for --json. */
static int convert_layer(struct convert *cv, size_t i, size_t n,
			 const struct oci_desc *src, struct json_object *out,
			 struct json_object *rep)
{
	char img_rel[128], blob_rel[128], img_path[4300], blob_path[4300];
	char root_hash[INCRFS_HASH_HEX], num[32];
	struct json_object *pair, *jim, *jbl;
	struct oci_desc im = { .media_type = INCRFS_MT_IMAGE };
	struct oci_desc bl = { .media_type = INCRFS_MT_BLOB };
	uint64_t image_size = 0;
	int fd, ret;

	if (json_object_object_get_ex(cv->reuse, src->digest, &pair) &&
	    pair_present(cv, pair)) {
		jim = json_object_array_get_idx(pair, 0);
		jbl = json_object_array_get_idx(pair, 1);
		json_object_array_add(out, json_object_get(jim));
		json_object_array_add(out, json_object_get(jbl));
		json_object_object_add(rep, "image", json_object_get(
			json_object_object_get(jim, "digest")));
		json_object_object_add(rep, "blob", json_object_get(
			json_object_object_get(jbl, "digest")));
		json_object_object_add(rep, "reused",
				       json_object_new_boolean(1));
		if (!cv->quiet)
			fprintf(stderr, "%s: layer %zu/%zu %.19s: converted before, reused\n",
				img_prog, i + 1, n, src->digest);
		return 0;
	}
	if (!cv->quiet)
		fprintf(stderr, "%s: layer %zu/%zu %.19s (%.1f MiB): packing\n",
			img_prog, i + 1, n, src->digest,
			src->size / 1048576.0);
	fd = oci_blob_open_verified(&cv->src, src, cv->err, sizeof(cv->err));
	if (fd < 0)
		return fd;
	oci_tmp_relpath("img", img_rel, sizeof(img_rel));
	oci_tmp_relpath("blob", blob_rel, sizeof(blob_rel));
	snprintf(img_path, sizeof(img_path), "%s/%s", cv->dst.path, img_rel);
	snprintf(blob_path, sizeof(blob_path), "%s/%s", cv->dst.path,
		 blob_rel);
	ret = run_pack(cv, fd, img_path, blob_path);
	close(fd);
	if (!ret)
		ret = store_pair(cv, img_rel, blob_rel, &im, &bl, &image_size,
				 root_hash);
	unlinkat(cv->dst.dirfd, img_rel, 0);
	unlinkat(cv->dst.dirfd, blob_rel, 0);
	if (ret)
		return ret;

	jim = oci_desc_json(&im);
	annotate(jim, INCRFS_AN_BLOB, bl.digest);
	snprintf(num, sizeof(num), "%" PRIu64, image_size);
	annotate(jim, INCRFS_AN_IMAGE_SIZE, num);
	annotate(jim, INCRFS_AN_ROOT_HASH, root_hash);
	annotate(jim, INCRFS_AN_PACK_OPTIONS, cv->options);
	annotate(jim, INCRFS_AN_SOURCE, src->digest);
	annotate(jim, INCRFS_AN_SOURCE_MT, src->media_type);
	jbl = oci_desc_json(&bl);
	annotate(jbl, INCRFS_AN_SOURCE, src->digest);
	json_object_array_add(out, jim);
	json_object_array_add(out, jbl);
	json_object_object_add(rep, "image", json_object_new_string(im.digest));
	json_object_object_add(rep, "blob", json_object_new_string(bl.digest));
	json_object_object_add(rep, "reused", json_object_new_boolean(0));
	if (!cv->quiet)
		fprintf(stderr, "%s: layer %zu/%zu %.19s: image %.1f KiB to fetch, blob %.1f MiB\n",
			img_prog, i + 1, n, src->digest, im.size / 1024.0,
			bl.size / 1048576.0);
	return 0;
}

/* The platform the config says, checked against --platform. */
static int check_platform(struct convert *cv, struct json_object *config,
			  const char *where)
{
	const char *os = oci_str(config, "os");
	const char *arch = oci_str(config, "architecture");
	char have[160];
	size_t n;

	if (!os || !arch)
		return 0;	/* an old config: trust the index */
	snprintf(have, sizeof(have), "%s/%s", os, arch);
	n = strlen(have);
	if (!strncmp(cv->platform, have, n) &&
	    (!cv->platform[n] || cv->platform[n] == '/'))
		return 0;
	snprintf(cv->err, sizeof(cv->err),
		 "%.300s is an image for %s, not %s (--platform)", where, have,
		 cv->platform);
	return -ENOEXEC;
}

static int exit_for(int ret)
{
	if (ret == -EBADMSG || ret == -EINVAL || ret == -ENOEXEC ||
	    ret == -EFBIG || ret == -ENOENT || ret == -EPROTONOSUPPORT)
		return IMG_EXIT_CORRUPT;
	return IMG_EXIT_ERROR;
}

static int convert(struct convert *cv, const char *src_tag,
		   const char *dst_tag)
{
	struct json_object *manifest = NULL, *config = NULL, *layers, *cfg;
	struct json_object *out_layers, *m = NULL, *idx = NULL, *arr, *e;
	struct json_object *report = NULL, *rep_layers;
	struct oci_desc md, cd, outd;
	char where[4200];
	size_t i, n;
	int ret, fd;

	snprintf(where, sizeof(where), "%s%s%s", cv->src.path,
		 src_tag ? ":" : "", src_tag ? src_tag : "");
	ret = oci_pick_manifest(&cv->src, src_tag, cv->platform, &md,
				&manifest, cv->err, sizeof(cv->err));
	if (ret)
		return ret;
	if (!json_object_object_get_ex(manifest, "config", &cfg) ||
	    oci_desc_parse(cfg, &cd, cv->err, sizeof(cv->err)) ||
	    !json_object_object_get_ex(manifest, "layers", &layers) ||
	    !json_object_is_type(layers, json_type_array)) {
		snprintf(cv->err, sizeof(cv->err),
			 "%.300s: the manifest has no valid config or layers",
			 where);
		ret = -EBADMSG;
		goto out;
	}
	ret = oci_read_json(&cv->src, &cd, &config, cv->err, sizeof(cv->err));
	if (!ret)
		ret = check_platform(cv, config, where);
	if (ret)
		goto out;
	n = json_object_array_length(layers);
	for (i = 0; i < n; i++) {
		struct oci_desc ld;
		struct json_object *e = json_object_array_get_idx(layers, i);

		ret = oci_desc_parse(e, &ld, cv->err, sizeof(cv->err));
		if (ret)
			goto out;
		if (json_object_object_get_ex(e, "urls", NULL) ||
		    !layer_type_ok(ld.media_type)) {
			snprintf(cv->err, sizeof(cv->err),
				 "%.300s: layer %zu is a %.80s%s: only tar layers (tar, tar+gzip, tar+zstd) in the layout can be converted",
				 where, i + 1, ld.media_type,
				 json_object_object_get_ex(e, "urls", NULL) ?
				 " with URLs" : "");
			ret = -EPROTONOSUPPORT;
			goto out;
		}
	}

	/* DEST is created only for an image that can be converted */
	ret = oci_open(&cv->dst, cv->dst_dir, true, cv->err, sizeof(cv->err));
	if (ret)
		goto out;
	load_reuse(cv);
	report = json_object_new_object();
	rep_layers = json_object_new_array();
	out_layers = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct json_object *rep = json_object_new_object();
		struct oci_desc ld;

		oci_desc_parse(json_object_array_get_idx(layers, i), &ld,
			       cv->err, sizeof(cv->err));
		json_object_object_add(rep, "source",
				       json_object_new_string(ld.digest));
		json_object_array_add(rep_layers, rep);
		ret = convert_layer(cv, i, n, &ld, out_layers, rep);
		if (ret) {
			json_object_put(out_layers);
			json_object_put(rep_layers);
			goto out;
		}
	}

	/* the config, unchanged, under the OCI media type */
	fd = oci_blob_open_verified(&cv->src, &cd, cv->err, sizeof(cv->err));
	if (fd < 0) {
		ret = fd;
		json_object_put(out_layers);
		json_object_put(rep_layers);
		goto out;
	}
	ret = oci_put_fd(&cv->dst, fd, (uint64_t)cd.size, &outd, cv->err,
			 sizeof(cv->err));
	close(fd);
	strcpy(outd.media_type, OCI_MT_CONFIG);

	m = json_object_new_object();
	json_object_object_add(m, "schemaVersion", json_object_new_int(2));
	json_object_object_add(m, "mediaType",
			       json_object_new_string(OCI_MT_MANIFEST));
	json_object_object_add(m, "config", oci_desc_json(&outd));
	json_object_object_add(m, "layers", out_layers);
	annotate(m, INCRFS_AN_SOURCE_MANIFEST, md.digest);
	if (ret)
		goto out;
	ret = oci_put_json(&cv->dst, m, &md, cv->err, sizeof(cv->err));
	if (ret)
		goto out;
	strcpy(md.media_type, OCI_MT_MANIFEST);

	/* index.json: this tag now names the converted image */
	ret = oci_index_load(&cv->dst, &idx, cv->err, sizeof(cv->err));
	if (ret)
		goto out;
	json_object_object_get_ex(idx, "manifests", &arr);
	for (i = json_object_array_length(arr); i-- > 0;) {
		const char *name = annotation(json_object_array_get_idx(arr, i),
					      OCI_REF_NAME);

		if (name && !strcmp(name, dst_tag))
			json_object_array_del_idx(arr, i, 1);
	}
	e = oci_desc_json(&md);
	annotate(e, OCI_REF_NAME, dst_tag);
	json_object_array_add(arr, e);
	ret = oci_index_store(&cv->dst, idx, cv->err, sizeof(cv->err));
	if (ret)
		goto out;

	if (cv->json) {
		json_object_object_add(report, "manifest",
				       json_object_new_string(md.digest));
		json_object_object_add(report, "tag",
				       json_object_new_string(dst_tag));
		json_object_object_add(report, "layers", rep_layers);
		puts(json_object_to_json_string_ext(report,
			JSON_C_TO_STRING_PRETTY |
			JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		json_object_put(rep_layers);
		printf("%s:%s %s\n", cv->dst.path, dst_tag, md.digest);
	}
out:
	json_object_put(report);
	json_object_put(idx);
	json_object_put(m);
	json_object_put(config);
	json_object_put(manifest);
	return ret;
}

static int convert_run(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ "chunk-blocks", required_argument, NULL, 'c' },
		{ "level", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct convert cv = { .platform = oci_host_platform() };
	const char *src_tag, *dst_tag;
	char *src_dir = NULL, *dst_dir = NULL;
	int c, ret, status = IMG_EXIT_ERROR;

	cv.src.dirfd = cv.dst.dirfd = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:c:l:jqh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'p':
			if (strncmp(optarg, "linux/", 6) || !optarg[6]) {
				img_err("convert: --platform %s: OS/ARCH[/VARIANT] with OS linux is needed",
					optarg);
				return IMG_EXIT_USAGE;
			}
			cv.platform = optarg;
			break;
		case 'c':
			cv.chunk_blocks = optarg;
			break;
		case 'l':
			cv.level = optarg;
			break;
		case 'j':
			cv.json = true;
			break;
		case 'q':
			cv.quiet = true;
			break;
		case 'h':
			convert_help(stdout);
			return IMG_EXIT_OK;
		default:
			return IMG_EXIT_USAGE;
		}
	}
	if (optind != argc - 2) {
		img_err("convert: SRC and DEST are needed (--help)");
		return IMG_EXIT_USAGE;
	}
	snprintf(cv.options, sizeof(cv.options), "chunk-blocks=%s,level=%s",
		 cv.chunk_blocks ? cv.chunk_blocks : "default",
		 cv.level ? cv.level : "default");
	src_dir = img_split_ref(argv[optind], &src_tag);
	dst_dir = img_split_ref(argv[optind + 1], &dst_tag);
	if (!src_dir || !dst_dir)
		goto out;
	if (!dst_tag)
		dst_tag = src_tag ? src_tag : "latest";
	cv.dst_dir = dst_dir;
	ret = oci_open(&cv.src, src_dir, false, cv.err, sizeof(cv.err));
	if (ret) {
		img_err("convert: %s", cv.err);
		goto out;
	}
	ret = convert(&cv, src_tag, dst_tag);
	if (ret) {
		img_err("convert: %s", cv.err);
		status = exit_for(ret);
		goto out;
	}
	status = IMG_EXIT_OK;
out:
	json_object_put(cv.reuse);
	oci_close(&cv.src);
	oci_close(&cv.dst);
	free(src_dir);
	free(dst_dir);
	return status;
}

const struct img_cmd img_convert = {
	.name = "convert",
	.summary = "convert an OCI image for lazy loading by incrfs",
	.help = convert_help,
	.run = convert_run,
};
