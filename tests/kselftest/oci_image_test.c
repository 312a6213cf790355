// SPDX-License-Identifier: GPL-2.0-only
/*
 * oci_image_test.c - a container image from an OCI layout to a running
 * container on lazily loaded layers: incrfs-image convert, a push to
 * Debian's docker-registry serving TLS (a test CA) with token
 * authentication (token_issuer.py, over TLS too) and a docker auth file,
 * incrfs-image pull, then crun (Debian's) running the image's command on
 * the overlay of the incrfs mounts.  And what goes wrong: no or wrong
 * credentials, a tampered layer, an image that was never converted,
 * another platform, a layer's head that does not expand: a clear error and
 * exit status, nothing left mounted.  An image whose heads are stored
 * uncompressed (as convert stored them before) still pulls
 * (rehead_layout.py rewrites the layout both ways).
 *
 * The source image (make_oci_layout.sh) has two layers: busybox, a user
 * "app" (uid 1000), a file the second layer deletes (whiteout) and 4 MiB
 * nobody reads; the second layer adds the message the command prints.
 * crun runs with --no-pivot (the guest's root is an initramfs, which
 * pivot_root cannot leave) and --cgroup-manager=disabled (no cgroup
 * hierarchy is mounted in the guest).  Without docker-registry, python3,
 * openssl or crun in the guest the tests SKIP.
 *
 * And a real image: INCRFS_DEBIAN_IMAGE (env, set by tests/run-all.sh) is
 * the three-layer Debian image of figure 8 (tests/bench/debian-image.sh:
 * mmdebstrap minbase, + python3, + an application), converted on the host
 * with incrfs-image convert; it is pushed to the same registry and
 * python3 starts from it with crun, its layers fetched lazily over TLS
 * with a token.  Without it (Debian's archive unreachable when the image
 * was to be built) that test SKIPs.
 */
#include <stdbool.h>
#include <sys/stat.h>
#include "tests/kselftest/harness.h"
#include "tests/kselftest/incrfs_util.h"
#include "tests/kselftest/proc_util.h"
#include "tests/kselftest/registry_push.h"

#define TOP	"/tmp/ociimg"
#define PORT	15200
#define TPORT	15201
#define HOSTP	"127.0.0.1:15200"
#define REPO	"incrfs/app"
#define REF	HOSTP "/" REPO ":v1"
#define SRC_REPO "incrfs/src"
#define CA	TOP "/tls/ca.pem"
#define AUTHF	TOP "/home/.docker/config.json"
#define MSG	"hello from a lazily loaded layer"
#define CRUN	"/usr/bin/crun"
/* base64 of "alice:s3cret-pw" and "alice:wrong" */
#define AUTH_OK	"YWxpY2U6czNjcmV0LXB3"
#define AUTH_BAD "YWxpY2U6d3Jvbmc="
#define DEB_REPO "debian/app"
#define DEB_REF	HOSTP "/" DEB_REPO ":app"
#define DEB_MSG	"python3 from a lazily loaded Debian image"

#define IMAGE_CONFIG \
	"{\"User\":\"app\",\"Env\":[\"GREETING=hi\"],\"WorkingDir\":\"/data\"," \
	"\"Cmd\":[\"/bin/busybox\",\"sh\",\"-c\"," \
	"\"cat msg; echo greeting=$GREETING; ls; echo uid=$(/bin/busybox id -u)\"]}"

#define REGISTRY_BASE \
	"version: 0.1\n" \
	"log:\n" \
	"  level: warn\n" \
	"storage:\n" \
	"  filesystem:\n" \
	"    rootdirectory: " TOP "/storage\n" \
	"http:\n" \
	"  addr: " HOSTP "\n"

static const char open_config[] = REGISTRY_BASE;

static const char secure_config[] =
	REGISTRY_BASE
	"  tls:\n"
	"    certificate: " TOP "/tls/srv.pem\n"
	"    key: " TOP "/tls/srv.key\n"
	"auth:\n"
	"  token:\n"
	"    realm: https://127.0.0.1:15201/token\n"
	"    service: incrfs-registry\n"
	"    issuer: incrfs-test-issuer\n"
	"    rootcertbundle: " TOP "/cert.pem\n";

static const char *tests_dir(void)
{
	const char *t = getenv("INCRFS_TESTS");

	return t ? t : "/tests";
}

