// SPDX-License-Identifier: GPL-2.0-only
/*
 * verify.c - check blocks handed in by FILL against the SHA-256 the image
 * records for them, on two CPUs when there is enough to share.
 *
 * Hashing is most of the cost of a fill (where the crypto API has only the
 * C SHA-256 it is two thirds of the feeder's CPU time), and it is the one
 * part that needs no lock: each block is hashed alone.  So a run of
 * several blocks is split: a work item on system_unbound_wq hashes its
 * second half while the caller hashes the first, and the caller waits for
 * it with flush_work(): not killable, but for at most a few milliseconds
 * of CPU work that is already queued.  A single block, the one a reader
 * waits for, is hashed by the caller alone, at once.
 *
 * The expected hashes of a run are read from the image with one read.
 * SHA-256 comes from the crypto API ("sha256"), allocated once for the
 * module: it picks the fastest implementation the CPU has (SHA-NI, AVX2,
 * SSSE3 when sha256_ssse3 is loaded), where the library function is plain
 * C.  A shash transform may be used by several callers at once; the state
 * lives in each call's descriptor.
 */
#include <crypto/hash.h>
#include <linux/workqueue.h>
#include "internal.h"

static struct crypto_shash *incrfs_sha256;

/* Blocks a run needs before half of it goes to another CPU. */
#define INCRFS_VERIFY_SPLIT	4

int __init incrfs_verify_init(void)
{
	struct crypto_shash *tfm = crypto_alloc_shash("sha256", 0, 0);

	if (IS_ERR(tfm)) {
		pr_err("no sha256 in the crypto API: %ld\n", PTR_ERR(tfm));
		return PTR_ERR(tfm);
	}
	if (WARN_ON(crypto_shash_digestsize(tfm) != INCRFS_HASH_SIZE)) {
		crypto_free_shash(tfm);
		return -EINVAL;
	}
	incrfs_sha256 = tfm;
	return 0;
}

void incrfs_verify_exit(void)
{
	crypto_free_shash(incrfs_sha256);
}

static int hash_blocks(const u8 *buf, u32 nr, u8 *got)
{
	u32 i;
	int err;

	for (i = 0; i < nr; i++) {
		err = crypto_shash_tfm_digest(incrfs_sha256,
					      buf + i * INCRFS_BLOCK_SIZE,
					      INCRFS_BLOCK_SIZE,
					      got + i * INCRFS_HASH_SIZE);
		if (err)
			return err;
	}
	return 0;
}

/* The second half of a run, hashed on another CPU. */
struct hash_work {
	struct work_struct work;
	const u8 *buf;
	u32 nr;
	u8 *got;
	int err;
};

static void hash_work_fn(struct work_struct *work)
{
	struct hash_work *hw = container_of(work, struct hash_work, work);

	hw->err = hash_blocks(hw->buf, hw->nr, hw->got);
}

/*
 * incrfs_verify_run - check @nr blocks at @buf, data blocks @pblk onwards,
 * against the image's hash table.
 * @want, @got: room for @nr hashes each (INCRFS_HASH_SIZE bytes)
 * @res: out: per block 0, -EBADMSG (mismatch: counted as a hash failure)
 *	or the error that stopped the check
 */
void incrfs_verify_run(struct incrfs_sb_info *sbi, const u8 *buf, u64 pblk,
		       u32 nr, u8 *want, u8 *got, int *res)
{
	struct hash_work hw;
	u32 mine = nr, i;
	int err;

	err = incrfs_read_image(sbi, want, nr * INCRFS_HASH_SIZE,
				sbi->hash_off + pblk * INCRFS_HASH_SIZE);
	if (!err && nr >= INCRFS_VERIFY_SPLIT) {
		mine = nr / 2;
		hw.buf = buf + mine * INCRFS_BLOCK_SIZE;
		hw.nr = nr - mine;
		hw.got = got + mine * INCRFS_HASH_SIZE;
		INIT_WORK_ONSTACK(&hw.work, hash_work_fn);
		queue_work(system_unbound_wq, &hw.work);
	}
	if (!err)
		err = hash_blocks(buf, mine, got);
	if (mine < nr) {
		flush_work(&hw.work);
		destroy_work_on_stack(&hw.work);
		if (!err)
			err = hw.err;
	}
	for (i = 0; i < nr; i++) {
		res[i] = err;
		if (err || !memcmp(want + i * INCRFS_HASH_SIZE,
				   got + i * INCRFS_HASH_SIZE, INCRFS_HASH_SIZE))
			continue;
		res[i] = -EBADMSG;
		atomic64_inc(&sbi->stats.hash_failures);
		pr_warn_ratelimited("%s: data block %llu: SHA-256 mismatch, refused\n",
				    sbi->sb->s_id, pblk + i);
	}
}
