/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * harness.h - a small kselftest-style test harness printing TAP 13.
 *
 * Why this exists: every incrfs test, in the QEMU guest (statically linked)
 * and on the host (under ASan/UBSan), is written against one harness, so
 * the runners only ever parse one output format.  It is our own code, in
 * the spirit of the kernel's tools/testing/selftests/kselftest_harness.h.
 *
 * A test file looks like this:
 *
 *	#include "tests/kselftest/harness.h"
 *
 *	TEST(addition) { ASSERT_EQ(2, 1 + 1); }
 *
 *	FIXTURE(tmpfile) { int fd; };
 *	FIXTURE_SETUP(tmpfile)
 *	{
 *		self->fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
 *		ASSERT_GE(self->fd, 0);
 *	}
 *	FIXTURE_TEARDOWN(tmpfile) { if (self->fd > 0) close(self->fd); }
 *	TEST_F(tmpfile, write_one) { ASSERT_EQ(1, write(self->fd, "x", 1)); }
 *
 *	TEST_TIMEOUT(slow_thing, 300) { ... }	// default: 120 s
 *
 *	TEST_HARNESS_MAIN
 *
 * Semantics:
 * - Tests run in definition order, each in its own forked child (and own
 *   process group), so a crash, a failed ASSERT or a hang fails only that
 *   test.  A test still running at its timeout gets its process group
 *   SIGKILLed and is "not ok".  Whatever the test left running in its
 *   process group is killed when it ends.
 * - ASSERT_* fail the test and stop it at once (also from helper functions:
 *   they only need `_metadata` in scope, i.e. take `struct th_test
 *   *_metadata` as a parameter).  EXPECT_* fail the test and carry on.
 *   A statement may follow an assertion; it runs only when it fails:
 *	ASSERT_EQ(0, ret) TH_LOG("mount: %s", strerror(errno));
 * - Comparisons are value-correct across signedness (-1 < 0u is true), so
 *   ASSERT_EQ(n, write(...)) needs no casts.  Pointers compare as
 *   addresses.  Each operand is evaluated once.
 * - SKIP(statement, fmt, ...) marks the test skipped with a reason, then
 *   runs statement (usually `return`).  A skipped test that also failed an
 *   EXPECT is "not ok".
 * - FIXTURE_SETUP and FIXTURE_TEARDOWN are both required.  `self` starts
 *   zeroed; teardown always runs, even after a failed setup, so it must
 *   cope with a half-built fixture.  A setup that fails or skips skips
 *   the test body.
 * - Output: "TAP version 13", "1..N", "# RUN name", diagnostics as "# ...",
 *   "ok N name", "not ok N name", "ok N name # SKIP reason", and finally
 *   "# totals: pass:X fail:Y skip:Z".  A heartbeat diagnostic is printed
 *   every TH_HEARTBEAT seconds while a test runs, so a runner can tell a
 *   long test from a dead machine.  Exit status 1 if any test failed.
 * - Command line: -l lists tests, -t NAME (repeatable) runs only NAME,
 *   -h prints usage.
 *
 * Everything is static (header-only); include it from one .c file.
 */
#ifndef INCRFS_TEST_HARNESS_H
#define INCRFS_TEST_HARNESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef TH_DEFAULT_TIMEOUT
#define TH_DEFAULT_TIMEOUT 120	/* seconds per test */
#endif
#ifndef TH_HEARTBEAT
#define TH_HEARTBEAT 30		/* seconds between "still running" */
#endif
#define TH_REASON_MAX 256

#define TH_FN static __attribute__((unused))
/* Test parameters a test body may well not use. */
#define TH_UNUSED __attribute__((unused))

/* What a test's child reports to the parent: lives in a MAP_SHARED page. */
struct th_result {
	int failed;		/* an ASSERT or EXPECT failed */
	int skipped;		/* SKIP() was called */
	char reason[TH_REASON_MAX];
};

/* One registered test.  Tests take a pointer to it named _metadata. */
struct th_test {
	const char *name;
	void (*fn)(struct th_test *t);
	unsigned int timeout;		/* seconds */
	struct th_test *next;
	/* Child-side state, valid while the test runs. */
	struct th_result *res;
	int trigger;		/* a check failed: run its handler */
	jmp_buf env;			/* where a failed ASSERT jumps to */
};

static struct th_test *th_first, *th_last;