/* The source layers, as directories. */
static int make_trees(void)
{
	return iu_sh("set -e; cd " TOP "; mkdir -p l1/bin l1/data l1/etc "
		     "l2/data; cp /usr/bin/busybox l1/bin/busybox; "
		     "echo old > l1/data/gone; "
		     "echo 'root:x:0:0::/:/bin/sh' > l1/etc/passwd; "
		     "echo 'app:x:1000:1000::/data:/bin/sh' >> l1/etc/passwd; "
		     "echo 'app:x:1000:' > l1/etc/group; "
		     "dd if=/dev/urandom of=l1/data/unread bs=1M count=4 "
		     "2>/dev/null; echo '" MSG "' > l2/data/msg; "
		     ": > l2/data/.wh.gone");
}

/* CA, a certificate for 127.0.0.1, and the issuer's signing key. */
static int make_keys(void)
{
	return iu_sh("set -e; mkdir -p " TOP "/tls; cd " TOP "/tls; "
		     "K='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'; "
		     "openssl req -x509 $K -keyout ca.key -out ca.pem "
		     "-subj /CN=incrfs-test-ca -days 2 2>/dev/null; "
		     "openssl req -new $K -keyout srv.key -out srv.csr "
		     "-subj /CN=127.0.0.1 2>/dev/null; "
		     "echo subjectAltName=IP:127.0.0.1 > ext.cnf; "
		     "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
		     "-CAcreateserial -days 2 -extfile ext.cnf -out srv.pem "
		     "2>/dev/null; "
		     "openssl req -x509 -newkey rsa:2048 -nodes -keyout "
		     TOP "/key.pem -out " TOP "/cert.pem -subj "
		     "/CN=incrfs-test-issuer -days 2 >/dev/null 2>&1");
}

/* "manifest":"sha256:..." of convert --json's output at @path. */
static int manifest_digest(const char *path, char digest[72])
{
	char *text = pu_read_text(path), *p;
	int ret = -1;

	p = text ? strstr(text, "\"manifest\":\"") : NULL;
	if (p && sscanf(p + 12, "%71[^\"]", digest) == 1)
		ret = 0;
	free(text);
	return ret;
}

FIXTURE(oci) {
	char bundle[64], out[64], err[64], run[64], reglog[64], isslog[64];
	pid_t registry, issuer;
};

static pid_t start_issuer(const char *log)
{
	char cmd[512], resp[512];
	const char *argv[] = { "sh", "-c", cmd, NULL };
	pid_t pid;
	int i;

	snprintf(cmd, sizeof(cmd),
		 "exec python3 %s/token_issuer.py --dir " TOP " --port %d "
		 "--user alice --password s3cret-pw --tls-cert " TOP
		 "/tls/srv.pem --tls-key " TOP "/tls/srv.key",
		 tests_dir(), TPORT);
	pid = pu_spawn(log, argv);
	/* a plain http request to a TLS server: no status line, or 400 */
	for (i = 0; i < 600 && pid > 0; i++) {
		if (rp_request(TPORT, "GET", "/", NULL, 0, resp,
			       sizeof(resp)) != -1 ||
		    iu_sh("echo | openssl s_client -connect 127.0.0.1:%d "
			  ">/dev/null 2>&1", TPORT) == 0)
			return pid;
		if (pu_wait_exit(pid, 50) >= 0)
			return -1;
	}
	pu_kill(&pid);
	return -1;
}

static int write_auth(const char *b64)
{
	char json[256];

	snprintf(json, sizeof(json),
		 "{\"auths\": {\"" HOSTP "\": {\"auth\": \"%s\"}}}\n", b64);
	return iu_write_file(AUTHF, json, strlen(json), 0600);
}

/* The converted Debian image's layout, if the host staged one. */
static const char *debian_image(void)
{
	const char *d = getenv("INCRFS_DEBIAN_IMAGE");

	return d && *d && !access(d, F_OK) ? d : NULL;
}

/*
 * Once per boot: the source layout, keys; the source image pushed as
 * SRC_REPO:app (and the Debian image as DEB_REPO:app, converted already)
 * while the registry asks for no authentication; then the
 * converted image pushed by incrfs-image convert to the registry as it
 * serves in every test (TLS, tokens, push access with the auth file's
 * credentials); the converted layout stays in TOP/dst (--layout) for the
 * oci: tests.
 */
