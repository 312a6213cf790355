/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * curl_lib.h - libcurl, loaded when the first HTTP source is opened.
 *
 * Why this exists: libcurl brings some thirty shared libraries (TLS, SSH,
 * LDAP, Kerberos...) whose loading and relocation were most of incrfsd's
 * start-up time, and a feeder is started for every lazily mounted layer,
 * most of them served from a local file.  Only an http://, https:// or
 * registry:// source pays for libcurl now.  The types come from
 * <curl/curl.h> as before; the calls go through struct curl_lib.
 */
#ifndef INCRFS_CURL_LIB_H
#define INCRFS_CURL_LIB_H

#include <curl/curl.h>
#include <stddef.h>

/* The libcurl functions incrfs's tools call, with libcurl's own signatures. */
struct curl_lib {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
	CURLcode (*easy_perform)(CURL *curl);
	CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode code);
	void (*easy_cleanup)(CURL *curl);
	char *(*easy_escape)(CURL *curl, const char *string, int length);
	void (*free)(void *p);
	struct curl_slist *(*slist_append)(struct curl_slist *l,
					   const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/*
 * libcurl loaded and curl_global_init() done, once per process; NULL
 * (and why in @err) if libcurl.so.4 cannot be loaded or initialised.
 */
const struct curl_lib *curl_lib_get(char *err, size_t err_len);

/*
 * Trust the CAs of the PEM file @ca_file instead of the system's store
 * (--ca-file), for every handle curl_lib_setup() sets up from now
 * on; NULL: the system's.  Set once, before the first source opens.
 */
void curl_lib_set_ca_file(const char *ca_file);

/*
 * What every handle gets, whatever it fetches: no signals (threads), the
 * User-Agent "incrfs/VERSION", the CA file.
 */
void curl_lib_setup(const struct curl_lib *cu, CURL *c);

#endif
