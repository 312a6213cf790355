// SPDX-License-Identifier: GPL-2.0-only
/*
 * incrfsd_registry_auth_test.c - the parts of registry authentication
 * that need no server: which auth file and entry incrfsd takes for a
 * host, how it decodes them, what it says of a bad file, and how it reads
 * a WWW-Authenticate challenge.  The token exchange with a real registry
 * is tests/kselftest/registry_auth_test.c.
 *
 * Built alone by tests/run-host.sh, so it compiles the units under test.
 */
#include "tests/kselftest/harness.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "tools/incrfsd/log.c"
#include "tools/lib/curl_lib.c"
#include "tools/lib/registry_creds.c"
#include "tools/lib/registry_auth.c"

FIXTURE(files) {
	char dir[64];
};

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

FIXTURE_SETUP(files)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/incrfs-creds.%d",
		 getpid());
	ASSERT_EQ(0, mkdir(self->dir, 0700));
	unsetenv("CREDENTIALS_DIRECTORY");
	unsetenv("REGISTRY_AUTH_FILE");
	unsetenv("XDG_RUNTIME_DIR");
	setenv("HOME", self->dir, 1);	/* no .docker/config.json there */
}

FIXTURE_TEARDOWN(files)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	EXPECT_EQ(0, system(cmd));
}

TEST_F(files, entry_by_host_with_or_without_scheme)
{
	struct registry_creds c;
	char path[128], err[256] = "";

	snprintf(path, sizeof(path), "%s/auth.json", self->dir);
	/* "alice:pw:with:colons" and "bob:x" */
	put(path, "{\"auths\": {"
		  "\"other.example\": {\"auth\": \"Ym9iOng=\"},"
		  "\"https://reg.example:5000/v1/\": "
		  "{\"auth\": \"YWxpY2U6cHc6d2l0aDpjb2xvbnM=\"}}}");
	setenv("REGISTRY_AUTH_FILE", path, 1);
	ASSERT_EQ(1, registry_creds_find("reg.example:5000", &c, err,
					 sizeof(err))) TH_LOG("%s", err);
	EXPECT_STREQ("alice", c.user);
	EXPECT_STREQ("pw:with:colons", c.password);
	EXPECT_STREQ(path, c.file);
	registry_creds_clear(&c);
	EXPECT_EQ(NULL, c.user);
	ASSERT_EQ(1, registry_creds_find("other.example", &c, err,
					 sizeof(err)));
	EXPECT_STREQ("bob", c.user);
	EXPECT_STREQ("x", c.password);
	registry_creds_clear(&c);
	/* a prefix of a host is not the host */
	EXPECT_EQ(0, registry_creds_find("reg.example", &c, err,
					 sizeof(err)));
	EXPECT_EQ(0, registry_creds_find("other.example.org", &c, err,
					 sizeof(err)));
}

