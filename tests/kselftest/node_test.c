// SPDX-License-Identifier: GPL-2.0-only
/*
 * node_test.c - one incrfsd for a node's mounts (incrfsd --node) in the
 * real kernel: mounts attached and detached with incrfsctl while it runs,
 * served with no capability, a hundred layers surviving SIGKILL and a
 * restart with every waiting reader served, control fds kept by the
 * service manager (systemd's fd store protocol) and INCRFS_IOC_REPLAY.
 *
 * The guest has no systemd: where the fd store is tested, this program
 * plays its part of the protocol ($NOTIFY_SOCKET datagrams with
 * FDSTORE=1 and SCM_RIGHTS; $LISTEN_FDS, $LISTEN_FDNAMES, $LISTEN_PID at
 * the next start), exactly as sd_notify(3) and sd_listen_fds(3) describe
 * it; the daemon and the kernel are the real ones.
 */
#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "tests/kselftest/harness.h"
#include "tests/kselftest/incrfs_util.h"
#include "tests/kselftest/proc_util.h"
#include "node_msg.h"

#define TOP	"/tmp/node"
#define SRC	TOP "/src"
#define IMG	TOP "/layer.img"
#define BLOB	TOP "/layer.blob"
#define OTHER_IMG	TOP "/other.img"
#define OTHER_BLOB	TOP "/other.blob"
#define NBLOCKS	64		/* of SRC/data */
#define BS	4096
#define NOBODY	65534
#define LAYERS	100

static int setup_images(void)
{
	struct stat st;

	if (stat("/", &st) || ((st.st_mode & 0111) != 0111 &&
			       chmod("/", st.st_mode | 0111)))
		return -1;
	if (access(TOP "/ready", F_OK) == 0)
		return 0;
	if (iu_sh("rm -rf " TOP " && mkdir -p " SRC " " TOP "/o && chmod 755 "
		  TOP) ||
	    iu_pattern_file(SRC "/data", NBLOCKS * BS, 7) ||
	    iu_pattern_file(TOP "/o/data", NBLOCKS * BS, 8) ||
	    iu_sh("incrfs-pack " SRC " " IMG " --blob " BLOB " >/dev/null") ||
	    iu_sh("incrfs-pack " TOP "/o " OTHER_IMG " --blob " OTHER_BLOB
		  " >/dev/null") ||
	    iu_sh("chmod 644 " TOP "/*.blob " TOP "/*.img"))
		return -1;
	return iu_write_file(TOP "/ready", "", 0, 0644);
}

/* ---- the fixture: a directory of its own, a node daemon, mounts ---- */

FIXTURE(node) {
	char dir[64], sock[96], state[96], log[96];
	pid_t daemon;
	int nmounts;
};

static char *mnt_of(FIXTURE_DATA(node) *self, int i)
{
	static char path[2][128];
	static int k;

	k ^= 1;
	snprintf(path[k], sizeof(path[k]), "%s/m%d", self->dir, i);
	return path[k];
}

FIXTURE_SETUP(node)
{
	ASSERT_EQ(0, setup_images());
	self->daemon = -1;
	snprintf(self->dir, sizeof(self->dir), TOP "/t%d", getpid());
	snprintf(self->sock, sizeof(self->sock), "%s/run/node.sock",
		 self->dir);
	snprintf(self->state, sizeof(self->state), "%s/state", self->dir);
	snprintf(self->log, sizeof(self->log), "%s/node.log", self->dir);
	ASSERT_EQ(0, iu_sh("mkdir -p %s/run && chmod 755 %s", self->dir,
			   self->dir));
}

FIXTURE_TEARDOWN(node)
{
	int i;

	pu_kill(&self->daemon);
	if (_metadata->res->failed && self->log[0]) {
		TH_LOG("incrfsd --node log:");
		pu_show_log(self->log);
	}
	for (i = 0; i < self->nmounts; i++)
		umount2(mnt_of(self, i), MNT_DETACH);
	if (self->dir[0])
		iu_sh("rm -rf %s", self->dir);
}

static void as_nobody(void)
{
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		_exit(99);
}

