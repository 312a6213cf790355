// SPDX-License-Identifier: GPL-2.0-only
/*
 * registry_auth_test.c - incrfsd reading from a registry that asks for
 * authentication, as every public registry does: Debian's docker-registry
 * in its `auth: token` mode on 127.0.0.1, with a token service
 * (token_issuer.py, python3 + openssl) that signs the tokens the registry
 * checks.  incrfsd must fetch a token anonymously, or with the Basic
 * credentials of a docker/podman auth file, fetch a new one when a token
 * expires, and fail with a message a person can act on (and never print
 * a secret) when it has no or wrong credentials.
 *
 * The blob is pushed while the registry runs without authentication
 * (registry_push.h speaks no tokens), then the registry is restarted on
 * the same storage with token authentication.  Without docker-registry,
 * python3 or openssl in the guest the tests SKIP.
 */
#include <stdbool.h>
#include <sys/stat.h>
#include "tests/kselftest/harness.h"
#include "tests/kselftest/incrfs_util.h"
#include "tests/kselftest/proc_util.h"
#include "tests/kselftest/registry_push.h"

#define TOP	"/tmp/regauth"
#define SRC	TOP "/src"
#define IMG	TOP "/lazy.img"
#define BLOB	TOP "/lazy.blob"
#define AUTHF	TOP "/auth.json"
#define ISSUED	TOP "/issued.log"
#define PORT	15100
#define TPORT	15101
#define HOSTP	"127.0.0.1:15100"
#define REPO	"incrfs/app"
#define BIG	(3 << 20)
#define USER	"alice"
#define PASS	"s3cret-pw"
/* base64 of "alice:s3cret-pw" and "alice:wrong" */
#define AUTH_OK	"YWxpY2U6czNjcmV0LXB3"
#define AUTH_BAD "YWxpY2U6d3Jvbmc="

/* docker-registry's configuration: the same storage, then with tokens */
#define CONFIG_BASE \
	"version: 0.1\n" \
	"log:\n" \
	"  level: warn\n" \
	"storage:\n" \
	"  filesystem:\n" \
	"    rootdirectory: " TOP "/storage\n" \
	"http:\n" \
	"  addr: " HOSTP "\n"

static const char open_config[] = CONFIG_BASE;

static const char token_config[] =
	CONFIG_BASE
	"auth:\n"
	"  token:\n"
	"    realm: http://127.0.0.1:15101/token\n"
	"    service: incrfs-registry\n"
	"    issuer: incrfs-test-issuer\n"
	"    rootcertbundle: " TOP "/cert.pem\n";

/* Once per boot: the tree, its image and blob, the signing key. */
static int setup_once(void)
{
	if (access(TOP "/ready", F_OK) == 0)
		return 0;
	if (iu_sh("rm -rf " TOP " && mkdir -p " SRC "/dir " TOP "/home") ||
	    iu_pattern_file(SRC "/big", BIG, 31) ||
	    iu_pattern_file(SRC "/dir/small", 9000, 32) ||
	    iu_sh("incrfs-pack " SRC " " IMG " --blob " BLOB " >/dev/null") ||
	    iu_sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout "
		  TOP "/key.pem -out " TOP "/cert.pem -subj "
		  "/CN=incrfs-test-issuer -days 2 >/dev/null 2>&1"))
		return -1;
	return iu_write_file(TOP "/ready", "", 0, 0644);
}

FIXTURE(auth) {
	char img[64], mnt[64], log[64], reglog[64], isslog[64];
	char digest[72];
	pid_t registry, issuer, feeder;
};

