// SPDX-License-Identifier: GPL-2.0-only
/*
 * seccomp.c - incrfsd's seccomp filter (libseccomp): everything allowed
 * but a list of calls a feeder has no use for.
 *
 * A deny list, not an allow list: incrfsd runs libcurl, a TLS library and
 * the C library's resolver, whose system calls change from one Debian
 * release to the next; a call missing from an allow list would kill the
 * feeder of a mount in production.  The calls denied are those that turn
 * a memory-safety bug into more than a wrong answer from this process.
 */
#include "seccomp.h"

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <seccomp.h>

#include "log.h"
#include "privileges.h"

static const char *const denied[] = {
	/* run or inspect other programs */
	"execve", "execveat", "ptrace", "process_vm_readv",
	"process_vm_writev", "pidfd_getfd", "kcmp",
	/* namespaces and mounts */
	"unshare", "setns", "mount", "umount2", "pivot_root", "chroot",
	"open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick",
	"mount_setattr", "name_to_handle_at", "open_by_handle_at",
	/* kernel interfaces open to unprivileged code */
	"bpf", "userfaultfd", "perf_event_open", "keyctl", "add_key",
	"request_key", "personality", "io_pgetevents", "modify_ldt",
	/* what needs privileges anyway: refused before the kernel looks */
	"init_module", "finit_module", "delete_module", "kexec_load",
	"kexec_file_load", "reboot", "swapon", "swapoff", "acct", "quotactl",
	"iopl", "ioperm", "settimeofday", "clock_settime", "clock_adjtime",
	"adjtimex", "sethostname", "setdomainname", "syslog", "vhangup",
};

/* clone() flags that make a namespace */
static const unsigned long new_ns[] = {
	CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
	CLONE_NEWNET, CLONE_NEWCGROUP,
};

/* Does the kernel filter system calls at all ("Seccomp:" in status)? */
static bool kernel_has_seccomp(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	bool yes = false;

	if (!f)
		return true;	/* cannot tell: say what failed */
	while (!yes && fgets(line, sizeof(line), f))
		yes = !strncmp(line, "Seccomp:", 8);
	fclose(f);
	return yes;
}

int incrfsd_seccomp(char *why, size_t why_len)
{
	const char *what = "seccomp_init";
	scmp_filter_ctx ctx;
	size_t i;
	int nr, ret = -ENOMEM;

	if (!kernel_has_seccomp()) {
		snprintf(why, why_len,
			 "no seccomp filter: this kernel has no CONFIG_SECCOMP");
		return 1;
	}
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		goto fail;
	what = "seccomp_attr_set";
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (ret)
		goto fail;
	what = "seccomp_rule_add";
	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		nr = seccomp_syscall_resolve_name(denied[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;	/* not on this architecture */
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (ret)
			goto fail;
	}
	for (i = 0; i < sizeof(new_ns) / sizeof(new_ns[0]); i++) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
				       SCMP_SYS(clone), 1,
				       SCMP_A0(SCMP_CMP_MASKED_EQ, new_ns[i],
					       new_ns[i]));
		if (ret)
			goto fail;
	}
	/* clone3's flags are behind a pointer: ENOSYS makes glibc use clone */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3),
			       0);
	if (ret)
		goto fail;
	what = "seccomp_load";
	ret = seccomp_load(ctx);
	if (ret)
		goto fail;
	seccomp_release(ctx);
	return 0;
fail:
	snprintf(why, why_len, "no seccomp filter (%s: %s)", what,
		 strerror(ret < 0 ? -ret : ENOMEM));
	if (ctx)
		seccomp_release(ctx);
	return -1;
}

void incrfsd_confine(void)
{
	char why[128];
	int ret;

	if (incrfsd_drop_privileges(why, sizeof(why)))
		log_warn("%s; serving with them", why);
	ret = incrfsd_seccomp(why, sizeof(why));
	if (ret < 0)
		log_warn("%s; serving without it", why);
	else if (ret > 0)
		log_info("%s", why);
}
