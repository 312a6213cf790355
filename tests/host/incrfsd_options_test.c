// SPDX-License-Identifier: GPL-2.0-only
/*
 * incrfsd_options_test.c - incrfsd's command line (tools/incrfsd/
 * options.c): defaults, every option in its long and short form, every
 * usage error with its message, and a --help that documents every option,
 * the exit codes and the signals.
 *
 * Built alone by tests/run-host.sh, so it compiles the unit under test
 * itself.
 */
#include "tests/kselftest/harness.h"

#include "tools/incrfsd/options.c"

struct parsed {
	int ret;
	struct incrfsd_options o;
	char out[32768];
	char err[1024];
};

/* Parse a NULL-terminated argument list (argv[0] is added). */
static void parse(struct parsed *p, ...)
{
	char *argv[32] = { "incrfsd" };
	int argc = 1;
	FILE *out, *err;
	va_list ap;
	char *a;

	va_start(ap, p);
	while ((a = va_arg(ap, char *)) != NULL && argc < 31)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	memset(p, 0, sizeof(*p));
	out = fmemopen(p->out, sizeof(p->out) - 1, "w");
	err = fmemopen(p->err, sizeof(p->err) - 1, "w");
	p->ret = incrfsd_parse_options(&p->o, argc, argv, out, err);
	fclose(out);
	fclose(err);
}

TEST(defaults)
{
	struct parsed p;

	parse(&p, "--source", "/b/blob", "/mnt", NULL);
	ASSERT_EQ(0, p.ret);
	ASSERT_STREQ("/b/blob", p.o.source);
	ASSERT_STREQ("/mnt", p.o.mountpoint);
	ASSERT_EQ(INCRFSD_DEFAULT_READAHEAD, p.o.readahead);
	ASSERT_EQ(4, p.o.readahead);
	ASSERT_EQ(0, p.o.depth);	/* the source kind's default */
	ASSERT_EQ(INCRFSD_AMPLIFY_DEFAULT, p.o.amplify);
	ASSERT_EQ(PREFETCH_NONE, p.o.prefetch);
	ASSERT_EQ(MAPPED_DEFAULT, p.o.mapped);	/* the source kind's */
	ASSERT_NULL(p.o.profile);
	ASSERT_FALSE(p.o.exit_when_complete);
	ASSERT_FALSE(p.o.sync);
	ASSERT_EQ(0, p.o.verbose);
	ASSERT_STREQ("", p.err);
}

TEST(long_options)
{
	struct parsed p;

	parse(&p, "/mnt", "--source=file:///b", "--readahead", "0",
	      "--prefetch", "all", "--exit-when-complete", "--depth=256",
	      "--sync", "--verbose", "--verbose",
	      "--prefetch-profile", "app.profile", "--amplify=1M",
	      "--ca-file", "ca.pem", "--insecure-registry", "r:5000",
	      "--insecure-registry=10.0.0.1", "--registry-mirror", "m1:5000",
	      "-M", "m2", "--stats-file", "s.json", "--mapped", "faulted",
	      NULL);
	ASSERT_EQ(0, p.ret);
	ASSERT_EQ(MAPPED_FAULTED, p.o.mapped);
	ASSERT_STREQ("s.json", p.o.stats_file);
	ASSERT_EQ(2, p.o.n_mirrors);
	ASSERT_STREQ("m1:5000", p.o.mirrors[0]);
	ASSERT_STREQ("m2", p.o.mirrors[1]);
	ASSERT_STREQ("ca.pem", p.o.ca_file);
	ASSERT_EQ(2, p.o.n_insecure);
	ASSERT_STREQ("r:5000", p.o.insecure[0]);
	ASSERT_STREQ("10.0.0.1", p.o.insecure[1]);
	ASSERT_EQ(1 << 20, p.o.amplify);
	ASSERT_STREQ("app.profile", p.o.profile);
	ASSERT_STREQ("file:///b", p.o.source);
	ASSERT_STREQ("/mnt", p.o.mountpoint);
	ASSERT_EQ(0, p.o.readahead);
	ASSERT_EQ(PREFETCH_ALL, p.o.prefetch);
	ASSERT_TRUE(p.o.exit_when_complete);
	ASSERT_EQ(256, p.o.depth);
	ASSERT_TRUE(p.o.sync);
	ASSERT_EQ(2, p.o.verbose);
}