static int setup_once(char *why, size_t whylen)
{
	pid_t reg, iss;
	int ret;

	if (access(TOP "/ready", F_OK) == 0)
		return 0;
	snprintf(why, whylen, "building the image");
	if (iu_sh("rm -rf " TOP " && mkdir -p " TOP "/home/.docker") ||
	    make_trees() ||
	    iu_sh("sh %s/make_oci_layout.sh " TOP "/src app amd64 '"
		  IMAGE_CONFIG "' " TOP "/l1 " TOP "/l2", tests_dir()) ||
	    make_keys())
		return -1;
	reg = rp_start_registry(TOP "/open.yml", open_config, PORT,
				TOP "/push.log");
	if (reg <= 0) {
		snprintf(why, whylen, "docker-registry did not answer");
		return -1;
	}
	ret = rp_push_layout(PORT, TOP "/src", SRC_REPO, "app", why, whylen);
	if (!ret && debian_image())
		ret = rp_push_layout(PORT, debian_image(), DEB_REPO, "app", why,
				     whylen);
	pu_stop(&reg, SIGTERM, 10000);
	if (ret)
		return ret;
	reg = rp_start_registry(TOP "/secure.yml", secure_config, PORT,
				TOP "/push.log");
	iss = reg > 0 ? start_issuer(TOP "/push-issuer.log") : -1;
	snprintf(why, whylen, "incrfs-image convert to the registry failed");
	ret = reg > 0 && iss > 0 ? 0 : -1;
	if (!ret)
		ret = write_auth(AUTH_OK) ||
		      iu_sh("HOME=" TOP "/home incrfs-image convert -q --json "
			    "--ca-file " CA " --layout " TOP "/dst " TOP
			    "/src:app docker://" REF " > " TOP
			    "/convert.json 2> " TOP "/convert.err") ? -1 : 0;
	if (ret)
		iu_sh("cat " TOP "/convert.err " TOP "/push.log 2>/dev/null");
	unlink(AUTHF);
	pu_kill(&iss);
	pu_stop(&reg, SIGTERM, 10000);
	if (ret)
		return ret;
	return iu_write_file(TOP "/ready", "", 0, 0644);
}

FIXTURE_SETUP(oci)
{
	char why[512] = "";

	self->registry = self->issuer = -1;
	if (access(RP_REGISTRY, X_OK) || access(CRUN, X_OK) ||
	    iu_sh("(command -v python3 && command -v openssl) >/dev/null"))
		SKIP(return, "needs docker-registry, crun, python3 and openssl (tests/vm/guest-files)");
	ASSERT_EQ(0, setup_once(why, sizeof(why))) TH_LOG("%s", why);
	snprintf(self->bundle, sizeof(self->bundle), TOP "/b%d", getpid());
	snprintf(self->out, sizeof(self->out), TOP "/out%d", getpid());
	snprintf(self->err, sizeof(self->err), TOP "/err%d", getpid());
	snprintf(self->run, sizeof(self->run), TOP "/run%d", getpid());
	snprintf(self->reglog, sizeof(self->reglog), TOP "/reg%d", getpid());
	snprintf(self->isslog, sizeof(self->isslog), TOP "/iss%d", getpid());
	self->registry = rp_start_registry(TOP "/secure.yml", secure_config,
					   PORT, self->reglog);
	ASSERT_GT(self->registry, 0) TH_LOG("docker-registry did not answer");
	self->issuer = start_issuer(self->isslog);
	ASSERT_GT(self->issuer, 0) TH_LOG("token_issuer.py did not answer");
	setenv("HOME", TOP "/home", 1);
	unsetenv("REGISTRY_AUTH_FILE");
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("CREDENTIALS_DIRECTORY");
	unlink(AUTHF);
}

FIXTURE_TEARDOWN(oci)
{
	if (_metadata->res->failed) {
		pu_show_log(self->out);
		pu_show_log(self->err);
		pu_show_log(self->run);
		pu_show_log(self->reglog);
		pu_show_log(self->isslog);
		iu_sh("cat %s/layers/*/incrfsd.log 2>/dev/null", self->bundle);
	}
	if (self->bundle[0])
		iu_sh("incrfs-image umount -q %s 2>/dev/null", self->bundle);
	pu_kill(&self->issuer);
	pu_kill(&self->registry);
}

/* Is anything mounted under @dir? */
static bool mounted_under(const char *dir)
{
	char *m = pu_read_text("/proc/mounts");
	bool yes = m && strstr(m, dir);

	free(m);
	return yes;
}

