// SPDX-License-Identifier: GPL-2.0-only
/*
 * pull.c - incrfs-image pull: from a converted image's reference to an
 * OCI runtime bundle whose root file system is lazily loaded.
 *
 * Why this exists: it is the second of the two commands between a user's
 * image and a running container (convert is the first).  Only the
 * manifest, the config and each layer's incrfs image (its metadata: a few
 * KiB per thousand files) are fetched; every layer is mounted at once and
 * served by an incrfsd of its own, the layers are stacked with overlayfs,
 * and crun or runc starts the container while the data is still in the
 * registry.  Everything fetched is checked against its digest; every
 * image's root hash against the manifest's; incrfsd checks the blobs.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "converted.h"
#include "curl_lib.h"
#include "head_zstd.h"
#include "hex.h"
#include "image.h"
#include "image_cmd.h"
#include "node_msg.h"
#include "number.h"
#include "oci_layout.h"
#include "pull.h"
#include "remote.h"

#define ERRLEN		12288
#define MAX_INSECURE	16
#define MAX_LAYERS	128
/* An incrfs image's head is its metadata and hash table: 32 B a block. */
#define HEAD_MAX	(1ULL << 30)
/*
 * A compressed head expands at most this many times, plus HEAD_SLACK:
 * figure 8's Debian heads expand 1.7x-2.0x (their hash tables do not
 * compress), and a head of a few files only is a few KiB.
 */
#define HEAD_RATIO	32
#define HEAD_SLACK	(1ULL << 20)
#define READY_TIMEOUT_S	60


static void pull_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfs-image pull - mount a converted image lazily as a container bundle\n"
"\n"
"SYNOPSIS\n"
"    incrfs-image pull [OPTION]... REF DIR [-- COMMAND [ARG]...]\n"
"\n"
"DESCRIPTION\n"
"    REF names an image that incrfs-image convert wrote: in a registry,\n"
"    HOST[:PORT]/REPO followed by :TAG (default latest) or @sha256:HEX\n"
"    (docker:// may precede it); in an OCI image layout, oci:DIR[:TAG].\n"
"    From it, pull fetches the manifest (through an image index, the one\n"
"    for --platform), the image config and every layer's incrfs image,\n"
"    each checked against its digest, and each image's root hash against\n"
"    the manifest's.  The layers' data is not fetched: every layer is\n"
"    mounted (read-only, nosuid, nodev) with all its blocks missing, and\n"
"    an incrfsd started for it fills the blocks that are read, from the\n"
"    layer's blob in the same registry (or layout).  If the image has an\n"
"    access profile (incrfs-image profile), each incrfsd fetches its\n"
"    layer's part first, before anybody reads it.  The layers are\n"
"    stacked with overlayfs, in the image's order, under a writable upper\n"
"    layer, on DIR/rootfs, and DIR/config.json is written from the image\n"
"    config (Entrypoint, Cmd, Env, WorkingDir, User; COMMAND replaces\n"
"    Cmd), so that\n"
"        crun run --bundle DIR NAME\n"
"    (or runc) starts the container at once.  A progress line is printed\n"
"    for each step on stderr.  incrfs-image umount DIR undoes it.\n"
"\n"
"    Registry credentials come from the files docker and podman write\n"
"    ($REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,\n"
"    ~/.docker/config.json), as for incrfsd(8); token authentication is\n"
"    answered.  Needs root (it mounts file systems).\n"
"\n"
"    DIR is created if needed and must not hold another pull; a layer's\n"
"    image an earlier pull left in it is used again, with the blocks it\n"
"    holds, if its root hash is the manifest's (and so is the upper\n"
"    directory, with the changes of the container that ran: remove\n"
"    DIR/upper for a fresh one).  What is in\n"
"    it: layers/N/{image,mnt,incrfsd.log}, upper/, work/, rootfs/,\n"
"    config.json, incrfs-pull.json (what umount undoes).  The images keep\n"
"    the blocks read: a layer read completely needs no network again.\n"
"\n"
"OPTIONS\n"
"    -p, --platform OS/ARCH[/VARIANT]\n"
"        The platform to take from an image index (default: this\n"
"        machine's).\n"
"\n"
"    -I, --insecure-registry HOST[:PORT]\n"
"        Plain http to this registry (up to 16 times); passed to incrfsd.\n"
"\n"
"    -C, --ca-file FILE\n"
"        Trust the CA certificates in FILE instead of the system's;\n"
"        passed to incrfsd.\n"
"\n"
"    -P, --prefetch none|all\n"
"        Passed to every incrfsd: with all, the layers are filled in the\n"
"        background once nobody waits, until complete.\n"
"\n"
"    -R, --record-profile\n"
"        Mount the layers with -o access_log, so that incrfs-image\n"
"        profile DIR DEST can record what the container read.\n"
"\n"
"    -N, --no-profile\n"
"        Do not use the image's access profile.\n"
"\n"
"    -n, --node[=SOCKET]\n"
"        Have the node's incrfsd (incrfsd --node, listening on SOCKET,\n"
"        default " INCRFS_NODE_SOCKET ") serve the layers instead of\n"
"        starting an incrfsd for each: pull hands it each layer's control\n"
"        fd, as incrfsctl attach does.  --insecure-registry and --ca-file\n"
"        are then for pull's own requests only: the node uses its own.\n"
"        Unmounting a layer (incrfs-image umount) ends its service there.\n"
"\n"
"    -j, --json\n"
"        Print one JSON object: dir, manifest, config, rootfs, fetched\n"
"        (bytes), image_size (bytes of all layers' data), layers (image,\n"
"        blob, mount, feeder_pid (0 with --node) and, with --node, node\n"
"        for each).\n"
"\n"
"    -q, --quiet\n"
"        No progress lines.\n"
"\n"
"    -h, --help\n"
"        Print this help and exit.\n"
"\n"
"ENVIRONMENT\n"
"    INCRFSD\n"
"        The incrfsd to start (default: the one next to incrfs-image, else\n"
"        incrfsd from PATH).\n"
"\n"
"EXIT STATUS\n"
"    0 the bundle is ready; 1 the image is not a converted image, is\n"
"    damaged or of another platform, or the registry refused it; 2 a bad\n"
"    command line; 3 any other error (nothing stays mounted).\n"
"\n"
"SEE ALSO\n"
"    incrfs-image convert, incrfs-image umount, incrfsd(8), crun(1)\n", f);
}

