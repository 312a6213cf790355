// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioctl.c - ioctls on the files and directories of a mount: get the
 * control fd, the filled ranges of a file, the mount's counters, the
 * per-uid read timeouts and the access log.
 */
#include <linux/uaccess.h>
#include <linux/slab.h>
#include "internal.h"

/* the first version of the struct ends where fills_lost starts */
static_assert(offsetof(struct incrfs_stats, fills_lost) ==
	      INCRFS_STATS_SIZE_VER0);

/*
 * True if @cmd is INCRFS_IOC_GET_STATS encoded with any size: the struct
 * grows at its end, and callers built against another header version
 * pass their size in the command.
 */
bool incrfs_ioc_is_get_stats(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == _IOC_TYPE(INCRFS_IOC_GET_STATS) &&
	       _IOC_NR(cmd) == _IOC_NR(INCRFS_IOC_GET_STATS) &&
	       _IOC_DIR(cmd) == _IOC_DIR(INCRFS_IOC_GET_STATS);
}

/*
 * Copies the fields the caller's struct has room for, and zeroes what
 * it has beyond ours, so every byte of @usize is defined.
 */
long incrfs_ioc_get_stats(struct incrfs_sb_info *sbi, unsigned int cmd,
			  struct incrfs_stats __user *uarg)
{
	size_t usize = _IOC_SIZE(cmd);
	struct incrfs_stats st = {};
	size_t n = min(usize, sizeof(st));

	if (usize < INCRFS_STATS_SIZE_VER0)
		return -EINVAL;
	incrfs_get_stats(sbi, &st);
	if (copy_to_user(uarg, &st, n))
		return -EFAULT;
	if (usize > n && clear_user((char __user *)uarg + n, usize - n))
		return -EFAULT;
	return 0;
}

void incrfs_get_stats(struct incrfs_sb_info *sbi, struct incrfs_stats *st)
{
	st->blocks_total = sbi->nr_blocks;
	st->blocks_present = atomic64_read(&sbi->nr_present);
	st->misses = atomic64_read(&sbi->stats.misses);
	st->waits = atomic64_read(&sbi->stats.waits);
	st->timeouts = atomic64_read(&sbi->stats.timeouts);
	st->wait_ns = atomic64_read(&sbi->stats.wait_ns);
	st->fills = atomic64_read(&sbi->stats.fills);
	st->hash_failures = atomic64_read(&sbi->stats.hash_failures);
	st->fills_lost = atomic64_read(&sbi->stats.fills_lost);
	st->image_reads_direct = atomic64_read(&sbi->stats.image_reads_direct);
	st->image_reads_buffered =
		atomic64_read(&sbi->stats.image_reads_buffered);
	st->complete = st->blocks_present == st->blocks_total;
	/* a snapshot: the feeder may come or go right after */
	st->feeder_attached = READ_ONCE(sbi->control_open);
}

long incrfs_ioc_get_info(struct incrfs_sb_info *sbi,
			 struct incrfs_info __user *uarg)
{
	struct incrfs_info info = {};

