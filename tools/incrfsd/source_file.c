// SPDX-License-Identifier: GPL-2.0-only
/*
 * source_file.c - the local-file blob source: byte ranges read with
 * io_uring, several in flight, completions signalled on an eventfd.
 *
 * Why this exists: a feeder serving many readers at once must not wait for
 * one chunk before asking for the next; io_uring keeps up to --depth reads
 * in flight from one thread, and its eventfd joins the feeder's epoll
 * loop.  Background (prefetch) reads carry the idle I/O priority class.
 *
 * Where io_uring is not allowed (the kernel.io_uring_disabled sysctl, a
 * container's seccomp profile, a kernel built without it), reads are done
 * at once with pread() and completed through the same eventfd: slower
 * under load, as the feeder waits for each read, but the same results.
 *
 * Location: a plain path, or file://PATH.
 */
#include "source.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/ioprio.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FILE_PREFIX "file://"
/* Largest single read we hand io_uring; longer ranges continue. */
#define MAX_READ (1U << 30)

struct file_req {
	char *buf;
	uint64_t off;
	size_t len;
	size_t done;
	unsigned short ioprio;
	void *cookie;
	int res;		/* pread() fallback: the result */
	struct file_req *next_free;	/* also the fallback's done list */
};

struct file_source {
	int fd;
	struct io_uring ring;
	bool ring_disabled;		/* made with IORING_SETUP_R_DISABLED */
	bool ring_ok;
	struct file_req *reqs;
	struct file_req *free_list;
	/* pread() fallback (!ring_ok): finished reads, oldest first */
	struct file_req *done, **done_tail;
};

static bool file_match(const char *location)
{
	return !strncmp(location, FILE_PREFIX, strlen(FILE_PREFIX)) ||
	       !strstr(location, "://");
}

static void file_close(struct incrfsd_source *src);

static int file_fail(struct incrfsd_source *src, int err, const char *what,
		     const char *path)
{
	snprintf(src->err, sizeof(src->err), "%s: %s: %s", path, what,
		 strerror(-err));
	file_close(src);
	return err;
}

/*
 * The ring may only read and do nothing (the no-op that hands a short
 * read's rest back), and no further registration is allowed: a bug that
 * let data from the blob steer a submission could not turn the ring
 * into a way to write, open or connect.
 */
static int restrict_ring(struct file_source *fs)
{
	struct io_uring_restriction res[] = {
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_READ },
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_NOP },
	};
	int ret;

	if (!fs->ring_disabled)
		return 0;
	/*
	 * The system call itself: bookworm's liburing.so (2.3) declares
	 * io_uring_register_restrictions() and io_uring_enable_rings() but
	 * does not export them.
	 */
	ret = (int)syscall(__NR_io_uring_register, fs->ring.ring_fd,
			   IORING_REGISTER_RESTRICTIONS, res,
			   sizeof(res) / sizeof(res[0]));
	if (!ret)
		ret = (int)syscall(__NR_io_uring_register, fs->ring.ring_fd,
				   IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	return ret < 0 ? -errno : 0;
}

