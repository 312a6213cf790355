// SPDX-License-Identifier: GPL-2.0-only
/*
 * privileges.c - give up capabilities (libcap-ng) and gain no new ones.
 *
 * Why this exists: incrfsd needs CAP_SYS_ADMIN once, to open a mount's
 * control channel; everything after that (HTTP answers, tokens, zstd
 * frames from the network) needs no privilege at all, and FILL through
 * the control fd is checked by the kernel against the image's hashes,
 * not against the caller's capabilities.
 */
#include "privileges.h"

#include <cap-ng.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

int incrfsd_drop_privileges(char *why, size_t why_len)
{
	capng_select_t set = CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT;

	if (capng_get_caps_process()) {
		snprintf(why, why_len, "cannot read the capabilities");
		return -1;
	}
	/* the bounding set can only shrink with CAP_SETPCAP */
	if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP))
		set = CAPNG_SELECT_ALL;
	capng_clear(set);
	if (capng_apply(set)) {
		snprintf(why, why_len, "cannot drop the capabilities: %s",
			 strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(why, why_len, "PR_SET_NO_NEW_PRIVS: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}