/* Start incrfsd --node; wait until it listens. */
static pid_t start_node(FIXTURE_DATA(node) *self, void (*in_child)(void),
			const char *extra)
{
	const char *argv[] = { "incrfsd", "--node", "--socket", self->sock,
			       "--state-dir", self->state, extra, NULL };
	int before = 0;
	char *text = pu_read_text(self->log);
	pid_t pid;

	/* count the "listening" lines so far: a restart appends one */
	for (char *p = text; p && (p = strstr(p, "node: listening")); p++)
		before++;
	free(text);
	pid = pu_spawn_with(self->log, argv, in_child);
	if (pid < 0)
		return -1;
	for (int ms = 0; ms < 20000; ms += 20) {
		int now = 0;

		text = pu_read_text(self->log);
		for (char *p = text; p && (p = strstr(p, "node: listening"));
		     p++)
			now++;
		free(text);
		if (now > before)
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		pu_msleep(20);
	}
	kill(pid, SIGKILL);
	return -1;
}

/* Mount a private copy of @image as mount @i. */
static int add_mount(FIXTURE_DATA(node) *self, int i, const char *image)
{
	char img[128];

	snprintf(img, sizeof(img), "%s/l%d.img", self->dir, i);
	if (iu_sparse_copy(image, img))
		return -1;
	if (iu_mount(img, mnt_of(self, i), "timeout=120000"))
		return -1;
	if (i >= self->nmounts)
		self->nmounts = i + 1;
	return 0;
}

/* incrfsctl CMD --socket SOCK ARGS...: its exit status. */
static int ctl(FIXTURE_DATA(node) *self, const char *cmd, const char *a1,
	       const char *a2, const char *a3, const char *a4)
{
	const char *argv[] = { "incrfsctl", cmd, "--socket", self->sock, a1,
			       a2, a3, a4, NULL };

	return iu_run(argv);
}

/* The same, its output (stdout and stderr) in @out. */
static int ctl_out(FIXTURE_DATA(node) *self, char *out, size_t len,
		   const char *cmd, const char *a1, const char *a2,
		   const char *a3)
{
	char file[128], *text;
	int ret;

	snprintf(file, sizeof(file), "%s/ctl.out", self->dir);
	ret = iu_sh("incrfsctl %s --socket %s %s %s %s >%s 2>&1", cmd,
		    self->sock, a1 ? a1 : "", a2 ? a2 : "", a3 ? a3 : "", file);
	text = pu_read_text(file);
	snprintf(out, len, "%s", text ? text : "");
	free(text);
	return ret;
}

static int attach(FIXTURE_DATA(node) *self, int i)
{
	return ctl(self, "attach", mnt_of(self, i), "--source", BLOB, NULL);
}

/* ---- readers ---- */

/* A child that reads block @b of mount @mnt's data and checks it. */
static pid_t start_reader(const char *mnt, int b, int ready_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		unsigned char got[BS], want[BS];
		char path[160];
		int fd, rfd = open(SRC "/data", O_RDONLY);

		snprintf(path, sizeof(path), "%s/data", mnt);
		fd = open(path, O_RDONLY);
		if (fd < 0 || rfd < 0 ||
		    pread(rfd, want, BS, (off_t)b * BS) != BS)
			_exit(3);
		posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
		if (write(ready_fd, "r", 1) != 1)
			_exit(3);
		if (pread(fd, got, BS, (off_t)b * BS) != BS)
			_exit(errno == ETIMEDOUT ? 2 : 3);
		_exit(memcmp(got, want, BS) ? 1 : 0);
	}
	return pid;
}

static bool feeder_attached(const char *mnt)
{
	struct incrfs_stats st = { 0 };

	return !iu_get_stats(mnt, &st) && st.feeder_attached;
}

/* ---- tests ---- */

