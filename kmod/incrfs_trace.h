/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * incrfs_trace.h - tracepoints of the read path and the fill path, in tracefs as
 * events/incrfs/: where a cold read spends its time (waits for missing
 * blocks, reads of the image, direct or buffered) and what each FILL
 * achieved, for one task or the whole system, with no ioctl and no
 * feeder's help.  The counters (GET_STATS, sysfs) say how much; these say
 * when and for whom.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM incrfs

#if !defined(_INCRFS_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _INCRFS_TRACE_H

#include <linux/tracepoint.h>
#include <linux/fs.h>

TRACE_EVENT(incrfs_readahead,
	TP_PROTO(struct inode *inode, pgoff_t index, unsigned int nr),
	TP_ARGS(inode, index, nr),
	TP_STRUCT__entry(
		__field(dev_t, dev)
		__field(unsigned long, ino)
		__field(pgoff_t, index)
		__field(unsigned int, nr)
	),
	TP_fast_assign(
		__entry->dev = inode->i_sb->s_dev;
		__entry->ino = inode->i_ino;
		__entry->index = index;
		__entry->nr = nr;
	),
	TP_printk("dev %d:%d ino %lu index %lu pages %u",
		  MAJOR(__entry->dev), MINOR(__entry->dev), __entry->ino,
		  (unsigned long)__entry->index, __entry->nr)
);

TRACE_EVENT(incrfs_image_read,
	TP_PROTO(struct super_block *sb, u64 pblk, unsigned int nr,
		 bool direct),
	TP_ARGS(sb, pblk, nr, direct),
	TP_STRUCT__entry(
		__field(dev_t, dev)
		__field(u64, pblk)
		__field(unsigned int, nr)
		__field(bool, direct)
	),
	TP_fast_assign(
		__entry->dev = sb->s_dev;
		__entry->pblk = pblk;
		__entry->nr = nr;
		__entry->direct = direct;
	),
	TP_printk("dev %d:%d data block %llu blocks %u %s",
		  MAJOR(__entry->dev), MINOR(__entry->dev), __entry->pblk,
		  __entry->nr, __entry->direct ? "direct" : "buffered")
);

TRACE_EVENT(incrfs_wait_start,
	TP_PROTO(struct inode *inode, u64 lblk, u64 pblk),
	TP_ARGS(inode, lblk, pblk),
	TP_STRUCT__entry(
		__field(dev_t, dev)
		__field(unsigned long, ino)
		__field(u64, lblk)
		__field(u64, pblk)
	),
	TP_fast_assign(
		__entry->dev = inode->i_sb->s_dev;
		__entry->ino = inode->i_ino;
		__entry->lblk = lblk;
		__entry->pblk = pblk;
	),
	TP_printk("dev %d:%d ino %lu block %llu data block %llu",
		  MAJOR(__entry->dev), MINOR(__entry->dev), __entry->ino,
		  __entry->lblk, __entry->pblk)
);

TRACE_EVENT(incrfs_wait_end,
	TP_PROTO(struct inode *inode, u64 lblk, u64 pblk, int ret, u64 ns),
	TP_ARGS(inode, lblk, pblk, ret, ns),
	TP_STRUCT__entry(
		__field(dev_t, dev)
		__field(unsigned long, ino)
		__field(u64, lblk)
		__field(u64, pblk)
		__field(int, ret)
		__field(u64, ns)
	),
	TP_fast_assign(
		__entry->dev = inode->i_sb->s_dev;
		__entry->ino = inode->i_ino;
		__entry->lblk = lblk;
		__entry->pblk = pblk;
		__entry->ret = ret;
		__entry->ns = ns;
	),
	TP_printk("dev %d:%d ino %lu block %llu data block %llu ret %d waited %llu ns",
		  MAJOR(__entry->dev), MINOR(__entry->dev), __entry->ino,
		  __entry->lblk, __entry->pblk, __entry->ret, __entry->ns)
);

TRACE_EVENT(incrfs_fill,
	TP_PROTO(dev_t dev, u32 count, u32 filled, u32 left,
		 unsigned int flags, long ret),
	TP_ARGS(dev, count, filled, left, flags, ret),
	TP_STRUCT__entry(
		__field(dev_t, dev)
		__field(u32, count)
		__field(u32, filled)
		__field(u32, left)
		__field(unsigned int, flags)
		__field(long, ret)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->count = count;
		__entry->filled = filled;
		__entry->left = left;
		__entry->flags = flags;
		__entry->ret = ret;
	),
	TP_printk("dev %d:%d entries %u filled %u left %u flags 0x%x ret %ld",
		  MAJOR(__entry->dev), MINOR(__entry->dev), __entry->count,
		  __entry->filled, __entry->left, __entry->flags, __entry->ret)
);

#endif /* _INCRFS_TRACE_H */

/* out of tree: the header is found next to the sources, not in include/ */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE incrfs_trace
#include <trace/define_trace.h>
