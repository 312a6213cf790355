/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fd_io.h - whole reads and writes at an offset, through EINTR and short
 * transfers.
 *
 * Why this exists: the image reader, the writer and the tools that move
 * image heads all need exactly @len bytes or an error, never a short
 * count to check at every call.
 */
#ifndef INCRFS_FD_IO_H
#define INCRFS_FD_IO_H

#include <stddef.h>
#include <stdint.h>

/* pread(2) exactly @len bytes at @off: 0, -EIO on a short file, -errno. */
int incrfs_pread_full(int fd, void *buf, size_t len, uint64_t off);

/* pwrite(2) exactly @len bytes at @off: 0 or -errno (-EIO if none). */
int incrfs_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

#endif