TEST(short_options)
{
	struct parsed p;

	parse(&p, "-s", "blob", "-r", "4096", "-p", "all", "-p", "none",
	      "-x", "-d", "1", "-S", "-vvv", "-P", "p", "-A", "0", "-C", "c",
	      "-I", "h", "-T", "t", "-m", "whole", "m", NULL);
	ASSERT_EQ(0, p.ret);
	ASSERT_EQ(MAPPED_WHOLE, p.o.mapped);
	ASSERT_STREQ("t", p.o.stats_file);
	ASSERT_STREQ("c", p.o.ca_file);
	ASSERT_EQ(1, p.o.n_insecure);
	ASSERT_STREQ("h", p.o.insecure[0]);
	ASSERT_EQ(0, p.o.amplify);
	ASSERT_STREQ("p", p.o.profile);
	ASSERT_STREQ("blob", p.o.source);
	ASSERT_STREQ("m", p.o.mountpoint);
	ASSERT_EQ(4096, p.o.readahead);
	ASSERT_EQ(PREFETCH_NONE, p.o.prefetch);	/* the last one counts */
	ASSERT_TRUE(p.o.exit_when_complete);
	ASSERT_EQ(1, p.o.depth);
	ASSERT_TRUE(p.o.sync);
	ASSERT_EQ(3, p.o.verbose);
}

