/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * version.h - the release every tool reports with --version, so that a
 * bug report names it; the build takes it from dkms.conf, where the
 * module's version is kept too (tools/Makefile).
 */
#ifndef INCRFS_VERSION_H
#define INCRFS_VERSION_H

#ifndef INCRFS_VERSION
#define INCRFS_VERSION "unknown"
#endif

/* "NAME VERSION (incrfs)" and a newline, as --version prints it. */
#define INCRFS_VERSION_LINE(name) name " " INCRFS_VERSION " (incrfs)\n"

#endif /* INCRFS_VERSION_H */