/* The number after "@key": in the file @path, or -1. */
static long long json_number(const char *path, const char *key)
{
	char *text = pu_read_text(path), pat[64], *p;
	long long v = -1;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = text ? strstr(text, pat) : NULL;
	if (p)
		v = strtoll(p + strlen(pat), NULL, 10);
	free(text);
	return v;
}

static int pull(FIXTURE_DATA(oci) *self, const char *ref, const char *opts,
		const char *cmd)
{
	return iu_sh("incrfs-image pull --json %s %s %s %s > %s 2> %s", opts,
		     ref, self->bundle, cmd, self->out, self->err);
}

/*
 * Can crun run a container here?  It needs a cgroup2 hierarchy and pid,
 * network, ipc, uts and mount namespaces; the debug kernel (tinyconfig
 * plus tests/debug-kernel/debug.config) builds none of them.
 */
static bool crun_can_run(void)
{
	static const char *const need[] = {
		"/sys/fs/cgroup/cgroup.controllers", "/proc/self/ns/pid",
		"/proc/self/ns/net", "/proc/self/ns/ipc", "/proc/self/ns/uts",
		"/proc/self/ns/mnt",
	};
	size_t i;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (access(need[i], F_OK))
			return false;
	return true;
}

#define NO_CRUN "crun needs cgroup2 and pid, net, ipc, uts and mount " \
		"namespaces, which this kernel does not build"

static int crun(FIXTURE_DATA(oci) *self)
{
	return iu_sh(CRUN " --cgroup-manager=disabled run --no-pivot "
		     "--bundle %s c%d > %s 2>&1", self->bundle, getpid(),
		     self->run);
}

TEST_F(oci, pull_from_a_token_registry_and_run_with_crun)
{
	if (!crun_can_run())
		SKIP(return, NO_CRUN);
	ASSERT_EQ(0, write_auth(AUTH_OK));
	ASSERT_EQ(0, pull(self, REF, "--ca-file " CA, ""));
	ASSERT_EQ(0, crun(self));
	EXPECT_TRUE(pu_file_has(self->run, MSG));
	EXPECT_TRUE(pu_file_has(self->run, "greeting=hi"));
	EXPECT_TRUE(pu_file_has(self->run, "uid=1000"));
	EXPECT_FALSE(pu_file_has(self->run, "gone"));	/* the whiteout */
	/* metadata only before the start; the 4 MiB nobody read stay away */
	EXPECT_LT(json_number(self->out, "fetched") * 8,
		  json_number(self->out, "image_size"));
	EXPECT_EQ(0, iu_sh("incrfs-image umount %s", self->bundle));
	EXPECT_FALSE(mounted_under(self->bundle));
	/* once unmounted, the bitmap on disk says what was filled */
	ASSERT_EQ(0, iu_sh("incrfs-image inspect --json %s/layers/0/image > "
			   TOP "/inspect.json", self->bundle));
	EXPECT_GT(json_number(TOP "/inspect.json", "present_blocks"), 0);
	EXPECT_LT(json_number(TOP "/inspect.json", "present_blocks") * 2,
		  json_number(TOP "/inspect.json", "data_blocks"));
	TH_LOG("fetched before the start: %lld of %lld bytes; layer 0: %lld of %lld blocks filled by the run",
	       json_number(self->out, "fetched"),
	       json_number(self->out, "image_size"),
	       json_number(TOP "/inspect.json", "present_blocks"),
	       json_number(TOP "/inspect.json", "data_blocks"));
	/* pulled again into the same directory: the images are a cache */
	ASSERT_EQ(0, pull(self, REF, "--ca-file " CA, ""));
	EXPECT_TRUE(pu_file_has(self->err, "here from an earlier pull"));
	EXPECT_EQ(json_number(self->out, "fetched") < 8192, true);
	ASSERT_EQ(0, crun(self));
	EXPECT_TRUE(pu_file_has(self->run, MSG));
}

/*
 * The same with one incrfsd for the node: pull hands it every layer; the
 * container runs; umount ends the layers' service there.
 */