TEST_F(node, attach_serve_detach)
{
	char out[4096];
	pid_t pid;
	int pfd[2];
	char c;

	self->daemon = start_node(self, NULL, NULL);
	ASSERT_GT(self->daemon, 0);
	ASSERT_EQ(0, add_mount(self, 0, IMG));
	ASSERT_FALSE(feeder_attached(mnt_of(self, 0)));
	ASSERT_EQ(0, attach(self, 0));
	ASSERT_TRUE(feeder_attached(mnt_of(self, 0)));
	/* a read of a missing block is served */
	ASSERT_EQ(0, pipe(pfd));
	pid = start_reader(mnt_of(self, 0), 33, pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	ASSERT_EQ(1, pu_count_ok(&pid, 1, 30000));
	/* and the whole file is right */
	ASSERT_EQ(0, iu_sh("cmp %s/data " SRC "/data", mnt_of(self, 0)));
	ASSERT_EQ(0, ctl_out(self, out, sizeof(out), "feeders", "--json",
			     NULL, NULL));
	EXPECT_NE(NULL, strstr(out, "\"state\":\"serving\"")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, mnt_of(self, 0))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"blocks_total\":64")) TH_LOG("%s", out);
	ASSERT_EQ(0, ctl_out(self, out, sizeof(out), "feeders", NULL, NULL,
			     NULL));
	EXPECT_NE(NULL, strstr(out, "serving")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "100.0%")) TH_LOG("%s", out);
	/* the state file lists it for a restart */
	ASSERT_EQ(0, iu_sh("grep -q '%s' %s/mounts.json", mnt_of(self, 0),
			   self->state));
	/* detached: the control fd is closed, the list and the file empty */
	ASSERT_EQ(0, ctl(self, "detach", mnt_of(self, 0), NULL, NULL, NULL));
	ASSERT_FALSE(feeder_attached(mnt_of(self, 0)));
	ASSERT_EQ(0, ctl_out(self, out, sizeof(out), "feeders", "--json",
			     NULL, NULL));
	EXPECT_NE(NULL, strstr(out, "\"mounts\":[]")) TH_LOG("%s", out);
	ASSERT_NE(0, iu_sh("grep -q '%s' %s/mounts.json", mnt_of(self, 0),
			   self->state));
	/* a mount that is unmounted is dropped by itself */
	ASSERT_EQ(0, attach(self, 0));
	ASSERT_EQ(0, umount2(mnt_of(self, 0), MNT_DETACH));
	ASSERT_TRUE(pu_wait_file_has(self->log, "no longer served (unmounted",
				     20000));
	ASSERT_EQ(0, ctl_out(self, out, sizeof(out), "feeders", "--json",
			     NULL, NULL));
	EXPECT_NE(NULL, strstr(out, "\"mounts\":[]")) TH_LOG("%s", out);
	/* SIGTERM: a clean exit, the socket removed */
	ASSERT_EQ(0, pu_stop(&self->daemon, SIGTERM, 20000));
	ASSERT_NE(0, access(self->sock, F_OK));
}

TEST_F(node, attach_refusals_say_why)
{
	char out[4096];
	pid_t pid;

	self->daemon = start_node(self, NULL, NULL);
	ASSERT_GT(self->daemon, 0);
	ASSERT_EQ(0, add_mount(self, 0, IMG));
	/* not incrfs */
	ASSERT_EQ(1, ctl_out(self, out, sizeof(out), "attach", self->dir,
			     "--source", BLOB));
	EXPECT_NE(NULL, strstr(out, "not on an incrfs mount")) TH_LOG("%s", out);
	/* another image's blob: incrfsd's exit status 3, and its reason */
	ASSERT_EQ(3, ctl_out(self, out, sizeof(out), "attach",
			     mnt_of(self, 0), "--source", OTHER_BLOB));
	EXPECT_NE(NULL, strstr(out, "does not belong to the image"))
		TH_LOG("%s", out);
	ASSERT_FALSE(feeder_attached(mnt_of(self, 0)));
	/* the node's own options, and bad ones */
	ASSERT_EQ(2, ctl_out(self, out, sizeof(out), "attach",
			     mnt_of(self, 0), "--source " BLOB,
			     "--ca-file /etc/hosts"));
	EXPECT_NE(NULL, strstr(out, "--ca-file is the node's")) TH_LOG("%s", out);
	ASSERT_EQ(2, ctl_out(self, out, sizeof(out), "attach",
			     mnt_of(self, 0), "--source " BLOB,
			     "--readahead lots"));
	EXPECT_NE(NULL, strstr(out, "--readahead")) TH_LOG("%s", out);
	/* attached twice: the second finds the control channel taken */
	ASSERT_EQ(0, attach(self, 0));
	ASSERT_EQ(1, ctl_out(self, out, sizeof(out), "attach",
			     mnt_of(self, 0), "--source", BLOB));
	EXPECT_NE(NULL, strstr(out, "already serving")) TH_LOG("%s", out);
	/* detach what is not attached */
	ASSERT_EQ(1, ctl_out(self, out, sizeof(out), "detach", self->dir,
			     NULL, NULL));
	EXPECT_NE(NULL, strstr(out, "not attached")) TH_LOG("%s", out);
	/* a second daemon on the same socket */
	ASSERT_EQ(1, iu_sh("incrfsd --node --socket %s --state-dir %s/x 2>%s/2nd",
			   self->sock, self->dir, self->dir));
	ASSERT_EQ(0, iu_sh("grep -q 'another incrfsd --node listens' %s/2nd",
			   self->dir));
	/* nobody may not talk to it (the socket is 0600) */
	pid = fork();
	if (pid == 0) {
		as_nobody();
		_exit(incrfs_node_connect(self->sock) == -EACCES ? 0 : 1);
	}
	ASSERT_EQ(0, pu_wait_exit(pid, 10000));
}