/* Each of these is a usage error whose message names the problem. */
TEST(usage_errors)
{
	static const struct {
		const char *args[6];
		const char *msg;
	} cases[] = {
		{ { "/mnt" }, "--source BLOB is required" },
		{ { "-s", "b" }, "missing MOUNTPOINT" },
		{ { "-s", "b", "m1", "m2" }, "unexpected argument 'm2'" },
		{ { "-s", "", "m" }, "--source needs a blob" },
		{ { "-s", "b", "-r", "-1", "m" }, "--readahead: '-1'" },
		{ { "-s", "b", "-r", "4097", "m" }, "--readahead: '4097'" },
		{ { "-s", "b", "-r", "4x", "m" }, "--readahead: '4x'" },
		{ { "-s", "b", "-r", "", "m" }, "--readahead: ''" },
		{ { "-s", "b", "-r", "+3", "m" }, "--readahead: '+3'" },
		{ { "-s", "b", "-d", "0", "m" }, "--depth: '0'" },
		{ { "-s", "b", "-d", "257", "m" }, "--depth: '257'" },
		{ { "-s", "b", "-d", "99999999999999999999", "m" },
		  "--depth: '99999999999999999999'" },
		{ { "-s", "b", "-A", "65M", "m" }, "--amplify: '65M'" },
		{ { "-s", "b", "--mapped", "all", "m" },
		  "--mapped: 'all' is not 'whole' or 'faulted'" },
		{ { "-s", "b", "-A", "1G", "m" }, "--amplify: '1G'" },
		{ { "-s", "b", "-A", "-1", "m" }, "--amplify: '-1'" },
		{ { "-s", "b", "-A", "99999999999999999K", "m" },
		  "--amplify: '99999999999999999K'" },
		{ { "-s", "b", "--prefetch", "some", "m" },
		  "--prefetch: 'some' is not 'none' or 'all'" },
		{ { "-s", "b", "--bogus", "m" }, "unknown option '--bogus'" },
		{ { "-s", "b", "--prefetch-profile", "", "m" },
		  "--prefetch-profile needs a file" },
		{ { "m", "-s", "b", "-P" }, "option '-P' needs an argument" },
		{ { "-s", "b", "-z", "m" }, "unknown option '-z'" },
		{ { "m", "--source" }, "option '--source' needs an argument" },
		{ { "m", "-s", "b", "-r" }, "option '-r' needs an argument" },
		{ { "-s", "b", "--ca-file", "", "m" }, "--ca-file needs a file" },
		{ { "-s", "b", "-I", "h/x", "m" },
		  "--insecure-registry: 'h/x' is not HOST[:PORT]" },
		{ { "-s", "b", "-I", "", "m" },
		  "--insecure-registry: '' is not HOST[:PORT]" },
		{ { "-s", "b", "-M", "https://m", "m" },
		  "--registry-mirror: 'https://m' is not HOST[:PORT]" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const *a = cases[i].args;
		struct parsed p;

		parse(&p, a[0], a[1], a[2], a[3], a[4], a[5], NULL);
		EXPECT_EQ(-1, p.ret) TH_LOG("case %zu", i);
		EXPECT_NOT_NULL(strstr(p.err, cases[i].msg))
			TH_LOG("case %zu: wanted '%s' in: %s", i, cases[i].msg,
			       p.err);
		EXPECT_EQ(0, strncmp(p.err, "incrfsd: ", 9));
		EXPECT_NOT_NULL(strstr(p.err, "Try 'incrfsd --help'"));
		EXPECT_STREQ("", p.out);
	}
}

TEST(seventeen_insecure_registries_are_too_many)
{
	const char *argv[40] = { "incrfsd", "-s", "b" };
	char *out = NULL, *err = NULL;
	size_t outlen, errlen;
	struct incrfsd_options o;
	FILE *fo = open_memstream(&out, &outlen);
	FILE *fe = open_memstream(&err, &errlen);
	int argc = 3, i;

	for (i = 0; i <= INCRFSD_MAX_INSECURE; i++) {
		argv[argc++] = "-I";
		argv[argc++] = "h";
	}
	argv[argc++] = "m";
	ASSERT_EQ(-1, incrfsd_parse_options(&o, argc, (char *const *)argv,
					    fo, fe));
	fclose(fo);
	fclose(fe);
	EXPECT_NOT_NULL(strstr(err, "--insecure-registry: more than 16"))
		TH_LOG("%s", err);
	free(out);
	free(err);
}

TEST(node_mode)
{
	struct parsed p;

	parse(&p, "--node", NULL);
	ASSERT_EQ(0, p.ret) TH_LOG("%s", p.err);
	EXPECT_TRUE(p.o.node);
	EXPECT_STREQ(INCRFS_NODE_SOCKET, p.o.socket);
	EXPECT_STREQ("/run/incrfsd", p.o.state_dir);
	EXPECT_EQ(1ULL << 30, p.o.memory_max);
	EXPECT_NULL(p.o.source);
	EXPECT_NULL(p.o.mountpoint);
	EXPECT_NULL(p.o.mount_opt);
	parse(&p, "--node", "--socket=/s", "--state-dir", "/st",
	      "--memory-max", "2G", "-v", "--ca-file", "c.pem",
	      "--registry-mirror", "m:5000", NULL);
	ASSERT_EQ(0, p.ret) TH_LOG("%s", p.err);
	EXPECT_STREQ("/s", p.o.socket);
	EXPECT_STREQ("/st", p.o.state_dir);
	EXPECT_EQ(2ULL << 30, p.o.memory_max);
	EXPECT_EQ(1, p.o.verbose);
	EXPECT_STREQ("node", p.o.node_opt);	/* the first, by long name */
	/* a mount's options tell the node's apart (incrfsctl attach) */
	parse(&p, "--source", "b", "-r", "2", "--ca-file", "c", "/m", NULL);
	ASSERT_EQ(0, p.ret);
	EXPECT_STREQ("source", p.o.mount_opt);
	EXPECT_STREQ("ca-file", p.o.node_opt);
}

TEST(node_mode_usage_errors)
{
	static const struct { const char *a[4]; const char *msg; } cases[] = {
		{ { "--node", "--readahead", "3" },
		  "--readahead is an option of one mount: with --node, give it to incrfsctl attach" },
		{ { "--node", "--source", "b" }, "--source is an option of one mount" },
		{ { "--node", "/mnt" }, "unexpected argument '/mnt': with --node" },
		{ { "--socket", "/s", "-s", "b" }, "--socket needs --node" },
		{ { "--memory-max", "1G", "-s", "b" }, "--memory-max needs --node" },
		{ { "--node", "--memory-max", "0" }, "--memory-max: '0' is not a size above 0" },
		{ { "--node", "--memory-max", "lots" }, "--memory-max: 'lots'" },
		{ { "--node", "--socket=" }, "--socket needs a path" },
		{ { "--node", "--state-dir=" }, "--state-dir needs a directory" },
	};
	struct parsed p;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse(&p, cases[i].a[0], cases[i].a[1], cases[i].a[2],
		      cases[i].a[3], NULL);
		EXPECT_EQ(-1, p.ret) TH_LOG("case %zu", i);
		EXPECT_NOT_NULL(strstr(p.err, cases[i].msg))
			TH_LOG("case %zu: %s", i, p.err);
	}
}

