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
#include <ftw.h>
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
#include "head_zstd.h"
#include "hex.h"
#include "image.h"
#include "image_cmd.h"
#include "oci_layout.h"
#include "remote.h"
#include "curl_lib.h"

#define ERRLEN 4096

static void convert_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfs-image convert - convert an OCI image for lazy loading by incrfs\n"
"\n"
"SYNOPSIS\n"
"    incrfs-image convert [OPTION]... SRC DEST\n"
"\n"
"DESCRIPTION\n"
"    SRC and DEST are each an OCI image layout directory, DIR[:TAG] (as\n"
"    \"skopeo copy docker://REF oci:DIR:TAG\" or umoci write them), or an\n"
"    image in a registry, docker://HOST[:PORT]/REPO[:TAG|@sha256:HEX]\n"
"    (TAG defaults to latest).  From SRC, the image tagged TAG (in a\n"
"    layout, the only one if no TAG is given) is read; through an image\n"
"    index, its manifest for --platform.  Every layer (tar, tar+gzip or\n"
"    tar+zstd) is packed with \"incrfs-pack --from-tar\" into an incrfs\n"
"    image whose blocks are all missing and a blob, and both are stored\n"
"    in DEST as blobs: the image only up to its data region, compressed\n"
"    with zstd (a few KiB per thousand files and 8 KiB per MiB of data:\n"
"    what a node fetches before mounting), the blob as incrfs-pack wrote\n"
"    it (what incrfsd fills the image from).  The converted manifest\n"
"    keeps the source's config (command, environment, user...) and\n"
"    records in annotations the digest of every source layer and of the\n"
"    source manifest; it is tagged TAG (DEST's, else SRC's, else\n"
"    \"latest\"), replacing an image of that tag.\n"
"    Documentation/oci-images.rst describes the format.\n"
"\n"
"    A registry SRC is first fetched whole into a temporary layout (under\n"
"    $TMPDIR, else /var/tmp; removed at the end).  A registry DEST is\n"
"    written to a layout first (--layout, else a temporary one), then\n"
"    pushed through the registry API: each blob the repository does not\n"
"    have, then the manifest.  Registries are spoken to as incrfsd does:\n"
"    https (plain http for --insecure-registry), token or Basic\n"
"    authentication with the credentials of docker's and podman's auth\n"
"    files (incrfsd(8), ENVIRONMENT); pushing needs push access.\n"
"\n"
"    Every blob of SRC is checked against its digest and size before it\n"
"    is used; a layer with URLs (non-distributable) is refused.  The\n"
"    output is deterministic: the same image gives the same digests\n"
"    (with the same zstd library).  A\n"
"    layer already converted into the DEST layout with the same options\n"
"    (by an image that shares it) is reused by its digest: neither\n"
"    packed nor read from SRC again.  Nothing in a DEST layout changes\n"
"    but new blobs until its index is replaced, atomically, at the end.\n"
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
"    -I, --insecure-registry HOST[:PORT]\n"
"        Plain http to this registry (up to 16 times).\n"
"\n"
"    -C, --ca-file FILE\n"
"        Trust the CA certificates in FILE instead of the system's.\n"
"\n"
"    -L, --layout DIR\n"
"        With a registry DEST: keep the converted image in the OCI layout\n"
"        DIR too, so that later conversions reuse its layers.\n"
"\n"
"    -j, --json\n"
"        Print one JSON object: manifest (digest), tag, dest (where it\n"
"        went), layers (for each: source, image and blob digests,\n"
"        reused).\n"
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
"    malformed manifest), cannot be converted, or a registry refused\n"
"    access; 2 a bad command line; 3 a file cannot be read or written, a\n"
"    registry cannot be reached, or incrfs-pack failed.\n", f);
}