static int file_open(struct incrfsd_source *src, const char *location,
		     unsigned int depth)
{
	const char *path = location;
	struct file_source *fs;
	struct stat st;
	unsigned int i;
	int ret;

	if (!strncmp(path, FILE_PREFIX, strlen(FILE_PREFIX)))
		path += strlen(FILE_PREFIX);
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->fd = -1;
	src->priv = fs;
	src->event_fd = -1;
	fs->reqs = calloc(depth, sizeof(*fs->reqs));
	if (!fs->reqs)
		return file_fail(src, -ENOMEM, "allocating requests", path);
	for (i = 0; i < depth; i++) {
		fs->reqs[i].next_free = fs->free_list;
		fs->free_list = &fs->reqs[i];
	}
	fs->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fs->fd < 0)
		return file_fail(src, -errno, "cannot open", path);
	if (fstat(fs->fd, &st) < 0)
		return file_fail(src, -errno, "cannot stat", path);
	if (!S_ISREG(st.st_mode))
		return file_fail(src, -EINVAL, "not a regular file", path);
	src->size = (uint64_t)st.st_size;
	fs->done_tail = &fs->done;
	src->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (src->event_fd < 0)
		return file_fail(src, -errno, "eventfd", path);
	/* disabled until restricted (restrict_ring) */
	ret = io_uring_queue_init(depth, &fs->ring, IORING_SETUP_R_DISABLED);
	if (ret == -EINVAL)	/* a kernel before 5.10: unrestricted */
		ret = io_uring_queue_init(depth, &fs->ring, 0);
	else if (!ret)
		fs->ring_disabled = true;
	if (ret == -EPERM || ret == -EACCES || ret == -ENOSYS) {
		log_warn("%s: io_uring is not allowed here (%s): reading the blob with pread()",
			 path, strerror(-ret));
		return 0;
	}
	if (ret < 0)
		return file_fail(src, ret, "io_uring_queue_init", path);
	fs->ring_ok = true;
	ret = io_uring_register_eventfd(&fs->ring, src->event_fd);
	if (ret < 0)
		return file_fail(src, ret, "io_uring_register_eventfd", path);
	ret = restrict_ring(fs);
	if (ret < 0)
		return file_fail(src, ret, "io_uring_register_restrictions",
				 path);
	return 0;
}

/* Queue the rest of @req and submit it. */
static int submit_req(struct file_source *fs, struct file_req *req)
{
	size_t left = req->len - req->done;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&fs->ring);
	int ret;

	if (!sqe)
		return -EBUSY;	/* cannot happen: the ring has @depth slots */
	io_uring_prep_read(sqe, fs->fd, req->buf + req->done,
			   left > MAX_READ ? MAX_READ : (unsigned int)left,
			   req->off + req->done);
	sqe->ioprio = req->ioprio;
	io_uring_sqe_set_data(sqe, req);
	ret = io_uring_submit(&fs->ring);
	return ret < 0 ? ret : 0;
}

/* The fallback: read all of @req now; 0 or -errno (-EIO: end of file). */
static int pread_all(struct file_source *fs, struct file_req *req)
{
	ssize_t n;

	while (req->done < req->len) {
		size_t left = req->len - req->done;

		n = pread(fs->fd, req->buf + req->done,
			  left > MAX_READ ? MAX_READ : left,
			  (off_t)(req->off + req->done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;	/* end of file inside the range */
		req->done += (size_t)n;
	}
	return 0;
}

static int file_read(struct incrfsd_source *src, uint64_t off, size_t len,
		     void *buf, unsigned int flags, void *cookie)
{
	struct file_source *fs = src->priv;
	struct file_req *req = fs->free_list;
	uint64_t one = 1;
	int ret;

	if (!req || src->inflight >= src->depth)
		return -EBUSY;
	if (off + len < off)
		return -EINVAL;
	fs->free_list = req->next_free;
	*req = (struct file_req){
		.buf = buf, .off = off, .len = len, .cookie = cookie,
		.ioprio = (flags & INCRFSD_READ_IDLE) ?
			IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0) : 0,
	};
	if (!fs->ring_ok) {
		req->res = pread_all(fs, req);
		req->next_free = NULL;
		*fs->done_tail = req;
		fs->done_tail = &req->next_free;
		src->inflight++;
		if (write(src->event_fd, &one, sizeof(one)) < 0)
			return -errno;
		return 0;
	}
	if (len == 0) {
		/* nothing to read: complete it through the ring anyway */
		struct io_uring_sqe *sqe = io_uring_get_sqe(&fs->ring);

		if (!sqe) {
			ret = -EBUSY;
			goto fail;
		}
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data(sqe, req);
		ret = io_uring_submit(&fs->ring);
		ret = ret < 0 ? ret : 0;
	} else {
		ret = submit_req(fs, req);
	}
	if (ret)
		goto fail;
	src->inflight++;
	return 0;
fail:
	req->next_free = fs->free_list;
	fs->free_list = req;
	return ret;
}

static void drain_eventfd(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) == sizeof(v))
		;
}