TH_FN void th_register(struct th_test *t)
{
	if (th_last)
		th_last->next = t;
	else
		th_first = t;
	th_last = t;
}

/* ---- declaring tests -------------------------------------------------- */

/* The parameters of generated functions; a test may use neither. */
#define TH_META struct th_test TH_UNUSED *_metadata
#define TH_SELF(f) FIXTURE_DATA(f) TH_UNUSED *self

#define TH_DECLARE(fn_name, test_name, secs)				\
	static void fn_name(TH_META);					\
	static struct th_test _th_reg_##fn_name = {			\
		.name = test_name, .fn = fn_name, .timeout = (secs),	\
	};								\
	static void __attribute__((constructor))			\
	_th_ctor_##fn_name(void) { th_register(&_th_reg_##fn_name); }

#define TEST(name) TEST_TIMEOUT(name, TH_DEFAULT_TIMEOUT)
#define TEST_TIMEOUT(name, secs)					\
	TH_DECLARE(_th_test_##name, #name, secs)			\
	static void _th_test_##name(TH_META)

/* FIXTURE(f) { members };  declares struct th_fixture_f. */
#define FIXTURE_DATA(f) struct th_fixture_##f
#define FIXTURE(f)							\
	FIXTURE_DATA(f);						\
	static void _th_setup_##f(TH_META, TH_SELF(f));			\
	static void _th_teardown_##f(TH_META, TH_SELF(f));		\
	FIXTURE_DATA(f)
#define FIXTURE_SETUP(f)						\
	static void _th_setup_##f(TH_META, TH_SELF(f))
#define FIXTURE_TEARDOWN(f)						\
	static void _th_teardown_##f(TH_META, TH_SELF(f))

#define TEST_F(f, name) TEST_F_TIMEOUT(f, name, TH_DEFAULT_TIMEOUT)
#define TEST_F_TIMEOUT(f, name, secs)					\
	static void _th_body_##f##_##name(TH_META, TH_SELF(f));		\
	TH_DECLARE(_th_fix_##f##_##name, #f "." #name, secs)		\
	static void _th_fix_##f##_##name(TH_META)			\
	{								\
		/* static: survives the longjmp of a failed ASSERT */	\
		static FIXTURE_DATA(f) self_data;			\
									\
		memset(&self_data, 0, sizeof(self_data));		\
		if (setjmp(_metadata->env) == 0) {			\
			_th_setup_##f(_metadata, &self_data);		\
			if (!_metadata->res->failed &&			\
			    !_metadata->res->skipped)			\
				_th_body_##f##_##name(_metadata,	\
						      &self_data);	\
		}							\
		if (setjmp(_metadata->env) == 0)			\
			_th_teardown_##f(_metadata, &self_data);	\
	}								\
	static void _th_body_##f##_##name(TH_META, TH_SELF(f))

#define TEST_HARNESS_MAIN						\
	int main(int argc, char **argv) { return th_main(argc, argv); }

/* ---- logging, skipping -------------------------------------------------- */

#define TH_LOG(fmt, ...)						\
	th_log(__FILE__, __LINE__, fmt, ##__VA_ARGS__)

TH_FN void __attribute__((format(printf, 3, 4)))
th_log(const char *file, int line, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	char *p, *nl;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Every line of a multi-line message stays a TAP diagnostic. */
	for (p = buf; p; p = nl) {
		nl = strchr(p, '\n');
		if (nl)
			*nl++ = '\0';
		if (nl && !*nl)
			nl = NULL;
		printf("# %s:%d: %s\n", file, line, p);
	}
	fflush(stdout);
}

#define SKIP(statement, fmt, ...) do {					\
	_metadata->res->skipped = 1;					\
	snprintf(_metadata->res->reason, TH_REASON_MAX,		\
		 fmt, ##__VA_ARGS__);					\
	th_log(__FILE__, __LINE__, "SKIP: %s", _metadata->res->reason); \
	statement;							\
} while (0)

/* ---- assertions --------------------------------------------------------- */

/*
 * Called after a failed check's optional handler statement ran.  EXPECT
 * returns 0 (ends the handler loop); ASSERT jumps out of the test.
 */
TH_FN int th_bail(struct th_test *t, int is_assert)
{
	if (is_assert) {
		fflush(stdout);
		longjmp(t->env, 1);
	}
	return 0;
}

/*
 * Every check is one `for` statement: its init runs the check (operands
 * evaluated once) and sets trigger on failure; its body is whatever follows
 * the macro (usually just `;`), run only on failure; then th_bail stops an
 * ASSERT.  Being a single statement, a check may be the unbraced body of an
 * if or a loop.
 */
#define TH_CHECK(failed_expr, is_assert)				\
	for (_metadata->trigger = (failed_expr); _metadata->trigger;	\
	     _metadata->trigger = th_bail(_metadata, is_assert))

/* Log a failed check and mark the test failed; returns 1 (failed). */
TH_FN int th_fail(struct th_test *t, const char *file, int line,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
TH_FN int th_fail(struct th_test *t, const char *file, int line,
		  const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	th_log(file, line, "%s", buf);
	t->res->failed = 1;
	return 1;
}

/* An integer or pointer operand: its bits and whether its type is signed. */
struct th_val {
	int is_signed;
	uintmax_t u;
};

#define TH_IS_SIGNED(x) _Generic((x),					\
	signed char: 1, short: 1, int: 1, long: 1, long long: 1,	\
	char: ((char)-1 < 0), default: 0)

/*
 * A floating operand does not compile: its cast to uintmax_t would drop
 * the fraction and make a negative value anything (-1.0 > 0 held).
 * Compare floating values with EXPECT_TRUE(a > b).
 */
#define TH_NOT_FLOAT(x) sizeof(struct {					\
	_Static_assert(!_Generic((x), float: 1, double: 1,		\
				 long double: 1, default: 0),		\
		       "harness comparisons take integers and pointers: " \
		       "use EXPECT_TRUE(a > b) for floating values");	\
	int th_unused;							\
})

