// SPDX-License-Identifier: GPL-2.0-only
/*
 * control.c - the feeder's control fd: pending-read records, poll, replay.
 *
 * A privileged process asks for the control fd with INCRFS_IOC_OPEN_CONTROL
 * on any file of the mount; no pseudo file appears in the tree.  read()
 * returns struct incrfs_pending_read records; poll() says when there are
 * some.  Only one control fd exists at a time.  A new one first gets every
 * read still waiting, so a restarted feeder serves readers that began to
 * wait before it started.  The fd holds a reference on the mount's
 * struct incrfs_sb_info, not on the super block: umount is never blocked
 * by a feeder, and the feeder sees POLLHUP / end of file when it happens.
 */
#include <linux/anon_inodes.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "internal.h"

/* Readahead hints queued for a feeder and not yet read, at most. */
#define INCRFS_MAX_HINTS	256

void incrfs_sbi_put(struct incrfs_sb_info *sbi)
{
	if (refcount_dec_and_test(&sbi->ref))
		incrfs_sbi_free(sbi);
}

/*
 * Tell the feeder (if any) that file blocks [@lblk, @lblk + @count), in
 * data blocks from @pblk, will probably be read soon.  Nobody waits yet.
 * @flags: more INCRFS_PENDING_* bits for the record (why it is hinted).
 */
void incrfs_hint_missing(struct inode *inode, u64 lblk, u64 pblk, u32 count,
			 u32 flags)
{
	struct incrfs_sb_info *sbi = INCRFS_SB(inode->i_sb);
	struct incrfs_pending *pr;

	if (!READ_ONCE(sbi->control_open) ||
	    READ_ONCE(sbi->nr_hints) >= INCRFS_MAX_HINTS)
		return;
	pr = kzalloc(sizeof(*pr), GFP_NOFS | __GFP_NOWARN);
	if (!pr)
		return;
	pr->hint = true;
	pr->rec.ino = inode->i_ino;
	pr->rec.block = lblk;
	pr->rec.data_block = pblk;
	pr->rec.count = count;
	pr->rec.flags = INCRFS_PENDING_READAHEAD | flags;
	pr->rec.pid = task_tgid_nr(current);
	pr->rec.uid = from_kuid(&init_user_ns, current_fsuid());
	pr->rec.time_ns = ktime_get_boottime_ns();
	spin_lock(&sbi->pending_lock);
	/* the feeder may have gone since the test above */
	if (!sbi->control_open) {
		spin_unlock(&sbi->pending_lock);
		kfree(pr);
		return;
	}
	pr->rec.seq = ++sbi->next_seq;
	incrfs_unread_add(sbi, pr);
	spin_unlock(&sbi->pending_lock);
	wake_up_interruptible(&sbi->control_wq);
}

/* Pop up to @max records into @out; caller holds pending_lock. */
static unsigned int pop_records(struct incrfs_sb_info *sbi,
				struct incrfs_pending_read *out,
				unsigned int max)
{
	struct incrfs_pending *pr, *tmp;
	unsigned int n = 0;

	list_for_each_entry_safe(pr, tmp, &sbi->unread, unread) {
		if (n == max)
			break;
		out[n++] = pr->rec;
		incrfs_unread_del(sbi, pr);
		if (pr->hint)
			kfree(pr);
	}
	return n;
}

/*
 * The feeder could not take these records (bad buffer): put the ones
 * somebody still waits for back at the head of the queue, in their order,
 * so they are not lost until a new feeder.
 */
static void requeue_records(struct incrfs_sb_info *sbi,
			    const struct incrfs_pending_read *recs,
			    unsigned int n)
{
	struct incrfs_pending *pr;
	struct rb_node *node;
	LIST_HEAD(again);
	unsigned int i;

	spin_lock(&sbi->pending_lock);
	for (i = 0; i < n; i++) {
		node = sbi->pending.rb_node;
		while (node) {
			pr = rb_entry(node, struct incrfs_pending, node);
			if (recs[i].data_block < pr->rec.data_block) {
				node = node->rb_left;
			} else if (recs[i].data_block > pr->rec.data_block) {
				node = node->rb_right;
			} else {
				/* filled meanwhile: no news any more */
				if (pr->rec.seq == recs[i].seq &&
				    !pr->filled && list_empty(&pr->unread))
					list_add_tail(&pr->unread, &again);
				break;
			}
		}
	}
	list_splice(&again, &sbi->unread);
	spin_unlock(&sbi->pending_lock);
}

static bool has_records_or_dead(struct incrfs_sb_info *sbi)
{
	return !list_empty_careful(&sbi->unread) || READ_ONCE(sbi->dead);
}

static ssize_t control_read(struct file *file, char __user *buf,
			    size_t count, loff_t *ppos)
{
	struct incrfs_sb_info *sbi = file->private_data;
	struct incrfs_pending_read *recs;
	unsigned int max = min_t(size_t, count / sizeof(*recs), 64);
	unsigned int n;
	int err;

	if (!max)
		return -EINVAL;
	recs = kmalloc_array(max, sizeof(*recs), GFP_KERNEL);
	if (!recs)
		return -ENOMEM;
	for (;;) {
		spin_lock(&sbi->pending_lock);
		n = pop_records(sbi, recs, max);
		spin_unlock(&sbi->pending_lock);
		if (n || READ_ONCE(sbi->dead))
			break;
		err = -EAGAIN;
		if (file->f_flags & O_NONBLOCK)
			goto out;
		err = wait_event_interruptible(sbi->control_wq,
					       has_records_or_dead(sbi));
		if (err)
			goto out;
	}
	err = 0;
	if (n && copy_to_user(buf, recs, n * sizeof(*recs))) {
		err = -EFAULT;
		requeue_records(sbi, recs, n);
	}
out:
	kfree(recs);
	return err ? err : n * sizeof(*recs);
}

