// SPDX-License-Identifier: GPL-2.0-only
/*
 * powercut_test.c - the guest half of the power-cut test (tests/powercut/
 * run.sh is the host half): check what the last cut left, then fill the
 * image until the host kills QEMU.
 *
 * Why this exists: a fill is only worth something if it survives a crash
 * exactly as Documentation/filesystems/incrfs.rst promises (durable after
 * INCRFS_FILL_SYNC, after the periodic commit, after umount), and a crash
 * must never leave a bitmap bit on disk whose data is not.  That can only
 * be seen by really cutting the power, i.e. SIGKILLing QEMU, and booting
 * again: this program runs in every boot of run.sh.
 *
 * The disk, /dev/vda, is ext4 holding lazy.img (the image under test, on
 * the first boot every block missing), full.img (the same tree with every
 * block present: the data the custom filler hands in) and lazy.blob (what
 * incrfsd serves).  The kernel command line says what to do:
 *   incrfs_pc=MODE,SEED   MODE: custom (our filler, some batches with
 *                         INCRFS_FILL_SYNC), incrfsd, incrfsd-sync, or
 *                         check (only the checks: the last boot)
 * Each boot prints TAP for the checks, then these lines for the host:
 *   @@PC-PRESENT <n> <hex bitmap> END    the bitmap as the mount sees it
 *   @@PC-RESET END                       lazy.img was emptied again
 *   @@PC-FILLING END                     the filler starts: cut any time
 *   @@PC-DURABLE <block>... END          these data blocks are durable
 *                                        (a FILL_SYNC returned, or umount)
 *   @@PC-DURABLE-ALL END                 every block is durable (umount
 *                                        after incrfsd completed the image)
 *   @@PC-IDLE END                        nothing left to do
 * A line only counts with its END: a cut may truncate the last one.
 */
#include <poll.h>
#include <stdbool.h>
#include <sys/mount.h>
#include "tests/kselftest/incrfs_util.h"
#include "image.h"

#define DISK	"/disk"
#define LAZY	DISK "/lazy.img"
#define FULL	DISK "/full.img"
#define BLOB	DISK "/lazy.blob"
#define MNT	"/mnt/lazy"
#define BS	4096

static int tap_num;
static int tap_failed;

static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", ++tap_num);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		tap_failed++;
}

static void idle_forever(void)
{
	printf("@@PC-IDLE END\n");
	fflush(stdout);
	for (;;)
		pause();
}

static uint64_t rnd_state;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Present data blocks as the mount sees them (GET_FILLED on the control
 * fd): one byte per block in @bits.  Returns the count, or -1. */
static int64_t get_present(int cfd, uint64_t nr_blocks, unsigned char *bits)
{
	struct incrfs_block_range r[256];
	struct incrfs_filled_ranges fr = { 0 };
	int64_t present = 0;
	uint64_t b, i;

	memset(bits, 0, nr_blocks);
	for (;;) {
		fr.ranges = (uintptr_t)r;
		fr.capacity = 256;
		fr.count = 0;
		if (ioctl(cfd, INCRFS_IOC_GET_FILLED, &fr))
			return -1;
		for (i = 0; i < fr.count; i++)
			for (b = r[i].begin; b < r[i].end && b < nr_blocks; b++) {
				present += !bits[b];
				bits[b] = 1;
			}
		if (fr.count < fr.capacity || fr.next >= nr_blocks ||
		    fr.next <= fr.start)
			break;
		fr.start = fr.next;
	}
	return present;
}

static int open_control(int *dfd)
{
	*dfd = open(MNT, O_RDONLY | O_DIRECTORY);
	return *dfd < 0 ? -1 : ioctl(*dfd, INCRFS_IOC_OPEN_CONTROL);
}

/* Print the bitmap the mount loaded from disk, for the host. */
static int print_present(uint64_t nr_blocks, uint64_t *present)
{
	unsigned char *bits = malloc(nr_blocks + 1);
	int dfd = -1, cfd = open_control(&dfd), ret = -1;
	int64_t n = -1;
	uint64_t i, k;

	if (bits && cfd >= 0)
		n = get_present(cfd, nr_blocks, bits);
	if (n < 0)
		goto out;
	*present = n;
	printf("@@PC-PRESENT %llu ", (unsigned long long)nr_blocks);
	for (i = 0; i < nr_blocks; i += 8) {
		unsigned int byte = 0;

		for (k = 0; k < 8 && i + k < nr_blocks; k++)
			byte |= bits[i + k] << k;
		printf("%02x", byte);
	}
	printf(" END\n");
	fflush(stdout);
	ret = 0;
out:
	if (cfd >= 0)
		close(cfd);
	if (dfd >= 0)
		close(dfd);
	free(bits);
	return ret;
}

