// SPDX-License-Identifier: GPL-2.0-only
/*
 * registry_source_test.c - incrfsd filling a lazy mount from a blob in a
 * real OCI registry: Debian's docker-registry (distribution 2.x) runs on
 * 127.0.0.1 inside the guest with filesystem storage under /tmp, the blob
 * is pushed through the registry HTTP API v2 (registry_push.h), and
 * incrfsd --source registry://127.0.0.1:PORT/REPO@sha256:HEX fills the
 * mount; the tree read through it equals the packed one.  A digest the
 * registry does not have fails incrfsd at start-up with a clear message;
 * a blob of another image is refused (exit 3).  registry:// is https: the
 * same registry serving TLS is verified against --ca-file's CA, and a
 * plain http registry is only spoken to when --insecure-registry names it.
 *
 * Without /usr/bin/docker-registry in the guest (make deps installs it,
 * tests/vm/guest-files brings it) the tests report SKIP, never pass.
 * Loopback only; every wait is bounded.
 */
#include <signal.h>
#include <stdbool.h>
#include <time.h>
#include "tests/kselftest/harness.h"
#include "tests/kselftest/incrfs_util.h"
#include "tests/kselftest/proc_util.h"
#include "tests/kselftest/registry_push.h"

#define REGISTRY	RP_REGISTRY
#define TOP	"/tmp/registry"
#define SRC	TOP "/src"
#define SRC_B	TOP "/src_b"
#define IMG	TOP "/lazy.img"
#define BLOB	TOP "/lazy.blob"
#define BLOB_B	TOP "/b.blob"
#define PORT	15000
#define REPO	"incrfs/app"

static int setup_images(void)
{
	char path[PATH_MAX];
	int i;

	if (access(TOP "/ready", F_OK) == 0)
		return 0;
	if (iu_sh("rm -rf " TOP " && mkdir -p " SRC "/dir " SRC_B) ||
	    iu_sh("cp /bin/busybox " SRC "/busybox") ||
	    iu_pattern_file(SRC "/big", (3 << 20) + 100, 21) ||
	    iu_pattern_file(SRC_B "/other", 50000, 22))
		return -1;
	for (i = 0; i < 12; i++) {
		snprintf(path, sizeof(path), SRC "/dir/f%02d", i);
		if (iu_pattern_file(path, i * 7919 + 1, 200 + i))
			return -1;
	}
	if (iu_sh("incrfs-pack " SRC " " IMG " --blob " BLOB " >/dev/null") ||
	    iu_sh("incrfs-pack " SRC_B " " TOP "/b.img --blob " BLOB_B
		  " >/dev/null"))
		return -1;
	return iu_write_file(TOP "/ready", "", 0, 0644);
}

static const char tls_config[] =
	"version: 0.1\n"
	"log:\n"
	"  level: warn\n"
	"storage:\n"
	"  filesystem:\n"
	"    rootdirectory: " TOP "/storage\n"
	"http:\n"
	"  addr: 127.0.0.1:15000\n"
	"  tls:\n"
	"    certificate: " TOP "/tls/srv.pem\n"
	"    key: " TOP "/tls/srv.key\n";

/*
 * In TOP/tls: ca.pem, a CA; srv.pem and srv.key, a certificate for
 * 127.0.0.1 it signed; other.pem, a CA that signed nothing here.
 */
static int make_certs(void)
{
	return iu_sh("set -e; rm -rf " TOP "/tls; mkdir -p " TOP "/tls; "
		     "cd " TOP "/tls; "
		     "K='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'; "
		     "openssl req -x509 $K -keyout ca.key -out ca.pem "
		     "-subj /CN=incrfs-test-ca -days 2 2>/dev/null; "
		     "openssl req -x509 $K -keyout other.key -out other.pem "
		     "-subj /CN=incrfs-other-ca -days 2 2>/dev/null; "
		     "openssl req -new $K -keyout srv.key -out srv.csr "
		     "-subj /CN=127.0.0.1 2>/dev/null; "
		     "echo subjectAltName=IP:127.0.0.1 > ext.cnf; "
		     "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
		     "-CAcreateserial -days 2 -extfile ext.cnf -out srv.pem "
		     "2>/dev/null");
}

static const char config[] =
	"version: 0.1\n"
	"log:\n"
	"  level: warn\n"
	"storage:\n"
	"  filesystem:\n"
	"    rootdirectory: " TOP "/storage\n"
	"http:\n"
	"  addr: 127.0.0.1:15000\n";