TEST_F(node, memory_budget_refuses_a_mount)
{
	char out[4096];

	/* 64 KiB cannot hold one mount's read buffers */
	self->daemon = start_node(self, NULL, "--memory-max=64K");
	ASSERT_GT(self->daemon, 0);
	ASSERT_EQ(0, add_mount(self, 0, IMG));
	ASSERT_EQ(1, ctl_out(self, out, sizeof(out), "attach",
			     mnt_of(self, 0), "--source", BLOB));
	EXPECT_NE(NULL, strstr(out, "memory budget is spent")) TH_LOG("%s", out);
	ASSERT_FALSE(feeder_attached(mnt_of(self, 0)));
}

TEST_F(node, serves_with_no_capability)
{
	char what[512];
	int seen, bad;

	self->daemon = start_node(self, NULL, NULL);
	ASSERT_GT(self->daemon, 0);
	ASSERT_EQ(0, add_mount(self, 0, IMG));
	ASSERT_EQ(0, attach(self, 0));
	bad = pu_privileged_threads(self->daemon, &seen, what, sizeof(what));
	EXPECT_EQ(0, bad) TH_LOG("%s", what);
	EXPECT_GE(seen, 2);	/* the main thread and the mount's */
	ASSERT_EQ(0, iu_sh("cmp %s/data " SRC "/data", mnt_of(self, 0)));
}

/*
 * A hundred layers attached; the daemon frozen, a reader waiting on every
 * layer, then SIGKILL: the readers keep waiting.  Started again, the
 * daemon opens the control fds anew from its list, and every reader gets
 * its block.
 */
TEST_F_TIMEOUT(node, hundred_layers_survive_sigkill_and_restart, 600)
{
	pid_t pids[LAYERS];
	char out[65536], what[512];
	int pfd[2], i, seen, bad;
	char c;

	self->daemon = start_node(self, NULL, NULL);
	ASSERT_GT(self->daemon, 0);
	for (i = 0; i < LAYERS; i++) {
		ASSERT_EQ(0, add_mount(self, i, IMG)) TH_LOG("mount %d", i);
		ASSERT_EQ(0, attach(self, i)) TH_LOG("attach %d", i);
	}
	ASSERT_EQ(0, kill(self->daemon, SIGSTOP));
	ASSERT_EQ(0, pipe(pfd));
	for (i = 0; i < LAYERS; i++) {
		pids[i] = start_reader(mnt_of(self, i), i % NBLOCKS, pfd[1]);
		ASSERT_GT(pids[i], 0);
	}
	for (i = 0; i < LAYERS; i++)
		ASSERT_EQ(1, read(pfd[0], &c, 1));
	for (i = 0; i < LAYERS; i++)
		ASSERT_EQ(0, iu_wait_misses(mnt_of(self, i), 1, 30000))
			TH_LOG("layer %d", i);
	ASSERT_EQ(128 + SIGKILL, pu_stop(&self->daemon, SIGKILL, 20000));
	pu_msleep(300);
	for (i = 0; i < LAYERS; i++)
		ASSERT_EQ(0, waitpid(pids[i], NULL, WNOHANG)) TH_LOG("reader %d", i);
	self->daemon = start_node(self, NULL, NULL);
	ASSERT_GT(self->daemon, 0);
	ASSERT_EQ(LAYERS, pu_count_ok(pids, LAYERS, 120000));
	/* it opened the fds with CAP_SYS_ADMIN: no thread kept it */
	bad = pu_privileged_threads(self->daemon, &seen, what, sizeof(what));
	EXPECT_EQ(0, bad) TH_LOG("%s", what);
	EXPECT_GT(seen, LAYERS);
	ASSERT_EQ(0, ctl_out(self, out, sizeof(out), "feeders", "--json",
			     NULL, NULL));
	for (i = 0; i < LAYERS; i++) {
		char want[160];

		snprintf(want, sizeof(want), "\"mount\":\"%s\",\"state\":\"serving\"",
			 mnt_of(self, i));
		EXPECT_NE(NULL, strstr(out, want)) TH_LOG("layer %d", i);
	}
	EXPECT_TRUE(pu_file_has(self->log, "attached again, as in the last run"));
}

