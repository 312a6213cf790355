// SPDX-License-Identifier: GPL-2.0-only
/*
 * incrfsd_http_source_test.c - incrfsd's HTTP blob source against real
 * servers on 127.0.0.1: busybox httpd (it answers Range with 206) for
 * range reads, neighbouring reads in one request, reads past the end, 404
 * and a server that is down at open or goes down and comes back while a
 * read waits; a one-shot fake server for answers busybox never gives (a
 * short body, a wrong Content-Range, a 200 to a Range request) and one
 * that holds an answer back while it serves other connections.  Also the
 * registry:// reference to URL mapping.
 *
 * Built alone by tests/run-host.sh, so it compiles the unit under test.
 */
#include "tests/kselftest/harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "tools/incrfsd/log.c"
#include "tools/incrfsd/source.c"
#include "tools/incrfsd/source_file.c"
#include "tools/incrfsd/curl_lib.c"
#include "tools/incrfsd/source_http.c"

#define FILE_BYTES (1 << 20)

FIXTURE(web) {
	char dir[64];
	unsigned char *bytes;
	int port;
	pid_t httpd;
	char url[128];
};

static void pattern(unsigned char *b, size_t n)
{
	uint32_t x = 2654435761u;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (unsigned char)x;
	}
}

/* A port nobody listens on now. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (void *)&a, sizeof(a)) ||
	    getsockname(fd, (void *)&a, &l))
		return -1;
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool answers(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && !connect(fd, (void *)&a, sizeof(a));
	if (fd >= 0)
		close(fd);
	return ok;
}

static pid_t start_httpd(const char *dir, int port)
{
	char addr[32];
	pid_t pid;
	int i;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	pid = fork();
	if (pid == 0) {
		execlp("busybox", "busybox", "httpd", "-f", "-p", addr, "-h",
		       dir, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && pid > 0; i++) {
		if (answers(port))
			return pid;
		usleep(10000);
	}
	return -1;
}

static void stop_httpd(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

FIXTURE_SETUP(web)
{
	char path[128];
	FILE *f;

	snprintf(self->dir, sizeof(self->dir), "/tmp/incrfsd-http.XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(self->dir));
	self->bytes = malloc(FILE_BYTES);
	ASSERT_NOT_NULL(self->bytes);
	pattern(self->bytes, FILE_BYTES);
	snprintf(path, sizeof(path), "%s/layer.blob", self->dir);
	f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	ASSERT_EQ(1, fwrite(self->bytes, FILE_BYTES, 1, f));
	ASSERT_EQ(0, fclose(f));
	self->port = free_port();
	ASSERT_GT(self->port, 0);
	self->httpd = start_httpd(self->dir, self->port);
	ASSERT_GT(self->httpd, 0) TH_LOG("busybox httpd did not start");
	snprintf(self->url, sizeof(self->url),
		 "http://127.0.0.1:%d/layer.blob", self->port);
}

FIXTURE_TEARDOWN(web)
{
	char cmd[128];

	stop_httpd(self->httpd);
	free(self->bytes);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (system(cmd))
		TH_LOG("cleanup of %s failed", self->dir);
}

static bool readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1;
}

TEST_F(web, range_reads_and_neighbours)
{
	static const uint64_t offs[5] = { 0, 70000, 70000 + 4096,
					  70000 + 8192, FILE_BYTES - 4096 };
	static unsigned char buf[5][4096];
	struct incrfsd_read_done done[8];
	struct incrfsd_source src;
	int cookies[5] = { 0, 1, 2, 3, 4 }, seen[5] = { 0 };
	int i, n, got = 0;

	struct incrfsd_source opened;

	ASSERT_EQ(0, incrfsd_source_open(&opened, self->url, 8)) TH_LOG("%s", opened.err);
	/* the fetcher takes the struct over by copying it: that must work */
	src = opened;
	memset(&opened, 0, sizeof(opened));
	ASSERT_STREQ("http", src.ops->name);
	ASSERT_EQ(FILE_BYTES, src.size);
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, src.ops->read(&src, offs[i], 4096, buf[i], 0,
					   &cookies[i]));
	ASSERT_EQ(5, src.inflight);
	while (got < 5) {
		ASSERT_TRUE(readable(src.event_fd, 10000));
		n = src.ops->reap(&src, done, 8, false);
		ASSERT_GE(n, 0);
		for (i = 0; i < n; i++) {
			int k = *(int *)done[i].cookie;

			ASSERT_EQ(0, done[i].err);
			ASSERT_EQ(0, seen[k]);
			seen[k] = 1;
			ASSERT_EQ(0, memcmp(buf[k], self->bytes + offs[k], 4096));
		}
		got += n;
	}
	ASSERT_EQ(0, src.inflight);
	ASSERT_FALSE(readable(src.event_fd, 0));
	/* past the end fails; the last byte does not; empty reads do */
	ASSERT_EQ(-EIO, incrfsd_source_read_sync(&src, FILE_BYTES - 1, 2, buf[0]));
	ASSERT_EQ(0, incrfsd_source_read_sync(&src, FILE_BYTES - 1, 1, buf[0]));
	ASSERT_EQ(self->bytes[FILE_BYTES - 1], buf[0][0]);
	ASSERT_EQ(0, incrfsd_source_read_sync(&src, 0, 0, buf[0]));
	incrfsd_source_close(&src);
}

