/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * node_share.h - what the mounts of one incrfsd --node share: who has
 * readers waiting, and the memory budget of their chunk buffers.
 *
 * Why this exists: a node serves hundreds of layers from one process.  A
 * reader of one layer must not wait behind the profile, read-ahead or
 * bulk prefetch of another, and the sum of the layers' buffers must stay
 * within what the operator gave the daemon (--memory-max).  Each mount's
 * feeder runs in a thread of its own and consults this object; nothing
 * here blocks.
 */
#ifndef INCRFSD_NODE_SHARE_H
#define INCRFSD_NODE_SHARE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct node_share {
	/* mounts with a chunk queued or in flight for a waiting reader */
	atomic_uint waiting;
	pthread_mutex_t lock;		/* the two below */
	uint64_t memory_max, memory_used;
};

void node_share_init(struct node_share *n, uint64_t memory_max);

/*
 * Say whether this mount has readers waiting (@now); *@published is the
 * mount's own record of what it said last.
 */
void node_share_set_waiting(struct node_share *n, bool *published, bool now);

/* Do readers of a mount other than the caller's wait?  (@mine: its own) */
bool node_share_others_wait(struct node_share *n, bool mine);

/*
 * Take @need bytes of the budget and as much of @want more as is left:
 * *@got_extra says how much of @want.  -ENOMEM (nothing taken) if even
 * @need is not left.
 */
int node_share_take(struct node_share *n, uint64_t need, uint64_t want,
		    uint64_t *got_extra);
void node_share_give(struct node_share *n, uint64_t bytes);
/* Bytes of the budget taken now. */
uint64_t node_share_used(struct node_share *n);

#endif /* INCRFSD_NODE_SHARE_H */