struct convert {
	const char *platform;
	const char *chunk_blocks, *level;
	char options[64];		/* INCRFS_AN_PACK_OPTIONS */
	bool json, quiet;
	struct oci_layout src, dst;
	const char *dst_dir;
	struct json_object *reuse;	/* source digest -> [image, blob] */
	const char *insecure[16];	/* --insecure-registry */
	int n_insecure;
	const char *layout;		/* --layout: DEST's local copy */
	struct json_object *report;	/* what convert() did, for --json */
	struct oci_desc out_md;		/* the converted manifest */
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
			src = oci_annotation(im, INCRFS_AN_SOURCE);
			opt = oci_annotation(im, INCRFS_AN_PACK_OPTIONS);
			blob = oci_annotation(im, INCRFS_AN_BLOB);
			bdig = oci_str(bl, "digest");
			/* a pair with an uncompressed head is converted again */
			if (!src || !opt || !blob || !bdig ||
			    !oci_str(im, "mediaType") ||
			    strcmp(oci_str(im, "mediaType"),
				   INCRFS_MT_IMAGE_ZSTD) ||
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
	void *head = NULL;
	size_t head_len = 0;
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
	ret = head_compress(fd, img.sb.data_off, &head, &head_len, cv->err,
			    sizeof(cv->err));
	if (!ret)
		ret = oci_put_bytes(&cv->dst, head, head_len, im, cv->err,
				    sizeof(cv->err));
	free(head);
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
	struct oci_desc im = { .media_type = INCRFS_MT_IMAGE_ZSTD };
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
	    ret == -EACCES || ret == -EFBIG || ret == -ENOENT ||
	    ret == -EPROTONOSUPPORT)
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
		const char *name = oci_annotation(json_object_array_get_idx(arr, i),
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

	/* printed by the caller, once pushed if DEST is a registry */
	json_object_object_add(report, "manifest",
			       json_object_new_string(md.digest));
	json_object_object_add(report, "tag", json_object_new_string(dst_tag));
	json_object_object_add(report, "layers", rep_layers);
	cv->report = report;
	report = NULL;
	cv->out_md = md;
out:
	json_object_put(report);
	json_object_put(idx);
	json_object_put(m);
	json_object_put(config);
	json_object_put(manifest);
	return ret;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* A new directory for a layout nobody keeps: $TMPDIR or /var/tmp. */
static char *temp_layout(const char *what)
{
	const char *tmp = getenv("TMPDIR");
	char *dir;

	if (asprintf(&dir, "%s/incrfs-convert-%s.XXXXXX",
		     tmp && *tmp ? tmp : "/var/tmp", what) < 0)
		return NULL;
	if (!mkdtemp(dir)) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* Store the blob @d of @r into the layout @l, checked. */
static int fetch_into(struct convert *cv, struct remote *r,
		      const struct oci_desc *d)
{
	struct oci_desc got;
	char rel[128];
	int fd, ret;

	oci_tmp_relpath("fetch", rel, sizeof(rel));
	fd = openat(cv->src.dirfd, rel, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644);
	if (fd < 0) {
		snprintf(cv->err, sizeof(cv->err), "%.300s/%s: %s",
			 cv->src.path, rel, strerror(errno));
		return -errno;
	}
	ret = remote_blob(r, d, fd, cv->err, sizeof(cv->err));
	close(fd);
	if (!ret)
		ret = oci_adopt(&cv->src, rel, &got, cv->err, sizeof(cv->err));
	if (ret)
		unlinkat(cv->src.dirfd, rel, 0);
	return ret;
}

/*
 * The image @r names, for --platform, into the (new) layout cv->src
 * under the tag "src": its manifest, as the registry sent it, its config
 * and its layers, each checked against its digest.
 */
static int fetch_source(struct convert *cv, struct remote *r)
{
	struct json_object *m = NULL, *layers, *cfg, *idx = NULL, *arr, *e;
	struct oci_desc md, d;
	char digest[OCI_DIGEST_LEN], *raw = NULL;
	const char *mt;
	size_t raw_len = 0, i, n;
	int ret;

	if (!cv->quiet)
		fprintf(stderr, "%s: %s: fetching the manifest\n", img_prog,
			r->where);
	ret = remote_manifest(r, cv->platform, &m, digest, &raw, &raw_len,
			      cv->err, sizeof(cv->err));
	if (ret)
		return ret;
	ret = oci_put_bytes(&cv->src, raw, raw_len, &md, cv->err,
			    sizeof(cv->err));
	if (ret)
		goto out;
	mt = oci_str(m, "mediaType");
	snprintf(md.media_type, sizeof(md.media_type), "%s",
		 mt && oci_is_manifest(mt) ? mt : OCI_MT_MANIFEST);
	if (!json_object_object_get_ex(m, "config", &cfg) ||
	    oci_desc_parse(cfg, &d, cv->err, sizeof(cv->err)) ||
	    !json_object_object_get_ex(m, "layers", &layers) ||
	    !json_object_is_type(layers, json_type_array)) {
		snprintf(cv->err, sizeof(cv->err),
			 "%.300s: the manifest has no valid config or layers",
			 r->where);
		ret = -EBADMSG;
		goto out;
	}
	if (d.size > (int64_t)OCI_JSON_MAX) {
		snprintf(cv->err, sizeof(cv->err), "%.300s: a config of %lld bytes",
			 r->where, (long long)d.size);
		ret = -EFBIG;
		goto out;
	}
	ret = fetch_into(cv, r, &d);
	n = json_object_array_length(layers);
	for (i = 0; !ret && i < n; i++) {
		ret = oci_desc_parse(json_object_array_get_idx(layers, i), &d,
				     cv->err, sizeof(cv->err));
		if (ret)
			break;
		if (!cv->quiet)
			fprintf(stderr, "%s: layer %zu/%zu %.19s (%.1f MiB): fetching\n",
				img_prog, i + 1, n, d.digest,
				d.size / 1048576.0);
		ret = fetch_into(cv, r, &d);
	}
	if (ret)
		goto out;
	ret = oci_index_load(&cv->src, &idx, cv->err, sizeof(cv->err));
	if (ret)
		goto out;
	json_object_object_get_ex(idx, "manifests", &arr);
	e = oci_desc_json(&md);
	annotate(e, OCI_REF_NAME, "src");
	json_object_array_add(arr, e);
	ret = oci_index_store(&cv->src, idx, cv->err, sizeof(cv->err));
out:
	json_object_put(idx);
	json_object_put(m);
	free(raw);
	return ret;
}

/* Push the blob @d of cv->dst to @r. */
static int push_blob(struct convert *cv, struct remote *r,
		     struct json_object *desc, const char *what)
{
	struct oci_desc d;
	char rel[128];
	bool sent;
	int fd, ret;

	ret = oci_desc_parse(desc, &d, cv->err, sizeof(cv->err));
	if (ret)
		return ret;
	oci_blob_relpath(d.digest, rel, sizeof(rel));
	fd = openat(cv->dst.dirfd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(cv->err, sizeof(cv->err), "%.300s/%s: %s",
			 cv->dst.path, rel, strerror(errno));
		return -errno;
	}
	ret = registry_client_put_blob(r->rc, r->repo, d.digest, fd, NULL,
				       (uint64_t)d.size, &sent, cv->err,
				       sizeof(cv->err));
	close(fd);
	if (!ret && !cv->quiet)
		fprintf(stderr, "%s: %s %.19s (%.1f MiB): %s\n", img_prog,
			what, d.digest, d.size / 1048576.0,
			sent ? "pushed" : "the registry has it");
	return ret;
}

/* Push the converted image (cv->out_md in cv->dst) to @r, tagged. */
static int push_dest(struct convert *cv, struct remote *r)
{
	struct json_object *m = NULL, *layers, *cfg;
	char rel[128], *body;
	size_t i, n, len;
	int ret, fd;

	ret = oci_read_json(&cv->dst, &cv->out_md, &m, cv->err,
			    sizeof(cv->err));
	if (ret)
		return ret;
	json_object_object_get_ex(m, "config", &cfg);
	json_object_object_get_ex(m, "layers", &layers);
	ret = push_blob(cv, r, cfg, "config");
	n = json_object_array_length(layers);
	for (i = 0; !ret && i < n; i++)
		ret = push_blob(cv, r, json_object_array_get_idx(layers, i),
				i % 2 ? "blob " : "image");
	json_object_put(m);
	if (ret)
		return ret;
	/* the manifest's own bytes: its digest is the converted one */
	oci_blob_relpath(cv->out_md.digest, rel, sizeof(rel));
	fd = openat(cv->dst.dirfd, rel, O_RDONLY | O_CLOEXEC);
	len = (size_t)cv->out_md.size;
	body = fd >= 0 ? malloc(len + 1) : NULL;
	if (!body || pread(fd, body, len, 0) != (ssize_t)len) {
		snprintf(cv->err, sizeof(cv->err), "reading the manifest: %s",
			 strerror(errno));
		ret = -EIO;
	} else {
		ret = registry_client_put_manifest(r->rc, r->repo, r->ref,
						   OCI_MT_MANIFEST, body, len,
						   cv->err, sizeof(cv->err));
	}
	free(body);
	if (fd >= 0)
		close(fd);
	return ret;
}

static int convert_run(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ "chunk-blocks", required_argument, NULL, 'c' },
		{ "level", required_argument, NULL, 'l' },
		{ "insecure-registry", required_argument, NULL, 'I' },
		{ "ca-file", required_argument, NULL, 'C' },
		{ "layout", required_argument, NULL, 'L' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct convert cv = { .platform = oci_host_platform() };
	struct remote src_r = { 0 }, dst_r = { 0 };
	const char *src_tag, *dst_tag;
	char *src_dir = NULL, *dst_dir = NULL, *tmp_src = NULL, *tmp_dst = NULL;
	char where[4200];
	bool src_remote, dst_remote;
	int c, ret, status = IMG_EXIT_ERROR;

	cv.src.dirfd = cv.dst.dirfd = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:c:l:I:C:L:jqh", longopts,
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
		case 'I':
			if (cv.n_insecure == 16) {
				img_err("convert: at most 16 --insecure-registry");
				return IMG_EXIT_USAGE;
			}
			cv.insecure[cv.n_insecure++] = optarg;
			break;
		case 'C':
			curl_lib_set_ca_file(optarg);
			break;
		case 'L':
			cv.layout = optarg;
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
	src_remote = !strncmp(argv[optind], "docker://", 9);
	dst_remote = !strncmp(argv[optind + 1], "docker://", 9);
	if (src_remote) {
		ret = remote_open(&src_r, argv[optind], cv.insecure,
				  cv.n_insecure, img_note, cv.err,
				  sizeof(cv.err));
		if (ret) {
			img_err("convert: %s", cv.err);
			return ret == -EINVAL ? IMG_EXIT_USAGE : IMG_EXIT_ERROR;
		}
		tmp_src = temp_layout("src");
		src_dir = tmp_src ? strdup(tmp_src) : NULL;
		src_tag = "src";
	} else {
		src_dir = img_split_ref(argv[optind], &src_tag);
	}
	if (dst_remote) {
		ret = remote_open(&dst_r, argv[optind + 1], cv.insecure,
				  cv.n_insecure, img_note, cv.err,
				  sizeof(cv.err));
		if (ret) {
			img_err("convert: %s", cv.err);
			status = ret == -EINVAL ? IMG_EXIT_USAGE :
						  IMG_EXIT_ERROR;
			goto out;
		}
		if (!cv.layout)
			tmp_dst = temp_layout("dest");
		dst_dir = strdup(cv.layout ? cv.layout :
				 tmp_dst ? tmp_dst : "");
		dst_tag = strncmp(dst_r.ref, "sha256:", 7) ? dst_r.ref :
							      "latest";
	} else {
		dst_dir = img_split_ref(argv[optind + 1], &dst_tag);
	}
	if (!src_dir || !dst_dir || !*dst_dir) {
		img_err("convert: cannot make a temporary directory: %s",
			strerror(errno));
		goto out;
	}
	if (!dst_tag)
		dst_tag = src_tag && !src_remote ? src_tag : "latest";
	cv.dst_dir = dst_dir;
	ret = oci_open(&cv.src, src_dir, src_remote, cv.err, sizeof(cv.err));
	if (!ret && src_remote)
		ret = fetch_source(&cv, &src_r);
	if (!ret)
		ret = convert(&cv, src_tag, dst_tag);
	if (!ret && dst_remote)
		ret = push_dest(&cv, &dst_r);
	if (ret) {
		img_err("convert: %s", cv.err);
		status = exit_for(ret);
		goto out;
	}
	if (dst_remote)
		snprintf(where, sizeof(where), "%s/%s:%s", dst_r.host,
			 dst_r.repo, dst_tag);
	else
		snprintf(where, sizeof(where), "%s:%s", cv.dst.path, dst_tag);
	if (cv.json) {
		json_object_object_add(cv.report, "dest",
				       json_object_new_string(where));
		puts(json_object_to_json_string_ext(cv.report,
			JSON_C_TO_STRING_PRETTY |
			JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		printf("%s %s\n", where, cv.out_md.digest);
	}
	status = IMG_EXIT_OK;
out:
	json_object_put(cv.report);
	json_object_put(cv.reuse);
	oci_close(&cv.src);
	oci_close(&cv.dst);
	remote_close(&src_r);
	remote_close(&dst_r);
	if (tmp_src)
		nftw(tmp_src, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (tmp_dst)
		nftw(tmp_dst, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(tmp_src);
	free(tmp_dst);
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
