// SPDX-License-Identifier: GPL-2.0-only
/*
 * profile.c - incrfs-image profile: record what a container read while it
 * started, and store it next to its converted image, where every later
 * incrfs-image pull finds and uses it.
 *
 * Why this exists: a lazy start waits for one round trip after another;
 * an access profile lets incrfsd fetch what the start will read before it
 * reads it (figure 8: a wan start in 0.25x of a full pull's time instead
 * of 0.4x).  A profile that lives in a file on one node helps that node;
 * one stored with the image (converted.h) helps every node, with no flag.
 * Each layer's part is written by incrfsctl profile record (the one
 * recorder there is) from the access log of a pull --record-profile.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "converted.h"
#include "curl_lib.h"
#include "image_cmd.h"
#include "oci_layout.h"
#include "pull.h"
#include "remote.h"

#define ERRLEN 4096

static void profile_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfs-image profile - store what a container read as the image's\n"
"    access profile\n"
"\n"
"SYNOPSIS\n"
"    incrfs-image profile [OPTION]... DIR DEST\n"
"\n"
"DESCRIPTION\n"
"    DIR holds an image pulled with incrfs-image pull --record-profile\n"
"    whose container has started (and done what its start does).  For\n"
"    each layer, \"incrfsctl profile record\" writes the blocks read, in\n"
"    the order first read, as DIR/layers/N/profile; together they are\n"
"    stored as an OCI artifact next to the converted image in DEST,\n"
"    where the image was pulled from: docker://HOST[:PORT]/REPO (pushed,\n"
"    with push access) or an OCI layout directory.  Its subject is the\n"
"    image's manifest and its tag sha256-HEX.incrfs-profile (HEX: the\n"
"    manifest's digest), so that every later incrfs-image pull of that\n"
"    image finds it and has each incrfsd fetch its layer's part first\n"
"    (incrfsd --prefetch-profile).  A new profile replaces the old one.\n"
"    Layers nothing was read from have no part.\n"
"\n"
"OPTIONS\n"
"    -I, --insecure-registry HOST[:PORT]\n"
"        Plain http to this registry.\n"
"\n"
"    -C, --ca-file FILE\n"
"        Trust the CA certificates in FILE instead of the system's.\n"
"\n"
"    -q, --quiet\n"
"        No progress lines.\n"
"\n"
"    -h, --help\n"
"        Print this help and exit.\n"
"\n"
"EXIT STATUS\n"
"    0 stored; 1 DIR was not pulled with --record-profile, or the\n"
"    registry refused the profile; 2 a bad command line; 3 another\n"
"    error.\n", f);
}

/* incrfsctl profile record @mnt > DIR/layers/@i/profile; 0, or -1. */
static int record_layer(int dirfd, size_t i, const char *mnt, bool quiet)
{
	char ctl[PATH_MAX], rel[64];
	const char *argv[] = { ctl, "profile", "record", mnt, NULL };
	int fd, status;
	pid_t pid;

	img_tool_path("incrfsctl", "INCRFSCTL", ctl, sizeof(ctl));
	snprintf(rel, sizeof(rel), "layers/%zu/profile", i);
	fd = openat(dirfd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		if (dup2(fd, 1) < 0 || (quiet && null >= 0 && dup2(null, 2) < 0))
			_exit(127);
		execvp(ctl, (char *const *)argv);
		_exit(127);
	}
	close(fd);
	if (pid < 0 || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	return 0;
}

/* Does layers/@i/profile hold any range (not only its header)? */
static bool has_ranges(int dirfd, size_t i)
{
	char rel[64], line[256];
	bool any = false;
	FILE *f;
	int fd;

	snprintf(rel, sizeof(rel), "layers/%zu/profile", i);
	fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC);
	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	while (f && !any && fgets(line, sizeof(line), f))
		any = line[0] >= '0' && line[0] <= '9';
	if (f)
		fclose(f);
	else if (fd >= 0)
		close(fd);
	return any;
}

struct sink {
	bool remote;
	struct remote r;
	struct oci_layout l;
	char err[ERRLEN];
};

/* Store @len bytes at @buf (or the file @fd) as a blob of the sink. */
static int sink_blob(struct sink *k, int fd, const void *buf, size_t len,
		     struct oci_desc *d)
{
	bool sent;