TEST_F(web, not_found_and_server_down_at_open)
{
	struct incrfsd_source src;
	char url[160];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/none.blob", self->port);
	ASSERT_EQ(-EIO, incrfsd_source_open(&src, url, 1));
	ASSERT_NOT_NULL(strstr(src.err, "HTTP 404")) TH_LOG("%s", src.err);
	incrfsd_source_close(&src);

	stop_httpd(self->httpd);
	self->httpd = -1;
	ASSERT_EQ(-EHOSTUNREACH, incrfsd_source_open(&src, self->url, 1));
	ASSERT_NOT_NULL(strstr(src.err, "gave up")) TH_LOG("%s", src.err);
	ASSERT_NOT_NULL(strstr(src.err, self->url)) TH_LOG("%s", src.err);
	incrfsd_source_close(&src);
}

/* A read waits while the server is down and completes once it is back. */
TEST_F(web, read_waits_for_the_server_to_come_back)
{
	struct incrfsd_read_done done;
	struct incrfsd_source src;
	static unsigned char buf[65536];

	ASSERT_EQ(0, incrfsd_source_open(&src, self->url, 2)) TH_LOG("%s", src.err);
	stop_httpd(self->httpd);
	self->httpd = -1;
	ASSERT_EQ(0, src.ops->read(&src, 12345, sizeof(buf), buf, 0, NULL));
	ASSERT_FALSE(readable(src.event_fd, 1500));
	ASSERT_EQ(0, src.ops->reap(&src, &done, 1, false));
	ASSERT_EQ(1, src.inflight);
	self->httpd = start_httpd(self->dir, self->port);
	ASSERT_GT(self->httpd, 0);
	ASSERT_TRUE(readable(src.event_fd, 15000));
	ASSERT_EQ(1, src.ops->reap(&src, &done, 1, false));
	ASSERT_EQ(0, done.err);
	ASSERT_EQ(0, memcmp(buf, self->bytes + 12345, sizeof(buf)));
	/* closing with a read stuck in retries does not hang */
	stop_httpd(self->httpd);
	self->httpd = -1;
	ASSERT_EQ(0, src.ops->read(&src, 0, 10, buf, 0, NULL));
	usleep(300000);
	incrfsd_source_close(&src);
}

/* A server thread that answers every request with @resp, then closes. */
struct fake {
	int fd;
	const char *resp;
	pthread_t t;
	atomic_int requests;
};

static void *fake_main(void *arg)
{
	struct fake *fk = arg;
	char req[4096];
	int c;

	while ((c = accept(fk->fd, NULL, NULL)) >= 0) {
		if (read(c, req, sizeof(req)) > 0) {
			atomic_fetch_add(&fk->requests, 1);
			if (write(c, fk->resp, strlen(fk->resp)) < 0)
				perror("fake server");
		}
		close(c);
	}
	return NULL;
}

static int fake_start(struct fake *fk, const char *resp)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);

	fk->resp = resp;
	atomic_init(&fk->requests, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fk->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fk->fd < 0 || bind(fk->fd, (void *)&a, sizeof(a)) ||
	    listen(fk->fd, 8) || getsockname(fk->fd, (void *)&a, &l) ||
	    pthread_create(&fk->t, NULL, fake_main, fk))
		return -1;
	return ntohs(a.sin_port);
}

