// SPDX-License-Identifier: GPL-2.0-only
/*
 * wait.c - a reader that needs a missing block parks here until the block
 * is filled, it is killed, or its timeout expires.
 *
 * Each missing data block somebody waits for has one struct incrfs_pending
 * (found by data block in an rb-tree), so a block is reported to the
 * feeder once per waiting episode however many tasks wait for it.
 * Waiters sleep on one of a small table of wait queues hashed by data
 * block and re-test the bitmap bit, so waking needs no per-block state.
 * A feeder that cannot supply a block fails its record: the record leaves
 * the tree (a later read starts a new wait) and its waiters return the
 * error.
 */
#include <linux/hash.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/cred.h>
#include "internal.h"
#include "incrfs_trace.h"

void incrfs_wait_init(struct incrfs_sb_info *sbi)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(sbi->block_wq); i++)
		init_waitqueue_head(&sbi->block_wq[i]);
	spin_lock_init(&sbi->pending_lock);
	sbi->pending = RB_ROOT;
	INIT_LIST_HEAD(&sbi->unread);
	INIT_LIST_HEAD(&sbi->fillers);
	init_waitqueue_head(&sbi->control_wq);
	xa_init(&sbi->uid_timeouts);
}

void incrfs_wait_destroy(struct incrfs_sb_info *sbi)
{
	struct incrfs_pending *pr, *tmp;

	/* No inode is left, so no reader waits and the tree is empty. */
	WARN_ON(!RB_EMPTY_ROOT(&sbi->pending));
	list_for_each_entry_safe(pr, tmp, &sbi->unread, unread)
		kfree(pr);	/* hints nobody read */
	xa_destroy(&sbi->uid_timeouts);
}

static wait_queue_head_t *block_wq(struct incrfs_sb_info *sbi, u64 pblk)
{
	return &sbi->block_wq[hash_64(pblk, INCRFS_WAIT_TABLE_BITS)];
}

static struct incrfs_pending *pending_find(struct incrfs_sb_info *sbi,
					   u64 pblk, struct rb_node ***link,
					   struct rb_node **parent)
{
	struct rb_node **p = &sbi->pending.rb_node;

	*parent = NULL;
	while (*p) {
		struct incrfs_pending *pr;

		*parent = *p;
		pr = rb_entry(*p, struct incrfs_pending, node);
		if (pblk < pr->rec.data_block)
			p = &(*p)->rb_left;
		else if (pblk > pr->rec.data_block)
			p = &(*p)->rb_right;
		else
			return pr;
	}
	*link = p;
	return NULL;
}

/*
 * Queue @pr's record for the feeder / take it off the queue; caller holds
 * pending_lock.  Hints are counted: their number is bounded.
 */
void incrfs_unread_add(struct incrfs_sb_info *sbi, struct incrfs_pending *pr)
{
	list_add_tail(&pr->unread, &sbi->unread);
	if (pr->hint)
		sbi->nr_hints++;
}

void incrfs_unread_del(struct incrfs_sb_info *sbi, struct incrfs_pending *pr)
{
	list_del_init(&pr->unread);
	if (pr->hint)
		sbi->nr_hints--;
}

/*
 * Data block @pblk was just filled: a record of a wait for it that the
 * feeder has not read yet is news no more, so it is dropped (the feeder
 * would only fetch the block again), and its waiters are woken.
 */
void incrfs_block_filled(struct incrfs_sb_info *sbi, u64 pblk)
{
	struct rb_node **link, *parent;
	struct incrfs_pending *pr;

	spin_lock(&sbi->pending_lock);
	pr = pending_find(sbi, pblk, &link, &parent);
	if (pr && !list_empty(&pr->unread))
		incrfs_unread_del(sbi, pr);
	if (pr)
		pr->filled = true;
	spin_unlock(&sbi->pending_lock);
	wake_up_all(block_wq(sbi, pblk));
}

/*
 * Does a task wait for a block that is still missing, whose wait began
 * after the record numbered @seq was made?
 */
bool incrfs_waited_since(struct incrfs_sb_info *sbi, u64 seq)
{
	struct incrfs_pending *pr;
	struct rb_node *node;
	bool ret = false;

	spin_lock(&sbi->pending_lock);
	for (node = rb_first(&sbi->pending); node && !ret;
	     node = rb_next(node)) {
		pr = rb_entry(node, struct incrfs_pending, node);
		ret = !pr->filled && pr->rec.seq > seq;
	}
	spin_unlock(&sbi->pending_lock);
	return ret;
}