FIXTURE_SETUP(auth)
{
	unsigned char *blob;
	char why[512];
	size_t len;
	int ret;

	self->registry = self->issuer = self->feeder = -1;
	snprintf(self->log, sizeof(self->log), TOP "/feeder%d.log", getpid());
	snprintf(self->reglog, sizeof(self->reglog), TOP "/reg%d.log",
		 getpid());
	snprintf(self->isslog, sizeof(self->isslog), TOP "/iss%d.log",
		 getpid());
	if (access(RP_REGISTRY, X_OK) || iu_sh("(command -v python3 && "
					       "command -v openssl) >/dev/null"))
		SKIP(return, "needs docker-registry, python3 and openssl (tests/vm/guest-files)");
	ASSERT_EQ(0, setup_once());
	snprintf(self->img, sizeof(self->img), TOP "/t%d.img", getpid());
	snprintf(self->mnt, sizeof(self->mnt), TOP "/m%d", getpid());
	ASSERT_EQ(0, iu_sh("cp " IMG " %s && rm -rf " TOP "/storage "
			   ISSUED " " AUTHF, self->img));
	ASSERT_EQ(0, iu_mount(self->img, self->mnt, "timeout=30000"))
		TH_LOG("mount: %s", strerror(errno));
	/* push with no authentication, then serve with tokens */
	self->registry = rp_start_registry(TOP "/open.yml", open_config, PORT,
					   self->reglog);
	ASSERT_GT(self->registry, 0) TH_LOG("docker-registry did not answer");
	blob = iu_slurp(BLOB, &len);
	ASSERT_NE(NULL, blob);
	ret = rp_push_blob(PORT, REPO, blob, len, self->digest, why,
			   sizeof(why));
	free(blob);
	ASSERT_EQ(0, ret) TH_LOG("push: %s", why);
	pu_stop(&self->registry, SIGTERM, 10000);
	self->registry = rp_start_registry(TOP "/token.yml", token_config,
					   PORT, self->reglog);
	ASSERT_GT(self->registry, 0) TH_LOG("docker-registry did not answer");
	/* no auth file is found unless a test writes one */
	setenv("HOME", TOP "/home", 1);
	unsetenv("REGISTRY_AUTH_FILE");
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("CREDENTIALS_DIRECTORY");
}

FIXTURE_TEARDOWN(auth)
{
	pu_kill(&self->feeder);
	pu_kill(&self->issuer);
	pu_kill(&self->registry);
	if (_metadata->res->failed) {
		pu_show_log(self->log);
		pu_show_log(self->reglog);
		pu_show_log(self->isslog);
		pu_show_log(ISSUED);
	}
	if (self->mnt[0]) {
		umount2(self->mnt, MNT_DETACH);
		rmdir(self->mnt);
	}
	if (self->img[0])
		unlink(self->img);
	unlink(self->log);
	unlink(self->reglog);
	unlink(self->isslog);
}

/* Start the token service with @extra arguments; its pid once it answers. */
static pid_t start_issuer(const char *log, const char *extra)
{
	char cmd[512], resp[512];
	const char *tests = getenv("INCRFS_TESTS");
	const char *argv[] = { "sh", "-c", cmd, NULL };
	pid_t pid;
	int i;

	snprintf(cmd, sizeof(cmd),
		 "exec python3 %s/token_issuer.py --dir " TOP " --port %d %s",
		 tests ? tests : "/tests", TPORT, extra);
	pid = pu_spawn(log, argv);
	for (i = 0; i < 600 && pid > 0; i++) {
		if (rp_request(TPORT, "GET", "/", NULL, 0, resp,
			       sizeof(resp)) == 404)
			return pid;
		if (pu_wait_exit(pid, 50) >= 0)
			return -1;
	}
	pu_kill(&pid);
	return -1;
}

static pid_t spawn_feeder(const char *log, const char *mnt,
			  const char *digest)
{
	char src[160];
	const char *argv[] = { "incrfsd", "-v", "--insecure-registry", HOSTP,
			       "--source", src, mnt, NULL };

	snprintf(src, sizeof(src), "registry://" HOSTP "/" REPO "@%s", digest);
	return pu_spawn(log, argv);
}

/* @n bytes at @off of "big" through the mount equal the source's. */
static bool big_matches(const char *mnt, off_t off, size_t n)
{
	char path[128];
	unsigned char *want = malloc(n), *got = malloc(n);
	bool ok = false;
	int a, b;

	snprintf(path, sizeof(path), "%s/big", mnt);
	a = open(SRC "/big", O_RDONLY);
	b = open(path, O_RDONLY);
	if (want && got && a >= 0 && b >= 0 &&
	    pread(a, want, n, off) == (ssize_t)n &&
	    pread(b, got, n, off) == (ssize_t)n)
		ok = !memcmp(want, got, n);
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	free(want);
	free(got);
	return ok;
}

static int count_lines(const char *path, const char *prefix)
{
	char *text = pu_read_text(path), *p;
	int n = 0;

	for (p = text; p && *p; p = strchr(p, '\n') + 1) {
		n += !strncmp(p, prefix, strlen(prefix));
		if (!strchr(p, '\n'))
			break;
	}
	free(text);
	return n;
}

static int write_auth(const char *b64)
{
	char json[256];

	snprintf(json, sizeof(json),
		 "{\"auths\": {\"https://" HOSTP "\": {\"auth\": \"%s\"}}}\n",
		 b64);
	return iu_write_file(AUTHF, json, strlen(json), 0600);
}