static void fake_stop(struct fake *fk)
{
	shutdown(fk->fd, SHUT_RDWR);
	pthread_join(fk->t, NULL);
	close(fk->fd);
}

TEST(wrong_answers)
{
	static const struct {
		const char *resp, *why;
		int err;
	} cases[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd",
		  "ignores Range", -EIO },
		{ "HTTP/1.1 206 Partial\r\nContent-Range: bytes 1-1/10\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
		  "asked for bytes 0-127", -EIO },
		{ "HTTP/1.1 206 Partial\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
		  "Content-Range ''", -EIO },
		{ "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		  "HTTP 403", -EIO },
		/* a short body: retried, then given up on at open */
		{ "HTTP/1.1 206 Partial\r\nContent-Range: bytes 0-9/10\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		  "short response", -EHOSTUNREACH },
		{ "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		  "HTTP 503", -EHOSTUNREACH },
	};
	struct incrfsd_source src;
	struct fake fk;
	char url[64];
	size_t i;
	int port;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		port = fake_start(&fk, cases[i].resp);
		ASSERT_GT(port, 0);
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/b", port);
		EXPECT_EQ(cases[i].err, incrfsd_source_open(&src, url, 1));
		EXPECT_NOT_NULL(strstr(src.err, cases[i].why))
			TH_LOG("case %zu: %s", i, src.err);
		if (cases[i].err == -EHOSTUNREACH)
			EXPECT_EQ(OPEN_ATTEMPTS, atomic_load(&fk.requests));
		else
			EXPECT_EQ(1, atomic_load(&fk.requests));
		incrfsd_source_close(&src);
		fake_stop(&fk);
	}
}

/*
 * A server that answers Range requests for a FILE_BYTES blob of
 * pattern(), each connection in a thread of its own, and holds any
 * request for bytes from HELD_OFF until @release is set.
 */
#define HELD_OFF 65536

struct holding {
	int fd;
	pthread_t t;
	unsigned char *bytes;
	atomic_bool release;
	atomic_int held;	/* requests being held now */
};

struct holding_conn {
	struct holding *h;
	int c;
};

static void *holding_conn_main(void *arg)
{
	struct holding_conn *hc = arg;
	struct holding *h = hc->h;
	unsigned long long first, last;
	char req[4096], hdr[256];
	const char *r;
	ssize_t n;

	/* one request per connection, answered with Connection: close */
	n = read(hc->c, req, sizeof(req) - 1);
	if (n > 0) {
		req[n] = 0;
		r = strcasestr(req, "Range: bytes=");
		if (r && sscanf(r + 13, "%llu-%llu", &first, &last) == 2 &&
		    first <= last && last < FILE_BYTES) {
			if (first == HELD_OFF) {
				atomic_fetch_add(&h->held, 1);
				while (!atomic_load(&h->release))
					usleep(10000);
				atomic_fetch_sub(&h->held, 1);
			}
			snprintf(hdr, sizeof(hdr),
				 "HTTP/1.1 206 Partial\r\nContent-Range: bytes %llu-%llu/%d\r\n"
				 "Content-Length: %llu\r\nConnection: close\r\n\r\n",
				 first, last, FILE_BYTES, last - first + 1);
			if (write(hc->c, hdr, strlen(hdr)) < 0 ||
			    write(hc->c, h->bytes + first, last - first + 1) < 0)
				perror("holding server");
		}
	}
	close(hc->c);
	free(hc);
	return NULL;
}

static void *holding_main(void *arg)
{
	struct holding *h = arg;
	struct holding_conn *hc;
	pthread_t t;
	int c;

	while ((c = accept(h->fd, NULL, NULL)) >= 0) {
		hc = malloc(sizeof(*hc));
		if (!hc) {
			close(c);
			continue;
		}
		hc->h = h;
		hc->c = c;
		if (pthread_create(&t, NULL, holding_conn_main, hc)) {
			close(c);
			free(hc);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

/*
 * A read whose answer is slow in coming does not hold up the reads queued
 * after it: another connection serves them (a reader waiting for one
 * block must not wait behind another's transfer).
 */
TEST(slow_answer_does_not_block_other_reads)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	static unsigned char buf[2][4096];
	struct incrfsd_read_done done[2];
	struct incrfsd_source src;
	struct holding h = { 0 };
	int cookies[2] = { 0, 1 }, i;
	char url[64];

	h.bytes = malloc(FILE_BYTES);
	ASSERT_NOT_NULL(h.bytes);
	pattern(h.bytes, FILE_BYTES);
	atomic_init(&h.release, false);
	atomic_init(&h.held, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h.fd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_GE(h.fd, 0);
	ASSERT_EQ(0, bind(h.fd, (void *)&a, sizeof(a)));
	ASSERT_EQ(0, listen(h.fd, 16));
	ASSERT_EQ(0, getsockname(h.fd, (void *)&a, &l));
	ASSERT_EQ(0, pthread_create(&h.t, NULL, holding_main, &h));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/b", ntohs(a.sin_port));

	ASSERT_EQ(0, incrfsd_source_open(&src, url, 8)) TH_LOG("%s", src.err);
	ASSERT_EQ(0, src.ops->read(&src, HELD_OFF, 4096, buf[0], 0,
				   &cookies[0]));
	for (i = 0; i < 500 && !atomic_load(&h.held); i++)
		usleep(10000);
	ASSERT_EQ(1, atomic_load(&h.held));
	/* not a byte-neighbour of the held read: a request of its own */
	ASSERT_EQ(0, src.ops->read(&src, 3 * 65536, 4096, buf[1], 0,
				   &cookies[1]));
	ASSERT_TRUE(readable(src.event_fd, 5000))
		TH_LOG("the second read waited behind the held one");
	ASSERT_EQ(1, src.ops->reap(&src, done, 2, false));
	EXPECT_EQ(&cookies[1], done[0].cookie);
	EXPECT_EQ(0, done[0].err);
	EXPECT_EQ(0, memcmp(buf[1], h.bytes + 3 * 65536, 4096));
	EXPECT_EQ(1, atomic_load(&h.held));
	atomic_store(&h.release, true);
	ASSERT_TRUE(readable(src.event_fd, 5000));
	ASSERT_EQ(1, src.ops->reap(&src, done, 2, false));
	EXPECT_EQ(&cookies[0], done[0].cookie);
	EXPECT_EQ(0, done[0].err);
	EXPECT_EQ(0, memcmp(buf[0], h.bytes + HELD_OFF, 4096));
	incrfsd_source_close(&src);
	shutdown(h.fd, SHUT_RDWR);
	pthread_join(h.t, NULL);
	close(h.fd);
	free(h.bytes);
}

TEST(registry_references)
{
	static const char hexd[] =
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	const char *why = NULL;
	char ref[256], want[256], *url;

	snprintf(ref, sizeof(ref), "registry://127.0.0.1:5000/lib/app@sha256:%s",
		 hexd);
	snprintf(want, sizeof(want),
		 "http://127.0.0.1:5000/v2/lib/app/blobs/sha256:%s", hexd);
	url = registry_url(ref, &why);
	ASSERT_NOT_NULL(url);
	ASSERT_STREQ(want, url);
	free(url);
	snprintf(ref, sizeof(ref), "registrys://r.test/app@sha256:%s", hexd);
	url = registry_url(ref, &why);
	ASSERT_NOT_NULL(url);
	ASSERT_NOT_NULL(strstr(url, "https://r.test/v2/app/blobs/sha256:"));
	free(url);
	ASSERT_NULL(registry_url("registry://h:1/app", &why));
	ASSERT_NOT_NULL(strstr(why, "REPO@sha256"));
	ASSERT_NULL(registry_url("registry://h:1/app@sha256:12", &why));
	ASSERT_NOT_NULL(strstr(why, "64 lowercase hex"));
	ASSERT_NULL(registry_url("registry://h:1/app@md5:12", &why));
	ASSERT_NULL(registry_url("registry:///app@sha256:12", &why));
	ASSERT_TRUE(registry_match("registry://h/a@sha256:x"));
	ASSERT_FALSE(http_match("registry://h/a@sha256:x"));
	ASSERT_TRUE(http_match("http://h/a"));
	ASSERT_FALSE(file_match("http://h/a"));
}

TEST_HARNESS_MAIN