	memcpy(info.root_hash, sbi->root_hash, sizeof(info.root_hash));
	memcpy(info.uuid, sbi->uuid, sizeof(info.uuid));
	info.nr_blocks = sbi->nr_blocks;
	info.inode_count = sbi->inode_count;
	info.timeout_ms = READ_ONCE(sbi->timeout_ms);
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

/* Present ranges of data blocks, from arg.start on (the control fd's). */
long incrfs_ioc_get_filled_data(struct incrfs_sb_info *sbi,
				struct incrfs_filled_ranges __user *uarg)
{
	struct incrfs_block_range __user *out;
	struct incrfs_filled_ranges arg;
	struct incrfs_block_range r;
	u64 bit;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	out = u64_to_user_ptr(arg.ranges);
	arg.count = 0;
	bit = min(arg.start, sbi->nr_blocks);
	while (arg.count < arg.capacity) {
		bit = find_next_bit_le(sbi->bitmap, sbi->nr_blocks, bit);
		if (bit >= sbi->nr_blocks)
			break;
		r.begin = bit;
		r.end = find_next_zero_bit_le(sbi->bitmap, sbi->nr_blocks, bit);
		if (copy_to_user(&out[arg.count], &r, sizeof(r)))
			return -EFAULT;
		arg.count++;
		bit = r.end;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	arg.next = bit;
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

/* Present ranges of file blocks, holes excluded, from arg.start on. */
static long ioc_get_filled(struct inode *inode,
			   struct incrfs_filled_ranges __user *uarg)
{
	struct incrfs_sb_info *sbi = INCRFS_SB(inode->i_sb);
	u64 nblocks = DIV_ROUND_UP_ULL(i_size_read(inode), INCRFS_BLOCK_SIZE);
	struct incrfs_block_range __user *out;
	struct incrfs_filled_ranges arg;
	struct incrfs_block_range r;
	u64 lblk;

	if (!S_ISREG(inode->i_mode))
		return -EINVAL;
	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	out = u64_to_user_ptr(arg.ranges);
	arg.count = 0;
	lblk = arg.start;
	while (lblk < nblocks && arg.count < arg.capacity) {
		u64 pblk, bit, end;
		u32 run;

		/* a file of many extents and few present blocks loops long */
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
		incrfs_map_block(inode, lblk, &pblk, &run);
		if (pblk == U64_MAX) {
			lblk += run;
			continue;
		}
		/* within this run, find the next present block and its end */
		bit = find_next_bit_le(sbi->bitmap, pblk + run, pblk);
		if (bit >= pblk + run) {
			lblk += run;
			continue;
		}
		end = find_next_zero_bit_le(sbi->bitmap, pblk + run, bit);
		r.begin = lblk + (bit - pblk);
		r.end = lblk + (end - pblk);
		if (copy_to_user(&out[arg.count], &r, sizeof(r)))
			return -EFAULT;
		arg.count++;
		lblk = r.end;
	}
	arg.next = min(lblk, nblocks);
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

static long ioc_uid_timeout(struct incrfs_sb_info *sbi, unsigned int cmd,
			    struct incrfs_uid_timeout __user *uarg)
{
	struct incrfs_uid_timeout t;
	unsigned long key;
	kuid_t kuid;
	void *v;
	int err;

	if (copy_from_user(&t, uarg, sizeof(t)))
		return -EFAULT;
	/* the uid as the caller sees it; kept as the kernel's uid */
	kuid = make_kuid(current_user_ns(), t.uid);
	if (!uid_valid(kuid))
		return -EINVAL;
	key = __kuid_val(kuid);
	if (cmd == INCRFS_IOC_GET_UID_TIMEOUT) {
		v = xa_load(&sbi->uid_timeouts, key);
		if (!v)
			return -ENOENT;
		t.timeout_ms = xa_to_value(v);
		return copy_to_user(uarg, &t, sizeof(t)) ? -EFAULT : 0;
	}
	if (!ns_capable(sbi->sb->s_user_ns, CAP_SYS_ADMIN))
		return -EPERM;
	if (t.timeout_ms == U32_MAX) {
		xa_erase(&sbi->uid_timeouts, key);
		return 0;
	}
	/* an xarray value entry holds LONG_MAX at most, INT_MAX on 32-bit */
	if (t.timeout_ms > INT_MAX)
		return -EINVAL;
	err = xa_err(xa_store(&sbi->uid_timeouts, key,
			      xa_mk_value(t.timeout_ms), GFP_KERNEL));
	return err;
}

long incrfs_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct inode *inode = file_inode(file);
	struct incrfs_sb_info *sbi = INCRFS_SB(inode->i_sb);
	void __user *uarg = (void __user *)arg;

	if (incrfs_ioc_is_get_stats(cmd))
		return incrfs_ioc_get_stats(sbi, cmd, uarg);
	switch (cmd) {
	case INCRFS_IOC_OPEN_CONTROL:
		return incrfs_open_control(inode->i_sb);
	case INCRFS_IOC_GET_FILLED:
		/* which blocks are present tells what others have read */
		if (!ns_capable(inode->i_sb->s_user_ns, CAP_SYS_ADMIN))
			return -EPERM;
		return ioc_get_filled(inode, uarg);
	case INCRFS_IOC_GET_INFO:
		return incrfs_ioc_get_info(sbi, uarg);
	case INCRFS_IOC_GET_ACCESS_LOG:
		return incrfs_ioc_get_access_log(sbi, uarg);
	case INCRFS_IOC_SET_UID_TIMEOUT:
	case INCRFS_IOC_GET_UID_TIMEOUT:
		return ioc_uid_timeout(sbi, cmd, uarg);
	}
	return -ENOTTY;
}