/* Start docker-registry on empty storage; its pid or -1. */
static pid_t start_registry(const char *log)
{
	if (iu_sh("rm -rf " TOP "/storage"))
		return -1;
	return rp_start_registry(TOP "/config.yml", config, PORT, log);
}

/* Push the file @path; its digest into @digest. */
static int push_file(const char *path, char digest[72], char *why,
		     size_t whylen)
{
	unsigned char *blob;
	size_t len;
	int ret;

	blob = iu_slurp(path, &len);
	if (!blob) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	ret = rp_push_blob(PORT, REPO, blob, len, digest, why, whylen);
	free(blob);
	return ret;
}

FIXTURE(reg) {
	char img[64], mnt[64], log[64], reglog[64];
	char digest[72];
	pid_t registry, feeder;
};

FIXTURE_SETUP(reg)
{
	char why[512];

	self->registry = self->feeder = -1;
	snprintf(self->log, sizeof(self->log), TOP "/feeder%d.log", getpid());
	snprintf(self->reglog, sizeof(self->reglog), TOP "/registry%d.log",
		 getpid());
	if (access(REGISTRY, X_OK))
		SKIP(return, REGISTRY " is not installed (make deps; tests/vm/guest-files)");
	ASSERT_EQ(0, setup_images());
	snprintf(self->img, sizeof(self->img), TOP "/t%d.img", getpid());
	snprintf(self->mnt, sizeof(self->mnt), TOP "/m%d", getpid());
	ASSERT_EQ(0, iu_sh("cp " IMG " %s", self->img));
	ASSERT_EQ(0, iu_mount(self->img, self->mnt, "timeout=30000"))
		TH_LOG("mount: %s", strerror(errno));
	self->registry = start_registry(self->reglog);
	ASSERT_GT(self->registry, 0) TH_LOG("docker-registry did not answer");
	ASSERT_EQ(0, push_file(BLOB, self->digest, why, sizeof(why)))
		TH_LOG("push: %s", why);
}

FIXTURE_TEARDOWN(reg)
{
	pu_kill(&self->feeder);
	pu_kill(&self->registry);
	if (_metadata->res->failed) {
		pu_show_log(self->log);
		pu_show_log(self->reglog);
	}
	if (self->mnt[0]) {
		umount2(self->mnt, MNT_DETACH);
		rmdir(self->mnt);
	}
	if (self->img[0])
		unlink(self->img);
	unlink(self->log);
	unlink(self->reglog);
}

/*
 * incrfsd for @digest at 127.0.0.1:PORT; @opt and @arg (if not NULL) one
 * more option: --insecure-registry where it is not given, --ca-file.
 */
static pid_t spawn_feeder_opt(const char *log, const char *mnt,
			      const char *digest, const char *opt,
			      const char *arg)
{
	char src[160];
	const char *argv[] = { "incrfsd", "-v", "--source", src, mnt,
			       opt, arg, NULL };

	snprintf(src, sizeof(src), "registry://127.0.0.1:%d/" REPO "@%s",
		 PORT, digest);
	return pu_spawn(log, argv);
}

/* incrfsd for @digest, the registry on PORT speaking plain http. */
static pid_t spawn_feeder(const char *log, const char *mnt,
			  const char *digest)
{
	return spawn_feeder_opt(log, mnt, digest, "--insecure-registry",
				"127.0.0.1:15000");
}

TEST_F(reg, tree_matches_through_the_registry)
{
	struct incrfs_stats st;

	ASSERT_EQ(0, iu_get_stats(self->mnt, &st));
	ASSERT_EQ(0, st.blocks_present);
	self->feeder = spawn_feeder(self->log, self->mnt, self->digest);
	ASSERT_GT(self->feeder, 0);
	ASSERT_TRUE(pu_wait_file_has(self->log, "incrfsd: serving", 30000));
	EXPECT_TRUE(pu_file_has(self->log, "registry://127.0.0.1"));
	ASSERT_EQ(0, iu_cmp_tree(SRC, self->mnt)) TH_LOG("%s", iu_diff);
	ASSERT_EQ(0, iu_get_stats(self->mnt, &st));
	EXPECT_EQ(1, st.complete);
	EXPECT_EQ(0, st.hash_failures);
	EXPECT_EQ(0, st.timeouts);
	EXPECT_GT(st.misses, 0);
	/* the feeder is still serving; stopped, it says what it did */
	ASSERT_EQ(0, kill(self->feeder, SIGTERM));
	EXPECT_EQ(0, pu_wait_exit(self->feeder, 20000));
	self->feeder = -1;
	EXPECT_TRUE(pu_file_has(self->log, "incrfsd: served "));
}

