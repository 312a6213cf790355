// SPDX-License-Identifier: GPL-2.0-only
/*
 * super.c - module entry points and file system type registration.
 */
#include <linux/module.h>
#include "internal.h"

static struct file_system_type incrfs_fs_type = {
	.owner		= THIS_MODULE,
	.name		= "incrfs",
	.kill_sb	= kill_anon_super,
};
MODULE_ALIAS_FS("incrfs");

static int __init incrfs_init(void)
{
	int err;

	err = register_filesystem(&incrfs_fs_type);
	if (err)
		return err;
	pr_info("registered\n");
	return 0;
}

static void __exit incrfs_exit(void)
{
	unregister_filesystem(&incrfs_fs_type);
}

module_init(incrfs_init);
module_exit(incrfs_exit);

MODULE_DESCRIPTION("incrfs: incremental, lazily loaded read-only file system");
MODULE_LICENSE("GPL");