struct pull {
	const char *platform, *ca_file, *prefetch;
	const char *insecure[MAX_INSECURE];
	int n_insecure;
	bool json, quiet, record, no_profile;
	const char *node;		/* --node: the node daemon's socket */
	struct json_object *profile;	/* the image's profile manifest */
	char ca_abs[PATH_MAX];		/* --ca-file, absolute: feeders run in DIR */

	/* the source: a layout, or a registry */
	bool layout;
	struct oci_layout lay;
	char lay_abs[PATH_MAX];
	char *lay_dir;
	const char *tag;
	struct remote rem;
	char where[600];

	/* the destination */
	const char *dir;
	int dirfd;
	struct json_object *state;
	uint64_t fetched, data_size;
	char err[ERRLEN];

	/* feeders started, not yet ready: their notify sockets */
	struct starting {
		int sock;		/* -1: ready (or none) */
		pid_t pid;
	} starting[MAX_LAYERS];
};

static void progress(const struct pull *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void progress(const struct pull *p, const char *fmt, ...)
{
	va_list ap;

	if (p->quiet)
		return;
	fprintf(stderr, "%s: ", img_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* REF: the layout, or the registry's image (connected). */
static int parse_ref(struct pull *p, const char *arg)
{
	int ret;

	if (!strncmp(arg, "oci:", 4)) {
		p->layout = true;
		p->lay_dir = img_split_ref(arg + 4, &p->tag);
		if (!p->lay_dir || !*p->lay_dir)
			return -EINVAL;
		snprintf(p->where, sizeof(p->where), "%s", arg);
		return 0;
	}
	ret = remote_open(&p->rem, arg, p->insecure, p->n_insecure,
			  img_note, p->err, sizeof(p->err));
	if (ret == -EINVAL)
		strncat(p->err, " (or oci:DIR[:TAG])",
			sizeof(p->err) - strlen(p->err) - 1);
	snprintf(p->where, sizeof(p->where), "%s", p->rem.where);
	return ret;
}

/* The image manifest for --platform, and its descriptor. */
static int fetch_manifest(struct pull *p, struct json_object **m,
			  struct oci_desc *d)
{
	char *raw = NULL;
	size_t len = 0;
	int ret;

	if (p->layout)
		return oci_pick_manifest(&p->lay, p->tag, p->platform, d, m,
					 p->err, sizeof(p->err));
	ret = remote_manifest(&p->rem, p->platform, m, d->digest, &raw, &len,
			      p->err, sizeof(p->err));
	free(raw);
	d->size = (int64_t)len;
	snprintf(d->media_type, sizeof(d->media_type), "%s", OCI_MT_MANIFEST);
	return ret;
}

/* The blob @d into the file @fd, checked against its size and digest. */
static int fetch_blob(struct pull *p, const struct oci_desc *d, int fd)
{
	int ret;

	if (p->layout) {
		int in = oci_blob_open_verified(&p->lay, d, p->err,
						sizeof(p->err));
		off_t off = 0;
		ssize_t n;

		if (in < 0)
			return in;
		while (off < d->size) {
			n = copy_file_range(in, &off, fd, NULL,
					    (size_t)(d->size - off), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				ret = n < 0 ? -errno : -EIO;
				close(in);
				snprintf(p->err, sizeof(p->err), "copying %s: %s",
					 d->digest, strerror(-ret));
				return ret;
			}
		}
		close(in);
	} else {
		ret = remote_blob(&p->rem, d, fd, p->err, sizeof(p->err));
		if (ret)
			return ret;
	}
	p->fetched += (uint64_t)d->size;
	return 0;
}

/*
 * The image head @d, compressed with zstd (INCRFS_MT_IMAGE_ZSTD), checked
 * against its size and digest and expanded into @fd; its expanded size
 * into *@head.  A head is no larger than its image (@size bytes), and its
 * hash table (32 bytes a block) does not compress: a head that expands far
 * more than HEAD_RATIO times is no incrfs image, and is stopped there.
 */
static int fetch_head_zstd(struct pull *p, const struct oci_desc *d, int fd,
			   uint64_t size, uint64_t *head)
{
	uint64_t max = size < HEAD_MAX ? size : HEAD_MAX;
	int in, ret;

	if ((uint64_t)d->size * HEAD_RATIO + HEAD_SLACK < max)
		max = (uint64_t)d->size * HEAD_RATIO + HEAD_SLACK;
	if (p->layout) {
		/* the layout's blob, verified, is read where it is */
		in = oci_blob_open_verified(&p->lay, d, p->err, sizeof(p->err));
		if (in < 0)
			return in;
		p->fetched += (uint64_t)d->size;
	} else {
		/* on DIR's disk, as an uncompressed head would be */
		in = openat(p->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC,
			    0600);
		if (in < 0 && (errno == EOPNOTSUPP || errno == EISDIR))
			in = memfd_create("incrfs-image-head", MFD_CLOEXEC);
		if (in < 0) {
			ret = -errno;
			snprintf(p->err, sizeof(p->err),
				 "%s: a temporary file: %s", p->dir,
				 strerror(-ret));
			return ret;
		}
		ret = fetch_blob(p, d, in);
		if (ret)
			goto out;
	}
	ret = head_expand(in, (uint64_t)d->size, fd, max, head, p->err,
			  sizeof(p->err));
	if (ret) {
		char why[512];

		snprintf(why, sizeof(why), "%s", p->err);
		snprintf(p->err, sizeof(p->err), "%s: image %.80s: %s",
			 p->where, d->digest, why);
		if (ret == -EFBIG)
			ret = -EBADMSG;
	}
out:
	close(in);
	return ret;
}

/* A JSON blob (the config), checked. */
static int fetch_json(struct pull *p, const struct oci_desc *d,
		      struct json_object **out)
{
	int ret;

	ret = p->layout ? oci_read_json(&p->lay, d, out, p->err,
					sizeof(p->err)) :
			  remote_json(&p->rem, d, out, p->err, sizeof(p->err));
	if (!ret)
		p->fetched += (uint64_t)d->size;
	return ret;
}

/*
 * The access profile recorded for the image @md (converted.h), if there
 * is one, into p->profile; none is not an error.
 */
static int fetch_profile_manifest(struct pull *p, const struct oci_desc *md)
{
	char tag[128];
	struct oci_desc d;
	int ret;

	if (p->no_profile)
		return 0;
	snprintf(tag, sizeof(tag), INCRFS_PROFILE_TAG, md->digest + 7);
	if (p->layout)
		ret = oci_pick_manifest(&p->lay, tag, p->platform, &d,
					&p->profile, p->err, sizeof(p->err));
	else
		ret = remote_get_manifest(&p->rem, tag, &p->profile, &d,
					  p->err, sizeof(p->err));
	if (ret == -ENOENT) {
		p->err[0] = 0;
		return 0;
	}
	if (!ret)
		progress(p, "an access profile of the image: %.19s", d.digest);
	return ret;
}

/*
 * Layer @i's part of the profile (its image's digest is @image) into
 * layers/@i/profile.  1 if there is one, 0 if not, or -errno.
 */
static int fetch_layer_profile(struct pull *p, size_t i, const char *image)
{
	struct json_object *layers;
	struct oci_desc d;
	char rel[64];
	size_t k, n;
	int fd, ret;

	if (!p->profile ||
	    !json_object_object_get_ex(p->profile, "layers", &layers) ||
	    !json_object_is_type(layers, json_type_array))
		return 0;
	n = json_object_array_length(layers);
	for (k = 0; k < n; k++) {
		struct json_object *e = json_object_array_get_idx(layers, k);
		struct json_object *an;
		const char *img = NULL;

		if (json_object_object_get_ex(e, "annotations", &an))
			img = oci_str(an, INCRFS_AN_IMAGE_DIGEST);
		if (!img || strcmp(img, image))
			continue;
		ret = oci_desc_parse(e, &d, p->err, sizeof(p->err));
		if (ret)
			return ret;
		if (strcmp(d.media_type, INCRFS_MT_PROFILE) ||
		    d.size > (int64_t)INCRFS_PROFILE_MAX) {
			snprintf(p->err, sizeof(p->err),
				 "%s: the profile of layer %zu is not one incrfsd reads",
				 p->where, i + 1);
			return -EBADMSG;
		}
		snprintf(rel, sizeof(rel), "layers/%zu/profile", i);
		fd = openat(p->dirfd, rel,
			    O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			snprintf(p->err, sizeof(p->err), "%s/%s: %s", p->dir,
				 rel, strerror(errno));
			return -errno;
		}
		ret = fetch_blob(p, &d, fd);
		close(fd);
		return ret ? ret : 1;
	}
	return 0;
}

static int save_state(struct pull *p)
{
	const char *s = json_object_to_json_string_ext(p->state,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	int fd, ret = 0;

	fd = openat(p->dirfd, PULL_STATE ".tmp",
		    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s) ||
	    fsync(fd))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	if (!ret && renameat(p->dirfd, PULL_STATE ".tmp", p->dirfd,
			     PULL_STATE))
		ret = -errno;
	if (ret)
		snprintf(p->err, sizeof(p->err), "%s/%s: %s", p->dir,
			 PULL_STATE, strerror(-ret));
	return ret;
}

/* Where incrfsd reads the blob @blob_digest from: the layout, or the registry. */
static void blob_location(const struct pull *p, const char *blob_digest,
			  char *loc, size_t len)
{
	if (p->layout)
		snprintf(loc, len, "%s/blobs/sha256/%s", p->lay_abs,
			 blob_digest + 7);
	else
		snprintf(loc, len, "registry://%s/%s@%s", p->rem.host,
			 p->rem.repo, blob_digest);
}

/*
 * Start incrfsd on layer @i, its readiness to come on a socket of its own
 * (wait_feeders() waits for it): the layers' feeders start while the next
 * layers are fetched, and together.
 */
static int start_feeder(struct pull *p, size_t i, const char *blob_digest,
			bool profile, pid_t *pid_out)
{
	char incrfsd[PATH_MAX], loc[PATH_MAX + 600], mnt[64], log[64], prof[64];
	char sock_name[64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *argv[64];
	int argc = 0, s, logfd, k;
	pid_t pid;

	img_tool_path("incrfsd", "INCRFSD", incrfsd, sizeof(incrfsd));
	blob_location(p, blob_digest, loc, sizeof(loc));
	snprintf(mnt, sizeof(mnt), "layers/%zu/mnt", i);
	snprintf(log, sizeof(log), "layers/%zu/incrfsd.log", i);
	argv[argc++] = incrfsd;
	argv[argc++] = "--source";
	argv[argc++] = loc;
	for (k = 0; k < p->n_insecure; k++) {
		argv[argc++] = "--insecure-registry";
		argv[argc++] = p->insecure[k];
	}
	if (p->ca_file) {
		argv[argc++] = "--ca-file";
		argv[argc++] = p->ca_file;
	}
	if (p->prefetch) {
		argv[argc++] = "--prefetch";
		argv[argc++] = p->prefetch;
	}
	if (profile) {
		snprintf(prof, sizeof(prof), "layers/%zu/profile", i);
		argv[argc++] = "--prefetch-profile";
		argv[argc++] = prof;
	}
	argv[argc++] = mnt;
	argv[argc] = NULL;

	/* an abstract socket: no path to clean up, none too long */
	snprintf(sock_name, sizeof(sock_name), "@incrfs-pull-%d-%zu",
		 (int)getpid(), i);
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memcpy(sa.sun_path + 1, sock_name + 1, strlen(sock_name) - 1);
	if (s < 0 || bind(s, (struct sockaddr *)&sa,
			  (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				      strlen(sock_name)))) {
		snprintf(p->err, sizeof(p->err), "notify socket: %s",
			 strerror(errno));
		if (s >= 0)
			close(s);
		return -EIO;
	}
	logfd = openat(p->dirfd, log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		       0644);
	if (logfd < 0) {
		snprintf(p->err, sizeof(p->err), "%s/%s: %s", p->dir, log,
			 strerror(errno));
		close(s);
		return -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(s);
		close(logfd);
		return -errno;
	}
	if (!pid) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, 0) < 0 || dup2(logfd, 1) < 0 ||
		    dup2(logfd, 2) < 0 || fchdir(p->dirfd) || setsid() < 0 ||
		    setenv("NOTIFY_SOCKET", sock_name, 1))
			_exit(127);
		execvp(incrfsd, (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", incrfsd,
			strerror(errno));
		_exit(127);
	}
	close(logfd);
	*pid_out = pid;
	p->starting[i].sock = s;
	p->starting[i].pid = pid;
	return 0;
}

/*
 * Wait until each of the @n layers' feeders serves (READY=1); a feeder
 * that exits or is not ready in READY_TIMEOUT_S fails the pull.
 */
static int wait_feeders(struct pull *p, size_t n)
{
	time_t end = time(NULL) + READY_TIMEOUT_S;
	char buf[256], log[64];
	size_t i, left;
	int status;

	for (;;) {
		struct pollfd pf[MAX_LAYERS];

		for (i = 0, left = 0; i < n; i++) {
			pf[i].fd = p->starting[i].sock;	/* -1 is ignored */
			pf[i].events = POLLIN;
			left += pf[i].fd >= 0;
		}
		if (!left)
			return 0;
		if (poll(pf, n, 200) > 0)
			for (i = 0; i < n; i++) {
				ssize_t k;

				if (pf[i].fd < 0 || !(pf[i].revents & POLLIN))
					continue;
				k = recv(pf[i].fd, buf, sizeof(buf) - 1, 0);
				if (k <= 0)
					continue;
				buf[k] = 0;
				if (strstr(buf, "READY=1")) {
					close(p->starting[i].sock);
					p->starting[i].sock = -1;
				}
			}
		for (i = 0; i < n; i++) {
			pid_t pid = p->starting[i].pid;

			if (p->starting[i].sock < 0)
				continue;
			snprintf(log, sizeof(log), "layers/%zu/incrfsd.log", i);
			if (waitpid(pid, &status, WNOHANG) == pid) {
				snprintf(p->err, sizeof(p->err),
					 "incrfsd for layer %zu %s %d: see %s/%s",
					 i, WIFEXITED(status) ?
					 "exited with status" :
					 "was killed by signal",
					 WIFEXITED(status) ? WEXITSTATUS(status) :
					 WTERMSIG(status), p->dir, log);
				return WIFEXITED(status) &&
				       WEXITSTATUS(status) == 3 ?
				       -EBADMSG : -EIO;
			}
			if (time(NULL) > end) {
				snprintf(p->err, sizeof(p->err),
					 "incrfsd for layer %zu is not ready after %d s: see %s/%s",
					 i, READY_TIMEOUT_S, p->dir, log);
				return -ETIMEDOUT;
			}
		}
	}
}

/*
 * Hand layer @i to the node's incrfsd (--node) and wait until it serves.
 * The profile path is absolute: the daemon does not run in DIR.
 */
static int attach_to_node(struct pull *p, size_t i, const char *blob_digest,
			  bool profile)
{
	char loc[PATH_MAX + 600], mnt[PATH_MAX], prof[PATH_MAX], why[512];
	const char *args[8];
	unsigned int n = 0;
	int root, fd, ret;

	blob_location(p, blob_digest, loc, sizeof(loc));
	snprintf(mnt, sizeof(mnt), "%s/layers/%zu/mnt", p->dir, i);
	args[n++] = "--source";
	args[n++] = loc;
	if (p->prefetch) {
		args[n++] = "--prefetch";
		args[n++] = p->prefetch;
	}
	if (profile) {
		snprintf(prof, sizeof(prof), "%s/layers/%zu/profile", p->dir, i);
		args[n++] = "--prefetch-profile";
		args[n++] = prof;
	}
	root = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = root < 0 ? -1 : ioctl(root, INCRFS_IOC_OPEN_CONTROL);
	if (fd < 0) {
		snprintf(p->err, sizeof(p->err), "%s: INCRFS_IOC_OPEN_CONTROL: %s",
			 mnt, strerror(errno));
		if (root >= 0)
			close(root);
		return -EIO;
	}
	close(root);
	ret = incrfs_node_attach(p->node, mnt, args, n, fd, why, sizeof(why));
	close(fd);
	if (ret) {
		snprintf(p->err, sizeof(p->err), "layer %zu: the node's incrfsd (%s): %s",
			 i, p->node, why);
		return ret == 3 ? -EBADMSG : -EIO;
	}
	return 0;
}

/* Fetch layer @i's image, check it, mount it, start its feeder. */
static int pull_layer(struct pull *p, size_t i, size_t n,
		      struct json_object *im, struct json_object *bl,
		      struct json_object *layers)
{
	struct incrfs_image img = { 0 };
	struct json_object *st;
	struct oci_desc d;
	char rel[64], abs_img[PATH_MAX], abs_mnt[PATH_MAX], hash[INCRFS_HASH_HEX];
	const char *blob, *size_s, *root;
	uint64_t size, head;
	pid_t pid = 0;
	bool zstd;
	int fd, ret;

	ret = oci_desc_parse(im, &d, p->err, sizeof(p->err));
	if (ret)
		return ret;
	zstd = !strcmp(d.media_type, INCRFS_MT_IMAGE_ZSTD);
	head = (uint64_t)d.size;
	blob = oci_annotation(im, INCRFS_AN_BLOB);
	size_s = oci_annotation(im, INCRFS_AN_IMAGE_SIZE);
	root = oci_annotation(im, INCRFS_AN_ROOT_HASH);
	if (!blob || !size_s || !root || !oci_digest_valid(blob) ||
	    incrfs_parse_u64(size_s, UINT64_MAX, &size) ||
	    strcmp(blob, oci_str(bl, "digest") ? oci_str(bl, "digest") : "") ||
	    (uint64_t)d.size > HEAD_MAX) {
		snprintf(p->err, sizeof(p->err),
			 "%s: layer %zu's annotations do not describe an incrfs image and its blob",
			 p->where, i + 1);
		return -EBADMSG;
	}
	snprintf(rel, sizeof(rel), "layers/%zu", i);
	if ((mkdirat(p->dirfd, "layers", 0755) && errno != EEXIST) ||
	    (mkdirat(p->dirfd, rel, 0755) && errno != EEXIST)) {
		snprintf(p->err, sizeof(p->err), "%s/%s: %s", p->dir, rel,
			 strerror(errno));
		return -errno;
	}
	snprintf(rel, sizeof(rel), "layers/%zu/mnt", i);
	mkdirat(p->dirfd, rel, 0755);
	snprintf(rel, sizeof(rel), "layers/%zu/image", i);
	/* an earlier pull's image of this layer keeps the blocks it holds */
	fd = openat(p->dirfd, rel, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && !incrfs_image_open(&img, fd)) {
		incrfs_hex(img.sb.root_hash, INCRFS_HASH_SIZE, hash);
		if (img.sb.image_size == size && !strcmp(hash, root)) {
			uint64_t present = 0;

			incrfs_image_count_present(&img, &present);
			p->data_size += img.sb.nr_blocks * INCRFS_BLOCK_SIZE;
			progress(p, "layer %zu/%zu: its image is here from an earlier pull (%.1f %% present)",
				 i + 1, n, img.sb.nr_blocks ?
				 100.0 * present / img.sb.nr_blocks : 100.0);
			incrfs_image_close(&img);
			close(fd);
			goto mount;
		}
	}
	incrfs_image_close(&img);
	memset(&img, 0, sizeof(img));
	if (fd >= 0)
		close(fd);
	progress(p, "layer %zu/%zu: fetching its image (%.1f KiB)", i + 1, n,
		 d.size / 1024.0);
	fd = openat(p->dirfd, rel, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
	if (fd < 0) {
		snprintf(p->err, sizeof(p->err), "%s/%s: %s", p->dir, rel,
			 strerror(errno));
		return -errno;
	}
	ret = zstd ? fetch_head_zstd(p, &d, fd, size, &head) :
		     fetch_blob(p, &d, fd);
	/* the data region: a hole of the size the manifest gives */
	if (!ret && (size < head || ftruncate(fd, (off_t)size))) {
		snprintf(p->err, sizeof(p->err),
			 "%s: layer %zu: image size %s is impossible", p->where,
			 i + 1, size_s);
		ret = -EBADMSG;
	}
	if (!ret) {
		ret = incrfs_image_open(&img, fd);
		if (ret)
			snprintf(p->err, sizeof(p->err),
				 "%s: layer %zu: not a valid incrfs image: %s",
				 p->where, i + 1, img.err);
	}
	if (!ret) {
		incrfs_hex(img.sb.root_hash, INCRFS_HASH_SIZE, hash);
		if (img.sb.image_size != size || strcmp(hash, root)) {
			snprintf(p->err, sizeof(p->err),
				 "%s: layer %zu: the image's size or root hash is not the manifest's",
				 p->where, i + 1);
			ret = -EBADMSG;
		}
		p->data_size += img.sb.nr_blocks * INCRFS_BLOCK_SIZE;
	}
	incrfs_image_close(&img);
	close(fd);
	if (ret) {
		unlinkat(p->dirfd, rel, 0);	/* nothing of it is any use */
		return ret;
	}
mount:
	snprintf(abs_img, sizeof(abs_img), "%s/layers/%zu/image", p->dir, i);
	snprintf(abs_mnt, sizeof(abs_mnt), "%s/layers/%zu/mnt", p->dir, i);
	if (mount(abs_img, abs_mnt, "incrfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
		  p->record ? "access_log" : NULL)) {
		ret = -errno;
		snprintf(p->err, sizeof(p->err), "mount -t incrfs %s %s: %s%s",
			 abs_img, abs_mnt, strerror(errno),
			 errno == ENODEV ? " (modprobe incrfs)" : "");
		return ret;
	}
	st = json_object_new_object();
	json_object_object_add(st, "image", json_object_new_string(d.digest));
	json_object_object_add(st, "blob", json_object_new_string(blob));
	json_object_object_add(st, "mount", json_object_new_string(abs_mnt));
	json_object_object_add(st, "feeder_pid", json_object_new_int(0));
	json_object_array_add(layers, st);
	ret = save_state(p);
	if (ret)
		return ret;
	ret = fetch_layer_profile(p, i, d.digest);
	if (ret < 0)
		return ret;
	progress(p, "layer %zu/%zu: mounted, %s%s", i + 1, n,
		 p->node ? "attaching it to the node's incrfsd" :
		 "starting incrfsd", ret ? " with its access profile" : "");
	json_object_object_add(st, "profile", json_object_new_boolean(ret));
	if (p->node) {
		json_object_object_add(st, "node",
				       json_object_new_string(p->node));
		return attach_to_node(p, i, blob, ret > 0);
	}
	ret = start_feeder(p, i, blob, ret > 0, &pid);
	if (pid) {
		json_object_object_add(st, "feeder_pid",
				       json_object_new_int((int)pid));
		if (save_state(p) && !ret)
			ret = -EIO;
	}
	return ret;
}

/* lowerdir=layers/N-1/mnt:...:layers/0/mnt (top first), relative to DIR. */
static int mount_rootfs(struct pull *p, size_t n)
{
	char *opts, *q, cwd[PATH_MAX];
	size_t i, cap = 64 + n * 32;
	int ret = 0;

	opts = malloc(cap);
	if (!opts)
		return -ENOMEM;
	q = opts + sprintf(opts, "lowerdir=");
	for (i = n; i-- > 0;)
		q += sprintf(q, "layers/%zu/mnt%s", i, i ? ":" : "");
	sprintf(q, ",upperdir=upper,workdir=work");
	if ((mkdirat(p->dirfd, "upper", 0755) && errno != EEXIST) ||
	    (mkdirat(p->dirfd, "work", 0700) && errno != EEXIST) ||
	    (mkdirat(p->dirfd, "rootfs", 0755) && errno != EEXIST)) {
		ret = -errno;
		snprintf(p->err, sizeof(p->err), "%s: %s", p->dir,
			 strerror(errno));
		goto out;
	}
	/* relative paths keep the options short with many layers */
	if (!getcwd(cwd, sizeof(cwd)) || fchdir(p->dirfd)) {
		ret = -errno;
		snprintf(p->err, sizeof(p->err), "%s: %s", p->dir,
			 strerror(errno));
		goto out;
	}
	if (mount("overlay", "rootfs", "overlay", MS_NODEV, opts)) {
		ret = -errno;
		snprintf(p->err, sizeof(p->err),
			 "mount -t overlay -o %s overlay %s/rootfs: %s", opts,
			 p->dir, strerror(errno));
	}
	if (chdir(cwd) && !ret) {
		ret = -errno;
		snprintf(p->err, sizeof(p->err), "%s: %s", cwd,
			 strerror(errno));
	}
	if (!ret) {
		char abs[PATH_MAX];

		snprintf(abs, sizeof(abs), "%s/rootfs", p->dir);
		json_object_object_add(p->state, "rootfs",
				       json_object_new_string(abs));
		ret = save_state(p);
	}
out:
	free(opts);
	return ret;
}

/* Is @m a converted image (pairs of incrfs image and blob)? */
static int check_converted(struct pull *p, struct json_object *layers,
			   size_t *n)
{
	size_t i, len = json_object_array_length(layers);

	for (i = 0; i < len; i++) {
		const char *mt = oci_str(json_object_array_get_idx(layers, i),
					 "mediaType");

		if (!mt || (i % 2 ? strcmp(mt, INCRFS_MT_BLOB) :
				strcmp(mt, INCRFS_MT_IMAGE_ZSTD) &&
				strcmp(mt, INCRFS_MT_IMAGE))) {
			snprintf(p->err, sizeof(p->err),
				 "%s is not an image for incrfs (layer %zu is a %.80s): convert it with incrfs-image convert first",
				 p->where, i + 1, mt ? mt : "?");
			return -EPROTONOSUPPORT;
		}
	}
	if (!len || len % 2 || len / 2 > MAX_LAYERS) {
		snprintf(p->err, sizeof(p->err),
			 "%s: %zu layer descriptors: not an image for incrfs (1 to %d pairs)",
			 p->where, len, MAX_LAYERS);
		return -EPROTONOSUPPORT;
	}
	*n = len / 2;
	return 0;
}

static int pull(struct pull *p, char *const *cmd, int ncmd)
{
	struct json_object *m = NULL, *config = NULL, *layers, *cfg, *st_layers;
	struct oci_desc cd, md;
	size_t i, n = 0;
	int ret;

	for (i = 0; i < MAX_LAYERS; i++)
		p->starting[i].sock = -1;
	if (p->layout) {
		ret = oci_open(&p->lay, p->lay_dir, false, p->err,
			       sizeof(p->err));
		if (ret)
			return ret;
		if (!realpath(p->lay_dir, p->lay_abs)) {
			snprintf(p->err, sizeof(p->err), "%s: %s", p->lay_dir,
				 strerror(errno));
			return -errno;
		}
	}
	progress(p, "%s: fetching the manifest", p->where);
	ret = fetch_manifest(p, &m, &md);
	if (ret)
		return ret;
	if (!json_object_object_get_ex(m, "layers", &layers) ||
	    !json_object_is_type(layers, json_type_array) ||
	    !json_object_object_get_ex(m, "config", &cfg) ||
	    oci_desc_parse(cfg, &cd, p->err, sizeof(p->err))) {
		snprintf(p->err, sizeof(p->err),
			 "%s: the manifest has no valid config or layers",
			 p->where);
		ret = -EBADMSG;
		goto out;
	}
	ret = check_converted(p, layers, &n);
	if (!ret)
		ret = fetch_json(p, &cd, &config);
	if (!ret)
		ret = fetch_profile_manifest(p, &md);
	if (ret)
		goto out;

	p->state = json_object_new_object();
	json_object_object_add(p->state, "ref",
			       json_object_new_string(p->where));
	json_object_object_add(p->state, "manifest",
			       json_object_new_string(md.digest));
	json_object_object_add(p->state, "manifest_size",
			       json_object_new_int64(md.size));
	json_object_object_add(p->state, "access_log",
			       json_object_new_boolean(p->record));
	json_object_object_add(p->state, "config",
			       json_object_new_string(cd.digest));
	st_layers = json_object_new_array();
	json_object_object_add(p->state, "layers", st_layers);
	ret = save_state(p);
	if (ret)
		goto out;
	for (i = 0; i < n; i++) {
		ret = pull_layer(p, i, n,
				 json_object_array_get_idx(layers, 2 * i),
				 json_object_array_get_idx(layers, 2 * i + 1),
				 st_layers);
		if (ret)
			goto out;
	}
	if (!p->node)
		progress(p, "waiting for the layers' feeders to serve");
	ret = wait_feeders(p, n);
	if (ret)
		goto out;
	ret = mount_rootfs(p, n);
	if (!ret)
		ret = bundle_write(p->dirfd, config, cmd, ncmd, p->err,
				   sizeof(p->err));
	if (ret)
		goto out;
	if (p->json) {
		json_object_object_add(p->state, "dir",
				       json_object_new_string(p->dir));
		json_object_object_add(p->state, "fetched",
				       json_object_new_int64((int64_t)p->fetched));
		json_object_object_add(p->state, "image_size",
				       json_object_new_int64((int64_t)p->data_size));
		puts(json_object_to_json_string_ext(p->state,
			JSON_C_TO_STRING_PRETTY |
			JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		printf("%s: %zu layers mounted lazily (%.1f MiB of %.1f MiB fetched); run: crun run --bundle %s NAME\n",
		       p->dir, n, p->fetched / 1048576.0,
		       p->data_size / 1048576.0, p->dir);
	}
out:
	for (i = 0; i < n; i++)
		if (p->starting[i].sock >= 0) {
			close(p->starting[i].sock);
			p->starting[i].sock = -1;
		}
	json_object_put(config);
	json_object_put(m);
	return ret;
}

static int exit_for(int ret)
{
	if (ret == -EBADMSG || ret == -EPROTONOSUPPORT || ret == -ENOENT ||
	    ret == -EACCES || ret == -EFBIG)
		return IMG_EXIT_CORRUPT;
	return IMG_EXIT_ERROR;
}

static int pull_run(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ "insecure-registry", required_argument, NULL, 'I' },
		{ "ca-file", required_argument, NULL, 'C' },
		{ "prefetch", required_argument, NULL, 'P' },
		{ "record-profile", no_argument, NULL, 'R' },
		{ "no-profile", no_argument, NULL, 'N' },
		{ "node", optional_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pull p = { .platform = oci_host_platform(), .dirfd = -1 };
	char abs[PATH_MAX], undo_err[ERRLEN];
	int c, ret, status = IMG_EXIT_ERROR;

	p.lay.dirfd = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:I:C:P:RNn::jqh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'p':
			p.platform = optarg;
			break;
		case 'I':
			if (p.n_insecure == MAX_INSECURE) {
				img_err("pull: at most %d --insecure-registry",
					MAX_INSECURE);
				return IMG_EXIT_USAGE;
			}
			p.insecure[p.n_insecure++] = optarg;
			break;
		case 'C':
			if (!realpath(optarg, p.ca_abs)) {
				img_err("pull: --ca-file %s: %s", optarg,
					strerror(errno));
				return IMG_EXIT_USAGE;
			}
			p.ca_file = p.ca_abs;
			curl_lib_set_ca_file(p.ca_abs);
			break;
		case 'P':
			if (strcmp(optarg, "none") && strcmp(optarg, "all")) {
				img_err("pull: --prefetch none or all");
				return IMG_EXIT_USAGE;
			}
			p.prefetch = optarg;
			break;
		case 'R':
			p.record = true;
			break;
		case 'N':
			p.no_profile = true;
			break;
		case 'n':
			p.node = optarg && *optarg ? optarg : INCRFS_NODE_SOCKET;
			break;
		case 'j':
			p.json = true;
			break;
		case 'q':
			p.quiet = true;
			break;
		case 'h':
			pull_help(stdout);
			return IMG_EXIT_OK;
		default:
			return IMG_EXIT_USAGE;
		}
	}
	if (argc - optind < 2 ||
	    (argc - optind > 2 && strcmp(argv[optind + 2], "--"))) {
		img_err("pull: REF and DIR are needed, then -- COMMAND if any (--help)");
		return IMG_EXIT_USAGE;
	}
	ret = parse_ref(&p, argv[optind]);
	if (ret) {
		img_err("pull: %s", p.err[0] ? p.err : "bad reference");
		status = ret == -EINVAL ? IMG_EXIT_USAGE : IMG_EXIT_ERROR;
		goto out;
	}
	if (geteuid()) {
		img_err("pull: it mounts file systems: run it as root");
		goto out;
	}
	if (mkdir(argv[optind + 1], 0755) && errno != EEXIST) {
		img_err("pull: %s: %s", argv[optind + 1], strerror(errno));
		goto out;
	}
	if (!realpath(argv[optind + 1], abs)) {
		img_err("pull: %s: %s", argv[optind + 1], strerror(errno));
		goto out;
	}
	p.dir = abs;
	p.dirfd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p.dirfd < 0) {
		img_err("pull: %s: %s", abs, strerror(errno));
		goto out;
	}
	if (!faccessat(p.dirfd, PULL_STATE, F_OK, 0)) {
		img_err("pull: %s holds a pulled image already: incrfs-image umount %s first",
			abs, abs);
		goto out;
	}
	ret = pull(&p, argv + optind + 3, argc - optind - 3);
	if (ret) {
		img_err("pull: %s", p.err);
		status = exit_for(ret);
		if (p.state &&
		    pull_undo(p.dirfd, abs, true, undo_err, sizeof(undo_err)))
			img_err("pull: undoing it: %s", undo_err);
		goto out;
	}
	status = IMG_EXIT_OK;
out:
	json_object_put(p.state);
	json_object_put(p.profile);
	remote_close(&p.rem);
	oci_close(&p.lay);
	free(p.lay_dir);
	if (p.dirfd >= 0)
		close(p.dirfd);
	return status;
}

const struct img_cmd img_pull = {
	.name = "pull",
	.summary = "mount a converted image lazily as a container bundle",
	.help = pull_help,
	.run = pull_run,
};