/* _Generic does not evaluate x: x is evaluated once, by the cast. */
#define TH_VAL(x) ((struct th_val){ TH_IS_SIGNED(x) + 0 * TH_NOT_FLOAT(x), \
				    (uintmax_t)(x) })

enum th_op { TH_EQ, TH_NE, TH_LT, TH_LE, TH_GT, TH_GE };

/* Compares the mathematical values, whatever the two types are. */
TH_FN int th_compare(struct th_val a, enum th_op op, struct th_val b)
{
	intmax_t as = (intmax_t)a.u, bs = (intmax_t)b.u;
	int aneg = a.is_signed && as < 0, bneg = b.is_signed && bs < 0;
	int c;

	if (aneg != bneg)
		c = aneg ? -1 : 1;
	else if (aneg)
		c = (as > bs) - (as < bs);
	else
		c = (a.u > b.u) - (a.u < b.u);
	switch (op) {
	case TH_EQ: return c == 0;
	case TH_NE: return c != 0;
	case TH_LT: return c < 0;
	case TH_LE: return c <= 0;
	case TH_GT: return c > 0;
	default:    return c >= 0;
	}
}

TH_FN const char *th_fmt(struct th_val v, char *buf, size_t len)
{
	if (v.is_signed)
		snprintf(buf, len, "%" PRIdMAX, (intmax_t)v.u);
	else
		snprintf(buf, len, "%" PRIuMAX " (0x%" PRIxMAX ")", v.u, v.u);
	return buf;
}

TH_FN int th_cmp(struct th_test *t, const char *file, int line,
		 struct th_val a, const char *astr, enum th_op op,
		 const char *opstr, struct th_val b, const char *bstr)
{
	char x[64], y[64];

	if (th_compare(a, op, b))
		return 0;
	return th_fail(t, file, line, "expected %s %s %s: %s is %s, %s is %s",
		       astr, opstr, bstr, astr, th_fmt(a, x, sizeof(x)),
		       bstr, th_fmt(b, y, sizeof(y)));
}

TH_FN int th_bool(struct th_test *t, const char *file, int line,
		  int value, int want, const char *str)
{
	if (!value == !want)
		return 0;
	return th_fail(t, file, line, "expected %s to be %s", str,
		       want ? "true" : "false");
}

TH_FN int th_str(struct th_test *t, const char *file, int line,
		 const char *a, const char *astr, int want_eq,
		 const char *b, const char *bstr)
{
	if (a && b && !strcmp(a, b) == !!want_eq)
		return 0;
	return th_fail(t, file, line, "expected %s %s %s: \"%s\" vs \"%s\"",
		       astr, want_eq ? "==" : "!=", bstr,
		       a ? a : "(null)", b ? b : "(null)");
}