/* ---- the service manager's side of the fd store ---- */

static int kept_fd[8], nkept;
static char kept_names[256];
static char notify_path[128];

/* A restarted daemon's child: the kept fds as systemd passes them. */
static void as_systemd_child(void)
{
	char v[32];
	int i, hi[8];

	for (i = 0; i < nkept; i++)
		hi[i] = fcntl(kept_fd[i], F_DUPFD, 100);
	for (i = 0; i < nkept; i++)
		if (hi[i] < 0 || dup2(hi[i], 3 + i) < 0)
			_exit(97);
	snprintf(v, sizeof(v), "%d", nkept);
	setenv("LISTEN_FDS", v, 1);
	setenv("LISTEN_FDNAMES", kept_names, 1);
	snprintf(v, sizeof(v), "%d", (int)getpid());
	setenv("LISTEN_PID", v, 1);
	setenv("NOTIFY_SOCKET", notify_path, 1);
	as_nobody();
}

static void first_child(void)
{
	setenv("NOTIFY_SOCKET", notify_path, 1);
	as_nobody();
}

/* Take FDSTORE=1 messages (with their fd) from @sock for up to @ms. */
static void take_stored(int sock, int want, int ms)
{
	char buf[512];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;

	for (; nkept < want && ms > 0; ms -= 10) {
		struct iovec iov = { buf, sizeof(buf) - 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = ctl.b,
				     .msg_controllen = sizeof(ctl.b) };
		struct cmsghdr *c;
		ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT);
		char *name;

		if (n < 0) {
			pu_msleep(10);
			continue;
		}
		buf[n] = '\0';
		c = CMSG_FIRSTHDR(&mh);
		name = strstr(buf, "FDNAME=");
		if (!strstr(buf, "FDSTORE=1") || !c || !name)
			continue;
		memcpy(&kept_fd[nkept], CMSG_DATA(c), sizeof(int));
		name += 7;
		name[strcspn(name, "\n")] = '\0';
		if (nkept)
			strcat(kept_names, ":");
		strcat(kept_names, name);
		nkept++;
	}
}

/*
 * The daemon runs as nobody, without the privilege to open a control fd:
 * it is restarted with the fds systemd kept.  The records the killed
 * daemon "read" (this program reads them through a kept fd, as a daemon
 * killed in the middle would have) come back through INCRFS_IOC_REPLAY.
 */
