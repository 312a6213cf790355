// SPDX-License-Identifier: GPL-2.0-only
/*
 * oci_layout.c - read and write an OCI image layout directory: blobs by
 * digest, verified on every read; index.json replaced atomically.
 *
 * Why this exists: see oci_layout.h.
 */
#include "oci_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "hex.h"
#include "sha256.h"

#define COPY_BUF (1u << 20)

static int fail(char *err, size_t len, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t len, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return ret;
}

const char *oci_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

const char *oci_annotation(struct json_object *desc, const char *key)
{
	struct json_object *an;

	if (!json_object_object_get_ex(desc, "annotations", &an))
		return NULL;
	return oci_str(an, key);
}

bool oci_digest_valid(const char *d)
{
	size_t i;

	if (strncmp(d, "sha256:", 7) || strlen(d) != OCI_DIGEST_LEN - 1)
		return false;
	for (i = 7; d[i]; i++)
		if (!((d[i] >= '0' && d[i] <= '9') ||
		      (d[i] >= 'a' && d[i] <= 'f')))
			return false;
	return true;
}

void oci_blob_relpath(const char *digest, char *buf, size_t len)
{
	snprintf(buf, len, "blobs/sha256/%s", digest + 7);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int oci_open(struct oci_layout *l, const char *path, bool create,
	     char *err, size_t err_len)
{
	static const char marker[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	int fd, ret;

	l->dirfd = -1;
	snprintf(l->path, sizeof(l->path), "%s", path);
	if (create && mkdir(path, 0755) && errno != EEXIST)
		return fail(err, err_len, -errno, "%s: cannot create: %s",
			    path, strerror(errno));
	l->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd < 0)
		return fail(err, err_len, -errno, "%s: %s", path,
			    strerror(errno));
	if (create) {
		if ((mkdirat(l->dirfd, "blobs", 0755) && errno != EEXIST) ||
		    (mkdirat(l->dirfd, "blobs/sha256", 0755) &&
		     errno != EEXIST)) {
			ret = -errno;
			goto sys;
		}
		fd = openat(l->dirfd, "oci-layout",
			    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			ret = write_all(fd, marker, strlen(marker));
			if (!ret && fsync(fd))
				ret = -errno;
			close(fd);
			if (ret)
				goto sys;
		} else if (errno != EEXIST) {
			ret = -errno;
			goto sys;
		}
	}
	if (faccessat(l->dirfd, "oci-layout", R_OK, 0)) {
		ret = fail(err, err_len, -ENOENT,
			   "%s: not an OCI image layout (no oci-layout file)",
			   path);
		oci_close(l);
		return ret;
	}
	return 0;
sys:
	fail(err, err_len, ret, "%s: %s", path, strerror(-ret));
	oci_close(l);
	return ret;
}

void oci_close(struct oci_layout *l)
{
	if (l->dirfd >= 0)
		close(l->dirfd);
	l->dirfd = -1;
}

int oci_desc_parse(struct json_object *o, struct oci_desc *d,
		   char *err, size_t err_len)
{
	const char *mt = oci_str(o, "mediaType");
	const char *dg = oci_str(o, "digest");
	struct json_object *sz;

	if (!mt || !dg || !json_object_object_get_ex(o, "size", &sz) ||
	    !json_object_is_type(sz, json_type_int))
		return fail(err, err_len, -EINVAL,
			    "a descriptor without mediaType, digest or size");
	if (!oci_digest_valid(dg))
		return fail(err, err_len, -EINVAL,
			    "digest '%.80s' is not sha256:<64 hex digits>", dg);
	if (strlen(mt) >= sizeof(d->media_type))
		return fail(err, err_len, -EINVAL, "media type too long");
	d->size = json_object_get_int64(sz);
	if (d->size < 0)
		return fail(err, err_len, -EINVAL, "%s: negative size", dg);
	strcpy(d->media_type, mt);
	strcpy(d->digest, dg);
	return 0;
}

struct json_object *oci_desc_json(const struct oci_desc *d)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "mediaType",
			       json_object_new_string(d->media_type));
	json_object_object_add(o, "digest", json_object_new_string(d->digest));
	json_object_object_add(o, "size", json_object_new_int64(d->size));
	return o;
}

