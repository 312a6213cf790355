// SPDX-License-Identifier: GPL-2.0-only
/*
 * bundle.c - the OCI runtime configuration (config.json) that starts a
 * pulled image with crun or runc.
 *
 * Why this exists: an OCI runtime runs a bundle (a root file system and a
 * config.json), not an image; what docker or podman would derive from the
 * image config (command, environment, working directory, user) has to be
 * written down.  The rest is the runtime spec's usual default: new pid,
 * network, ipc, uts and mount namespaces, /proc, /dev, /sys, the
 * capabilities docker grants, masked and read-only kernel paths.
 */
#include "pull.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const default_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
	"CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
	"CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
};

static const char *const masked[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	"/proc/sched_debug", "/proc/scsi", "/sys/firmware",
};

static const char *const readonly[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
	"/proc/sysrq-trigger",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct json_object *str_array(const char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static void add_mount(struct json_object *mounts, const char *dest,
		      const char *type, const char *src, const char *opts)
{
	struct json_object *m = json_object_new_object(), *o;
	char *copy = strdup(opts), *tok, *save = NULL;

	json_object_object_add(m, "destination", json_object_new_string(dest));
	json_object_object_add(m, "type", json_object_new_string(type));
	json_object_object_add(m, "source", json_object_new_string(src));
	o = json_object_new_array();
	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok;
	     tok = strtok_r(NULL, ",", &save))
		json_object_array_add(o, json_object_new_string(tok));
	free(copy);
	json_object_object_add(m, "options", o);
	json_object_array_add(mounts, m);
}

/*
 * The id of @name in the colon-separated file @rel of the image (field 3:
 * the uid in passwd, the gid in group); with @gid, passwd's field 4 too.
 */
static int lookup_id(int dirfd, const char *rel, const char *name,
		     long *id, long *gid)
{
	char line[1024];
	FILE *f;
	int fd, ret = -ENOENT;

	fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *f1 = strtok_r(line, ":", &save);
		char *f3, *f4;

		if (!f1 || strcmp(f1, name))
			continue;
		strtok_r(NULL, ":", &save);
		f3 = strtok_r(NULL, ":", &save);
		f4 = strtok_r(NULL, ":", &save);
		if (!f3)
			break;
		*id = strtol(f3, NULL, 10);
		if (gid && f4)
			*gid = strtol(f4, NULL, 10);
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

static bool numeric(const char *s, long *v)
{
	char *end;

	if (!*s)
		return false;
	errno = 0;
	*v = strtol(s, &end, 10);
	return !*end && !errno && *v >= 0 && *v <= 0xfffffffeL;
}

/* "user[:group]" (names or ids) of the image config -> uid, gid. */
static int resolve_user(int dirfd, const char *spec, long *uid, long *gid,
			char *err, size_t err_len)
{
	char *copy = strdup(spec), *group;
	int ret = 0;

	*uid = *gid = 0;
	if (!copy)
		return -ENOMEM;
	group = strchr(copy, ':');
	if (group)
		*group++ = 0;
	if (*copy && !numeric(copy, uid) &&
	    lookup_id(dirfd, "rootfs/etc/passwd", copy, uid, gid)) {
		snprintf(err, err_len,
			 "the image's user '%.64s' is not in its /etc/passwd",
			 copy);
		ret = -ENOENT;
	} else if (!ret && group && *group && !numeric(group, gid) &&
		   lookup_id(dirfd, "rootfs/etc/group", group, gid, NULL)) {
		snprintf(err, err_len,
			 "the image's group '%.64s' is not in its /etc/group",
			 group);
		ret = -ENOENT;
	}
	free(copy);
	return ret;
}

static void append_strings(struct json_object *to, struct json_object *from)
{
	size_t i;

	if (!from || !json_object_is_type(from, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(from); i++) {
		struct json_object *s = json_object_array_get_idx(from, i);

		if (json_object_is_type(s, json_type_string))
			json_object_array_add(to, json_object_get(s));
	}
}

int bundle_write(int dirfd, struct json_object *config, char *const *cmd,
		 int ncmd, char *err, size_t err_len)
{
	struct json_object *c = NULL, *v, *spec, *proc, *args, *env, *user;
	struct json_object *caps, *mounts, *linux_, *ns, *o;
	static const char *const nss[] = { "pid", "network", "ipc", "uts",
					   "mount" };
	const char *s, *text;
	bool has_path = false;
	long uid, gid;
	size_t i;
	int fd, ret;

	json_object_object_get_ex(config, "config", &c);

	spec = json_object_new_object();
	json_object_object_add(spec, "ociVersion",
			       json_object_new_string("1.0.2"));
	proc = json_object_new_object();
	json_object_object_add(spec, "process", proc);
	json_object_object_add(proc, "terminal", json_object_new_boolean(0));

	s = c ? (json_object_object_get_ex(c, "User", &v) ?
		 json_object_get_string(v) : NULL) : NULL;
	ret = resolve_user(dirfd, s ? s : "", &uid, &gid, err, err_len);
	if (ret)
		goto out;
	user = json_object_new_object();
	json_object_object_add(user, "uid", json_object_new_int64(uid));
	json_object_object_add(user, "gid", json_object_new_int64(gid));
	json_object_object_add(proc, "user", user);

	args = json_object_new_array();
	if (c && json_object_object_get_ex(c, "Entrypoint", &v))
		append_strings(args, v);
	if (ncmd > 0) {
		for (i = 0; i < (size_t)ncmd; i++)
			json_object_array_add(args,
					      json_object_new_string(cmd[i]));
	} else if (c && json_object_object_get_ex(c, "Cmd", &v)) {
		append_strings(args, v);
	}
	if (!json_object_array_length(args)) {
		json_object_put(args);
		snprintf(err, err_len,
			 "the image names no command (no Entrypoint or Cmd): give one after --");
		ret = -EINVAL;
		goto out;
	}
	json_object_object_add(proc, "args", args);

	env = json_object_new_array();
	if (c && json_object_object_get_ex(c, "Env", &v))
		append_strings(env, v);
	for (i = 0; i < json_object_array_length(env); i++)
		if (!strncmp(json_object_get_string(
				json_object_array_get_idx(env, i)), "PATH=", 5))
			has_path = true;
	if (!has_path)
		json_object_array_add(env, json_object_new_string(
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
	json_object_object_add(proc, "env", env);

	s = NULL;
	if (c && json_object_object_get_ex(c, "WorkingDir", &v))
		s = json_object_get_string(v);
	json_object_object_add(proc, "cwd",
			       json_object_new_string(s && *s == '/' ? s : "/"));

	caps = json_object_new_object();
	json_object_object_add(caps, "bounding", str_array(default_caps,
							    N(default_caps)));
	json_object_object_add(caps, "effective", str_array(default_caps,
							     N(default_caps)));
	json_object_object_add(caps, "permitted", str_array(default_caps,
							     N(default_caps)));
	json_object_object_add(proc, "capabilities", caps);
	o = json_object_new_object();
	json_object_object_add(o, "type",
			       json_object_new_string("RLIMIT_NOFILE"));
	json_object_object_add(o, "hard", json_object_new_int(1024));
	json_object_object_add(o, "soft", json_object_new_int(1024));
	v = json_object_new_array();
	json_object_array_add(v, o);
	json_object_object_add(proc, "rlimits", v);
	json_object_object_add(proc, "noNewPrivileges",
			       json_object_new_boolean(1));

	o = json_object_new_object();
	json_object_object_add(o, "path", json_object_new_string("rootfs"));
	json_object_object_add(o, "readonly", json_object_new_boolean(0));
	json_object_object_add(spec, "root", o);
	json_object_object_add(spec, "hostname",
			       json_object_new_string("incrfs"));

	mounts = json_object_new_array();
	add_mount(mounts, "/proc", "proc", "proc", "nosuid,noexec,nodev");
	add_mount(mounts, "/dev", "tmpfs", "tmpfs",
		  "nosuid,strictatime,mode=755,size=65536k");
	add_mount(mounts, "/dev/pts", "devpts", "devpts",
		  "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620");
	add_mount(mounts, "/dev/shm", "tmpfs", "shm",
		  "nosuid,noexec,nodev,mode=1777,size=65536k");
	add_mount(mounts, "/dev/mqueue", "mqueue", "mqueue",
		  "nosuid,noexec,nodev");
	add_mount(mounts, "/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro");
	json_object_object_add(spec, "mounts", mounts);

	linux_ = json_object_new_object();
	ns = json_object_new_array();
	for (i = 0; i < N(nss); i++) {
		o = json_object_new_object();
		json_object_object_add(o, "type",
				       json_object_new_string(nss[i]));
		json_object_array_add(ns, o);
	}
	json_object_object_add(linux_, "namespaces", ns);
	json_object_object_add(linux_, "maskedPaths",
			       str_array(masked, N(masked)));
	json_object_object_add(linux_, "readonlyPaths",
			       str_array(readonly, N(readonly)));
	json_object_object_add(spec, "linux", linux_);

	text = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	fd = openat(dirfd, "config.json",
		    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    write(fd, "\n", 1) != 1) {
		ret = -errno;
		snprintf(err, err_len, "config.json: %s", strerror(errno));
	}
	if (fd >= 0)
		close(fd);
out:
	json_object_put(spec);
	return ret;
}