	if (!k->remote)
		return fd >= 0 ? oci_put_fd(&k->l, fd, len, d, k->err,
					    sizeof(k->err)) :
				 oci_put_bytes(&k->l, buf, len, d, k->err,
					       sizeof(k->err));
	if (fd >= 0)
		return -EINVAL;
	oci_put_bytes_digest(buf, len, d);
	return registry_client_put_blob(k->r.rc, k->r.repo, d->digest, -1, buf,
					len, &sent, k->err, sizeof(k->err));
}

static int sink_manifest(struct sink *k, struct json_object *m,
			 const char *tag)
{
	const char *text = json_object_to_json_string_ext(m,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	struct json_object *idx = NULL, *arr, *e, *an;
	struct oci_desc d;
	size_t i;
	int ret;

	if (k->remote)
		return registry_client_put_manifest(k->r.rc, k->r.repo, tag,
						    OCI_MT_MANIFEST, text,
						    strlen(text), k->err,
						    sizeof(k->err));
	ret = oci_put_bytes(&k->l, text, strlen(text), &d, k->err,
			    sizeof(k->err));
	if (!ret)
		ret = oci_index_load(&k->l, &idx, k->err, sizeof(k->err));
	if (ret)
		return ret;
	strcpy(d.media_type, OCI_MT_MANIFEST);
	json_object_object_get_ex(idx, "manifests", &arr);
	for (i = json_object_array_length(arr); i-- > 0;) {
		e = json_object_array_get_idx(arr, i);
		if (json_object_object_get_ex(e, "annotations", &an) &&
		    oci_str(an, OCI_REF_NAME) &&
		    !strcmp(oci_str(an, OCI_REF_NAME), tag))
			json_object_array_del_idx(arr, i, 1);
	}
	e = oci_desc_json(&d);
	an = json_object_new_object();
	json_object_object_add(an, OCI_REF_NAME, json_object_new_string(tag));
	json_object_object_add(e, "annotations", an);
	json_object_array_add(arr, e);
	ret = oci_index_store(&k->l, idx, k->err, sizeof(k->err));
	json_object_put(idx);
	return ret;
}

static int store(struct sink *k, int dirfd, struct json_object *st,
		 bool quiet, char *tag_out)
{
	struct json_object *layers, *m, *out_layers, *subject, *e, *an;
	const char *mdigest;
	struct oci_desc d;
	struct stat sb;
	size_t i, n, parts = 0;
	char rel[64];
	int fd, ret;

	json_object_object_get_ex(st, "layers", &layers);
	mdigest = oci_str(st, "manifest");
	if (!mdigest || !oci_digest_valid(mdigest)) {
		snprintf(k->err, sizeof(k->err), "the pull's record names no manifest");
		return -EBADMSG;
	}
	m = json_object_new_object();
	json_object_object_add(m, "schemaVersion", json_object_new_int(2));
	json_object_object_add(m, "mediaType",
			       json_object_new_string(OCI_MT_MANIFEST));
	json_object_object_add(m, "artifactType",
			       json_object_new_string(INCRFS_MT_PROFILE));
	ret = sink_blob(k, -1, "{}", 2, &d);
	if (ret)
		goto out;
	strcpy(d.media_type, INCRFS_MT_PROFILE_CONFIG);
	json_object_object_add(m, "config", oci_desc_json(&d));
	out_layers = json_object_new_array();
	json_object_object_add(m, "layers", out_layers);
	n = json_object_array_length(layers);
	for (i = 0; i < n; i++) {
		const char *image = oci_str(json_object_array_get_idx(layers, i),
					    "image");
		char *buf;

		if (!image || !has_ranges(dirfd, i))
			continue;
		snprintf(rel, sizeof(rel), "layers/%zu/profile", i);
		fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &sb) ||
		    sb.st_size > (off_t)INCRFS_PROFILE_MAX) {
			if (fd >= 0)
				close(fd);
			snprintf(k->err, sizeof(k->err), "%s: unreadable or too big",
				 rel);
			ret = -EIO;
			goto out;
		}
		buf = malloc((size_t)sb.st_size + 1);
		if (!buf || pread(fd, buf, (size_t)sb.st_size, 0) != sb.st_size)
			ret = -EIO;
		else
			ret = sink_blob(k, -1, buf, (size_t)sb.st_size, &d);
		free(buf);
		close(fd);
		if (ret) {
			if (!k->err[0])
				snprintf(k->err, sizeof(k->err), "%s: cannot be read",
					 rel);
			goto out;
		}
		strcpy(d.media_type, INCRFS_MT_PROFILE);
		e = oci_desc_json(&d);
		an = json_object_new_object();
		json_object_object_add(an, INCRFS_AN_IMAGE_DIGEST,
				       json_object_new_string(image));
		json_object_object_add(e, "annotations", an);
		json_object_array_add(out_layers, e);
		parts++;
	}
	subject = json_object_new_object();
	json_object_object_add(subject, "mediaType",
			       json_object_new_string(OCI_MT_MANIFEST));
	json_object_object_add(subject, "digest",
			       json_object_new_string(mdigest));
	json_object_object_add(subject, "size", json_object_new_int64(
		json_object_get_int64(json_object_object_get(st,
							     "manifest_size"))));
	json_object_object_add(m, "subject", subject);
	snprintf(tag_out, 128, INCRFS_PROFILE_TAG, mdigest + 7);
	ret = sink_manifest(k, m, tag_out);
	if (!ret && !quiet)
		fprintf(stderr, "%s: access profile of %zu of %zu layers stored as %s\n",
			img_prog, parts, n, tag_out);