TEST_F(auth, anonymous_token_like_a_public_registry)
{
	self->issuer = start_issuer(self->isslog, "");
	ASSERT_GT(self->issuer, 0) TH_LOG("token_issuer.py did not answer");
	self->feeder = spawn_feeder(self->log, self->mnt, self->digest);
	ASSERT_GT(self->feeder, 0);
	ASSERT_TRUE(pu_wait_file_has(self->log, "incrfsd: serving", 30000));
	ASSERT_EQ(0, iu_cmp_tree(SRC, self->mnt)) TH_LOG("%s", iu_diff);
	EXPECT_GE(count_lines(ISSUED, "ok - repository:" REPO ":pull"), 1);
	/* one token serves every connection until it expires */
	EXPECT_LE(count_lines(ISSUED, "ok "), 2);
}

TEST_F(auth, credentials_from_the_auth_file_never_printed)
{
	char *log;

	self->issuer = start_issuer(self->isslog,
				    "--user " USER " --password " PASS);
	ASSERT_GT(self->issuer, 0) TH_LOG("token_issuer.py did not answer");
	ASSERT_EQ(0, write_auth(AUTH_OK));
	setenv("REGISTRY_AUTH_FILE", AUTHF, 1);
	self->feeder = spawn_feeder(self->log, self->mnt, self->digest);
	ASSERT_GT(self->feeder, 0);
	ASSERT_TRUE(pu_wait_file_has(self->log, "incrfsd: serving", 30000));
	ASSERT_EQ(0, iu_cmp_tree(SRC, self->mnt)) TH_LOG("%s", iu_diff);
	EXPECT_GE(count_lines(ISSUED, "ok " USER " "), 1);
	EXPECT_TRUE(pu_file_has(self->log, "credentials from " AUTHF));
	log = pu_read_text(self->log);
	ASSERT_NE(NULL, log);
	EXPECT_EQ(NULL, strstr(log, PASS));
	EXPECT_EQ(NULL, strstr(log, AUTH_OK));
	EXPECT_EQ(NULL, strstr(log, "eyJ"));	/* a JWT's header */
	free(log);
}

TEST_F(auth, no_credentials_fails_clearly)
{
	self->issuer = start_issuer(self->isslog,
				    "--user " USER " --password " PASS);
	ASSERT_GT(self->issuer, 0) TH_LOG("token_issuer.py did not answer");
	self->feeder = spawn_feeder(self->log, self->mnt, self->digest);
	ASSERT_GT(self->feeder, 0);
	EXPECT_EQ(1, pu_wait_exit(self->feeder, 30000));
	self->feeder = -1;
	EXPECT_TRUE(pu_file_has(self->log, HOSTP ": authentication required; "
				"no credentials for this host in "
				TOP "/home/.docker/config.json"));
	EXPECT_GE(count_lines(ISSUED, "refused"), 1);
}

TEST_F(auth, wrong_password_fails_clearly)
{
	self->issuer = start_issuer(self->isslog,
				    "--user " USER " --password " PASS);
	ASSERT_GT(self->issuer, 0) TH_LOG("token_issuer.py did not answer");
	ASSERT_EQ(0, write_auth(AUTH_BAD));
	setenv("REGISTRY_AUTH_FILE", AUTHF, 1);
	self->feeder = spawn_feeder(self->log, self->mnt, self->digest);
	ASSERT_GT(self->feeder, 0);
	EXPECT_EQ(1, pu_wait_exit(self->feeder, 30000));
	self->feeder = -1;
	EXPECT_TRUE(pu_file_has(self->log, "refused the credentials from "
				AUTHF " (HTTP 401)"));
	EXPECT_FALSE(pu_file_has(self->log, "wrong"));
}

TEST_F(auth, expired_token_is_fetched_again)
{
	struct incrfs_stats st;

	/* tokens good for 3 s; the layer is read 3 MiB apart, 5 s apart */
	self->issuer = start_issuer(self->isslog, "--ttl 3");
	ASSERT_GT(self->issuer, 0) TH_LOG("token_issuer.py did not answer");
	self->feeder = spawn_feeder(self->log, self->mnt, self->digest);
	ASSERT_GT(self->feeder, 0);
	ASSERT_TRUE(pu_wait_file_has(self->log, "incrfsd: serving", 30000));
	EXPECT_TRUE(big_matches(self->mnt, 0, 4096));
	ASSERT_EQ(1, count_lines(ISSUED, "ok "));
	pu_msleep(5000);
	EXPECT_TRUE(big_matches(self->mnt, BIG - 4096, 4096));
	EXPECT_EQ(2, count_lines(ISSUED, "ok "));
	ASSERT_EQ(0, iu_get_stats(self->mnt, &st));
	EXPECT_EQ(0, st.timeouts);
	EXPECT_EQ(0, st.hash_failures);
}

TEST_HARNESS_MAIN