TEST_F(oci, pull_onto_the_node_daemon_and_run)
{
	const char *argv[] = { "incrfsd", "--node", "--socket",
			       TOP "/node.sock", "--state-dir", TOP "/node",
			       "--ca-file", CA, NULL };
	char opts[256];
	pid_t node;
	int i;

	if (!crun_can_run())
		SKIP(return, NO_CRUN);
	ASSERT_EQ(0, write_auth(AUTH_OK));
	unlink(TOP "/node.log");
	node = pu_spawn(TOP "/node.log", argv);
	ASSERT_GT(node, 0);
	ASSERT_TRUE(pu_wait_file_has(TOP "/node.log", "node: listening",
				     20000));
	snprintf(opts, sizeof(opts), "--node=%s --ca-file %s",
		 TOP "/node.sock", CA);
	ASSERT_EQ(0, pull(self, REF, opts, "")) {
		pu_show_log(TOP "/node.log");
	}
	EXPECT_TRUE(pu_file_has(self->out, "\"node\":\"" TOP "/node.sock\""));
	ASSERT_EQ(0, iu_sh("incrfsctl feeders --socket " TOP "/node.sock"
			   " --json > " TOP "/feeders.json"));
	EXPECT_TRUE(pu_file_has(TOP "/feeders.json", "\"state\":\"serving\""));
	ASSERT_EQ(0, crun(self));
	EXPECT_TRUE(pu_file_has(self->run, MSG));
	EXPECT_EQ(0, iu_sh("incrfs-image umount %s", self->bundle));
	EXPECT_FALSE(mounted_under(self->bundle));
	/* unmounted: the node serves them no more */
	for (i = 0; i < 200; i++) {
		iu_sh("incrfsctl feeders --socket " TOP "/node.sock --json > "
		      TOP "/feeders.json");
		if (pu_file_has(TOP "/feeders.json", "\"mounts\":[]"))
			break;
		pu_msleep(50);
	}
	EXPECT_TRUE(pu_file_has(TOP "/feeders.json", "\"mounts\":[]"));
	EXPECT_EQ(0, pu_stop(&node, SIGTERM, 20000));
	if (_metadata->res->failed)
		pu_show_log(TOP "/node.log");
}

TEST_F(oci, convert_from_registry_to_registry_then_run)
{
	char want[72], got[72] = "";
	char *out;

	if (!crun_can_run())
		SKIP(return, NO_CRUN);
	ASSERT_EQ(0, write_auth(AUTH_OK));
	ASSERT_EQ(0, iu_sh("incrfs-image convert -q --ca-file " CA
			   " docker://" HOSTP "/" SRC_REPO ":app docker://"
			   HOSTP "/" REPO ":v2 > %s 2> %s", self->out,
			   self->err));
	/* the same image, whichever way it came: the same digest */
	ASSERT_EQ(0, manifest_digest(TOP "/convert.json", want));
	out = pu_read_text(self->out);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(1, sscanf(out, HOSTP "/" REPO ":v2 %71s", got));
	free(out);
	EXPECT_STREQ(want, got);
	ASSERT_EQ(0, pull(self, HOSTP "/" REPO ":v2", "--ca-file " CA, ""));
	ASSERT_EQ(0, crun(self));
	EXPECT_TRUE(pu_file_has(self->run, MSG));
	EXPECT_EQ(0, iu_sh("incrfs-image umount %s", self->bundle));
}

TEST_F(oci, convert_needs_push_access)
{
	EXPECT_EQ(1, iu_sh("incrfs-image convert -q --ca-file " CA " " TOP
			   "/src:app docker://" HOSTP "/" REPO ":v3 2> %s",
			   self->err));
	EXPECT_TRUE(pu_file_has(self->err, "no credentials for this host"));
}

TEST_F(oci, no_credentials_is_a_clear_error)
{
	EXPECT_EQ(1, pull(self, REF, "--ca-file " CA, ""));
	EXPECT_TRUE(pu_file_has(self->err, "no credentials for this host"));
	EXPECT_FALSE(mounted_under(self->bundle));
}

TEST_F(oci, wrong_password_is_refused)
{
	ASSERT_EQ(0, write_auth(AUTH_BAD));
	EXPECT_EQ(1, pull(self, REF, "--ca-file " CA, ""));
	EXPECT_TRUE(pu_file_has(self->err, "refused"));
	EXPECT_FALSE(pu_file_has(self->err, "wrong"));	/* no secret */
	EXPECT_FALSE(mounted_under(self->bundle));
}

TEST_F(oci, unknown_ca_fails_at_once)
{
	ASSERT_EQ(0, write_auth(AUTH_OK));
	EXPECT_NE(0, pull(self, REF, "", ""));
	EXPECT_TRUE(pu_file_has(self->err, "--ca-file"));
	EXPECT_FALSE(mounted_under(self->bundle));
}