TEST_F_TIMEOUT(node, restart_with_the_fds_systemd_kept, 300)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct incrfs_pending_read rec[8];
	pid_t pids[4];
	int sock, pfd[2], i;
	char c;

	nkept = 0;
	kept_names[0] = '\0';
	snprintf(notify_path, sizeof(notify_path), "%s/notify", self->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", notify_path);
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_GE(sock, 0);
	ASSERT_EQ(0, bind(sock, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, chmod(notify_path, 0666));
	ASSERT_EQ(0, iu_sh("mkdir -p %s && chown -R %d:%d %s/run %s",
			   self->state, NOBODY, NOBODY, self->dir,
			   self->state));
	self->daemon = start_node(self, first_child, NULL);
	ASSERT_GT(self->daemon, 0);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, add_mount(self, i, IMG));
		ASSERT_EQ(0, attach(self, i));
	}
	take_stored(sock, 2, 10000);
	ASSERT_EQ(2, nkept) TH_LOG("FDSTORE messages: %s", kept_names);
	ASSERT_EQ(128 + SIGKILL, pu_stop(&self->daemon, SIGKILL, 20000));
	/* the fds we keep hold the channels open: the kernel replays nothing */
	EXPECT_TRUE(feeder_attached(mnt_of(self, 0)));
	ASSERT_EQ(0, pipe(pfd));
	for (i = 0; i < 4; i++)
		pids[i] = start_reader(mnt_of(self, i / 2), 5 + 20 * (i % 2),
				       pfd[1]);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(1, read(pfd[0], &c, 1));
	ASSERT_EQ(0, iu_wait_misses(mnt_of(self, 0), 2, 20000));
	ASSERT_EQ(0, iu_wait_misses(mnt_of(self, 1), 2, 20000));
	/* the dead daemon had read them: gone from the queue */
	for (i = 0; i < nkept; i++) {
		int fl = fcntl(kept_fd[i], F_GETFL);

		fcntl(kept_fd[i], F_SETFL, fl | O_NONBLOCK);
		EXPECT_EQ(2 * sizeof(rec[0]), read(kept_fd[i], rec, sizeof(rec)));
		fcntl(kept_fd[i], F_SETFL, fl);
	}
	self->daemon = start_node(self, as_systemd_child, NULL);
	ASSERT_GT(self->daemon, 0);
	ASSERT_EQ(4, pu_count_ok(pids, 4, 60000));
	EXPECT_TRUE(pu_file_has(self->log, "attached again, as in the last run"));
	EXPECT_FALSE(pu_file_has(self->log, "OPEN_CONTROL"));
	for (i = 0; i < nkept; i++)
		close(kept_fd[i]);
	close(sock);
}