/* Every present block has its SHA-256, and the rest of the image is
 * consistent: the userspace reader's fsck. */
static int check_image(const char *path, uint64_t *nr_blocks,
		       uint64_t *present, char *err, size_t errlen)
{
	struct incrfs_image img = { 0 };
	int fd = open(path, O_RDONLY), ret;

	if (fd < 0) {
		snprintf(err, errlen, "open: %s", strerror(errno));
		return -1;
	}
	ret = incrfs_image_open(&img, fd);
	if (!ret)
		ret = incrfs_image_count_present(&img, present);
	if (!ret)
		ret = incrfs_image_check(&img, true);
	if (ret)
		snprintf(err, errlen, "%s (%d)", img.err, ret);
	*nr_blocks = img.sb.nr_blocks;
	incrfs_image_close(&img);
	close(fd);
	return ret;
}

/* Make lazy.img empty again: bitmap zero, data region a hole, synced. */
static int reset_image(void)
{
	struct incrfs_image img = { 0 };
	int fd = open(LAZY, O_RDWR), ret = -1;
	void *zero = NULL;

	if (fd < 0 || incrfs_image_open(&img, fd))
		goto out;
	zero = calloc(1, img.sb.bitmap_size);
	if (!zero ||
	    pwrite(fd, zero, img.sb.bitmap_size, img.sb.bitmap_off) !=
	    (ssize_t)img.sb.bitmap_size ||
	    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      img.sb.data_off, img.sb.nr_blocks * BS) ||
	    fsync(fd))
		goto out;
	ret = 0;
out:
	free(zero);
	incrfs_image_close(&img);
	if (fd >= 0)
		close(fd);
	return ret;
}

static void print_durable(const uint64_t *blocks, size_t n)
{
	size_t i;

	if (!n)
		return;
	printf("@@PC-DURABLE");
	for (i = 0; i < n; i++)
		printf(" %llu", (unsigned long long)blocks[i]);
	printf(" END\n");
	fflush(stdout);
}

/*
 * Our filler: every missing block in random order, in batches of 1..32,
 * half of them with INCRFS_FILL_SYNC.  When a synced batch returns, every
 * block filled so far is durable (the commit covers all set bits); the
 * rest becomes durable at umount.
 */
static int custom_fill(uint64_t nr_blocks)
{
	struct incrfs_fill_block fb[32];
	struct incrfs_image full = { 0 };
	uint64_t *order = NULL, *pending = NULL, n = 0, npend = 0, i;
	unsigned char *data = malloc(32 * BS);
	int ffd = open(FULL, O_RDONLY), dfd = -1, cfd, ret = -1;

	unsigned char *bits = malloc(nr_blocks + 1);

	cfd = open_control(&dfd);
	order = calloc(nr_blocks, sizeof(*order));
	pending = calloc(nr_blocks, sizeof(*pending));
	if (!bits || !data || !order || !pending || cfd < 0 || ffd < 0 ||
	    incrfs_image_open(&full, ffd) ||
	    get_present(cfd, nr_blocks, bits) < 0)
		goto out;
	for (i = 0; i < nr_blocks; i++)
		if (!bits[i])
			order[n++] = i;
	for (i = n; i > 1; i--) {
		uint64_t k = rnd() % i, t = order[i - 1];

		order[i - 1] = order[k];
		order[k] = t;
	}
	printf("@@PC-FILLING END\n");
	fflush(stdout);
	for (i = 0; i < n;) {
		uint32_t cnt = 1 + rnd() % 32, k;
		struct incrfs_fill f = { 0 };

		if (cnt > n - i)
			cnt = n - i;
		for (k = 0; k < cnt; k++) {
			if (incrfs_image_read_block(&full, order[i + k],
						    data + k * BS))
				goto out;
			fb[k] = (struct incrfs_fill_block){
				.ino = 0, .block = order[i + k],
				.data = (uintptr_t)(data + k * BS), .len = BS,
			};
		}
		f.blocks = (uintptr_t)fb;
		f.count = cnt;
		f.flags = rnd() % 2 ? INCRFS_FILL_SYNC : 0;
		if (ioctl(cfd, INCRFS_IOC_FILL, &f)) {
			printf("# FILL: %s\n", strerror(errno));
			goto out;
		}
		for (k = 0; k < cnt; k++) {
			if (fb[k].result) {
				printf("# FILL block %llu: %d\n",
				       (unsigned long long)fb[k].block,
				       fb[k].result);
				goto out;
			}
			pending[npend++] = order[i + k];
		}
		i += cnt;
		if (f.flags & INCRFS_FILL_SYNC) {
			print_durable(pending, npend);
			npend = 0;
		}
	}
	close(cfd);
	cfd = -1;
	close(dfd);
	dfd = -1;
	if (umount(MNT))
		goto out;
	print_durable(pending, npend);
	ret = 0;
out:
	free(bits);
	if (cfd >= 0)
		close(cfd);
	if (dfd >= 0)
		close(dfd);
	incrfs_image_close(&full);
	if (ffd >= 0)
		close(ffd);
	free(order);
	free(pending);
	free(data);
	return ret;
}