/* reap() of the pread() fallback: every read is finished already. */
static int fallback_reap(struct incrfsd_source *src,
			 struct incrfsd_read_done *done, unsigned int max)
{
	struct file_source *fs = src->priv;
	struct file_req *req;
	unsigned int n = 0;
	uint64_t one = 1;

	drain_eventfd(src->event_fd);
	while (n < max && (req = fs->done)) {
		fs->done = req->next_free;
		if (!fs->done)
			fs->done_tail = &fs->done;
		done[n].cookie = req->cookie;
		done[n].err = req->res;
		n++;
		req->next_free = fs->free_list;
		fs->free_list = req;
		src->inflight--;
	}
	if (fs->done && write(src->event_fd, &one, sizeof(one)) < 0)
		return -errno;
	return (int)n;
}

static int file_reap(struct incrfsd_source *src, struct incrfsd_read_done *done,
		     unsigned int max, bool wait)
{
	struct file_source *fs = src->priv;
	struct io_uring_cqe *cqe;
	unsigned int n = 0;
	int ret;

	if (!fs->ring_ok)
		return fallback_reap(src, done, max);
	while (n < max) {
		struct file_req *req;
		int res;

		ret = io_uring_peek_cqe(&fs->ring, &cqe);
		if (ret == -EAGAIN) {
			if (n || !wait || !src->inflight)
				break;
			ret = io_uring_wait_cqe(&fs->ring, &cqe);
		}
		if (ret == -EINTR && n)
			break;
		if (ret < 0)
			return ret;
		req = io_uring_cqe_get_data(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&fs->ring, cqe);
		if (res == -EAGAIN || res == -EINTR) {
			res = submit_req(fs, req);
			if (!res)
				continue;
		} else if (res > 0) {
			req->done += (size_t)res;
			if (req->done < req->len) {
				res = submit_req(fs, req);
				if (!res)
					continue;
			} else {
				res = 0;
			}
		} else if (res == 0 && req->done < req->len) {
			res = -EIO;	/* end of file inside the range */
		}
		done[n].cookie = req->cookie;
		done[n].err = res;
		n++;
		req->next_free = fs->free_list;
		fs->free_list = req;
		src->inflight--;
	}
	/*
	 * The ring signals the eventfd for every result, also for those
	 * just taken: clear it, then set it again for results left behind
	 * so the caller's epoll wakes for them.
	 */
	drain_eventfd(src->event_fd);
	if (io_uring_cq_ready(&fs->ring)) {
		uint64_t one = 1;

		if (write(src->event_fd, &one, sizeof(one)) < 0)
			return -errno;
	}
	return (int)n;
}

static void file_close(struct incrfsd_source *src)
{
	struct file_source *fs = src->priv;
	struct incrfsd_read_done d;

	if (!fs)
		return;
	/*
	 * The kernel may still write into the callers' buffers: wait, also
	 * through signals; only a ring that fails outright ends the wait.
	 */
	while (fs->ring_ok && src->inflight) {
		int ret = file_reap(src, &d, 1, true);

		if (ret < 0 && ret != -EINTR)
			break;
	}
	if (fs->ring_ok)
		io_uring_queue_exit(&fs->ring);
	if (src->event_fd >= 0)
		close(src->event_fd);
	if (fs->fd >= 0)
		close(fs->fd);
	free(fs->reqs);
	free(fs);
	src->priv = NULL;
	src->event_fd = -1;
	src->inflight = 0;
}

const struct incrfsd_source_ops incrfsd_file_source = {
	.name = "file",
	.default_depth = 8,
	.match = file_match,
	.open = file_open,
	.read = file_read,
	.reap = file_reap,
	.close = file_close,
};