TEST_F(node, replay_queues_each_waiting_read_once)
{
	struct incrfs_pending_read rec[8];
	pid_t pid;
	int cfd, pfd[2];
	char c;

	ASSERT_EQ(0, add_mount(self, 0, IMG));
	ASSERT_EQ(0, pipe(pfd));
	pid = start_reader(mnt_of(self, 0), 9, pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	ASSERT_EQ(0, iu_wait_misses(mnt_of(self, 0), 1, 20000));
	/* (opened after the fork: the reader must not hold a copy) */
	cfd = iu_open_control(mnt_of(self, 0));
	ASSERT_GE(cfd, 0);
	ASSERT_EQ(0, fcntl(cfd, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(sizeof(rec[0]), read(cfd, rec, sizeof(rec)));
	EXPECT_EQ(9, rec[0].block);
	ASSERT_EQ(-1, read(cfd, rec, sizeof(rec)));
	ASSERT_EQ(EAGAIN, errno);
	/* replayed: the same record again, once however often asked */
	ASSERT_EQ(0, ioctl(cfd, INCRFS_IOC_REPLAY));
	ASSERT_EQ(0, ioctl(cfd, INCRFS_IOC_REPLAY));
	ASSERT_EQ(sizeof(rec[0]), read(cfd, rec, sizeof(rec)));
	EXPECT_EQ(9, rec[0].block);
	/* nothing waits in another block: nothing more */
	ASSERT_EQ(-1, read(cfd, rec, sizeof(rec)));
	close(cfd);
	/* and the real feeder serves it */
	ASSERT_EQ(0, iu_sh("incrfsd --exit-when-complete --prefetch all --source "
			   BLOB " %s 2>/dev/null", mnt_of(self, 0)));
	ASSERT_EQ(1, pu_count_ok(&pid, 1, 30000));
	/* the ioctl is the control fd's: a file of the mount refuses it */
	cfd = open(mnt_of(self, 0), O_RDONLY);
	ASSERT_GE(cfd, 0);
	EXPECT_EQ(-1, ioctl(cfd, INCRFS_IOC_REPLAY));
	EXPECT_EQ(ENOTTY, errno);
	close(cfd);
}

/*
 * An HTTP server for BLOB that answers nothing until a byte comes on
 * @go: a feeder opening it stays "starting" as long as the test wants.
 * Then each connection is served by a child of its own, Range requests
 * answered with 206 from the file, until the client closes it.
 */
static void held_server(int lfd, int go)
{
	int fd = open(BLOB, O_RDONLY);
	struct stat st;
	char c;

	if (fd < 0 || fstat(fd, &st) || read(go, &c, 1) != 1)
		_exit(1);
	for (;;) {
		int conn = accept(lfd, NULL, NULL);

		if (conn < 0)
			_exit(1);
		if (fork() != 0) {
			close(conn);
			continue;
		}
		for (;;) {
			unsigned long long a, b;
			char req[4096], hdr[256];
			size_t n = 0;
			off_t off;
			char *r;
			int h;

			while (n < 4 || !memmem(req, n, "\r\n\r\n", 4)) {
				ssize_t k = read(conn, req + n,
						 sizeof(req) - 1 - n);

				if (k <= 0)
					_exit(0);
				n += k;
			}
			req[n] = 0;
			r = strcasestr(req, "\nRange: bytes=");
			if (!r || sscanf(r + 14, "%llu-%llu", &a, &b) != 2 ||
			    a >= (unsigned long long)st.st_size)
				_exit(1);
			if (b >= (unsigned long long)st.st_size)
				b = st.st_size - 1;
			h = snprintf(hdr, sizeof(hdr),
				     "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %llu-%llu/%lld\r\nContent-Length: %llu\r\n\r\n",
				     a, b, (long long)st.st_size, b - a + 1);
			off = a;
			if (write(conn, hdr, h) != h ||
			    sendfile(conn, fd, &off, b - a + 1) !=
			    (ssize_t)(b - a + 1))
				_exit(1);
		}
	}
}

/* Wait until incrfsctl feeders shows @state. */
static bool feeders_show(FIXTURE_DATA(node) *self, const char *state,
			 int ms)
{
	char out[4096];

	for (; ms > 0; ms -= 50) {
		if (!ctl_out(self, out, sizeof(out), "feeders", NULL, NULL,
			     NULL) && strstr(out, state))
			return true;
		pu_msleep(50);
	}
	return false;
}

TEST_F(node, detach_before_serving_fails_the_attach)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	pid_t server, attacher, detacher;
	char url[96], path[128], *text;
	int lfd, go[2], st;

	self->daemon = start_node(self, NULL, NULL);
	ASSERT_GT(self->daemon, 0);
	ASSERT_EQ(0, add_mount(self, 0, IMG));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, listen(lfd, 16));
	ASSERT_EQ(0, getsockname(lfd, (struct sockaddr *)&sa, &len));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/layer.blob",
		 ntohs(sa.sin_port));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	server = fork();
	if (server == 0) {
		/* a group of its own: its connections' children die with it */
		setpgid(0, 0);
		close(go[1]);
		held_server(lfd, go[0]);
	}
	setpgid(server, server);	/* whichever of the two runs first */
	close(lfd);
	close(go[0]);
	attacher = fork();
	if (attacher == 0)
		_exit(iu_sh("incrfsctl attach --socket %s %s --source %s >%s/attach.out 2>&1",
			    self->sock, mnt_of(self, 0), url, self->dir));
	/* its blob cannot be opened yet: starting, then detached so */
	EXPECT_TRUE(feeders_show(self, "starting", 10000));
	detacher = fork();
	if (detacher == 0)
		_exit(ctl(self, "detach", mnt_of(self, 0), NULL, NULL, NULL));
	EXPECT_TRUE(feeders_show(self, "detaching", 10000));
	/* the server answers: the feeder opens the blob, sees the detach */
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(1, pu_count_ok(&detacher, 1, 30000));
	st = pu_wait_exit(attacher, 30000);
	if (st < 0) {
		kill(attacher, SIGKILL);
		waitpid(attacher, NULL, 0);
	}
	EXPECT_EQ(1, st);
	snprintf(path, sizeof(path), "%s/attach.out", self->dir);
	text = pu_read_text(path);
	EXPECT_TRUE(text && strstr(text, "detached (incrfsctl detach) before the mount was served"))
		TH_LOG("%s", text ? text : "");
	free(text);
	EXPECT_FALSE(feeder_attached(mnt_of(self, 0)));
	close(go[1]);
	kill(-server, SIGKILL);
	pu_kill(&server);
}

TEST_HARNESS_MAIN
