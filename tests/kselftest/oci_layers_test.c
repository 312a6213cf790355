// SPDX-License-Identifier: GPL-2.0-only
/*
 * oci_layers_test.c - two OCI layers packed with incrfs-pack --from-tar,
 * mounted and stacked under overlayfs as a container runtime stacks them.
 *
 * Why this exists: the point of --from-tar is that the mounted images are
 * usable as overlayfs lower layers in place of the extracted tars.  Layer 1
 * is a small root tree (files, symlinks, hard links, a fifo, xattrs);
 * layer 2 deletes a file and a directory of it (.wh.NAME), replaces files
 * (content, a symlink by a file), adds files and makes a directory opaque
 * (.wh..wh..opq).  Both are written by busybox tar (OCI whiteouts are
 * plain files), layer 1 gzip-compressed.  The reference is what OCI
 * extraction gives: extract layer 1, then for layer 2 delete every
 * whiteout's target and empty every opaque directory, extract it over the
 * result and drop the .wh.* files (and give symlinks back the mtime
 * busybox tar does not restore).  The overlay lowerdir=L2:L1 of the two
 * incrfs mounts must show exactly that tree.
 */
#include "harness.h"
#include "incrfs_util.h"

#define TOP "/tmp/oci"
/* busybox tar does not restore a symlink's mtime: all have this one */
#define LINK_TIME "2019-09-09 09:09:09"

/* The layers' source trees, as shell commands run in TOP. */
static const char layer1[] =
	"mkdir -p l1/etc l1/app/sub l1/opq/deep l1/gone/inner l1/lib && "
	"echo conf-v1 > l1/etc/conf && echo keep > l1/etc/keep && "
	"echo a-v1 > l1/app/a && echo b > l1/app/b && echo x > l1/app/sub/x && "
	"echo old1 > l1/opq/old1 && echo old2 > l1/opq/deep/old2 && "
	"echo inner > l1/gone/inner/f && echo bye > l1/del-me && "
	"head -c 300000 /dev/urandom > l1/lib/libbig.so && "
	"ln l1/lib/libbig.so l1/lib/libbig.so.1 && ln -s libbig.so l1/lib/link && "
	"ln -s ../etc/conf l1/app/conf-link && mkfifo l1/app/fifo && "
	"chmod 0700 l1/opq && chmod 4755 l1/app/b && chown 12:34 l1/app/a && "
	"setfattr -n user.layer -v one l1/etc/keep 2>/dev/null; "
	"touch -d '2020-01-02 03:04:05' l1/etc/conf l1/app/b && "
	"touch -h -d '" LINK_TIME "' l1/lib/link l1/app/conf-link";

static const char layer2[] =
	"mkdir -p l2/etc l2/app/sub l2/opq l2/new && "
	"touch l2/.wh.del-me l2/.wh.gone l2/app/sub/.wh.x l2/opq/.wh..wh..opq && "
	"echo conf-v2-longer > l2/etc/conf && echo a-v2 > l2/app/a && "
	"echo now-a-file > l2/app/conf-link && echo fresh > l2/opq/fresh && "
	"echo new > l2/new/file && head -c 70000 /dev/urandom > l2/etc/blob && "
	"chmod 0750 l2/opq && touch -d '2021-05-06 07:08:09' l2/etc/conf";

static int setup(void)
{
	if (access(TOP "/ready", F_OK) == 0)
		return 0;
	if (iu_sh("rm -rf " TOP " && mkdir -p " TOP " && cd " TOP " && %s && %s",
		  layer1, layer2) ||
	    iu_sh("cd " TOP "/l1 && tar -czf ../l1.tar.gz .") ||
	    iu_sh("cd " TOP "/l2 && tar -cf ../l2.tar .") ||
	    iu_sh("incrfs-pack --full --from-tar " TOP "/l1.tar.gz " TOP "/l1.img") ||
	    iu_sh("incrfs-pack --full --from-tar " TOP "/l2.tar " TOP "/l2.img"))
		return -1;
	return iu_write_file(TOP "/ready", "", 0, 0644);
}

/*
 * The reference: OCI extraction of both layers into TOP/ref.  Whiteouts
 * apply to the layers below only, so they are applied before layer 2 is
 * extracted, and the .wh.* files it brings are removed afterwards.
 */
