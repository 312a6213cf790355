// SPDX-License-Identifier: GPL-2.0-only
/*
 * curl_lib.c - load libcurl at run time, for HTTP sources only (see
 * curl_lib.h for why).  dlopen() of the library's soname, every function
 * looked up once, curl_global_init() called once; the result is shared
 * by every source of the process.
 */
#include "curl_lib.h"
#include "version.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#define CURL_SONAME	"libcurl.so.4"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static struct curl_lib curl_fns;
static const struct curl_lib *curl_loaded;
static char curl_why[256];
static const char *curl_ca_file;

static void *curl_sym(void *h, const char *name, int *missing)
{
	void *p = dlsym(h, name);

	if (!p && !*missing) {
		snprintf(curl_why, sizeof(curl_why), "%s has no %s",
			 CURL_SONAME, name);
		*missing = 1;
	}
	return p;
}

static void curl_load(void)
{
	CURLcode (*global_init)(long flags);
	int missing = 0;
	CURLcode cc;
	void *h;

	h = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(curl_why, sizeof(curl_why),
			 "HTTP sources need libcurl (Debian: libcurl4): %s",
			 dlerror());
		return;
	}
	/* POSIX: a function pointer may be set from dlsym()'s void * */
	*(void **)&global_init = curl_sym(h, "curl_global_init", &missing);
#define CURL_FN(f) (*(void **)&curl_fns.f = curl_sym(h, "curl_" #f, &missing))
	CURL_FN(easy_init);
	CURL_FN(easy_setopt);
	CURL_FN(easy_perform);
	CURL_FN(easy_getinfo);
	CURL_FN(easy_strerror);
	CURL_FN(easy_cleanup);
	CURL_FN(easy_escape);
	CURL_FN(free);
	CURL_FN(slist_append);
	CURL_FN(slist_free_all);
#undef CURL_FN
	if (missing)
		return;		/* h stays open: harmless, once per process */
	cc = global_init(CURL_GLOBAL_DEFAULT);
	if (cc != CURLE_OK) {
		snprintf(curl_why, sizeof(curl_why), "curl_global_init: %s",
			 curl_fns.easy_strerror(cc));
		return;
	}
	curl_loaded = &curl_fns;
}

const struct curl_lib *curl_lib_get(char *err, size_t err_len)
{
	pthread_once(&curl_once, curl_load);
	if (!curl_loaded)
		snprintf(err, err_len, "%s", curl_why);
	return curl_loaded;
}

void curl_lib_set_ca_file(const char *ca_file)
{
	curl_ca_file = ca_file;
}

void curl_lib_setup(const struct curl_lib *cu, CURL *c)
{
	cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(c, CURLOPT_USERAGENT, "incrfs/" INCRFS_VERSION);
	if (curl_ca_file)
		cu->easy_setopt(c, CURLOPT_CAINFO, curl_ca_file);
}
