// SPDX-License-Identifier: GPL-2.0-only
/*
 * http_source_test.c - incrfsd filling a lazy mount from a blob on a web
 * server: busybox httpd on 127.0.0.1 inside the guest serves the blob and
 * incrfsd --source http://127.0.0.1:PORT/lazy.blob fills the mount; the
 * tree read through the mount equals the packed one.  Then the server is
 * killed while readers wait: they keep waiting, the feeder keeps running
 * and retrying, and once the server is back every reader completes with
 * the right bytes.  No thread of the feeder, its HTTP workers included,
 * keeps a capability once it serves.
 *
 * Loopback only; each wait is bounded.  incrfsd is the one on PATH (the
 * guest's /usr/local/bin, dynamically linked with libcurl).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdbool.h>
#include "tests/kselftest/harness.h"
#include "tests/kselftest/incrfs_util.h"
#include "tests/kselftest/proc_util.h"

#define TOP	"/tmp/http"
#define SRC	TOP "/src"
#define WWW	TOP "/www"
#define IMG	WWW "/lazy.img"
#define PORT	"18080"
#define URL	"http://127.0.0.1:" PORT "/lazy.blob"

static int setup_images(void)
{
	char path[PATH_MAX];
	int i;

	if (access(TOP "/ready", F_OK) == 0)
		return 0;
	if (iu_sh("rm -rf " TOP " && mkdir -p " SRC "/dir " WWW) ||
	    iu_sh("cp /bin/busybox " SRC "/busybox") ||
	    iu_pattern_file(SRC "/big", (4 << 20) + 100, 11))
		return -1;
	for (i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), SRC "/dir/f%02d", i);
		if (iu_pattern_file(path, i * 5111 + 1, 100 + i))
			return -1;
	}
	if (iu_sh("incrfs-pack " SRC " " IMG " --blob " WWW
		  "/lazy.blob >/dev/null"))
		return -1;
	return iu_write_file(TOP "/ready", "", 0, 0644);
}

static pid_t start_httpd(void)
{
	const char *argv[] = { "busybox", "httpd", "-f", "-p",
			       "127.0.0.1:" PORT, "-h", WWW, NULL };
	pid_t pid = pu_spawn(NULL, argv);
	int i;

	/* up once it answers a range */
	for (i = 0; i < 500 && pid > 0; i++) {
		if (!iu_sh("wget -q -O /dev/null http://127.0.0.1:" PORT
			   "/lazy.img 2>/dev/null"))
			return pid;
		pu_msleep(20);
	}
	return -1;
}

static pid_t spawn_feeder(const char *log, const char *mnt)
{
	const char *argv[] = { "incrfsd", "-v", "--readahead", "0",
			       "--source", URL, mnt, NULL };

	return pu_spawn(log, argv);
}

FIXTURE(web) {
	char img[64], mnt[64], log[64];
	pid_t httpd, feeder;
};

FIXTURE_SETUP(web)
{
	self->httpd = self->feeder = -1;
	ASSERT_EQ(0, setup_images());
	snprintf(self->img, sizeof(self->img), TOP "/t%d.img", getpid());
	snprintf(self->mnt, sizeof(self->mnt), TOP "/m%d", getpid());
	snprintf(self->log, sizeof(self->log), TOP "/feeder%d.log", getpid());
	ASSERT_EQ(0, iu_sh("cp %s %s", IMG, self->img));
	ASSERT_EQ(0, iu_mount(self->img, self->mnt, "timeout=30000"))
		TH_LOG("mount: %s", strerror(errno));
	self->httpd = start_httpd();
	ASSERT_GT(self->httpd, 0) TH_LOG("busybox httpd did not answer");
}

FIXTURE_TEARDOWN(web)
{
	pu_kill(&self->feeder);
	pu_kill(&self->httpd);
	if (_metadata->res->failed)
		pu_show_log(self->log);
	umount2(self->mnt, MNT_DETACH);
	rmdir(self->mnt);
	unlink(self->img);
	unlink(self->log);
}