#define TH_CMP(a, op, opstr, b, is_assert)				\
	TH_CHECK(th_cmp(_metadata, __FILE__, __LINE__, TH_VAL(a), #a,	\
			op, opstr, TH_VAL(b), #b), is_assert)
#define TH_BOOL(cond, want, is_assert)					\
	TH_CHECK(th_bool(_metadata, __FILE__, __LINE__, !!(cond), want,	\
			 #cond), is_assert)
#define TH_STR(a, b, want_eq, is_assert)				\
	TH_CHECK(th_str(_metadata, __FILE__, __LINE__, (a), #a, want_eq, \
			(b), #b), is_assert)

#define ASSERT_EQ(a, b) TH_CMP(a, TH_EQ, "==", b, 1)
#define ASSERT_NE(a, b) TH_CMP(a, TH_NE, "!=", b, 1)
#define ASSERT_LT(a, b) TH_CMP(a, TH_LT, "<", b, 1)
#define ASSERT_LE(a, b) TH_CMP(a, TH_LE, "<=", b, 1)
#define ASSERT_GT(a, b) TH_CMP(a, TH_GT, ">", b, 1)
#define ASSERT_GE(a, b) TH_CMP(a, TH_GE, ">=", b, 1)
#define ASSERT_TRUE(c)  TH_BOOL(c, 1, 1)
#define ASSERT_FALSE(c) TH_BOOL(c, 0, 1)
#define ASSERT_NULL(p)  TH_BOOL((p) == NULL, 1, 1)
#define ASSERT_NOT_NULL(p) TH_BOOL((p) != NULL, 1, 1)
#define ASSERT_STREQ(a, b) TH_STR(a, b, 1, 1)
#define ASSERT_STRNE(a, b) TH_STR(a, b, 0, 1)

#define EXPECT_EQ(a, b) TH_CMP(a, TH_EQ, "==", b, 0)
#define EXPECT_NE(a, b) TH_CMP(a, TH_NE, "!=", b, 0)
#define EXPECT_LT(a, b) TH_CMP(a, TH_LT, "<", b, 0)
#define EXPECT_LE(a, b) TH_CMP(a, TH_LE, "<=", b, 0)
#define EXPECT_GT(a, b) TH_CMP(a, TH_GT, ">", b, 0)
#define EXPECT_GE(a, b) TH_CMP(a, TH_GE, ">=", b, 0)
#define EXPECT_TRUE(c)  TH_BOOL(c, 1, 0)
#define EXPECT_FALSE(c) TH_BOOL(c, 0, 0)
#define EXPECT_NULL(p)  TH_BOOL((p) == NULL, 1, 0)
#define EXPECT_NOT_NULL(p) TH_BOOL((p) != NULL, 1, 0)
#define EXPECT_STREQ(a, b) TH_STR(a, b, 1, 0)
#define EXPECT_STRNE(a, b) TH_STR(a, b, 0, 0)

/* ---- running ------------------------------------------------------------ */

static volatile sig_atomic_t th_alarm_fired;

TH_FN void th_on_alarm(int sig)
{
	(void)sig;
	th_alarm_fired = 1;
}

/* The child: run the test, report through the shared page, exit. */
TH_FN void th_child(struct th_test *t)
{
	setpgid(0, 0);
	signal(SIGALRM, SIG_DFL);
	if (setjmp(t->env) == 0)
		t->fn(t);
	fflush(stdout);
	fflush(stderr);
	exit(t->res->failed ? 1 : 0);
}

/*
 * Wait for the child for at most t->timeout seconds, printing a heartbeat
 * now and then.  Returns the wait status, or -1 on timeout (child killed).
 */
TH_FN int th_wait(struct th_test *t, pid_t pid)
{
	struct sigaction sa;
	time_t start = time(NULL);
	int status;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = th_on_alarm;	/* no SA_RESTART: EINTR */
	sigaction(SIGALRM, &sa, NULL);
	for (;;) {
		long left = (long)t->timeout - (long)(time(NULL) - start);

		if (left <= 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		th_alarm_fired = 0;
		alarm(left < TH_HEARTBEAT ? (unsigned int)left : TH_HEARTBEAT);
		if (waitpid(pid, &status, 0) == pid) {
			alarm(0);
			return status;
		}
		if (errno != EINTR) {
			perror("harness: waitpid");
			exit(2);
		}
		if (th_alarm_fired && time(NULL) - start < (time_t)t->timeout)
			printf("# %s: still running after %ld s\n", t->name,
			       (long)(time(NULL) - start));
		fflush(stdout);
	}
}

/* Run one test; print its TAP line; return 0 pass, 1 fail, 2 skip. */
TH_FN int th_run_one(struct th_test *t, int num)
{
	struct th_result *res;
	pid_t pid;
	int status, ret;

	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED) {
		perror("harness: mmap");
		exit(2);
	}
	memset(res, 0, sizeof(*res));
	t->res = res;
	printf("# RUN %s\n", t->name);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		perror("harness: fork");
		exit(2);
	}
	if (pid == 0)
		th_child(t);
	setpgid(pid, pid);	/* here too: no race with kill(-pid) */
	status = th_wait(t, pid);
	kill(-pid, SIGKILL);		/* whatever the test left behind */

	if (status == -1) {
		printf("# %s: timed out after %u s, killed\n", t->name,
		       t->timeout);
		res->failed = 1;
	} else if (WIFSIGNALED(status)) {
		printf("# %s: killed by signal %d (%s)\n", t->name,
		       WTERMSIG(status), strsignal(WTERMSIG(status)));
		res->failed = 1;
	} else if (WEXITSTATUS(status) != 0 && !res->failed) {
		printf("# %s: exited with status %d\n", t->name,
		       WEXITSTATUS(status));
		res->failed = 1;
	}
	if (res->failed) {
		printf("not ok %d %s\n", num, t->name);
		ret = 1;
	} else if (res->skipped) {
		printf("ok %d %s # SKIP %s\n", num, t->name, res->reason);
		ret = 2;
	} else {
		printf("ok %d %s\n", num, t->name);
		ret = 0;
	}
	fflush(stdout);
	munmap(res, sizeof(*res));
	t->res = NULL;
	return ret;
}

TH_FN int th_selected(const char *name, int nsel, char **sel)
{
	int i;

	if (nsel == 0)
		return 1;
	for (i = 0; i < nsel; i++)
		if (!strcmp(name, sel[i]))
			return 1;
	return 0;
}

TH_FN void th_usage(const char *prog)
{
	printf("usage: %s [-l] [-t NAME]...\n"
	       "Run the tests of this file and print TAP 13 on stdout.\n"
	       "  -l       list the test names and exit\n"
	       "  -t NAME  run only test NAME (fixture tests: FIXTURE.NAME);\n"
	       "           may be given more than once\n"
	       "  -h       this help\n"
	       "Exit status: 0 if no test failed, 1 if one did, 2 on usage "
	       "error.\n", prog);
}

TH_FN int th_main(int argc, char **argv)
{
	char **sel = calloc((size_t)argc + 1, sizeof(*sel));
	int nsel = 0, i, planned = 0, num = 0, pass = 0, fail = 0, skip = 0;
	struct th_test *t;

	if (!sel) {
		perror("harness: calloc");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-l")) {
			for (t = th_first; t; t = t->next)
				printf("%s\n", t->name);
			free(sel);
			return 0;
		} else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			sel[nsel++] = argv[++i];
		} else if (!strcmp(argv[i], "-h")) {
			th_usage(argv[0]);
			free(sel);
			return 0;
		} else {
			fprintf(stderr, "%s: unknown argument '%s'\n",
				argv[0], argv[i]);
			th_usage(argv[0]);
			free(sel);
			return 2;
		}
	}
	for (i = 0; i < nsel; i++) {
		for (t = th_first; t; t = t->next)
			if (!strcmp(t->name, sel[i]))
				break;
		if (!t) {
			fprintf(stderr, "%s: no test named '%s'\n", argv[0],
				sel[i]);
			free(sel);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (t = th_first; t; t = t->next)
		planned += th_selected(t->name, nsel, sel);
	printf("TAP version 13\n1..%d\n", planned);
	for (t = th_first; t; t = t->next) {
		if (!th_selected(t->name, nsel, sel))
			continue;
		switch (th_run_one(t, ++num)) {
		case 0: pass++; break;
		case 1: fail++; break;
		default: skip++; break;
		}
	}
	printf("# totals: pass:%d fail:%d skip:%d\n", pass, fail, skip);
	free(sel);
	return fail ? 1 : 0;
}

#endif /* INCRFS_TEST_HARNESS_H */