TEST_F(oci, pull_from_a_layout_and_run)
{
	if (!crun_can_run())
		SKIP(return, NO_CRUN);
	ASSERT_EQ(0, pull(self, "oci:" TOP "/dst:v1", "",
			  "-- /bin/busybox cat /data/msg"));
	ASSERT_EQ(0, crun(self));
	EXPECT_TRUE(pu_file_has(self->run, MSG));
	EXPECT_EQ(0, iu_sh("incrfs-image umount %s", self->bundle));
	EXPECT_FALSE(mounted_under(self->bundle));
}

/* The sum of "@key" over every layer of the pull in @bundle (inspect). */
static long long layers_sum(const char *bundle, const char *key)
{
	char path[128];
	long long sum = 0, v;
	int i;

	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "%s/layers/%d/image", bundle, i);
		if (access(path, F_OK))
			break;
		if (iu_sh("incrfs-image inspect --json %s > " TOP
			  "/inspect.json", path))
			return -1;
		v = json_number(TOP "/inspect.json", key);
		if (v < 0)
			return -1;
		sum += v;
	}
	return i ? sum : -1;
}

TEST_F(oci, a_debian_image_starts_python_from_a_token_registry)
{
	long long present, total;

	if (!debian_image())
		SKIP(return, "no Debian image staged (INCRFS_DEBIAN_IMAGE: tests/run-all.sh builds it with mmdebstrap, which needs Debian's archive the first time)");
	if (!crun_can_run())
		SKIP(return, NO_CRUN);
	ASSERT_EQ(0, write_auth(AUTH_OK));
	ASSERT_EQ(0, pull(self, DEB_REF, "--ca-file " CA,
			  "-- python3 -c 'import json, email, http.client; "
			  "print(\"" DEB_MSG "\")'"));
	ASSERT_EQ(0, crun(self));
	EXPECT_TRUE(pu_file_has(self->run, DEB_MSG));
	ASSERT_EQ(0, iu_sh("incrfs-image umount %s", self->bundle));
	EXPECT_FALSE(mounted_under(self->bundle));
	/* python3's start reads a small part of the image */
	present = layers_sum(self->bundle, "present_blocks");
	total = layers_sum(self->bundle, "data_blocks");
	ASSERT_GT(present, 0);
	ASSERT_GT(total, 0);
	EXPECT_LT(present * 4, total);
	TH_LOG("Debian image: %lld of %lld blocks (%.1f %%) filled by the start; %lld bytes of image metadata fetched before it",
	       present, total, 100.0 * present / total,
	       json_number(self->out, "fetched"));
}

TEST_F(oci, a_tampered_layer_image_is_refused)
{
	/* the first layer's incrfs image: one byte changed */
	ASSERT_EQ(0, iu_sh("rm -rf " TOP "/bad && cp -a " TOP "/dst " TOP
			   "/bad"));
	ASSERT_EQ(0, iu_sh("d=$(sed -n 's/.*\"image\":\"sha256:\\([0-9a-f]*\\)\".*/\\1/p' "
			   TOP "/convert.json | head -1); "
			   "printf X | dd of=" TOP "/bad/blobs/sha256/$d bs=1 "
			   "seek=100 conv=notrunc 2>/dev/null"));
	EXPECT_EQ(1, pull(self, "oci:" TOP "/bad:v1", "", ""));
	EXPECT_TRUE(pu_file_has(self->err, "does not match its digest"));
	EXPECT_FALSE(mounted_under(self->bundle));
}

/* A copy of the layout dst as @dir, its heads rewritten as @mode. */
static int rehead(const char *dir, const char *mode)
{
	return iu_sh("rm -rf %1$s && cp -a " TOP "/dst %1$s && "
		     "python3 %2$s/rehead_layout.py %1$s v1 %3$s", dir,
		     tests_dir(), mode);
}

TEST_F(oci, an_image_with_uncompressed_heads_still_pulls)
{
	char msg[256];

	/* as convert stored heads before it compressed them */
	ASSERT_EQ(0, rehead(TOP "/plain", "plain"));
	ASSERT_EQ(0, pull(self, "oci:" TOP "/plain:v1", "", ""));
	snprintf(msg, sizeof(msg), "%s/rootfs/data/msg", self->bundle);
	EXPECT_TRUE(pu_file_has(msg, MSG));
	EXPECT_EQ(0, iu_sh("incrfs-image umount %s", self->bundle));
	EXPECT_FALSE(mounted_under(self->bundle));
}