/*
 * @f is current, inside INCRFS_IOC_FILL on this mount, from now until
 * incrfs_filler_del().  Returns the number of the newest record so far:
 * waits that begin later get higher ones.
 */
u64 incrfs_filler_add(struct incrfs_sb_info *sbi, struct incrfs_filler *f)
{
	u64 seq;

	f->task = current;
	spin_lock(&sbi->pending_lock);
	list_add(&f->node, &sbi->fillers);
	seq = sbi->next_seq;
	spin_unlock(&sbi->pending_lock);
	return seq;
}

void incrfs_filler_del(struct incrfs_sb_info *sbi, struct incrfs_filler *f)
{
	spin_lock(&sbi->pending_lock);
	list_del(&f->node);
	spin_unlock(&sbi->pending_lock);
}

/*
 * Is current inside a FILL of this mount?  Then it would wait for a block
 * only its own call could fill: its user buffer maps a missing block of
 * the mount.
 */
static bool current_fills(struct incrfs_sb_info *sbi)
{
	struct incrfs_filler *f;
	bool ret = false;

	spin_lock(&sbi->pending_lock);
	list_for_each_entry(f, &sbi->fillers, node) {
		if (f->task == current) {
			ret = true;
			break;
		}
	}
	spin_unlock(&sbi->pending_lock);
	return ret;
}

/* Does some task wait for data block @pblk right now? */
bool incrfs_block_waited(struct incrfs_sb_info *sbi, u64 pblk)
{
	struct rb_node **link, *parent;
	bool ret;

	spin_lock(&sbi->pending_lock);
	ret = pending_find(sbi, pblk, &link, &parent);
	spin_unlock(&sbi->pending_lock);
	return ret;
}

/* Register a waiter for @pblk; the first one queues a record. */
static struct incrfs_pending *pending_get(struct incrfs_sb_info *sbi,
					  struct inode *inode, u64 lblk,
					  u64 pblk)
{
	struct incrfs_pending *pr, *new;
	struct rb_node **link, *parent;

	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return NULL;
	spin_lock(&sbi->pending_lock);
	pr = pending_find(sbi, pblk, &link, &parent);
	if (pr) {
		pr->waiters++;
		spin_unlock(&sbi->pending_lock);
		kfree(new);
		return pr;
	}
	INIT_LIST_HEAD(&new->unread);
	new->waiters = 1;
	new->rec.ino = inode->i_ino;
	new->rec.block = lblk;
	new->rec.data_block = pblk;
	new->rec.count = 1;
	new->rec.seq = ++sbi->next_seq;	/* under pending_lock */
	new->rec.pid = task_tgid_nr(current);
	new->rec.uid = from_kuid(&init_user_ns, current_fsuid());
	new->rec.time_ns = ktime_get_boottime_ns();
	rb_link_node(&new->node, parent, link);
	rb_insert_color(&new->node, &sbi->pending);
	incrfs_unread_add(sbi, new);
	spin_unlock(&sbi->pending_lock);

	atomic64_inc(&sbi->stats.misses);
	wake_up_interruptible(&sbi->control_wq);
	return new;
}

static void pending_put(struct incrfs_sb_info *sbi, struct incrfs_pending *pr)
{
	spin_lock(&sbi->pending_lock);
	if (--pr->waiters) {
		spin_unlock(&sbi->pending_lock);
		return;
	}
	if (!RB_EMPTY_NODE(&pr->node))	/* a failed record left already */
		rb_erase(&pr->node, &sbi->pending);
	if (!list_empty(&pr->unread))
		incrfs_unread_del(sbi, pr);
	spin_unlock(&sbi->pending_lock);
	kfree(pr);
}

/* The caller's timeout: its uid's own if one is set, else the mount's. */
static long timeout_jiffies(struct incrfs_sb_info *sbi)
{
	unsigned int ms = READ_ONCE(sbi->timeout_ms);
	void *v;

	v = xa_load(&sbi->uid_timeouts, __kuid_val(current_fsuid()));
	if (v)
		ms = xa_to_value(v);
	return ms ? msecs_to_jiffies(ms) : MAX_SCHEDULE_TIMEOUT;
}

/* The block is there, or the feeder gave up on it. */
static bool wait_over(struct incrfs_sb_info *sbi, struct incrfs_pending *pr,
		      u64 pblk)
{
	return incrfs_block_present(sbi, pblk) || READ_ONCE(pr->failed);
}

/*
 * wait_event_killable_timeout() for @pblk, in sleep @state (killable, and
 * maybe freezable): > 0 once present or failed, 0 on timeout,
 * -ERESTARTSYS killed.
 */
