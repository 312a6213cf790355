// SPDX-License-Identifier: GPL-2.0-only
/*
 * node_state.c - what outlives one run of incrfsd --node: the list of its
 * mounts (DIR/mounts.json) and their control fds in systemd's fd store.
 *
 * Why this exists: a node daemon that is restarted (upgraded, crashed,
 * killed) must serve every mount it served, and no reader waiting
 * meanwhile may be lost.  The list says which mounts with which options;
 * the control fds come back from systemd ($LISTEN_FDS, FDNAME=m<id>) if
 * it kept them, so no privilege is needed, or are opened anew (which
 * needs CAP_SYS_ADMIN).  A kept fd was open all along, so the records its
 * previous holder read but did not serve are asked for again
 * (INCRFS_IOC_REPLAY); a newly opened one gets them from the kernel.
 *
 * The file: {"mounts": [{"id": N, "mount": PATH, "args": [OPTION...]}]}
 */
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "json_add.h"
#include "log.h"
#include "notify.h"
#include "number.h"

/* systemd passes the fds it kept from 3 on (SD_LISTEN_FDS_START) */
#define LISTEN_FDS_START	3

static struct json_object *mount_entry(const struct node_mount *m)
{
	struct json_object *o = json_object_new_object(), *a;
	unsigned int i;

	if (!o)
		return NULL;
	a = json_object_new_array();
	if (incrfs_json_add(o, "id", json_object_new_int64(m->id)) ||
	    incrfs_json_add(o, "mount", json_object_new_string(m->mount)) ||
	    incrfs_json_add(o, "args", a))
		goto fail;
	for (i = 0; i < m->nargs; i++)
		if (json_object_array_add(a, json_object_new_string(m->args[i])))
			goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}

int node_state_save(struct node *n)
{
	struct json_object *o = json_object_new_object(), *a, *e;
	char tmp[sizeof(n->state_file) + 8];
	unsigned int i;
	int ret = -ENOMEM;

	a = json_object_new_array();
	if (!o || incrfs_json_add(o, "mounts", a))
		goto out;
	json_object_object_get_ex(o, "mounts", &a);
	for (i = 0; i < n->nr; i++) {
		const struct node_mount *m = n->m[i];

		/* only what serves: a failed attach is not tried again */
		if (!m->announced || atomic_load(&m->state) == MOUNT_ENDED)
			continue;
		e = mount_entry(m);
		if (!e || json_object_array_add(a, e)) {
			json_object_put(e);
			goto out;
		}
	}
	snprintf(tmp, sizeof(tmp), "%s.new", n->state_file);
	ret = json_object_to_file_ext(tmp, o, JSON_C_TO_STRING_PRETTY |
				      JSON_C_TO_STRING_NOSLASHESCAPE) ?
		-EIO : 0;
	if (!ret && rename(tmp, n->state_file))
		ret = -errno;
	if (ret)
		unlink(tmp);
out:
	json_object_put(o);
	return ret;
}

/* The fds systemd kept for us, by name; *@names is freed by the caller. */
static unsigned int listen_fds(char **names_out, char ***names)
{
	const char *pid = getenv("LISTEN_PID"), *nfds = getenv("LISTEN_FDS");
	const char *fdnames = getenv("LISTEN_FDNAMES");
	uint64_t p, nr;
	unsigned int i;
	char *s, *save = NULL, *tok;

	*names_out = NULL;
	*names = NULL;
	if (!pid || !nfds || incrfs_parse_u64(pid, UINT32_MAX, &p) ||
	    p != (uint64_t)getpid() || incrfs_parse_u64(nfds, 4096, &nr) ||
	    !nr)
		return 0;
	s = strdup(fdnames ? fdnames : "");
	*names = calloc(nr, sizeof(**names));
	if (!s || !*names) {
		free(s);
		free(*names);
		*names = NULL;
		log_err("out of memory taking the fds systemd kept");
		return 0;
	}
	for (i = 0, tok = strtok_r(s, ":", &save); tok && i < nr;
	     i++, tok = strtok_r(NULL, ":", &save))
		(*names)[i] = tok;
	for (i = 0; i < nr; i++)
		fcntl(LISTEN_FDS_START + (int)i, F_SETFD, FD_CLOEXEC);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	*names_out = s;
	return (unsigned int)nr;
}