TEST_F(oci, a_head_that_is_not_zstd_is_refused)
{
	/* right digest, wrong content: only the expansion can tell */
	ASSERT_EQ(0, rehead(TOP "/garbage", "garbage"));
	EXPECT_EQ(1, pull(self, "oci:" TOP "/garbage:v1", "", ""));
	EXPECT_TRUE(pu_file_has(self->err, "is not zstd"));
	EXPECT_FALSE(mounted_under(self->bundle));
}

TEST_F(oci, a_head_that_expands_too_far_is_refused)
{
	struct stat st;
	char img[256];

	/* ~100 bytes that would be 3 MiB, less than the image: stopped at
	 * 32 times + 1 MiB */
	ASSERT_EQ(0, rehead(TOP "/bomb", "bomb"));
	EXPECT_EQ(1, pull(self, "oci:" TOP "/bomb:v1", "", ""));
	EXPECT_TRUE(pu_file_has(self->err, "expands past"));
	EXPECT_FALSE(mounted_under(self->bundle));
	/* and what was written of it is gone */
	snprintf(img, sizeof(img), "%s/layers/0/image", self->bundle);
	EXPECT_NE(0, stat(img, &st));
}

TEST_F(oci, an_image_not_converted_is_refused)
{
	EXPECT_EQ(1, pull(self, "oci:" TOP "/src:app", "", ""));
	EXPECT_TRUE(pu_file_has(self->err, "incrfs-image convert"));
	EXPECT_FALSE(mounted_under(self->bundle));
}

TEST_F(oci, convert_is_deterministic_and_checks_the_platform)
{
	char a[72], b[72];

	ASSERT_EQ(0, iu_sh("rm -rf " TOP "/dst2 && incrfs-image convert -q "
			   "--json " TOP "/src:app " TOP "/dst2:v1 > " TOP
			   "/convert2.json"));
	ASSERT_EQ(0, manifest_digest(TOP "/convert.json", a));
	ASSERT_EQ(0, manifest_digest(TOP "/convert2.json", b));
	EXPECT_STREQ(a, b);
	EXPECT_EQ(1, iu_sh("incrfs-image convert -q --platform linux/arm64 "
			   TOP "/src:app " TOP "/dst3 2> %s", self->err));
	EXPECT_TRUE(pu_file_has(self->err, "not linux/arm64"));
	EXPECT_NE(0, access(TOP "/dst3", F_OK));
}

/* Last: from here on the image has a profile, which every pull uses. */
TEST_F(oci, a_recorded_profile_is_used_by_the_next_pull)
{
	char again[64];

	if (!crun_can_run())
		SKIP(return, NO_CRUN);
	ASSERT_EQ(0, write_auth(AUTH_OK));
	ASSERT_EQ(0, pull(self, REF, "--record-profile --ca-file " CA, ""));
	ASSERT_EQ(0, crun(self));
	ASSERT_EQ(0, iu_sh("incrfs-image profile --ca-file " CA " %s docker://"
			   HOSTP "/" REPO " 2> %s", self->bundle, self->err));
	EXPECT_TRUE(pu_file_has(self->err, ".incrfs-profile"));
	ASSERT_EQ(0, iu_sh("incrfs-image umount -q %s", self->bundle));
	/* a new pull, elsewhere: the profile comes with the image */
	snprintf(again, sizeof(again), "%.50s-again", self->bundle);
	snprintf(self->bundle, sizeof(self->bundle), "%s", again);
	ASSERT_EQ(0, pull(self, REF, "--ca-file " CA, ""));
	EXPECT_TRUE(pu_file_has(self->err, "with its access profile"));
	EXPECT_TRUE(pu_file_has(self->out, "\"profile\":true"));
	ASSERT_EQ(0, crun(self));
	EXPECT_TRUE(pu_file_has(self->run, MSG));
	EXPECT_EQ(0, iu_sh("incrfs-image umount %s", self->bundle));
	/* without it on request */
	snprintf(self->bundle, sizeof(self->bundle), "%.50s-none", again);
	ASSERT_EQ(0, pull(self, REF, "--no-profile --ca-file " CA, ""));
	EXPECT_FALSE(pu_file_has(self->out, "\"profile\":true"));
}

TEST_HARNESS_MAIN