TEST_F(reg, unknown_digest_fails_clearly)
{
	static const char none[] = "sha256:"
		"0000000000000000000000000000000000000000000000000000000000000000";
	struct incrfs_stats st;

	self->feeder = spawn_feeder(self->log, self->mnt, none);
	ASSERT_GT(self->feeder, 0);
	EXPECT_EQ(1, pu_wait_exit(self->feeder, 30000));
	self->feeder = -1;
	EXPECT_TRUE(pu_file_has(self->log, "HTTP 404: no such blob"));
	EXPECT_TRUE(pu_file_has(self->log, "incrfsd: error: "));
	ASSERT_EQ(0, iu_get_stats(self->mnt, &st));
	EXPECT_EQ(0, st.blocks_present);
}

TEST_F(reg, blob_of_another_image_is_refused)
{
	char digest[72], why[512];

	ASSERT_EQ(0, push_file(BLOB_B, digest, why, sizeof(why)))
		TH_LOG("push: %s", why);
	self->feeder = spawn_feeder(self->log, self->mnt, digest);
	ASSERT_GT(self->feeder, 0);
	EXPECT_EQ(3, pu_wait_exit(self->feeder, 30000));
	self->feeder = -1;
	EXPECT_TRUE(pu_file_has(self->log, "does not belong to the image"));
}

/*
 * registry:// means https: against the same registry serving TLS with a
 * certificate of its own CA, incrfsd fills the mount once --ca-file names
 * that CA; with another CA it fails at once (no retries, exit 1) and says
 * which option helps.
 */
TEST_F(reg, https_registry_is_verified_against_the_ca_file)
{
	struct timespec t0, t1;

	if (iu_sh("command -v openssl >/dev/null"))
		SKIP(return, "needs openssl (tests/vm/guest-files)");
	ASSERT_EQ(0, make_certs());
	pu_kill(&self->registry);	/* the blob stays in its storage */
	self->registry = rp_start_registry(TOP "/config.yml", tls_config,
					   PORT, self->reglog);
	ASSERT_GT(self->registry, 0) TH_LOG("docker-registry (TLS) did not answer");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	self->feeder = spawn_feeder_opt(self->log, self->mnt, self->digest,
					"--ca-file", TOP "/tls/other.pem");
	ASSERT_GT(self->feeder, 0);
	EXPECT_EQ(1, pu_wait_exit(self->feeder, 30000));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	self->feeder = -1;
	EXPECT_TRUE(pu_file_has(self->log, "--ca-file FILE"));
	EXPECT_FALSE(pu_file_has(self->log, "gave up after"));
	EXPECT_LT(t1.tv_sec - t0.tv_sec, 10) TH_LOG("not at once");

	unlink(self->log);
	self->feeder = spawn_feeder_opt(self->log, self->mnt, self->digest,
					"--ca-file", TOP "/tls/ca.pem");
	ASSERT_GT(self->feeder, 0);
	ASSERT_TRUE(pu_wait_file_has(self->log, "incrfsd: serving", 30000));
	EXPECT_TRUE(pu_file_has(self->log, "registry://127.0.0.1"));
	ASSERT_EQ(0, iu_cmp_tree(SRC, self->mnt)) TH_LOG("%s", iu_diff);
}

/*
 * A registry that speaks plain http is not spoken to in plain http unless
 * --insecure-registry names it: incrfsd fails at once and names the option.
 * (A CA store is given so that the TLS handshake is what fails: the guest
 * has none of its own, which fails earlier, with its own hint.)
 */
TEST_F(reg, plain_http_registry_needs_insecure_registry)
{
	struct incrfs_stats st;

	if (iu_sh("command -v openssl >/dev/null"))
		SKIP(return, "needs openssl (tests/vm/guest-files)");
	ASSERT_EQ(0, make_certs());
	self->feeder = spawn_feeder_opt(self->log, self->mnt, self->digest,
					"--ca-file", TOP "/tls/ca.pem");
	ASSERT_GT(self->feeder, 0);
	EXPECT_EQ(1, pu_wait_exit(self->feeder, 30000));
	self->feeder = -1;
	EXPECT_TRUE(pu_file_has(self->log,
				"--insecure-registry HOST[:PORT]"));
	EXPECT_FALSE(pu_file_has(self->log, "gave up after"));
	ASSERT_EQ(0, iu_get_stats(self->mnt, &st));
	EXPECT_EQ(0, st.blocks_present);
}

TEST_HARNESS_MAIN
