// SPDX-License-Identifier: GPL-2.0-only
/*
 * sysfs.c - per-mount counters in /sys/fs/incrfs/<major:minor>/, the same
 * numbers INCRFS_IOC_GET_STATS returns, for monitoring without ioctls.
 * The directory is named after the mount's anonymous device, as st_dev of
 * its files shows it.
 */
#include <linux/kobject.h>
#include <linux/sysfs.h>
#include "internal.h"

static struct kset *incrfs_kset;

struct incrfs_attr {
	struct attribute attr;
	size_t offset;		/* in struct incrfs_stats */
	bool is_u32;
};

#define INCRFS_STAT_ATTR(_name, _u32)					\
	static struct incrfs_attr incrfs_attr_##_name = {		\
		.attr = { .name = #_name, .mode = 0444 },		\
		.offset = offsetof(struct incrfs_stats, _name),		\
		.is_u32 = _u32,						\
	}

INCRFS_STAT_ATTR(blocks_total, false);
INCRFS_STAT_ATTR(blocks_present, false);
INCRFS_STAT_ATTR(misses, false);
INCRFS_STAT_ATTR(waits, false);
INCRFS_STAT_ATTR(timeouts, false);
INCRFS_STAT_ATTR(wait_ns, false);
INCRFS_STAT_ATTR(fills, false);
INCRFS_STAT_ATTR(hash_failures, false);
INCRFS_STAT_ATTR(fills_lost, false);
INCRFS_STAT_ATTR(image_reads_direct, false);
INCRFS_STAT_ATTR(image_reads_buffered, false);
INCRFS_STAT_ATTR(complete, true);
INCRFS_STAT_ATTR(feeder_attached, true);

static struct attribute *incrfs_attrs[] = {
	&incrfs_attr_blocks_total.attr,
	&incrfs_attr_blocks_present.attr,
	&incrfs_attr_misses.attr,
	&incrfs_attr_waits.attr,
	&incrfs_attr_timeouts.attr,
	&incrfs_attr_wait_ns.attr,
	&incrfs_attr_fills.attr,
	&incrfs_attr_hash_failures.attr,
	&incrfs_attr_fills_lost.attr,
	&incrfs_attr_image_reads_direct.attr,
	&incrfs_attr_image_reads_buffered.attr,
	&incrfs_attr_complete.attr,
	&incrfs_attr_feeder_attached.attr,
	NULL,
};
ATTRIBUTE_GROUPS(incrfs);

static ssize_t incrfs_attr_show(struct kobject *kobj, struct attribute *attr,
				char *buf)
{
	struct incrfs_sb_info *sbi = container_of(kobj, struct incrfs_sb_info,
						  kobj);
	struct incrfs_attr *a = container_of(attr, struct incrfs_attr, attr);
	struct incrfs_stats st = {};
	void *field;

	incrfs_get_stats(sbi, &st);
	field = (u8 *)&st + a->offset;
	if (a->is_u32)
		return sysfs_emit(buf, "%u\n", *(u32 *)field);
	return sysfs_emit(buf, "%llu\n", *(u64 *)field);
}

static const struct sysfs_ops incrfs_sysfs_ops = {
	.show	= incrfs_attr_show,
};

static void incrfs_kobj_release(struct kobject *kobj)
{
	struct incrfs_sb_info *sbi = container_of(kobj, struct incrfs_sb_info,
						  kobj);

	complete(&sbi->kobj_released);
}

static const struct kobj_type incrfs_ktype = {
	.default_groups	= incrfs_groups,
	.sysfs_ops	= &incrfs_sysfs_ops,
	.release	= incrfs_kobj_release,
};

int incrfs_sysfs_register(struct incrfs_sb_info *sbi)
{
	int err;

	init_completion(&sbi->kobj_released);
	sbi->kobj.kset = incrfs_kset;
	err = kobject_init_and_add(&sbi->kobj, &incrfs_ktype, NULL, "%u:%u",
				   MAJOR(sbi->sb->s_dev),
				   MINOR(sbi->sb->s_dev));
	if (err) {
		kobject_put(&sbi->kobj);
		wait_for_completion(&sbi->kobj_released);
		return err;
	}
	sbi->kobj_added = true;
	return 0;
}

void incrfs_sysfs_unregister(struct incrfs_sb_info *sbi)
{
	if (!sbi->kobj_added)
		return;
	kobject_del(&sbi->kobj);
	kobject_put(&sbi->kobj);
	wait_for_completion(&sbi->kobj_released);
	sbi->kobj_added = false;
}

int __init incrfs_sysfs_init(void)
{
	incrfs_kset = kset_create_and_add("incrfs", NULL, fs_kobj);
	return incrfs_kset ? 0 : -ENOMEM;
}

void incrfs_sysfs_exit(void)
{
	kset_unregister(incrfs_kset);
}