out:
	json_object_put(m);
	return ret;
}

static int profile_run(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "insecure-registry", required_argument, NULL, 'I' },
		{ "ca-file", required_argument, NULL, 'C' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *insecure[16];
	struct json_object *st = NULL, *layers, *v;
	struct sink *k = calloc(1, sizeof(*k));
	char tag[128];
	int c, n_insecure = 0, dirfd = -1, ret, status = IMG_EXIT_ERROR;
	bool quiet = false;
	size_t i, n;

	if (!k)
		return IMG_EXIT_ERROR;
	k->l.dirfd = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "I:C:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'I':
			if (n_insecure < 16)
				insecure[n_insecure++] = optarg;
			break;
		case 'C':
			curl_lib_set_ca_file(optarg);
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			profile_help(stdout);
			free(k);
			return IMG_EXIT_OK;
		default:
			free(k);
			return IMG_EXIT_USAGE;
		}
	}
	if (optind != argc - 2) {
		img_err("profile: DIR and DEST are needed (--help)");
		free(k);
		return IMG_EXIT_USAGE;
	}
	dirfd = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		img_err("profile: %s: %s", argv[optind], strerror(errno));
		goto out;
	}
	st = pull_state_load(argv[optind], &layers, k->err, sizeof(k->err));
	if (!st) {
		img_err("profile: %s", k->err);
		goto out;
	}
	if (!json_object_object_get_ex(st, "access_log", &v) ||
	    !json_object_get_boolean(v)) {
		img_err("profile: %s was pulled without --record-profile: nothing was recorded",
			argv[optind]);
		status = IMG_EXIT_CORRUPT;
		goto out;
	}
	k->remote = !strncmp(argv[optind + 1], "docker://", 9);
	ret = k->remote ? remote_open(&k->r, argv[optind + 1], insecure,
				      n_insecure, img_note, k->err,
				      sizeof(k->err)) :
			  oci_open(&k->l, argv[optind + 1], false, k->err,
				   sizeof(k->err));
	if (ret) {
		img_err("profile: %s", k->err);
		status = ret == -EINVAL ? IMG_EXIT_USAGE : IMG_EXIT_ERROR;
		goto out;
	}
	n = json_object_array_length(layers);
	for (i = 0; i < n; i++) {
		const char *mnt = oci_str(json_object_array_get_idx(layers, i),
					  "mount");

		if (!mnt || record_layer(dirfd, i, mnt, quiet)) {
			img_err("profile: recording layer %zu (%s) failed",
				i + 1, mnt ? mnt : "?");
			goto out;
		}
	}
	ret = store(k, dirfd, st, quiet, tag);
	if (ret) {
		img_err("profile: %s", k->err);
		status = ret == -EACCES || ret == -EBADMSG ? IMG_EXIT_CORRUPT :
							     IMG_EXIT_ERROR;
		goto out;
	}
	status = IMG_EXIT_OK;
out:
	json_object_put(st);
	if (k->remote)
		remote_close(&k->r);
	oci_close(&k->l);
	free(k);
	if (dirfd >= 0)
		close(dirfd);
	return status;
}

const struct img_cmd img_profile = {
	.name = "profile",
	.summary = "store what a container read as the image's access profile",
	.help = profile_help,
	.run = profile_run,
};