TEST_F(web, tree_matches_through_http)
{
	struct incrfs_stats st;
	char what[512] = "";
	int seen, bad;

	ASSERT_EQ(0, iu_get_stats(self->mnt, &st));
	ASSERT_EQ(0, st.blocks_present);
	self->feeder = spawn_feeder(self->log, self->mnt);
	ASSERT_GT(self->feeder, 0);
	ASSERT_TRUE(pu_wait_file_has(self->log, "incrfsd: serving", 20000));
	ASSERT_EQ(0, iu_cmp_tree(SRC, self->mnt)) TH_LOG("%s", iu_diff);
	/* the HTTP workers, started before the feeder dropped its
	 * capabilities, dropped theirs too */
	bad = pu_privileged_threads(self->feeder, &seen, what, sizeof(what));
	EXPECT_EQ(0, bad) TH_LOG("%s", what);
	EXPECT_GE(seen, 2);
	/* and are under the seccomp filter (TSYNC), where there is one */
	bad = pu_unfiltered_threads(self->feeder, &seen);
	EXPECT_LE(bad, 0) TH_LOG("%d of %d threads without seccomp", bad,
				 seen);
	ASSERT_EQ(0, iu_get_stats(self->mnt, &st));
	EXPECT_EQ(1, st.complete);
	EXPECT_EQ(0, st.hash_failures);
	EXPECT_EQ(0, st.timeouts);
	EXPECT_GT(st.misses, 0);
}

/*
 * A server that takes connections and never answers holds incrfsd's
 * start-up (each attempt waits 30 s for a byte): SIGTERM still stops it
 * at once, as it stops any program.
 */
TEST_F(web, stopped_while_the_server_does_not_answer)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	char url[64], port[16];
	const char *argv[] = { "incrfsd", "--source", url, self->mnt, NULL };
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), st;

	ASSERT_GE(lfd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_EQ(0, listen(lfd, 16));	/* the kernel completes handshakes */
	ASSERT_EQ(0, getsockname(lfd, (struct sockaddr *)&a, &l));
	snprintf(port, sizeof(port), "%d", ntohs(a.sin_port));
	snprintf(url, sizeof(url), "http://127.0.0.1:%s/lazy.blob", port);
	self->feeder = pu_spawn(self->log, argv);
	ASSERT_GT(self->feeder, 0);
	pu_msleep(1500);
	ASSERT_EQ(-1, pu_wait_exit(self->feeder, 0)) TH_LOG("it ended by itself");
	ASSERT_EQ(0, kill(self->feeder, SIGTERM));
	st = pu_wait_exit(self->feeder, 5000);
	EXPECT_EQ(128 + SIGTERM, st)
		TH_LOG("SIGTERM did not stop incrfsd in its start-up");
	if (st >= 0)
		self->feeder = -1;	/* reaped; else the teardown kills it */
	close(lfd);
}

/* A reader: read @rel through the mount and compare it with the source. */
static pid_t start_reader(const char *mnt, const char *rel, off_t off)
{
	pid_t pid = fork();

	if (pid == 0) {
		char a[PATH_MAX], b[PATH_MAX];
		unsigned char *x, *y;
		size_t lx, ly;

		snprintf(a, sizeof(a), "%s/%s", SRC, rel);
		snprintf(b, sizeof(b), "%s/%s", mnt, rel);
		/* the first read waits: one block in the middle */
		if (off >= 0) {
			char c;
			int fd = open(b, O_RDONLY);

			if (fd < 0 || pread(fd, &c, 1, off) != 1)
				_exit(2);
			close(fd);
		}
		x = iu_slurp(a, &lx);
		y = iu_slurp(b, &ly);
		_exit(x && y && lx == ly && !memcmp(x, y, lx) ? 0 : 1);
	}
	return pid;
}

TEST_F(web, readers_wait_while_the_server_is_down)
{
	pid_t readers[8];
	int i, st;
	char rel[32];

	self->feeder = spawn_feeder(self->log, self->mnt);
	ASSERT_GT(self->feeder, 0);
	ASSERT_TRUE(pu_wait_file_has(self->log, "incrfsd: serving", 20000));
	pu_kill(&self->httpd);
	for (i = 0; i < 8; i++) {
		snprintf(rel, sizeof(rel), i < 4 ? "big" : "dir/f%02d", i * 2);
		readers[i] = start_reader(self->mnt, rel, i < 4 ? i * 1000000 : -1);
		ASSERT_GT(readers[i], 0);
	}
	ASSERT_TRUE(pu_wait_file_has(self->log, "retrying until it answers",
				  20000));
	pu_msleep(2000);
	/* nobody failed, nobody finished, the feeder is still there */
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, waitpid(readers[i], NULL, WNOHANG)) TH_LOG("reader %d", i);
	ASSERT_EQ(0, waitpid(self->feeder, NULL, WNOHANG));
	self->httpd = start_httpd();
	ASSERT_GT(self->httpd, 0);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(readers[i], waitpid(readers[i], &st, 0));
		EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
			TH_LOG("reader %d: status %#x", i, st);
	}
	EXPECT_TRUE(pu_wait_file_has(self->log, "answering again", 5000));
}

TEST_HARNESS_MAIN