/* Open @mount's control channel anew (needs CAP_SYS_ADMIN). */
static int open_control(const char *mount, char *why, size_t why_len)
{
	int root = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;

	if (root < 0) {
		snprintf(why, why_len, "%s", strerror(errno));
		return -1;
	}
	fd = ioctl(root, INCRFS_IOC_OPEN_CONTROL);
	if (fd < 0)
		snprintf(why, why_len, "INCRFS_IOC_OPEN_CONTROL: %s%s",
			 strerror(errno), errno == ENOTTY ?
			 " (no longer an incrfs mount)" : errno == EPERM ?
			 " (give incrfsd CAP_SYS_ADMIN, or run it under systemd with FileDescriptorStoreMax=)" :
			 "");
	close(root);
	return fd;
}

/* The control fd of entry @id at @mount: systemd's, or opened anew. */
static int control_fd_of(unsigned int id, const char *mount, char **names,
			 unsigned int nr_kept, bool *kept_used, char *why,
			 size_t why_len)
{
	char name[32];
	unsigned int i;
	int fd;

	snprintf(name, sizeof(name), "m%u", id);
	for (i = 0; i < nr_kept; i++) {
		if (kept_used[i] || !names[i] || strcmp(names[i], name))
			continue;
		kept_used[i] = true;
		fd = LISTEN_FDS_START + (int)i;
		if (ioctl(fd, INCRFS_IOC_REPLAY) < 0) {
			snprintf(why, why_len, "the fd systemd kept: INCRFS_IOC_REPLAY: %s",
				 strerror(errno));
			close(fd);
			return -1;
		}
		return fd;
	}
	return open_control(mount, why, why_len);
}

/* Forget kept fd @name in systemd's fd store. */
static void store_remove(const char *name)
{
	char state[64];

	if (!name)
		return;
	snprintf(state, sizeof(state), "FDSTOREREMOVE=1\nFDNAME=%s", name);
	incrfsd_notify(state);
}

/* Take back the control fd of entry @e of the file, for later. */
static void restore_one(struct node *n, struct json_object *e, char **names,
			unsigned int nr_kept, bool *kept_used)
{
	struct json_object *id, *mount, *args, *v;
	struct node_restored *r;
	char why[512], name[32];
	size_t i, nargs;
	unsigned int k;
	int fd;

	if (!json_object_object_get_ex(e, "id", &id) ||
	    !json_object_is_type(id, json_type_int) ||
	    json_object_get_int64(id) <= 0 ||
	    json_object_get_int64(id) >= UINT32_MAX ||
	    !json_object_object_get_ex(e, "mount", &mount) ||
	    !json_object_is_type(mount, json_type_string) ||
	    json_object_get_string(mount)[0] != '/' ||
	    !json_object_object_get_ex(e, "args", &args) ||
	    !json_object_is_type(args, json_type_array) ||
	    json_object_array_length(args) > NODE_ARGS_MAX) {
		log_err("%s: an entry is malformed: left out", n->state_file);
		return;
	}
	nargs = json_object_array_length(args);
	for (i = 0; i < nargs; i++)
		if (!json_object_is_type(json_object_array_get_idx(args, i),
					 json_type_string)) {
			log_err("%s: an entry is malformed: left out",
				n->state_file);
			return;
		}
	/* an id of the last run is never given to a new mount */
	if ((unsigned int)json_object_get_int64(id) >= n->next_id)
		n->next_id = (unsigned int)json_object_get_int64(id) + 1;
	fd = control_fd_of((unsigned int)json_object_get_int64(id),
			   json_object_get_string(mount), names, nr_kept,
			   kept_used, why, sizeof(why));
	if (fd < 0) {
		log_err("%s: cannot serve it again: %s; left out",
			json_object_get_string(mount), why);
		snprintf(name, sizeof(name), "m%u",
			 (unsigned int)json_object_get_int64(id));
		store_remove(name);
		return;
	}
	r = reallocarray(n->restored, n->nr_restored + 1, sizeof(*r));
	if (!r)
		goto oom;
	n->restored = r;
	r = &n->restored[n->nr_restored];
	memset(r, 0, sizeof(*r));
	r->id = (unsigned int)json_object_get_int64(id);
	r->fd = fd;
	r->mount = strdup(json_object_get_string(mount));
	r->args = calloc(nargs ? nargs : 1, sizeof(*r->args));
	if (!r->mount || !r->args)
		goto oom_entry;
	for (i = 0; i < nargs; i++) {
		v = json_object_array_get_idx(args, i);
		r->args[i] = strdup(json_object_get_string(v));
		if (!r->args[i])
			goto oom_entry;
		r->nargs++;
	}
	for (k = 0; k < nr_kept; k++)
		if (LISTEN_FDS_START + (int)k == fd)
			r->kept = true;
	n->nr_restored++;
	return;
oom_entry:
	for (k = 0; k < r->nargs; k++)
		free(r->args[k]);
	free(r->args);
	free(r->mount);
oom:
	log_err("%s: out of memory; left out", json_object_get_string(mount));
	close(fd);
}

