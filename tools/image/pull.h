/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pull.h - what incrfs-image pull leaves in its directory, and what
 * umount and the runtime bundle need of it.
 *
 * Why this exists: pull mounts file systems and starts feeders that
 * outlive it; DIR/incrfs-pull.json records every one as soon as it exists,
 * so that umount (or pull itself, when a later step fails) undoes exactly
 * what was done.
 *
 * DIR/
 *   incrfs-pull.json     the state: source, manifest, layers, rootfs
 *   layers/N/image       layer N's incrfs image (bottom layer first);
 *                        the blocks read so far are filled in it
 *   layers/N/mnt         its incrfs mount
 *   layers/N/incrfsd.log its feeder's messages
 *   upper/, work/        the container's writable layer (overlayfs)
 *   rootfs/              the overlay of the layers: the container's root
 *   config.json          the OCI runtime configuration (crun, runc)
 */
#ifndef INCRFS_PULL_H
#define INCRFS_PULL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define PULL_STATE	"incrfs-pull.json"

/*
 * The state of @dir (DIR/incrfs-pull.json), with @layers pointing at its
 * array of layers; NULL with @err if there is none or it is not a pull's.
 * json_object_put() it.
 */
struct json_object *pull_state_load(const char *dir,
				    struct json_object **layers, char *err,
				    size_t err_len);

/*
 * Undo what the state of @dir (open at @dirfd) records: unmount rootfs,
 * stop each feeder, unmount each layer; the state file goes last.  0, or
 * -errno with @err (e.g. -EBUSY: a container still uses rootfs).
 */
int pull_undo(int dirfd, const char *dir, bool quiet, char *err,
	      size_t err_len);

/*
 * Write @dirfd/config.json: an OCI runtime configuration that runs the
 * image config @config (Entrypoint, Cmd, Env, WorkingDir, User) on the
 * root file system "rootfs", in new namespaces, with the default
 * capabilities of docker and podman.  @cmd (@ncmd strings), if @ncmd > 0,
 * replaces the image's Cmd.  User names are looked up in the image's
 * /etc/passwd and /etc/group (through rootfs).
 */
int bundle_write(int dirfd, struct json_object *config, char *const *cmd,
		 int ncmd, char *err, size_t err_len);

#endif
