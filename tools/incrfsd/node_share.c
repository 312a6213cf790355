// SPDX-License-Identifier: GPL-2.0-only
/*
 * node_share.c - the state the mounts of one incrfsd --node share (see
 * node_share.h).
 */
#include "node_share.h"

#include <errno.h>

void node_share_init(struct node_share *n, uint64_t memory_max)
{
	atomic_init(&n->waiting, 0);
	pthread_mutex_init(&n->lock, NULL);
	n->memory_max = memory_max;
	n->memory_used = 0;
}

void node_share_set_waiting(struct node_share *n, bool *published, bool now)
{
	if (*published == now)
		return;
	*published = now;
	if (now)
		atomic_fetch_add(&n->waiting, 1);
	else
		atomic_fetch_sub(&n->waiting, 1);
}

bool node_share_others_wait(struct node_share *n, bool mine)
{
	return atomic_load(&n->waiting) > (mine ? 1U : 0U);
}

int node_share_take(struct node_share *n, uint64_t need, uint64_t want,
		    uint64_t *got_extra)
{
	uint64_t left;
	int ret = 0;

	pthread_mutex_lock(&n->lock);
	left = n->memory_max - n->memory_used;
	if (need > left) {
		ret = -ENOMEM;
	} else {
		left -= need;
		*got_extra = want < left ? want : left;
		n->memory_used += need + *got_extra;
	}
	pthread_mutex_unlock(&n->lock);
	return ret;
}

void node_share_give(struct node_share *n, uint64_t bytes)
{
	pthread_mutex_lock(&n->lock);
	n->memory_used -= bytes <= n->memory_used ? bytes : n->memory_used;
	pthread_mutex_unlock(&n->lock);
}

uint64_t node_share_used(struct node_share *n)
{
	uint64_t v;

	pthread_mutex_lock(&n->lock);
	v = n->memory_used;
	pthread_mutex_unlock(&n->lock);
	return v;
}