void node_state_start(struct node *n)
{
	char why[512], name[32];
	unsigned int i, k;

	for (i = 0; i < n->nr_restored; i++) {
		struct node_restored *r = &n->restored[i];

		if (node_attach(n, r->id, r->mount,
				(char *const *)r->args, r->nargs, r->fd, -1,
				why, sizeof(why))) {
			log_err("%s: cannot serve it again: %s; left out",
				r->mount, why);
			close(r->fd);
			snprintf(name, sizeof(name), "m%u", r->id);
			store_remove(name);
		} else {
			log_info("%s: attached again, as in the last run%s",
				 r->mount, r->kept ?
				 " (its control fd kept by systemd)" : "");
		}
		for (k = 0; k < r->nargs; k++)
			free(r->args[k]);
		free(r->args);
		free(r->mount);
	}
	free(n->restored);
	n->restored = NULL;
	n->nr_restored = 0;
}

void node_state_restore(struct node *n)
{
	struct json_object *o, *a;
	char **names, *names_buf;
	unsigned int nr_kept, i;
	bool *kept_used;
	size_t k;

	nr_kept = listen_fds(&names_buf, &names);
	kept_used = calloc(nr_kept ? nr_kept : 1, sizeof(*kept_used));
	if (access(n->state_file, F_OK)) {
		o = NULL;
	} else {
		o = json_object_from_file(n->state_file);
		if (!o)
			log_err("%s: not JSON (%s): no mount is served again",
				n->state_file, json_util_get_last_err());
	}
	if (o && kept_used &&
	    json_object_object_get_ex(o, "mounts", &a) &&
	    json_object_is_type(a, json_type_array))
		for (k = 0; k < json_object_array_length(a); k++)
			restore_one(n, json_object_array_get_idx(a, k), names,
				    nr_kept, kept_used);
	/* kept fds of mounts no longer listed: let them go */
	for (i = 0; i < nr_kept; i++) {
		if (kept_used && kept_used[i])
			continue;
		close(LISTEN_FDS_START + (int)i);
		store_remove(names ? names[i] : NULL);
	}
	json_object_put(o);
	free(kept_used);
	free(names);
	free(names_buf);
}

void node_fd_store(struct node_mount *m, bool keep)
{
	char state[64];
	int ret;

	if (!getenv("NOTIFY_SOCKET"))
		return;
	if (keep) {
		snprintf(state, sizeof(state), "FDSTORE=1\nFDNAME=m%u", m->id);
		ret = incrfsd_notify_fd(state, m->keep_fd);
	} else {
		snprintf(state, sizeof(state), "FDSTOREREMOVE=1\nFDNAME=m%u",
			 m->id);
		ret = incrfsd_notify(state);
	}
	if (ret)
		log_warn("%s: systemd's fd store: %s", m->mount, strerror(-ret));
}