TEST(help_is_a_manual_page)
{
	static const char *const needles[] = {
		"NAME\n", "SYNOPSIS\n", "DESCRIPTION\n", "OPTIONS\n",
		"SIGNALS\n", "EXIT STATUS\n", "EXAMPLES\n", "SEE ALSO\n",
		"incrfsd [OPTIONS] --source BLOB MOUNTPOINT",
		"-s, --source BLOB", "-r, --readahead N", "-p, --prefetch MODE",
		"-x, --exit-when-complete", "-P, --prefetch-profile FILE",
		"incrfsctl profile record", "access_log", "-d, --depth N", "-A, --amplify SIZE", "-S, --sync",
		"-m, --mapped MODE",
		"-v, --verbose", "-h, --help", "-V, --version", "SIGTERM", "SIGKILL",
		"-M, --registry-mirror HOST[:PORT]", "-T, --stats-file FILE",
		"CAP_SYS_ADMIN", "root hash", "io_uring", "zstd",
		"    0   ", "    1   ", "    2   ", "    3   ",
		"NODE MODE\n", "incrfsd --node", "--socket PATH",
		"--state-dir DIR", "--memory-max SIZE", "incrfsctl attach",
		"FDSTORE=1", "mounts.json",
	};
	struct parsed p;
	size_t i;

	parse(&p, "--help", NULL);
	ASSERT_EQ(1, p.ret);
	ASSERT_STREQ("", p.err);
	for (i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
		EXPECT_NOT_NULL(strstr(p.out, needles[i]))
			TH_LOG("--help lacks '%s'", needles[i]);
	/* --version: one line, the release, without the required arguments */
	parse(&p, "--version", NULL);
	ASSERT_EQ(1, p.ret);
	EXPECT_EQ(0, strncmp(p.out, "incrfsd ", 8)) TH_LOG("%s", p.out);
	EXPECT_NOT_NULL(strstr(p.out, " (incrfs)\n"));
	/* -h wins even without the required arguments */
	parse(&p, "-h", NULL);
	ASSERT_EQ(1, p.ret);
	ASSERT_NOT_NULL(strstr(p.out, "SYNOPSIS"));
	/* lines fit an 80-column terminal */
	for (char *l = p.out, *e; *l; l = e + 1) {
		e = strchr(l, '\n');
		ASSERT_NOT_NULL(e);
		EXPECT_LE(e - l, 79) TH_LOG("long line: %.*s", (int)(e - l), l);
	}
}

TEST_HARNESS_MAIN