int oci_hash_fd(int fd, uint64_t len, char out[OCI_DIGEST_LEN])
{
	struct incrfs_sha256_ctx c;
	uint8_t md[INCRFS_SHA256_SIZE];
	uint64_t off = 0;
	char *buf;
	ssize_t n;
	int ret = 0;

	buf = malloc(COPY_BUF);
	if (!buf || incrfs_sha256_init(&c)) {
		free(buf);
		return -ENOMEM;
	}
	while (off < len) {
		n = pread(fd, buf, len - off < COPY_BUF ? len - off : COPY_BUF,
			  (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			break;
		}
		incrfs_sha256_update(&c, buf, (size_t)n);
		off += (uint64_t)n;
	}
	if (!ret && !incrfs_sha256_final(&c, md)) {
		memcpy(out, "sha256:", 7);
		incrfs_hex(md, sizeof(md), out + 7);
	} else if (!ret) {
		ret = -EIO;
	}
	incrfs_sha256_free(&c);
	free(buf);
	return ret;
}

int oci_blob_open_verified(const struct oci_layout *l,
			   const struct oci_desc *d, char *err,
			   size_t err_len)
{
	char rel[128], got[OCI_DIGEST_LEN];
	struct stat st;
	int fd, ret;

	oci_blob_relpath(d->digest, rel, sizeof(rel));
	fd = openat(l->dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return fail(err, err_len, -errno, "%s/%s: %s", l->path, rel,
			    strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ret = fail(err, err_len, -EBADMSG, "%s/%s: not a regular file",
			   l->path, rel);
		goto out;
	}
	if (st.st_size != d->size) {
		ret = fail(err, err_len, -EBADMSG,
			   "%s/%s: %lld bytes, its descriptor says %lld",
			   l->path, rel, (long long)st.st_size,
			   (long long)d->size);
		goto out;
	}
	ret = oci_hash_fd(fd, (uint64_t)st.st_size, got);
	if (ret) {
		fail(err, err_len, ret, "%s/%s: %s", l->path, rel,
		     strerror(-ret));
		goto out;
	}
	if (strcmp(got, d->digest)) {
		ret = fail(err, err_len, -EBADMSG,
			   "%s/%s: content does not match its digest (%s)",
			   l->path, rel, got);
		goto out;
	}
	return fd;
out:
	close(fd);
	return ret;
}

int oci_read_json(const struct oci_layout *l, const struct oci_desc *d,
		  struct json_object **out, char *err, size_t err_len)
{
	struct json_tokener *tok;
	char *buf;
	ssize_t n;
	int fd;

	if (d->size > (int64_t)OCI_JSON_MAX)
		return fail(err, err_len, -EFBIG,
			    "%s: %lld bytes, more than a manifest or config may have",
			    d->digest, (long long)d->size);
	fd = oci_blob_open_verified(l, d, err, err_len);
	if (fd < 0)
		return fd;
	buf = malloc((size_t)d->size + 1);
	if (!buf) {
		close(fd);
		return fail(err, err_len, -ENOMEM, "out of memory");
	}
	n = pread(fd, buf, (size_t)d->size, 0);
	close(fd);
	if (n != d->size) {
		free(buf);
		return fail(err, err_len, -EIO, "%s: short read", d->digest);
	}
	buf[n] = 0;
	tok = json_tokener_new();
	*out = tok ? json_tokener_parse_ex(tok, buf, (int)n) : NULL;
	if (*out && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(*out);
		*out = NULL;
	}
	if (tok)
		json_tokener_free(tok);
	free(buf);
	if (!*out || !json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		return fail(err, err_len, -EBADMSG, "%s: not a JSON object",
			    d->digest);
	}
	return 0;
}

static int sync_dir(const struct oci_layout *l, const char *rel)
{
	int fd = openat(l->dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

int oci_adopt(const struct oci_layout *l, const char *tmp_rel,
	      struct oci_desc *d, char *err, size_t err_len)
{
	char rel[128];
	struct stat st;
	int fd, ret;

	fd = openat(l->dirfd, tmp_rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return fail(err, err_len, -errno, "%s/%s: %s", l->path,
			    tmp_rel, strerror(errno));
	ret = fstat(fd, &st) ? -errno : 0;
	if (!ret)
		ret = oci_hash_fd(fd, (uint64_t)st.st_size, d->digest);
	if (!ret && fsync(fd))
		ret = -errno;
	close(fd);
	if (ret)
		return fail(err, err_len, ret, "%s/%s: %s", l->path, tmp_rel,
			    strerror(-ret));
	d->size = st.st_size;
	oci_blob_relpath(d->digest, rel, sizeof(rel));
	if (renameat(l->dirfd, tmp_rel, l->dirfd, rel))
		return fail(err, err_len, -errno, "%s/%s: %s", l->path, rel,
			    strerror(errno));
	ret = sync_dir(l, "blobs/sha256");
	if (ret)
		return fail(err, err_len, ret, "%s/blobs/sha256: %s", l->path,
			    strerror(-ret));
	return 0;
}

/* A temporary name in blobs/sha256 that nobody else uses. */
void oci_tmp_relpath(const char *what, char *buf, size_t len)
{
	static unsigned int seq;

	snprintf(buf, len, "blobs/sha256/.tmp-%s-%d-%u", what, (int)getpid(),
		 seq++);
}

int oci_put_fd(const struct oci_layout *l, int fd, uint64_t len,
	       struct oci_desc *d, char *err, size_t err_len)
{
	char tmp[128], *buf;
	uint64_t off = 0;
	int out, ret = 0;
	ssize_t n;

	buf = malloc(COPY_BUF);
	if (!buf)
		return fail(err, err_len, -ENOMEM, "out of memory");
	oci_tmp_relpath("put", tmp, sizeof(tmp));
	out = openat(l->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		     0644);
	if (out < 0) {
		free(buf);
		return fail(err, err_len, -errno, "%s/%s: %s", l->path, tmp,
			    strerror(errno));
	}
	while (!ret && off < len) {
		n = pread(fd, buf, len - off < COPY_BUF ? len - off : COPY_BUF,
			  (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			ret = n < 0 ? -errno : -EIO;
		else
			ret = write_all(out, buf, (size_t)n);
		off += n > 0 ? (uint64_t)n : 0;
	}
	free(buf);
	close(out);
	if (ret) {
		unlinkat(l->dirfd, tmp, 0);
		return fail(err, err_len, ret, "%s: %s", l->path,
			    strerror(-ret));
	}
	ret = oci_adopt(l, tmp, d, err, err_len);
	if (ret)
		unlinkat(l->dirfd, tmp, 0);
	return ret;
}

int oci_put_bytes(const struct oci_layout *l, const void *buf, size_t len,
		  struct oci_desc *d, char *err, size_t err_len)
{
	char tmp[128];
	int out, ret;

	oci_tmp_relpath("put", tmp, sizeof(tmp));
	out = openat(l->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		     0644);
	if (out < 0)
		return fail(err, err_len, -errno, "%s/%s: %s", l->path, tmp,
			    strerror(errno));
	ret = write_all(out, buf, len);
	close(out);
	if (!ret)
		ret = oci_adopt(l, tmp, d, err, err_len);
	else
		fail(err, err_len, ret, "%s: %s", l->path, strerror(-ret));
	if (ret)
		unlinkat(l->dirfd, tmp, 0);
	return ret;
}

void oci_put_bytes_digest(const void *buf, size_t len, struct oci_desc *d)
{
	uint8_t md[INCRFS_SHA256_SIZE];

	incrfs_sha256(buf, len, md);
	memcpy(d->digest, "sha256:", 7);
	incrfs_hex(md, sizeof(md), d->digest + 7);
	d->size = (int64_t)len;
}

int oci_put_json(const struct oci_layout *l, struct json_object *o,
		 struct oci_desc *d, char *err, size_t err_len)
{
	const char *s = json_object_to_json_string_ext(o,
						       JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);

	return oci_put_bytes(l, s, strlen(s), d, err, err_len);
}

int oci_index_load(const struct oci_layout *l, struct json_object **idx,
		   char *err, size_t err_len)
{
	struct json_object *m;
	char path[4200];
	int fd;

	fd = openat(l->dirfd, "index.json", O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		*idx = json_object_new_object();
		json_object_object_add(*idx, "schemaVersion",
				       json_object_new_int(2));
		json_object_object_add(*idx, "mediaType",
				       json_object_new_string(OCI_MT_INDEX));
		json_object_object_add(*idx, "manifests",
				       json_object_new_array());
		return 0;
	}
	if (fd < 0)
		return fail(err, err_len, -errno, "%s/index.json: %s", l->path,
			    strerror(errno));
	close(fd);
	snprintf(path, sizeof(path), "%s/index.json", l->path);
	*idx = json_object_from_file(path);
	if (!*idx || !json_object_is_type(*idx, json_type_object) ||
	    !json_object_object_get_ex(*idx, "manifests", &m) ||
	    !json_object_is_type(m, json_type_array)) {
		json_object_put(*idx);
		*idx = NULL;
		return fail(err, err_len, -EBADMSG,
			    "%s: not an OCI image index (no \"manifests\" array)",
			    path);
	}
	return 0;
}

int oci_index_store(const struct oci_layout *l, struct json_object *idx,
		    char *err, size_t err_len)
{
	const char *s = json_object_to_json_string_ext(idx,
						       JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	char tmp[64];
	int fd, ret;

	snprintf(tmp, sizeof(tmp), ".index.json.tmp-%d", (int)getpid());
	fd = openat(l->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return fail(err, err_len, -errno, "%s/%s: %s", l->path, tmp,
			    strerror(errno));
	ret = write_all(fd, s, strlen(s));
	if (!ret && fsync(fd))
		ret = -errno;
	close(fd);
	if (!ret && renameat(l->dirfd, tmp, l->dirfd, "index.json"))
		ret = -errno;
	if (!ret)
		ret = sync_dir(l, ".");
	if (ret) {
		unlinkat(l->dirfd, tmp, 0);
		return fail(err, err_len, ret, "%s/index.json: %s", l->path,
			    strerror(-ret));
	}
	return 0;
}

const char *oci_host_platform(void)
{
	static const struct {
		const char *uname, *oci;
	} arch[] = {
		{ "x86_64", "linux/amd64" }, { "aarch64", "linux/arm64" },
		{ "i686", "linux/386" }, { "armv7l", "linux/arm" },
		{ "ppc64le", "linux/ppc64le" }, { "s390x", "linux/s390x" },
		{ "riscv64", "linux/riscv64" },
	};
	static char other[80];
	struct utsname u;
	size_t i;

	if (uname(&u))
		return "linux/amd64";
	for (i = 0; i < sizeof(arch) / sizeof(arch[0]); i++)
		if (!strcmp(u.machine, arch[i].uname))
			return arch[i].oci;
	snprintf(other, sizeof(other), "linux/%.64s", u.machine);
	return other;
}

bool oci_is_index(const char *mt)
{
	return !strcmp(mt, OCI_MT_INDEX) || !strcmp(mt, DOCKER_MT_LIST);
}

bool oci_is_manifest(const char *mt)
{
	return !strcmp(mt, OCI_MT_MANIFEST) || !strcmp(mt, DOCKER_MT_MANIFEST);
}

/* "os/arch[/variant]" of a descriptor's "platform", in @buf. */
static void platform_of(struct json_object *desc, char *buf, size_t len)
{
	struct json_object *p;
	const char *os, *arch, *var;

	if (!json_object_object_get_ex(desc, "platform", &p)) {
		snprintf(buf, len, "unknown");
		return;
	}
	os = oci_str(p, "os");
	arch = oci_str(p, "architecture");
	var = oci_str(p, "variant");
	snprintf(buf, len, "%s/%s%s%s", os ? os : "?", arch ? arch : "?",
		 var ? "/" : "", var ? var : "");
}

/* Does @have ("os/arch/variant") satisfy @want ("os/arch[/variant]")? */
static bool platform_matches(const char *have, const char *want)
{
	size_t n = strlen(want);

	return !strncmp(have, want, n) && (!have[n] || have[n] == '/');
}

int oci_index_pick(struct json_object *idx, const char *platform,
			   const char *where, struct oci_desc *d,
			   char *err, size_t err_len)
{
	struct json_object *arr;
	char seen[512] = "", p[160];
	size_t i, n, used = 0;
	int ret;

	if (!json_object_object_get_ex(idx, "manifests", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return fail(err, err_len, -EBADMSG,
			    "%s: an image index without \"manifests\"", where);
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);

		platform_of(e, p, sizeof(p));
		if (platform_matches(p, platform)) {
			ret = oci_desc_parse(e, d, err, err_len);
			if (ret)
				return ret;
			if (!oci_is_manifest(d->media_type))
				return fail(err, err_len, -EBADMSG,
					    "%s: the %s entry is a %s, not an image manifest",
					    where, platform, d->media_type);
			return 0;
		}
		if (used < sizeof(seen))
			used += (size_t)snprintf(seen + used,
						 sizeof(seen) - used, "%s%s",
						 i ? ", " : "", p);
	}
	return fail(err, err_len, -ENOENT,
		    "%s has no image for %s (it has: %s); choose one with --platform",
		    where, platform, n ? seen : "nothing");
}

int oci_pick_manifest(const struct oci_layout *l, const char *tag,
		      const char *platform, struct oci_desc *d,
		      struct json_object **manifest, char *err,
		      size_t err_len)
{
	struct json_object *idx = NULL, *arr, *pick = NULL, *sub = NULL;
	char tags[512] = "";
	size_t i, n, used = 0, found = 0;
	int ret;

	*manifest = NULL;
	ret = oci_index_load(l, &idx, err, err_len);
	if (ret)
		return ret;
	json_object_object_get_ex(idx, "manifests", &arr);
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i), *an;
		const char *name = NULL;

		if (json_object_object_get_ex(e, "annotations", &an))
			name = oci_str(an, OCI_REF_NAME);
		if (name && used < sizeof(tags))
			used += (size_t)snprintf(tags + used,
						 sizeof(tags) - used, "%s%s",
						 used ? ", " : "", name);
		if (!tag || (name && !strcmp(name, tag))) {
			pick = e;
			found++;
		}
	}
	if (!found) {
		if (tag)
			ret = fail(err, err_len, -ENOENT,
				   "%s: no image tagged '%s' (tags: %s)",
				   l->path, tag, used ? tags : "none");
		else
			ret = fail(err, err_len, -ENOENT,
				   "%s: the layout holds no image", l->path);
		goto out;
	}
	if (found > 1) {
		ret = fail(err, err_len, -EINVAL,
			   "%s holds %zu images: name one as %s:TAG (tags: %s)",
			   l->path, found, l->path, used ? tags : "none");
		goto out;
	}
	ret = oci_desc_parse(pick, d, err, err_len);
	if (ret)
		goto out;
	if (oci_is_index(d->media_type)) {
		char where[4200];

		ret = oci_read_json(l, d, &sub, err, err_len);
		if (ret)
			goto out;
		snprintf(where, sizeof(where), "%s:%s", l->path,
			 tag ? tag : "");
		ret = oci_index_pick(sub, platform, where, d, err, err_len);
		if (ret)
			goto out;
	} else if (!oci_is_manifest(d->media_type)) {
		ret = fail(err, err_len, -EBADMSG,
			   "%s: the index names a %s, not an image", l->path,
			   d->media_type);
		goto out;
	}
	ret = oci_read_json(l, d, manifest, err, err_len);
out:
	json_object_put(sub);
	json_object_put(idx);
	return ret;
}
