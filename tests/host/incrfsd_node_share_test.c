// SPDX-License-Identifier: GPL-2.0-only
/*
 * incrfsd_node_share_test.c - what the mounts of one incrfsd --node share
 * (tools/incrfsd/node_share.c): who has readers waiting, so that no mount
 * starts background work while another's readers wait, and the memory
 * budget, which never gives more than it has and gets back what it gave.
 *
 * Built alone by tests/run-host.sh, so it compiles the unit under test
 * itself.
 */
#include "tests/kselftest/harness.h"

#include <errno.h>

#include "tools/incrfsd/node_share.c"

TEST(waiting_readers_of_others)
{
	struct node_share n;
	bool a = false, b = false;

	node_share_init(&n, 1 << 20);
	EXPECT_FALSE(node_share_others_wait(&n, a));
	node_share_set_waiting(&n, &a, true);
	EXPECT_TRUE(a);
	/* a's own readers do not hold a back, they hold b back */
	EXPECT_FALSE(node_share_others_wait(&n, a));
	EXPECT_TRUE(node_share_others_wait(&n, b));
	/* said twice, counted once */
	node_share_set_waiting(&n, &a, true);
	EXPECT_FALSE(node_share_others_wait(&n, a));
	node_share_set_waiting(&n, &b, true);
	EXPECT_TRUE(node_share_others_wait(&n, a));
	EXPECT_TRUE(node_share_others_wait(&n, b));
	node_share_set_waiting(&n, &a, false);
	node_share_set_waiting(&n, &a, false);
	EXPECT_FALSE(node_share_others_wait(&n, b));
	EXPECT_TRUE(node_share_others_wait(&n, a));
	node_share_set_waiting(&n, &b, false);
	EXPECT_EQ(0, atomic_load(&n.waiting));
}

TEST(memory_budget)
{
	struct node_share n;
	uint64_t extra;

	node_share_init(&n, 1000);
	ASSERT_EQ(0, node_share_take(&n, 300, 100, &extra));
	EXPECT_EQ(100, extra);
	EXPECT_EQ(400, node_share_used(&n));
	/* the extra is what is left, the need must fit whole */
	ASSERT_EQ(0, node_share_take(&n, 500, 500, &extra));
	EXPECT_EQ(100, extra);
	EXPECT_EQ(1000, node_share_used(&n));
	EXPECT_EQ(-ENOMEM, node_share_take(&n, 1, 0, &extra));
	EXPECT_EQ(1000, node_share_used(&n));
	node_share_give(&n, 600);
	EXPECT_EQ(400, node_share_used(&n));
	EXPECT_EQ(-ENOMEM, node_share_take(&n, 601, 0, &extra));
	ASSERT_EQ(0, node_share_take(&n, 600, 0, &extra));
	EXPECT_EQ(0, extra);
	/* giving back more than was taken leaves zero, not a wrapped count */
	node_share_give(&n, 5000);
	EXPECT_EQ(0, node_share_used(&n));
}

TEST_HARNESS_MAIN