TEST_F(files, order_of_the_files_and_identity_token)
{
	struct registry_creds c;
	char a[128], b[128], err[256] = "";

	snprintf(a, sizeof(a), "%s/containers", self->dir);
	ASSERT_EQ(0, mkdir(a, 0700));
	snprintf(a, sizeof(a), "%s/containers/auth.json", self->dir);
	put(a, "{\"auths\": {\"r.example\": {\"identitytoken\": \"rt-1\"}}}");
	snprintf(b, sizeof(b), "%s/.docker", self->dir);
	ASSERT_EQ(0, mkdir(b, 0700));
	snprintf(b, sizeof(b), "%s/.docker/config.json", self->dir);
	put(b, "{\"auths\": {\"r.example\": {\"auth\": \"Ym9iOng=\"},"
	       "\"d.example\": {\"auth\": \"Ym9iOng=\"}}}");
	/* docker's file alone */
	ASSERT_EQ(1, registry_creds_find("r.example", &c, err, sizeof(err)));
	EXPECT_STREQ("bob", c.user);
	registry_creds_clear(&c);
	/* podman's comes first; a host only docker's has is still found */
	setenv("XDG_RUNTIME_DIR", self->dir, 1);
	ASSERT_EQ(1, registry_creds_find("r.example", &c, err, sizeof(err)));
	EXPECT_EQ(NULL, c.user);
	EXPECT_STREQ("rt-1", c.identity_token);
	EXPECT_STREQ(a, c.file);
	registry_creds_clear(&c);
	ASSERT_EQ(1, registry_creds_find("d.example", &c, err, sizeof(err)));
	EXPECT_STREQ(b, c.file);
	registry_creds_clear(&c);
	/* not found: the files looked at, for the message */
	EXPECT_EQ(0, registry_creds_find("x.example", &c, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(c.file, a));
	EXPECT_NE(NULL, strstr(c.file, b));
}

TEST_F(files, bad_files_are_errors_that_name_them)
{
	struct registry_creds c;
	char path[128], err[256] = "";

	snprintf(path, sizeof(path), "%s/auth.json", self->dir);
	setenv("REGISTRY_AUTH_FILE", path, 1);
	put(path, "{\"auths\": {");
	EXPECT_EQ(-1, registry_creds_find("r.example", &c, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "not valid JSON"));
	EXPECT_NE(NULL, strstr(err, path));
	/* base64 of "nocolon", and not base64 at all */
	put(path, "{\"auths\": {\"r.example\": {\"auth\": \"bm9jb2xvbg==\"}}}");
	EXPECT_EQ(-1, registry_creds_find("r.example", &c, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "not base64 of user:password"));
	EXPECT_EQ(NULL, strstr(err, "bm9jb2xvbg"));	/* no secret */
	put(path, "{\"auths\": {\"r.example\": {\"auth\": \"%%%%\"}}}");
	EXPECT_EQ(-1, registry_creds_find("r.example", &c, err, sizeof(err)));
	/* an entry with only a helper's name is no entry */
	put(path, "{\"auths\": {\"r.example\": {}}, \"credsStore\": \"x\"}");
	EXPECT_EQ(0, registry_creds_find("r.example", &c, err, sizeof(err)));
}

TEST(challenge_parsing)
{
	struct challenge ch;

	ASSERT_TRUE(parse_challenge("Bearer realm=\"https://auth.example/token\","
				    "service=\"registry.example\","
				    "scope=\"repository:a/b:pull\"", &ch));
	EXPECT_STREQ("Bearer", ch.scheme);
	EXPECT_STREQ("https://auth.example/token", ch.realm);
	EXPECT_STREQ("registry.example", ch.service);
	EXPECT_STREQ("repository:a/b:pull", ch.scope);
	/* unquoted values, spaces, unknown and escaped parameters */
	ASSERT_TRUE(parse_challenge("Bearer realm=https://a/t, error=\"x\\\"y\","
				    " service=s", &ch));
	EXPECT_STREQ("https://a/t", ch.realm);
	EXPECT_STREQ("s", ch.service);
	EXPECT_STREQ("", ch.scope);
	ASSERT_TRUE(parse_challenge("Basic realm=\"Registry Realm\"", &ch));
	EXPECT_STREQ("Basic", ch.scheme);
	/* malformed: no closing quote, a parameter without a value */
	EXPECT_FALSE(parse_challenge("Bearer realm=\"https://a", &ch));
	EXPECT_FALSE(parse_challenge("Bearer realm", &ch));
	EXPECT_FALSE(parse_challenge("", &ch));
}

TEST(tokens_must_be_header_values)
{
	char *t;

	t = token_of("{\"token\": \"abc.def.ghi\", \"expires_in\": 300}");
	EXPECT_STREQ("abc.def.ghi", t);
	free(t);
	t = token_of("{\"access_token\": \"xyz\"}");
	EXPECT_STREQ("xyz", t);
	free(t);
	EXPECT_EQ(NULL, token_of("{\"token\": \"a\\r\\nX-Evil: 1\"}"));
	EXPECT_EQ(NULL, token_of("{\"token\": \"\"}"));
	EXPECT_EQ(NULL, token_of("{\"token\": 5}"));
	EXPECT_EQ(NULL, token_of("not json"));
}

TEST_HARNESS_MAIN