static int incrfsd_fill(bool sync)
{
	char cmd[512];

	printf("@@PC-FILLING END\n");
	fflush(stdout);
	snprintf(cmd, sizeof(cmd),
		 "incrfsd %s--prefetch all --exit-when-complete --source "
		 BLOB " " MNT " 2>/tmp/incrfsd.log", sync ? "--sync " : "");
	if (iu_sh("%s", cmd)) {
		iu_sh("sed 's/^/# /' /tmp/incrfsd.log");
		return -1;
	}
	if (umount(MNT))
		return -1;
	printf("@@PC-DURABLE-ALL END\n");
	fflush(stdout);
	return 0;
}

int main(void)
{
	char cmdline[4096] = "", mode[32] = "", err[INCRFS_ERR_MAX + 32];
	uint64_t nr_blocks = 0, present = 0, seen = 0;
	unsigned long long seed = 1;
	FILE *f;
	char *p;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..4\n");
	f = fopen("/proc/cmdline", "r");
	if (f) {
		if (!fgets(cmdline, sizeof(cmdline), f))
			cmdline[0] = '\0';
		fclose(f);
	}
	p = strstr(cmdline, "incrfs_pc=");
	if (!p || sscanf(p, "incrfs_pc=%31[a-z-],%llu", mode, &seed) != 2) {
		printf("# no incrfs_pc=MODE,SEED on the kernel command line\n");
		return 1;
	}
	rnd_state = seed * 0x9e3779b97f4a7c15ull + 1;

	mkdir(DISK, 0755);
	ret = mount("/dev/vda", DISK, "ext4", 0, NULL);
	tap(ret == 0, "the ext4 disk mounts (journal replayed)%s%s",
	    ret ? ": " : "", ret ? strerror(errno) : "");
	if (ret)
		idle_forever();

	ret = check_image(LAZY, &nr_blocks, &present, err, sizeof(err));
	tap(ret == 0, "lazy.img consistent, every present block has its "
	    "SHA-256 (%llu of %llu present)%s%s",
	    (unsigned long long)present, (unsigned long long)nr_blocks,
	    ret ? ": " : "", ret ? err : "");

	mkdir("/mnt", 0755);
	ret = iu_mount(LAZY, MNT, NULL);
	tap(ret == 0, "lazy.img mounts%s%s", ret ? ": " : "",
	    ret ? strerror(errno) : "");
	if (ret)
		idle_forever();
	ret = print_present(nr_blocks, &seen);
	tap(ret == 0 && seen == present,
	    "the mount sees the bitmap on disk (%llu present)",
	    (unsigned long long)seen);
	if (umount(MNT) || tap_failed)
		idle_forever();

	/* More than half full: start again from empty, so every round has
	 * blocks to fill. */
	if (present * 2 > nr_blocks) {
		if (reset_image()) {
			printf("# reset of lazy.img failed: %s\n",
			       strerror(errno));
			idle_forever();
		}
		printf("@@PC-RESET END\n");
	}
	if (!strcmp(mode, "check"))
		idle_forever();
	if (iu_mount(LAZY, MNT, NULL)) {
		printf("# remount: %s\n", strerror(errno));
		idle_forever();
	}
	if (!strcmp(mode, "custom"))
		ret = custom_fill(nr_blocks);
	else if (!strcmp(mode, "incrfsd"))
		ret = incrfsd_fill(false);
	else if (!strcmp(mode, "incrfsd-sync"))
		ret = incrfsd_fill(true);
	else
		ret = -1;
	if (ret)
		printf("# filling (%s) failed\n", mode);
	idle_forever();
	return 0;
}