static long wait_present(struct incrfs_sb_info *sbi, struct incrfs_pending *pr,
			 u64 pblk, unsigned int state, long timeout)
{
	long __ret = timeout;	/* the name ___wait_cond_timeout() uses */

	if (!___wait_cond_timeout(wait_over(sbi, pr, pblk)))
		__ret = ___wait_event(*block_wq(sbi, pblk),
				      ___wait_cond_timeout(wait_over(sbi, pr, pblk)),
				      state, 0, timeout,
				      __ret = schedule_timeout(__ret));
	return __ret;
}

/*
 * incrfs_fail_waits - the feeder cannot supply data blocks [@first,
 * @first + @count): the waits for them end with @err (a positive errno).
 * Each record leaves the tree, so a read that starts afterwards waits
 * anew and is reported again.  Returns the records failed.
 */
u32 incrfs_fail_waits(struct incrfs_sb_info *sbi, u64 first, u64 count,
		      int err)
{
	struct rb_node *node, *next, *from = NULL;
	struct incrfs_pending *pr;
	u32 n = 0;

	spin_lock(&sbi->pending_lock);
	/* the first record at or after @first */
	for (node = sbi->pending.rb_node; node;) {
		pr = rb_entry(node, struct incrfs_pending, node);
		if (pr->rec.data_block >= first) {
			from = node;
			node = node->rb_left;
		} else {
			node = node->rb_right;
		}
	}
	for (node = from; node; node = next) {
		next = rb_next(node);
		pr = rb_entry(node, struct incrfs_pending, node);
		if (pr->rec.data_block - first >= count)
			break;
		if (pr->filled)
			continue;
		rb_erase(node, &sbi->pending);
		RB_CLEAR_NODE(node);
		if (!list_empty(&pr->unread))
			incrfs_unread_del(sbi, pr);
		WRITE_ONCE(pr->failed, err);
		wake_up_all(block_wq(sbi, pr->rec.data_block));
		n++;
	}
	spin_unlock(&sbi->pending_lock);
	return n;
}

/*
 * incrfs_wait_block - wait until data block @pblk (file block @lblk of
 * @inode) is present.
 * @freezable: the caller holds no folio and no mmap_lock: the wait lets
 *	the system freeze (suspend).  TASK_FREEZABLE_UNSAFE, as NFS: a read
 *	from exec may hold the caller's own locks, and a task frozen with
 *	those only fails a suspend that needs them, it deadlocks nothing.
 *
 * Return: 0 once present, -ETIMEDOUT when the timeout expired first,
 * the feeder's error (-EIO) when it failed the wait (INCRFS_IOC_FAIL_READS),
 * -EINTR when the task was killed, -EDEADLK when the task is filling this
 * mount (it would wait for itself), -ENOMEM.
 */
int incrfs_wait_block(struct inode *inode, u64 lblk, u64 pblk,
		      bool freezable)
{
	struct incrfs_sb_info *sbi = INCRFS_SB(inode->i_sb);
	unsigned int state = freezable ? TASK_KILLABLE | TASK_FREEZABLE_UNSAFE :
					 TASK_KILLABLE;
	struct incrfs_pending *pr;
	int failed, ret;
	u64 start;
	long left;

	if (incrfs_block_present(sbi, pblk))
		return 0;
	if (current_fills(sbi))
		return -EDEADLK;
	pr = pending_get(sbi, inode, lblk, pblk);
	if (!pr)
		return -ENOMEM;
	atomic64_inc(&sbi->stats.waits);
	trace_incrfs_wait_start(inode, lblk, pblk);
	start = ktime_get_ns();
	left = wait_present(sbi, pr, pblk, state, timeout_jiffies(sbi));
	failed = READ_ONCE(pr->failed);
	pending_put(sbi, pr);
	start = ktime_get_ns() - start;
	atomic64_add(start, &sbi->stats.wait_ns);
	if (left > 0 && !incrfs_block_present(sbi, pblk)) {
		pr_warn_ratelimited("%s: the feeder cannot supply block %llu of inode %lu: error %d\n",
				    inode->i_sb->s_id, lblk, inode->i_ino,
				    -failed);
		ret = -failed;
	} else if (left > 0) {
		ret = 0;
	} else if (left == 0) {
		atomic64_inc(&sbi->stats.timeouts);
		pr_warn_ratelimited("%s: timed out waiting for block %llu of inode %lu\n",
				    inode->i_sb->s_id, lblk, inode->i_ino);
		ret = -ETIMEDOUT;
	} else {
		ret = -EINTR;
	}
	trace_incrfs_wait_end(inode, lblk, pblk, ret, start);
	return ret;
}