static __poll_t control_poll(struct file *file, poll_table *wait)
{
	struct incrfs_sb_info *sbi = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &sbi->control_wq, wait);
	if (!list_empty_careful(&sbi->unread))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (READ_ONCE(sbi->dead))
		mask |= EPOLLHUP;
	return mask;
}

static int control_release(struct inode *inode, struct file *file)
{
	struct incrfs_sb_info *sbi = file->private_data;
	struct incrfs_pending *pr, *tmp;

	spin_lock(&sbi->pending_lock);
	sbi->control_open = false;
	/* hints were for this feeder; real waits stay for the next one */
	list_for_each_entry_safe(pr, tmp, &sbi->unread, unread) {
		if (!pr->hint)
			continue;
		incrfs_unread_del(sbi, pr);
		kfree(pr);
	}
	spin_unlock(&sbi->pending_lock);
	incrfs_sbi_put(sbi);
	return 0;
}

/*
 * INCRFS_IOC_FAIL_READS: the feeder cannot supply a range of data blocks;
 * the tasks waiting for them get the error now (see uapi/incrfs.h).
 */
static long ioc_fail_reads(struct incrfs_sb_info *sbi,
			   struct incrfs_fail_reads __user *uarg)
{
	struct incrfs_fail_reads a;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.flags || a.failed || a.reserved || a.error != EIO)
		return -EINVAL;
	if (!a.count || a.data_block >= sbi->nr_blocks ||
	    a.count > sbi->nr_blocks - a.data_block)
		return -EINVAL;
	a.failed = incrfs_fail_waits(sbi, a.data_block, a.count, a.error);
	if (put_user(a.failed, &uarg->failed))
		return -EFAULT;
	return 0;
}

/*
 * Queue a record again for every read still waiting that has none queued
 * (the caller holds pending_lock).  Whether any was.
 */
static bool replay_locked(struct incrfs_sb_info *sbi)
{
	struct incrfs_pending *pr;
	struct rb_node *node;
	bool any = false;

	lockdep_assert_held(&sbi->pending_lock);
	for (node = rb_first(&sbi->pending); node; node = rb_next(node)) {
		pr = rb_entry(node, struct incrfs_pending, node);
		if (!pr->filled && list_empty(&pr->unread)) {
			incrfs_unread_add(sbi, pr);
			any = true;
		}
	}
	return any;
}

/* INCRFS_IOC_REPLAY: see uapi/incrfs.h. */
static long ioc_replay(struct incrfs_sb_info *sbi)
{
	bool any;

	spin_lock(&sbi->pending_lock);
	any = replay_locked(sbi);
	spin_unlock(&sbi->pending_lock);
	if (any)
		wake_up_interruptible(&sbi->control_wq);
	return 0;
}

static long control_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct incrfs_sb_info *sbi = file->private_data;

	if (incrfs_ioc_is_get_stats(cmd))
		return incrfs_ioc_get_stats(sbi, cmd, (void __user *)arg);
	switch (cmd) {
	case INCRFS_IOC_FILL:
		return incrfs_ioc_fill(sbi, (void __user *)arg);
	case INCRFS_IOC_GET_INFO:
		return incrfs_ioc_get_info(sbi, (void __user *)arg);
	case INCRFS_IOC_GET_FILLED:
		return incrfs_ioc_get_filled_data(sbi, (void __user *)arg);
	case INCRFS_IOC_FAIL_READS:
		return ioc_fail_reads(sbi, (void __user *)arg);
	case INCRFS_IOC_REPLAY:
		return ioc_replay(sbi);
	}
	return -ENOTTY;
}

static const struct file_operations incrfs_control_fops = {
	.owner		= THIS_MODULE,
	.read		= control_read,
	.poll		= control_poll,
	.release	= control_release,
	.unlocked_ioctl	= control_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/* INCRFS_IOC_OPEN_CONTROL: returns the new control fd. */
int incrfs_open_control(struct super_block *sb)
{
	struct incrfs_sb_info *sbi = INCRFS_SB(sb);
	int fd;

	if (!ns_capable(sb->s_user_ns, CAP_SYS_ADMIN))
		return -EPERM;
	spin_lock(&sbi->pending_lock);
	if (sbi->control_open) {
		spin_unlock(&sbi->pending_lock);
		return -EBUSY;
	}
	sbi->control_open = true;
	/* every read still waiting is news to the new feeder */
	replay_locked(sbi);
	refcount_inc(&sbi->ref);
	spin_unlock(&sbi->pending_lock);

	fd = anon_inode_getfd("[incrfs-control]", &incrfs_control_fops, sbi,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		spin_lock(&sbi->pending_lock);
		sbi->control_open = false;
		spin_unlock(&sbi->pending_lock);
		incrfs_sbi_put(sbi);
	}
	return fd;
}
