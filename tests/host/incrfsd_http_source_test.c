// SPDX-License-Identifier: GPL-2.0-only
/*
 * incrfsd_http_source_test.c - incrfsd's HTTP blob source against real
 * servers on 127.0.0.1: busybox httpd (it answers Range with 206) for
 * range reads, neighbouring reads in one request, reads past the end, 404
 * and a server that is down at open or goes down and comes back while a
 * read waits; a one-shot fake server for answers busybox never gives (a
 * short body, a wrong Content-Range, a 200 to a Range request) and one
 * that holds answers back at chosen bytes while it serves other
 * connections: urgent reads first with a connection kept for them, reads
 * merged across the queue, each finished as its bytes arrive.  Also the
 * registry:// reference to URL mapping, and http_proxy / no_proxy from
 * the environment (a python3 forward proxy logs what passes).
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
#include "tools/lib/curl_lib.c"
#include "tools/lib/registry_creds.c"
#include "tools/lib/registry_auth.c"
#include "tools/incrfsd/privileges.c"
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

/* The whole of a small text file, or NULL. */
static char *slurp_text(const char *path)
{
	char *buf = calloc(1, 65536);
	FILE *f = fopen(path, "r");

	if (!f || !buf) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	if (fread(buf, 1, 65535, f) == 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
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

/*
 * A forward proxy for http:// in python3: each request it forwards is
 * logged to argv[2], one "GET URL" line.
 */
static const char proxy_py[] =
"import sys, http.server, urllib.request, urllib.error\n"
"port, log = int(sys.argv[1]), sys.argv[2]\n"
"opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))\n"
"class H(http.server.BaseHTTPRequestHandler):\n"
"    protocol_version = 'HTTP/1.1'\n"
"    def do_GET(self):\n"
"        with open(log, 'a') as f:\n"
"            f.write('GET %s\\n' % self.path)\n"
"        h = {k: v for k, v in self.headers.items() if k.lower() == 'range'}\n"
"        try:\n"
"            r = opener.open(urllib.request.Request(self.path, headers=h))\n"
"            code, body, rh = r.status, r.read(), r.headers\n"
"        except urllib.error.HTTPError as e:\n"
"            code, body, rh = e.code, e.read(), e.headers\n"
"        self.send_response(code)\n"
"        if rh.get('Content-Range'):\n"
"            self.send_header('Content-Range', rh['Content-Range'])\n"
"        self.send_header('Content-Length', str(len(body)))\n"
"        self.end_headers()\n"
"        self.wfile.write(body)\n"
"    def log_message(self, *a):\n"
"        pass\n"
"http.server.ThreadingHTTPServer(('127.0.0.1', port), H).serve_forever()\n";

/* Open the fixture's URL and read 4 KiB at 70000 through it. */
static int read_through(const char *url, const unsigned char *want)
{
	static unsigned char buf[4096];
	struct incrfsd_source src;
	int ret = incrfsd_source_open(&src, url, 4);

	if (!ret)
		ret = incrfsd_source_read_sync(&src, 70000, sizeof(buf), buf);
	if (!ret && memcmp(buf, want + 70000, sizeof(buf)))
		ret = -EBADMSG;
	incrfsd_source_close(&src);
	return ret;
}

/*
 * libcurl's proxy variables reach every connection: http_proxy sends the
 * requests through the proxy, no_proxy exempts a host.
 */
TEST_F(web, proxy_from_the_environment_and_no_proxy)
{
	char py[160], log[160], proxy[64], port[16], *text;
	int pport = free_port(), i;
	pid_t pid;
	FILE *f;

	ASSERT_GT(pport, 0);
	snprintf(py, sizeof(py), "%s/proxy.py", self->dir);
	snprintf(log, sizeof(log), "%s/proxy.log", self->dir);
	f = fopen(py, "w");
	ASSERT_NOT_NULL(f);
	ASSERT_EQ(1, fwrite(proxy_py, sizeof(proxy_py) - 1, 1, f));
	ASSERT_EQ(0, fclose(f));
	snprintf(port, sizeof(port), "%d", pport);
	pid = fork();
	if (pid == 0) {
		execlp("python3", "python3", py, port, log, (char *)NULL);
		_exit(127);
	}
	ASSERT_GT(pid, 0);
	for (i = 0; i < 500 && !answers(pport); i++)
		usleep(10000);
	ASSERT_TRUE(answers(pport)) TH_LOG("the python3 proxy did not start");
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", pport);
	setenv("http_proxy", proxy, 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	EXPECT_EQ(0, read_through(self->url, self->bytes));
	text = slurp_text(log);
	ASSERT_NOT_NULL(text) TH_LOG("nothing went through the proxy");
	/* the size probe and the read */
	EXPECT_NOT_NULL(strstr(text, self->url)) TH_LOG("%s", text);
	EXPECT_GE(count_lines(text), 2) TH_LOG("%s", text);
	free(text);
	unlink(log);
	setenv("no_proxy", "127.0.0.1", 1);
	EXPECT_EQ(0, read_through(self->url, self->bytes));
	EXPECT_NE(0, access(log, F_OK)) TH_LOG("no_proxy was not honoured");
	unsetenv("http_proxy");
	unsetenv("no_proxy");
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/*
 * A blob is content-addressed: once opened, an answer that gives another
 * size is another blob, and the read fails instead of mixing the two.
 */
TEST_F(web, a_blob_that_changes_size_is_refused)
{
	static unsigned char buf[4096];
	struct incrfsd_source src;
	char path[128];
	FILE *f;

	ASSERT_EQ(0, incrfsd_source_open(&src, self->url, 2))
		TH_LOG("%s", src.err);
	ASSERT_EQ(0, incrfsd_source_read_sync(&src, 70000, sizeof(buf), buf));
	snprintf(path, sizeof(path), "%s/layer.blob", self->dir);
	f = fopen(path, "a");
	ASSERT_NOT_NULL(f);
	ASSERT_EQ(1, fwrite(buf, sizeof(buf), 1, f));
	ASSERT_EQ(0, fclose(f));
	EXPECT_EQ(-EIO, incrfsd_source_read_sync(&src, 70000, sizeof(buf),
						 buf));
	incrfsd_source_close(&src);
}

/* Credentials in a location are refused, and never repeated. */
TEST(credentials_in_the_location_are_refused)
{
	static const char *const locs[] = {
		"http://user:s3cret@127.0.0.1:1/b",
		"https://user:s3cret@127.0.0.1:1/b?x=1",
		"registry://user:s3cret@127.0.0.1:1/repo@sha256:"
		"0000000000000000000000000000000000000000000000000000000000000000",
	};
	struct incrfsd_source src;
	size_t i;

	for (i = 0; i < sizeof(locs) / sizeof(locs[0]); i++) {
		EXPECT_EQ(-EINVAL, incrfsd_source_open(&src, locs[i], 1));
		EXPECT_NOT_NULL(strstr(src.err, "credentials in the location"))
			TH_LOG("%s", src.err);
		EXPECT_NULL(strstr(src.err, "s3cret")) TH_LOG("%s", src.err);
		EXPECT_NOT_NULL(strstr(src.err, "***@127.0.0.1:1/"))
			TH_LOG("%s", src.err);
		incrfsd_source_close(&src);
	}
}

/*
 * registry:// through mirrors: one that is down gives way at open to the
 * next, which serves while the registry itself is away; when that mirror
 * goes too, the registry serves.  (busybox httpd serves the registry's
 * blob path as a file, over plain http: --insecure-registry.)
 */
TEST_F(web, mirrors_in_order_then_the_registry)
{
	static unsigned char buf[4096];
	char hosts[3][32], blobdir[160], ref[160], cmd[512];
	const char *insecure[3] = { hosts[0], hosts[1], hosts[2] };
	const char *mirrors[2] = { hosts[2], hosts[1] };
	struct incrfsd_source src;
	pid_t origin, mirror;
	int port[3], i;

	for (i = 0; i < 3; i++) {
		port[i] = free_port();
		ASSERT_GT(port[i], 0);
		snprintf(hosts[i], sizeof(hosts[i]), "127.0.0.1:%d", port[i]);
	}
	/* hosts[0] the registry, hosts[1] a mirror, hosts[2] a dead mirror */
	snprintf(blobdir, sizeof(blobdir), "%s/v2/app/blobs", self->dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp %s/layer.blob %s/sha256:%064d",
		 blobdir, self->dir, blobdir, 0);
	ASSERT_EQ(0, system(cmd));
	origin = start_httpd(self->dir, port[0]);
	mirror = start_httpd(self->dir, port[1]);
	ASSERT_GT(origin, 0);
	ASSERT_GT(mirror, 0);
	incrfsd_source_set_net(&(struct incrfsd_net_opts){
		.insecure = insecure, .n_insecure = 3,
		.mirrors = mirrors, .n_mirrors = 2 });
	snprintf(ref, sizeof(ref), "registry://%s/app@sha256:%064d", hosts[0], 0);
	ASSERT_EQ(0, incrfsd_source_open(&src, ref, 4)) TH_LOG("%s", src.err);
	/* the registry away: the mirror serves */
	stop_httpd(origin);
	ASSERT_EQ(0, incrfsd_source_read_sync(&src, 70000, sizeof(buf), buf));
	EXPECT_EQ(0, memcmp(buf, self->bytes + 70000, sizeof(buf)));
	/* the registry back, the mirror away: the registry serves */
	origin = start_httpd(self->dir, port[0]);
	ASSERT_GT(origin, 0);
	stop_httpd(mirror);
	ASSERT_EQ(0, incrfsd_source_read_sync(&src, 200000, sizeof(buf), buf));
	EXPECT_EQ(0, memcmp(buf, self->bytes + 200000, sizeof(buf)));
	incrfsd_source_close(&src);
	stop_httpd(origin);
	incrfsd_source_set_net(&(struct incrfsd_net_opts){ 0 });
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
 * pattern(), each connection in a thread of its own.  An answer whose
 * range holds the byte at gate[g] is sent up to that byte, then held
 * until open[g] is set.  Every asked range is logged.
 */
#define HELD_OFF 65536
#define NGATES 2
#define LOG_MAX 64

struct holding {
	int fd;
	pthread_t t;
	unsigned char *bytes;
	uint64_t gate[NGATES];
	atomic_bool open[NGATES];
	atomic_int held;	/* answers being held now */
	pthread_mutex_t log_lock;
	unsigned long long log[LOG_MAX][2];
	int nlog;
};

struct holding_conn {
	struct holding *h;
	int c;
};

/* Send bytes [@from, @to) of the blob, holding at every closed gate. */
static int send_held(struct holding *h, int c, unsigned long long from,
		     unsigned long long to)
{
	unsigned long long cut;
	int g;

	while (from < to) {
		cut = to;
		for (g = 0; g < NGATES; g++)
			if (h->gate[g] >= from && h->gate[g] < cut &&
			    !atomic_load(&h->open[g]))
				cut = h->gate[g];
		if (cut > from && write(c, h->bytes + from, cut - from) < 0)
			return -1;
		from = cut;
		if (from == to)
			break;
		atomic_fetch_add(&h->held, 1);
		for (g = 0; g < NGATES; g++)
			while (h->gate[g] == from && !atomic_load(&h->open[g]))
				usleep(10000);
		atomic_fetch_sub(&h->held, 1);
	}
	return 0;
}

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
			pthread_mutex_lock(&h->log_lock);
			if (h->nlog < LOG_MAX) {
				h->log[h->nlog][0] = first;
				h->log[h->nlog][1] = last;
				h->nlog++;
			}
			pthread_mutex_unlock(&h->log_lock);
			snprintf(hdr, sizeof(hdr),
				 "HTTP/1.1 206 Partial\r\nContent-Range: bytes %llu-%llu/%d\r\n"
				 "Content-Length: %llu\r\nConnection: close\r\n\r\n",
				 first, last, FILE_BYTES, last - first + 1);
			if (write(hc->c, hdr, strlen(hdr)) < 0 ||
			    send_held(h, hc->c, first, last + 1))
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
/* Start @h listening on 127.0.0.1, gates at @g0 and @g1; its URL. */
static int holding_start(struct holding *h, uint64_t g0, uint64_t g1,
			 char *url, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	int g;

	memset(h, 0, sizeof(*h));
	h->bytes = malloc(FILE_BYTES);
	if (!h->bytes)
		return -1;
	pattern(h->bytes, FILE_BYTES);
	h->gate[0] = g0;
	h->gate[1] = g1;
	for (g = 0; g < NGATES; g++)
		atomic_init(&h->open[g], false);
	atomic_init(&h->held, 0);
	pthread_mutex_init(&h->log_lock, NULL);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (h->fd < 0 || bind(h->fd, (void *)&a, sizeof(a)) ||
	    listen(h->fd, 16) || getsockname(h->fd, (void *)&a, &l) ||
	    pthread_create(&h->t, NULL, holding_main, h))
		return -1;
	snprintf(url, len, "http://127.0.0.1:%d/b", ntohs(a.sin_port));
	return 0;
}

static void holding_stop(struct holding *h)
{
	int g;

	for (g = 0; g < NGATES; g++)
		atomic_store(&h->open[g], true);
	shutdown(h->fd, SHUT_RDWR);
	pthread_join(h->t, NULL);
	close(h->fd);
	free(h->bytes);
}

/*
 * Reap until @want reads are done, 5 s at most; how many were.  (The
 * eventfd may be readable with nothing left: reads finished one by one
 * each signal it, and a reap may take several at once.)
 */
static int reap_n(struct incrfsd_source *src, struct incrfsd_read_done *done,
		  int want)
{
	int n = 0, i, r;

	for (i = 0; i < 50 && n < want; i++) {
		if (!readable(src->event_fd, 100))
			continue;
		r = src->ops->reap(src, done + n, want - n, false);
		if (r > 0)
			n += r;
	}
	return n;
}

/* Wait up to 5 s for @n answers to be held. */
static bool held_now(struct holding *h, int n)
{
	int i;

	for (i = 0; i < 500 && atomic_load(&h->held) != n; i++)
		usleep(10000);
	return atomic_load(&h->held) == n;
}

/*
 * A read whose answer is slow in coming does not hold up the reads queued
 * after it: another connection serves them (a reader waiting for one
 * block must not wait behind another's transfer).
 */
TEST(slow_answer_does_not_block_other_reads)
{
	static unsigned char buf[2][4096];
	struct incrfsd_read_done done[2];
	struct incrfsd_source src;
	struct holding h;
	int cookies[2] = { 0, 1 };
	char url[64];

	ASSERT_EQ(0, holding_start(&h, HELD_OFF, FILE_BYTES, url,
				   sizeof(url)));
	ASSERT_EQ(0, incrfsd_source_open(&src, url, 8)) TH_LOG("%s", src.err);
	ASSERT_EQ(0, src.ops->read(&src, HELD_OFF, 4096, buf[0], 0,
				   &cookies[0]));
	ASSERT_TRUE(held_now(&h, 1));
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
	atomic_store(&h.open[0], true);
	ASSERT_TRUE(readable(src.event_fd, 5000));
	ASSERT_EQ(1, src.ops->reap(&src, done, 2, false));
	EXPECT_EQ(&cookies[0], done[0].cookie);
	EXPECT_EQ(0, done[0].err);
	EXPECT_EQ(0, memcmp(buf[0], h.bytes + HELD_OFF, 4096));
	incrfsd_source_close(&src);
	holding_stop(&h);
}

/*
 * Reads queued while every connection is busy, in any order, that are
 * neighbours in the blob go out as one request; each is finished as soon
 * as its own bytes are in, not when the whole answer is.
 */
TEST(neighbours_in_any_order_one_request_finished_early)
{
	static unsigned char urgent[6][4096], buf[3][12288];
	struct incrfsd_read_done done[8];
	struct incrfsd_source src;
	struct holding h;
	int cookies[9], i, n;
	unsigned int seen;
	char url[64];

	ASSERT_EQ(0, holding_start(&h, HELD_OFF, 8192, url, sizeof(url)));
	ASSERT_EQ(0, incrfsd_source_open(&src, url, 16)) TH_LOG("%s", src.err);
	h.nlog = 0;	/* forget the size probe */
	/* every connection busy with a held urgent read */
	for (i = 0; i < 6; i++)
		ASSERT_EQ(0, src.ops->read(&src, HELD_OFF, 4096, urgent[i],
					   INCRFSD_READ_URGENT, &cookies[i]));
	ASSERT_TRUE(held_now(&h, 6));
	/* [8192, 12288), [0, 4096), [4096, 8192), in that order */
	ASSERT_EQ(0, src.ops->read(&src, 8192, 4096, buf[2], 0, &cookies[8]));
	ASSERT_EQ(0, src.ops->read(&src, 0, 4096, buf[0], 0, &cookies[6]));
	ASSERT_EQ(0, src.ops->read(&src, 4096, 4096, buf[1], 0, &cookies[7]));
	atomic_store(&h.open[0], true);
	/* the six urgent reads, then the two before the gate at 8192 */
	n = reap_n(&src, done, 8);
	ASSERT_EQ(8, n) TH_LOG("the reads before the held byte waited for it");
	/* in any order: the six, [0, 4096) and [4096, 8192), not the last */
	seen = 0;
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(0, done[i].err);
		seen |= 1u << ((int *)done[i].cookie - cookies);
	}
	EXPECT_EQ(0xffu, seen);
	EXPECT_EQ(0, memcmp(buf[0], h.bytes, 4096));
	EXPECT_EQ(0, memcmp(buf[1], h.bytes + 4096, 4096));
	ASSERT_TRUE(held_now(&h, 1));
	atomic_store(&h.open[1], true);
	ASSERT_EQ(1, reap_n(&src, done, 1));
	EXPECT_EQ(&cookies[8], done[0].cookie);
	EXPECT_EQ(0, done[0].err);
	EXPECT_EQ(0, memcmp(buf[2], h.bytes + 8192, 4096));
	/* six held requests and one for all three neighbours */
	ASSERT_EQ(7, h.nlog);
	EXPECT_EQ(0, h.log[6][0]);
	EXPECT_EQ(12287, h.log[6][1]);
	incrfsd_source_close(&src);
	holding_stop(&h);
}

/*
 * The size probe of open() already brought the blob header: reading it
 * asks the server nothing more; a read beyond it does.
 */
TEST(header_read_costs_no_request)
{
	static unsigned char buf[4096];
	struct incrfsd_source src;
	struct holding h;
	char url[64];

	ASSERT_EQ(0, holding_start(&h, FILE_BYTES - 1, FILE_BYTES - 1, url,
				   sizeof(url)));
	atomic_store(&h.open[0], true);
	atomic_store(&h.open[1], true);
	ASSERT_EQ(0, incrfsd_source_open(&src, url, 4)) TH_LOG("%s", src.err);
	ASSERT_EQ(1, h.nlog);
	ASSERT_EQ(0, incrfsd_source_read_sync(&src, 0, 128, buf));
	EXPECT_EQ(0, memcmp(buf, h.bytes, 128));
	ASSERT_EQ(0, incrfsd_source_read_sync(&src, 100, 28, buf));
	EXPECT_EQ(0, memcmp(buf, h.bytes + 100, 28));
	EXPECT_EQ(1, h.nlog) TH_LOG("the header was asked for again");
	ASSERT_EQ(0, incrfsd_source_read_sync(&src, 64, 4096, buf));
	EXPECT_EQ(0, memcmp(buf, h.bytes + 64, 4096));
	EXPECT_EQ(2, h.nlog);
	incrfsd_source_close(&src);
	holding_stop(&h);
}

/*
 * Background reads never take the last connection: a read a reader waits
 * for is served while they are all held, and so is a queued background
 * read that a reader comes to wait for (hurry()).
 */
TEST(urgent_reads_keep_a_connection)
{
	static unsigned char bg[7][4096], buf[4096];
	struct incrfsd_read_done done[8];
	struct incrfsd_source src;
	struct holding h;
	int cookies[9], i;
	char url[64];

	ASSERT_EQ(0, holding_start(&h, HELD_OFF, FILE_BYTES, url,
				   sizeof(url)));
	ASSERT_EQ(0, incrfsd_source_open(&src, url, 16)) TH_LOG("%s", src.err);
	for (i = 0; i < 6; i++)
		ASSERT_EQ(0, src.ops->read(&src, HELD_OFF, 4096, bg[i], 0,
					   &cookies[i]));
	ASSERT_TRUE(held_now(&h, 5));
	usleep(100000);
	EXPECT_EQ(5, atomic_load(&h.held)) TH_LOG("background took every connection");
	ASSERT_EQ(0, src.ops->read(&src, 3 * 65536, 4096, buf,
				   INCRFSD_READ_URGENT, &cookies[6]));
	ASSERT_EQ(1, reap_n(&src, done, 1))
		TH_LOG("the urgent read found no connection");
	EXPECT_EQ(&cookies[6], done[0].cookie);
	EXPECT_EQ(0, memcmp(buf, h.bytes + 3 * 65536, 4096));
	/* a queued background read, not held by the server, then hurried */
	ASSERT_EQ(0, src.ops->read(&src, 5 * 65536, 4096, bg[6], 0,
				   &cookies[7]));
	usleep(200000);
	EXPECT_EQ(0, src.ops->reap(&src, done, 8, false));
	src.ops->hurry(&src, &cookies[7]);
	ASSERT_EQ(1, reap_n(&src, done, 1))
		TH_LOG("the hurried read stayed queued");
	EXPECT_EQ(&cookies[7], done[0].cookie);
	EXPECT_EQ(0, memcmp(bg[6], h.bytes + 5 * 65536, 4096));
	atomic_store(&h.open[0], true);
	EXPECT_EQ(6, reap_n(&src, done, 6));
	incrfsd_source_close(&src);
	holding_stop(&h);
}

/*
 * Reads started while the source is plugged wait for the unplug and go
 * out together: a miss and the chunks after it (--amplify) as one
 * request, though the miss alone would have found a connection at once.
 */
TEST(plugged_reads_go_out_together)
{
	static unsigned char buf[2][4096];
	struct incrfsd_read_done done[2];
	struct incrfsd_source src;
	struct holding h;
	int cookies[2];
	char url[64];

	ASSERT_EQ(0, holding_start(&h, FILE_BYTES, FILE_BYTES, url,
				   sizeof(url)));
	ASSERT_EQ(0, incrfsd_source_open(&src, url, 0)) TH_LOG("%s", src.err);
	EXPECT_EQ(HTTP_DEFAULT_DEPTH, src.depth);
	h.nlog = 0;
	src.ops->plug(&src, true);
	ASSERT_EQ(0, src.ops->read(&src, 8192, 4096, buf[0],
				   INCRFSD_READ_URGENT, &cookies[0]));
	usleep(100000);
	EXPECT_EQ(0, h.nlog) TH_LOG("a read went out while plugged");
	ASSERT_EQ(0, src.ops->read(&src, 12288, 4096, buf[1], 0, &cookies[1]));
	src.ops->plug(&src, false);
	ASSERT_EQ(2, reap_n(&src, done, 2));
	EXPECT_EQ(0, memcmp(buf[0], h.bytes + 8192, 4096));
	EXPECT_EQ(0, memcmp(buf[1], h.bytes + 12288, 4096));
	ASSERT_EQ(1, h.nlog);
	EXPECT_EQ(8192, h.log[0][0]);
	EXPECT_EQ(16383, h.log[0][1]);
	incrfsd_source_close(&src);
	holding_stop(&h);
}

/*
 * The next request head on connection @c into @req (cut at its blank
 * line); @have carries the bytes read beyond the last one.  The length of
 * the head with its blank line, to drop once handled; 0 when the peer
 * closed.
 */
static size_t next_request(int c, char *req, size_t cap, size_t *have)
{
	char *end;
	ssize_t n;

	for (;;) {
		req[*have] = 0;
		end = strstr(req, "\r\n\r\n");
		if (end) {
			*end = 0;
			return (size_t)(end + 4 - req);
		}
		n = read(c, req + *have, cap - 1 - *have);
		if (n <= 0)
			return 0;
		*have += (size_t)n;
	}
}

/* Drop the request head of @used bytes that next_request() returned. */
static void drop_request(char *req, size_t *have, size_t used)
{
	*have -= used;
	memmove(req, req + used, *have);
}

/*
 * A server that keeps connections alive and notes on which connection
 * (numbered in accept order) each request came.
 */
struct keepalive {
	int fd;
	pthread_t t;
	unsigned char *bytes;
	atomic_int conns;
	pthread_mutex_t log_lock;
	int log[LOG_MAX];	/* the connection of each request */
	int nlog;
};

struct keepalive_conn {
	struct keepalive *k;
	int c, id;
};

static void *keepalive_conn_main(void *arg)
{
	struct keepalive_conn *kc = arg;
	struct keepalive *k = kc->k;
	unsigned long long first, last;
	char req[4096], hdr[256];
	size_t have = 0, used;
	const char *r;

	while ((used = next_request(kc->c, req, sizeof(req), &have))) {
		r = strcasestr(req, "Range: bytes=");
		if (!r || sscanf(r + 13, "%llu-%llu", &first, &last) != 2 ||
		    first > last || last >= FILE_BYTES)
			break;
		pthread_mutex_lock(&k->log_lock);
		if (k->nlog < LOG_MAX)
			k->log[k->nlog++] = kc->id;
		pthread_mutex_unlock(&k->log_lock);
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 206 Partial\r\nContent-Range: bytes %llu-%llu/%d\r\n"
			 "Content-Length: %llu\r\n\r\n",
			 first, last, FILE_BYTES, last - first + 1);
		if (write(kc->c, hdr, strlen(hdr)) < 0 ||
		    write(kc->c, k->bytes + first, last - first + 1) < 0)
			break;
		drop_request(req, &have, used);
	}
	close(kc->c);
	free(kc);
	return NULL;
}

static void *keepalive_main(void *arg)
{
	struct keepalive *k = arg;
	struct keepalive_conn *kc;
	pthread_t t;
	int c;

	while ((c = accept(k->fd, NULL, NULL)) >= 0) {
		kc = malloc(sizeof(*kc));
		if (!kc) {
			close(c);
			continue;
		}
		*kc = (struct keepalive_conn){ k, c,
					       atomic_fetch_add(&k->conns, 1) };
		if (pthread_create(&t, NULL, keepalive_conn_main, kc)) {
			close(c);
			free(kc);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

static int keepalive_start(struct keepalive *k, char *url, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);

	memset(k, 0, sizeof(*k));
	k->bytes = malloc(FILE_BYTES);
	if (!k->bytes)
		return -1;
	pattern(k->bytes, FILE_BYTES);
	atomic_init(&k->conns, 0);
	pthread_mutex_init(&k->log_lock, NULL);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	k->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (k->fd < 0 || bind(k->fd, (void *)&a, sizeof(a)) ||
	    listen(k->fd, 16) || getsockname(k->fd, (void *)&a, &l) ||
	    pthread_create(&k->t, NULL, keepalive_main, k))
		return -1;
	snprintf(url, len, "http://127.0.0.1:%d/b", ntohs(a.sin_port));
	return 0;
}

static void keepalive_stop(struct keepalive *k)
{
	shutdown(k->fd, SHUT_RDWR);
	pthread_join(k->t, NULL);
	close(k->fd);
	free(k->bytes);
}

/*
 * Misses that follow one another go out on one connection, the one used
 * last: its TCP window is open, while a connection idle for a while
 * starts its answer slowly again.  Background reads take the one idle
 * longest.
 */
TEST(misses_one_after_another_share_the_warm_connection)
{
	static unsigned char buf[4096], bg[4096];
	struct incrfsd_read_done done[1];
	struct incrfsd_source src;
	struct keepalive k;
	int cookie, i, warm;
	char url[64];

	ASSERT_EQ(0, keepalive_start(&k, url, sizeof(url)));
	ASSERT_EQ(0, incrfsd_source_open(&src, url, 16)) TH_LOG("%s", src.err);
	for (i = 0; i < 12; i++) {
		ASSERT_EQ(0, src.ops->read(&src, (uint64_t)i * 65536, 4096,
					   buf, INCRFSD_READ_URGENT, &cookie));
		ASSERT_EQ(1, reap_n(&src, done, 1));
		EXPECT_EQ(0, done[0].err);
		EXPECT_EQ(0, memcmp(buf, k.bytes + (uint64_t)i * 65536, 4096));
		usleep(20000);	/* the reader's own work between misses */
	}
	/* a background read, then a miss: they go on different ones */
	ASSERT_EQ(0, src.ops->read(&src, 13 * 65536, 4096, bg, 0, &cookie));
	ASSERT_EQ(1, reap_n(&src, done, 1));
	EXPECT_EQ(0, done[0].err);
	ASSERT_EQ(0, src.ops->read(&src, 15 * 65536, 4096, buf,
				   INCRFSD_READ_URGENT, &cookie));
	ASSERT_EQ(1, reap_n(&src, done, 1));
	EXPECT_EQ(0, done[0].err);
	incrfsd_source_close(&src);
	pthread_mutex_lock(&k.log_lock);
	EXPECT_EQ(1 + 12 + 2, k.nlog);	/* the size probe, then ours */
	warm = k.log[2];
	for (i = 2; i < 13; i++)
		EXPECT_EQ(warm, k.log[i]) TH_LOG("miss %d went on connection %d, the first on %d",
						 i, k.log[i], warm);
	EXPECT_NE(warm, k.log[13]) TH_LOG("a background read took the warm connection");
	/* used last, both are warm */
	EXPECT_TRUE(k.log[14] == warm || k.log[14] == k.log[13]);
	pthread_mutex_unlock(&k.log_lock);
	keepalive_stop(&k);
}

/*
 * A registry's front door, as registries answer blob reads: every request
 * gets a 307 to @target (the storage URL), and is counted.  With
 * @bytes, the front is its own storage instead, with single-use URLs:
 * each 307 names a new /s?t=N, which serves one Range read (206 from
 * @bytes), then 403.
 */
struct front {
	int fd;
	pthread_t t;
	atomic_int requests;
	pthread_mutex_t lock;
	char target[160];	/* lock */
	const unsigned char *bytes;
	int port;
	unsigned char used[256];	/* tokens spent; lock */
	int next_token;			/* lock */
	/*
	 * With @bytes and @cut_at > 0: the storage is /d instead, one URL
	 * for every read, and its @cut_at-th answer breaks off after half
	 * its body (the connection closed).
	 */
	atomic_int cut_at;
	atomic_int stored;		/* answers /d gave */
};

/* The /d storage of struct front: answer @req on @c; false: close @c. */
static bool front_stable(struct front *fr, const char *req, int c)
{
	unsigned long long first, last, body;
	const char *r = strcasestr(req, "Range: bytes=");
	int nth = atomic_fetch_add(&fr->stored, 1) + 1;
	char hdr[256];

	if (!r || sscanf(r + 13, "%llu-%llu", &first, &last) != 2 ||
	    first > last || last >= FILE_BYTES)
		return false;
	snprintf(hdr, sizeof(hdr),
		 "HTTP/1.1 206 Partial\r\nContent-Range: bytes %llu-%llu/%d\r\n"
		 "Content-Length: %llu\r\n\r\n",
		 first, last, FILE_BYTES, last - first + 1);
	body = last - first + 1;
	if (nth == atomic_load(&fr->cut_at))
		body /= 2;
	return write(c, hdr, strlen(hdr)) == (ssize_t)strlen(hdr) &&
	       write(c, fr->bytes + first, body) == (ssize_t)body &&
	       nth != atomic_load(&fr->cut_at);
}

/* The single-use storage of struct front: answer @req on connection @c. */
static void front_storage(struct front *fr, const char *req, int c)
{
	unsigned long long first = 0, last = 0;
	const char *r = strcasestr(req, "Range: bytes=");
	int t = atoi(req + strlen("GET /s?t="));
	char hdr[256];
	bool ok;

	pthread_mutex_lock(&fr->lock);
	ok = t >= 0 && t < 256 && !fr->used[t];
	if (ok)
		fr->used[t] = 1;
	pthread_mutex_unlock(&fr->lock);
	ok = ok && r && sscanf(r + 13, "%llu-%llu", &first, &last) == 2 &&
	     first <= last && last < FILE_BYTES;
	if (ok)
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 206 Partial\r\nContent-Range: bytes %llu-%llu/%d\r\n"
			 "Content-Length: %llu\r\n\r\n",
			 first, last, FILE_BYTES, last - first + 1);
	else
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
	if (write(c, hdr, strlen(hdr)) == (ssize_t)strlen(hdr) && ok &&
	    write(c, fr->bytes + first, last - first + 1) < 0)
		fprintf(stderr, "# front: the body was not sent\n");
}

static void *front_conn_main(void *arg)
{
	struct front *fr = ((void **)arg)[0];
	int c = (int)(intptr_t)((void **)arg)[1];
	char req[4096], resp[320];
	size_t have = 0, used;

	free(arg);
	while ((used = next_request(c, req, sizeof(req), &have))) {
		if (fr->bytes && !strncmp(req, "GET /d ", 7)) {
			if (!front_stable(fr, req, c))
				break;
		} else if (fr->bytes && !strncmp(req, "GET /s?t=", 9)) {
			front_storage(fr, req, c);
		} else {
			atomic_fetch_add(&fr->requests, 1);
			pthread_mutex_lock(&fr->lock);
			if (fr->bytes && atomic_load(&fr->cut_at))
				snprintf(fr->target, sizeof(fr->target),
					 "http://127.0.0.1:%d/d", fr->port);
			else if (fr->bytes)
				snprintf(fr->target, sizeof(fr->target),
					 "http://127.0.0.1:%d/s?t=%d", fr->port,
					 fr->next_token++);
			snprintf(resp, sizeof(resp),
				 "HTTP/1.1 307 Temporary Redirect\r\nLocation: %s\r\n"
				 "Content-Length: 0\r\n\r\n", fr->target);
			pthread_mutex_unlock(&fr->lock);
			if (write(c, resp, strlen(resp)) < 0)
				break;
		}
		drop_request(req, &have, used);
	}
	close(c);
	return NULL;
}

static void *front_main(void *arg)
{
	struct front *fr = arg;
	pthread_t t;
	void **a;
	int c;

	while ((c = accept(fr->fd, NULL, NULL)) >= 0) {
		a = malloc(2 * sizeof(*a));
		if (a) {
			a[0] = fr;
			a[1] = (void *)(intptr_t)c;
		}
		if (!a || pthread_create(&t, NULL, front_conn_main, a)) {
			free(a);
			close(c);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

static int front_start(struct front *fr, const char *target,
		       const unsigned char *bytes, char *url, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);

	memset(fr, 0, sizeof(*fr));
	atomic_init(&fr->requests, 0);
	atomic_init(&fr->cut_at, 0);
	atomic_init(&fr->stored, 0);
	pthread_mutex_init(&fr->lock, NULL);
	snprintf(fr->target, sizeof(fr->target), "%s", target);
	fr->bytes = bytes;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fr->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fr->fd < 0 || bind(fr->fd, (void *)&a, sizeof(a)) ||
	    listen(fr->fd, 16) || getsockname(fr->fd, (void *)&a, &l))
		return -1;
	fr->port = ntohs(a.sin_port);
	if (pthread_create(&fr->t, NULL, front_main, fr))
		return -1;
	snprintf(url, len, "http://127.0.0.1:%d/v2/app/blobs/sha256:00",
		 ntohs(a.sin_port));
	return 0;
}

static void front_stop(struct front *fr)
{
	shutdown(fr->fd, SHUT_RDWR);
	pthread_join(fr->t, NULL);
	close(fr->fd);
}

/*
 * Reads of a blob the server redirects go to where it redirected, one
 * request each instead of two; when that URL fails (a signed URL that
 * expired, a blob moved), the server is asked again and the read still
 * succeeds.
 */
TEST_F(web, reads_go_where_a_redirect_sent_them)
{
	static unsigned char buf[4096];
	struct incrfsd_source src;
	struct front fr;
	char url[96], from[160], to[160], moved[160];
	int i;

	ASSERT_EQ(0, front_start(&fr, self->url, NULL, url, sizeof(url)));
	ASSERT_EQ(0, incrfsd_source_open(&src, url, 4)) TH_LOG("%s", src.err);
	ASSERT_EQ(FILE_BYTES, src.size);
	EXPECT_EQ(1, atomic_load(&fr.requests));	/* the size probe */
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, incrfsd_source_read_sync(&src, (uint64_t)i * 100000,
						      4096, buf));
		EXPECT_EQ(0, memcmp(buf, self->bytes + (uint64_t)i * 100000,
				    4096));
	}
	EXPECT_EQ(1, atomic_load(&fr.requests)) TH_LOG("reads went through the redirect again");
	/* the storage URL stops serving: asked anew, the read succeeds */
	snprintf(from, sizeof(from), "%s/layer.blob", self->dir);
	snprintf(to, sizeof(to), "%s/moved.blob", self->dir);
	ASSERT_EQ(0, rename(from, to));
	snprintf(moved, sizeof(moved), "http://127.0.0.1:%d/moved.blob",
		 self->port);
	pthread_mutex_lock(&fr.lock);
	snprintf(fr.target, sizeof(fr.target), "%s", moved);
	pthread_mutex_unlock(&fr.lock);
	ASSERT_EQ(0, incrfsd_source_read_sync(&src, 500000, 4096, buf));
	EXPECT_EQ(0, memcmp(buf, self->bytes + 500000, 4096));
	EXPECT_EQ(2, atomic_load(&fr.requests));
	/* and the new place is used from then on */
	ASSERT_EQ(0, incrfsd_source_read_sync(&src, 600000, 4096, buf));
	EXPECT_EQ(0, memcmp(buf, self->bytes + 600000, 4096));
	EXPECT_EQ(2, atomic_load(&fr.requests));
	incrfsd_source_close(&src);
	front_stop(&fr);
}

/*
 * A redirect target that fails when read directly before it ever served
 * (here: single-use URLs) is not kept: every read follows the redirect,
 * and every read succeeds.
 */
TEST_F(web, single_use_redirects_are_followed_every_time)
{
	static unsigned char buf[4096];
	struct incrfsd_source src;
	struct front fr;
	char url[96];
	int i;

	ASSERT_EQ(0, front_start(&fr, "", self->bytes, url, sizeof(url)));
	ASSERT_EQ(0, incrfsd_source_open(&src, url, 4)) TH_LOG("%s", src.err);
	for (i = 0; i < 6; i++) {
		ASSERT_EQ(0, incrfsd_source_read_sync(&src, (uint64_t)i * 100000,
						      4096, buf));
		EXPECT_EQ(0, memcmp(buf, self->bytes + (uint64_t)i * 100000,
				    4096));
	}
	/* the probe, the read that found its URL spent, then each read */
	EXPECT_EQ(1 + 6, atomic_load(&fr.requests));
	incrfsd_source_close(&src);
	front_stop(&fr);
}

/*
 * A direct read that breaks off midway: the reads whose bytes came are
 * finished, the rest is asked for again through the registry, and no
 * read fails.
 */
TEST_F(web, a_direct_read_cut_short_is_finished_through_the_registry)
{
	static unsigned char buf[2][4096];
	struct incrfsd_read_done done[2];
	struct incrfsd_source src;
	int cookies[2] = { 0, 1 }, i, n, got = 0;
	struct front fr;
	char url[96];

	ASSERT_EQ(0, front_start(&fr, "", self->bytes, url, sizeof(url)));
	atomic_store(&fr.cut_at, 2);	/* the probe is the first */
	ASSERT_EQ(0, incrfsd_source_open(&src, url, 4)) TH_LOG("%s", src.err);
	/* two neighbours: one request of 8 KiB, cut after 4 KiB */
	src.ops->plug(&src, true);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, src.ops->read(&src, 8192 + (uint64_t)i * 4096,
					   4096, buf[i], 0, &cookies[i]));
	src.ops->plug(&src, false);
	while (got < 2) {
		ASSERT_TRUE(readable(src.event_fd, 10000));
		n = src.ops->reap(&src, done, 2, false);
		ASSERT_GE(n, 0);
		for (i = 0; i < n; i++)
			EXPECT_EQ(0, done[i].err);
		got += n;
	}
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, memcmp(buf[i], self->bytes + 8192 + i * 4096, 4096));
	EXPECT_EQ(3, atomic_load(&fr.stored));	/* probe, cut, the rest */
	EXPECT_EQ(2, atomic_load(&fr.requests));
	incrfsd_source_close(&src);
	front_stop(&fr);
}

TEST(registry_references)
{
	static const char hexd[] =
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	static const char *const insecure[] = { "r.test", "127.0.0.1:5000" };
	const char *why = NULL;
	char ref[256], want[256], *url;

	snprintf(ref, sizeof(ref), "registry://127.0.0.1:5000/lib/app@sha256:%s",
		 hexd);
	snprintf(want, sizeof(want),
		 "https://127.0.0.1:5000/v2/lib/app/blobs/sha256:%s", hexd);
	url = registry_url(ref, NULL, &why);
	ASSERT_NOT_NULL(url);
	ASSERT_STREQ(want, url);	/* https unless named insecure */
	free(url);
	incrfsd_source_set_net(&(struct incrfsd_net_opts){
		.insecure = insecure, .n_insecure = 2 });
	url = registry_url(ref, NULL, &why);
	ASSERT_NOT_NULL(url);
	ASSERT_STREQ(want + 1 + 4, url + 4);	/* "http" + the same rest */
	ASSERT_EQ(0, strncmp(url, "http://", 7));
	free(url);
	/* HOST:PORT exactly: another port of the host is not insecure */
	snprintf(ref, sizeof(ref), "registry://127.0.0.1:5001/app@sha256:%s",
		 hexd);
	url = registry_url(ref, NULL, &why);
	ASSERT_NOT_NULL(url);
	ASSERT_EQ(0, strncmp(url, "https://", 8));
	free(url);
	snprintf(ref, sizeof(ref), "registry://R.Test/app@sha256:%s", hexd);
	url = registry_url(ref, NULL, &why);
	ASSERT_NOT_NULL(url);
	ASSERT_NOT_NULL(strstr(url, "http://R.Test/v2/app/blobs/sha256:"));
	free(url);
	incrfsd_source_set_net(&(struct incrfsd_net_opts){ 0 });
	ASSERT_FALSE(registry_match("registrys://r.test/app@sha256:x"));
	ASSERT_NULL(registry_url("registry://h:1/app", NULL, &why));
	ASSERT_NOT_NULL(strstr(why, "REPO@sha256"));
	ASSERT_NULL(registry_url("registry://h:1/app@sha256:12", NULL, &why));
	ASSERT_NOT_NULL(strstr(why, "64 lowercase hex"));
	ASSERT_NULL(registry_url("registry://h:1/app@md5:12", NULL, &why));
	ASSERT_NULL(registry_url("registry:///app@sha256:12", NULL, &why));
	ASSERT_TRUE(registry_match("registry://h/a@sha256:x"));
	ASSERT_FALSE(http_match("registry://h/a@sha256:x"));
	ASSERT_TRUE(http_match("http://h/a"));
	ASSERT_FALSE(file_match("http://h/a"));
}

TEST_HARNESS_MAIN