static int extract_reference(void)
{
	return iu_sh("set -e; cd " TOP " && rm -rf ref && mkdir ref && "
		     "tar -xzf l1.tar.gz -C ref && "
		     "tar -tf l2.tar | while read -r p; do "
		     "  p=${p#./}; d=$(dirname \"$p\"); n=$(basename \"$p\"); "
		     "  case \"$n\" in "
		     "  .wh..wh..opq) find \"ref/$d\" -mindepth 1 -maxdepth 1 "
		     "                -exec rm -rf {} + ;; "
		     "  .wh.*) rm -rf \"ref/$d/${n#.wh.}\" ;; "
		     "  esac; "
		     "done && "
		     "tar -xf l2.tar -C ref && "
		     "find ref -name '.wh.*' -exec rm -rf {} + && "
		     "find ref -type l -exec touch -h -d '" LINK_TIME "' {} +");
}

FIXTURE(layers) {
	int mounted;
};

FIXTURE_SETUP(layers)
{
	ASSERT_EQ(setup(), 0);
	iu_sh("mkdir -p " TOP "/m1 " TOP "/m2 " TOP "/merged");
	ASSERT_EQ(iu_mount(TOP "/l1.img", TOP "/m1", "timeout=2000"), 0)
		TH_LOG("mount l1: %s", strerror(errno));
	ASSERT_EQ(iu_mount(TOP "/l2.img", TOP "/m2", "timeout=2000"), 0)
		TH_LOG("mount l2: %s", strerror(errno));
	ASSERT_EQ(mount("overlay", TOP "/merged", "overlay", MS_RDONLY,
			"lowerdir=" TOP "/m2:" TOP "/m1"), 0)
		TH_LOG("mount overlay: %s", strerror(errno));
	self->mounted = 1;
}

FIXTURE_TEARDOWN(layers)
{
	umount2(TOP "/merged", MNT_DETACH);
	umount2(TOP "/m2", MNT_DETACH);
	umount2(TOP "/m1", MNT_DETACH);
}

TEST_F(layers, merged_view_equals_oci_extraction)
{
	ASSERT_EQ(extract_reference(), 0);
	ASSERT_EQ(iu_cmp_tree(TOP "/ref", TOP "/merged"), 0)
		TH_LOG("ref -> merged: %s", iu_diff);
	ASSERT_EQ(iu_cmp_tree(TOP "/merged", TOP "/ref"), 0)
		TH_LOG("merged -> ref: %s", iu_diff);
	ASSERT_EQ(iu_count_entries(TOP "/merged"), iu_count_entries(TOP "/ref"));
}

TEST_F(layers, whiteouts_and_opaque_dir_take_effect)
{
	struct stat st;
	char v[8];

	/* deleted by layer 2 */
	ASSERT_EQ(lstat(TOP "/merged/del-me", &st), -1);
	ASSERT_EQ(errno, ENOENT);
	ASSERT_EQ(lstat(TOP "/merged/gone", &st), -1);
	ASSERT_EQ(lstat(TOP "/merged/app/sub/x", &st), -1);
	ASSERT_EQ(lstat(TOP "/merged/app/sub", &st), 0);
	/* opaque: layer 1's content of opq is hidden */
	ASSERT_EQ(lstat(TOP "/merged/opq/old1", &st), -1);
	ASSERT_EQ(lstat(TOP "/merged/opq/deep", &st), -1);
	ASSERT_EQ(lstat(TOP "/merged/opq/fresh", &st), 0);
	ASSERT_EQ(iu_count_entries(TOP "/merged/opq"), 1);
	/* in layer 2's own mount: the whiteout and the opaque mark */
	ASSERT_EQ(lstat(TOP "/m2/del-me", &st), 0);
	ASSERT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == 0);
	ASSERT_EQ(lstat(TOP "/m2/.wh.del-me", &st), -1);
	ASSERT_EQ(getxattr(TOP "/m2/opq", "trusted.overlay.opaque", v, sizeof(v)), 1);
	ASSERT_EQ(v[0], 'y');
	/* replaced and kept */
	ASSERT_EQ(iu_sh("grep -qx conf-v2-longer " TOP "/merged/etc/conf"), 0);
	ASSERT_EQ(iu_sh("grep -qx keep " TOP "/merged/etc/keep"), 0);
	ASSERT_EQ(lstat(TOP "/merged/app/conf-link", &st), 0);
	ASSERT_TRUE(S_ISREG(st.st_mode));
	ASSERT_EQ(iu_sh("cmp " TOP "/l1/lib/libbig.so " TOP "/merged/lib/libbig.so.1"), 0);
}

TEST_HARNESS_MAIN
