/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * incrfs.h - the one definition of the incrfs image format, the blob
 * format the feeder reads, and the ioctl ABI.
 *
 * Why this exists: the kernel module, the packer, the feeder and the tests
 * must agree on every byte.  Keeping all of it in a single header that both
 * the kernel and userspace include makes a disagreement a compile error
 * rather than a corrupted image.
 *
 * Every multi-byte on-disk field is little-endian.  Every on-disk struct has
 * explicit padding and its size is pinned by a static assertion below.
 * Reserved fields of the image are zero: a reader refuses an image where
 * one is not.
 * Image layout (all offsets are byte offsets into the image file):
 *
 *   0                 super block (struct incrfs_super_block), one 4 KiB block
 *   s_inode_off       inode table: s_inode_count x struct incrfs_inode
 *   s_meta_off        metadata area: directory entries and names, symlink
 *                     targets, xattrs and extent lists, referenced by inodes
 *   s_hash_off        SHA-256 of every data block, 32 bytes each
 *   s_bitmap_off      block bitmap, one bit per data block (1 = present)
 *   s_data_off        data region: data block N at s_data_off + N * 4096
 *
 * Inode numbers start at 1 (INCRFS_ROOT_INO); inode N is the (N-1)th entry
 * of the inode table.  A regular file maps its file blocks to data blocks
 * with a sorted extent list; file blocks covered by no extent are holes and
 * read as zeroes without ever being fetched.
 */
#ifndef _UAPI_LINUX_INCRFS_H
#define _UAPI_LINUX_INCRFS_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define INCRFS_SUPER_MAGIC	0x46434e49	/* "INCF" */
#define INCRFS_BLOB_MAGIC	0x42434e49	/* "INCB" */
#define INCRFS_MAJOR		1
#define INCRFS_MINOR		0
#define INCRFS_BLOCK_BITS	12
#define INCRFS_BLOCK_SIZE	4096U	/* 1 << INCRFS_BLOCK_BITS */
#define INCRFS_HASH_SIZE	32		/* SHA-256 */
#define INCRFS_ROOT_INO		1
#define INCRFS_NAME_MAX		255
#define INCRFS_SYMLINK_MAX	4095

/*
 * Feature flags.  An unknown incompat or ro_compat bit refuses the mount
 * (the module writes every image it mounts); compat bits are ignored.
 */
#define INCRFS_FEATURE_COMPAT_SUPP	0
#define INCRFS_FEATURE_INCOMPAT_SUPP	0
#define INCRFS_FEATURE_RO_COMPAT_SUPP	0

/**
 * struct incrfs_super_block - image header at byte 0 of the image
 * @s_magic: INCRFS_SUPER_MAGIC
 * @s_checksum: crc32c (seed ~0, final xor ~0) of the 512-byte struct with
 *	this field zero
 * @s_major: format major version; a different one refuses the mount
 * @s_minor: format minor version; informational
 * @s_feature_compat: features an old reader may ignore
 * @s_feature_incompat: features an old reader must not mount
 * @s_feature_ro_compat: features an old reader may only mount read-only
 * @s_blkszbits: log2 of the block size, always INCRFS_BLOCK_BITS
 * @s_inode_size: size of struct incrfs_inode, 128
 * @s_inode_count: inodes in the inode table
 * @s_root_ino: inode number of the root directory, INCRFS_ROOT_INO
 * @s_image_size: minimum size of the image file in bytes
 * @s_inode_off: byte offset of the inode table, block aligned
 * @s_meta_off: byte offset of the metadata area
 * @s_meta_size: byte size of the metadata area
 * @s_hash_off: byte offset of the per-block SHA-256 table
 * @s_bitmap_off: byte offset of the block bitmap, block aligned
 * @s_bitmap_size: byte size of the bitmap, (s_nr_blocks + 7) / 8
 * @s_data_off: byte offset of data block 0, block aligned
 * @s_nr_blocks: number of data blocks (bits in the bitmap)
 * @s_mkfs_time: seconds since the epoch when the image was packed
 * @s_uuid: image identity
 * @s_root_hash: SHA-256 of the whole hash table; proves the image identity
 *	to a feeder holding the matching blob
 */
struct incrfs_super_block {
	__le32 s_magic;
	__le32 s_checksum;
	__le16 s_major;
	__le16 s_minor;
	__le32 s_feature_compat;
	__le32 s_feature_incompat;
	__le32 s_feature_ro_compat;
	__u8   s_blkszbits;
	__u8   s_reserved0[3];
	__le32 s_inode_size;
	__le64 s_inode_count;
	__le64 s_root_ino;
	__le64 s_image_size;
	__le64 s_inode_off;
	__le64 s_meta_off;
	__le64 s_meta_size;
	__le64 s_hash_off;
	__le64 s_bitmap_off;
	__le64 s_bitmap_size;
	__le64 s_data_off;
	__le64 s_nr_blocks;
	__le64 s_mkfs_time;
	__u8   s_uuid[16];
	__u8   s_root_hash[INCRFS_HASH_SIZE];
	__u8   s_reserved[336];
};

/* i_flags */
#define INCRFS_INODE_FLAGS_SUPP	0

/**
 * struct incrfs_inode - one entry of the inode table
 * @i_mode: file type and permission bits as in stat(2)
 * @i_flags: none defined yet; must be zero
 * @i_nlink: link count
 * @i_uid: owner
 * @i_gid: group
 * @i_size: size in bytes; for a directory, the byte size of its entries
 * @i_mtime: modification time, seconds
 * @i_mtime_nsec: modification time, nanoseconds (< 10^9)
 * @i_ctime_nsec: change time, nanoseconds (< 10^9)
 * @i_ctime: change time, seconds
 * @i_rdev: device number of a char/block device (new_encode_dev format);
 *	an overlayfs whiteout is a char device 0/0
 * @i_xattr_len: byte length of the xattr list at @i_xattr_off (0: none)
 * @i_xattr_off: offset of the xattr list, relative to s_meta_off
 * @i_meta_off: offset, relative to s_meta_off, of the directory entries
 *	(directory), the target (symlink) or the extent list (regular file)
 * @i_meta_len: byte length of that record
 * @i_meta_count: directory entries (directory) or extents (regular file)
 * @i_first_block: regular file: first data block it owns
 * @i_nr_blocks: regular file: data blocks it owns; its extents cover
 *	[@i_first_block, @i_first_block + @i_nr_blocks) exactly
 * @i_parent: directory: inode number of its parent (root: itself)
 */
struct incrfs_inode {
	__le16 i_mode;
	__le16 i_flags;
	__le32 i_nlink;
	__le32 i_uid;
	__le32 i_gid;
	__le64 i_size;
	__le64 i_mtime;
	__le32 i_mtime_nsec;
	__le32 i_ctime_nsec;
	__le64 i_ctime;
	__le32 i_rdev;
	__le32 i_xattr_len;
	__le64 i_xattr_off;
	__le64 i_meta_off;
	__le32 i_meta_len;
	__le32 i_meta_count;
	__le64 i_first_block;
	__le64 i_nr_blocks;
	__le64 i_parent;
	__u8   i_reserved[24];
};

/*
 * struct incrfs_dirent - one directory entry.  A directory's record is
 * i_meta_count entries sorted by name (memcmp order, shorter first on a
 * common prefix), followed by their names, unterminated.
 * @d_ino: inode number
 * @d_nameoff: offset of the name from the start of the directory record
 * @d_namelen: name length, 1..INCRFS_NAME_MAX
 * @d_type: DT_* type, must agree with the inode's mode
 */
struct incrfs_dirent {
	__le64 d_ino;
	__le32 d_nameoff;
	__le16 d_namelen;
	__u8   d_type;
	__u8   d_reserved;
};

/*
 * struct incrfs_extent - file blocks [e_lblk, e_lblk + e_len) live in data
 * blocks [e_pblk, e_pblk + e_len).  Extents are sorted by e_lblk and do not
 * overlap; e_len > 0.
 */
struct incrfs_extent {
	__le64 e_lblk;
	__le64 e_pblk;
	__le32 e_len;
	__le32 e_reserved;
};

/* x_index values: the xattr namespace of an entry */
#define INCRFS_XATTR_USER	1
#define INCRFS_XATTR_TRUSTED	2
#define INCRFS_XATTR_SECURITY	3

/*
 * struct incrfs_xattr_entry - header of one xattr.  The name (without its
 * namespace prefix) follows, then the value; the next entry starts at the
 * next multiple of 4 bytes.  Entries are sorted by (x_index, name).
 */
struct incrfs_xattr_entry {
	__u8   x_index;
	__u8   x_name_len;
	__le16 x_value_len;
};

#define INCRFS_XATTR_ALIGN	4

/*
 * Blob: what the feeder fetches.  Never read by the kernel.
 *
 *   0            struct incrfs_blob_header
 *   b_index_off  b_nr_chunks x struct incrfs_blob_chunk
 *   c_off        chunk data: one zstd frame that decodes to c_nr_blocks
 *                whole 4 KiB data blocks (the tail of a file is zero-padded)
 *
 * Chunk N holds data blocks [N * b_chunk_blocks, N * b_chunk_blocks +
 * c_nr_blocks); every chunk but the last holds b_chunk_blocks blocks.
 */
struct incrfs_blob_header {
	__le32 b_magic;
	__le32 b_checksum;	/* crc32c of the header with this field zero */
	__le16 b_major;
	__le16 b_minor;
	__le32 b_chunk_blocks;
	__le64 b_nr_blocks;
	__le64 b_nr_chunks;
	__le64 b_index_off;
	__u8   b_root_hash[INCRFS_HASH_SIZE];	/* equals the image's */
	__u8   b_reserved[56];
};

struct incrfs_blob_chunk {
	__le64 c_off;
	__le32 c_len;
	__le32 c_nr_blocks;
};

/* ---- ioctl ABI ---- */

/*
 * 0xe9: free in Documentation/userspace-api/ioctl/ioctl-number.rst
 * (Linux 6.12).
 */
#define INCRFS_IOC_MAGIC	0xe9

/*
 * struct incrfs_pending_read - one record read() from the control fd: a
 * range of missing blocks some task is waiting for.
 * @ino: inode number
 * @block: first file block
 * @data_block: data block (bitmap bit / blob block) of @block
 * @count: number of consecutive blocks
 * @flags: INCRFS_PENDING_*
 * @seq: sequence number, increasing per mount
 * @pid: tgid of the first waiter
 * @uid: uid of the first waiter
 * @time_ns: CLOCK_BOOTTIME of the first wait
 */
struct incrfs_pending_read {
	__u64 ino;
	__u64 block;
	__u64 data_block;
	__u32 count;
	__u32 flags;
	__u64 seq;
	__u32 pid;
	__u32 uid;
	__u64 time_ns;
};

#define INCRFS_PENDING_READAHEAD	0x1	/* nobody waits yet: a hint */
/*
 * With INCRFS_PENDING_READAHEAD: a page fault on a missing block of a
 * mapped file, whose (every run of) data blocks the record covers; sent
 * once per file at its first such fault, for files of at most 16 MiB.
 */
#define INCRFS_PENDING_MAPPED		0x2

/*
 * struct incrfs_fill_block - one block of an INCRFS_IOC_FILL batch
 * @ino: inode number, or 0 to address the block by data block
 * @block: file block of @ino, or (with @ino 0) data block: a feeder that
 *	serves whole blob chunks fills by data block and needs no inode map
 * @data: user pointer to the block's content
 * @len: bytes at @data, INCRFS_BLOCK_SIZE
 * @result: out: 0 (written, or present already), or a negative errno for
 *	this entry: -EBADMSG, the SHA-256 did not match and the block stays
 *	missing; -EAGAIN, not reached: the call stopped early (see below);
 *	-EINVAL / -ENOENT, a bad address; -EFAULT, @data unreadable
 */
struct incrfs_fill_block {
	__u64 ino;
	__u64 block;
	__u64 data;
	__u32 len;
	__s32 result;
};

#define INCRFS_FILL_SYNC	0x1	/* data and bitmap durable on return */
#define INCRFS_FILL_FLAGS	INCRFS_FILL_SYNC

/*
 * struct incrfs_fill - argument of INCRFS_IOC_FILL on the control fd
 * @blocks: user pointer to @count struct incrfs_fill_block
 * @count: entries, at most INCRFS_FILL_MAX
 * @flags: INCRFS_FILL_*
 * @filled: out: entries newly written (not counting already-present ones);
 *	must be zero on input
 * @left: out: entries not reached (result -EAGAIN); must be zero on input
 *
 * What every call guarantees: the entries some reader waits for when the
 * call starts are written (and their readers woken) before any other is
 * looked at; the others follow in array order.  Once a reader starts to
 * wait, during the call, for a block still missing, the call stops before
 * its next entry and returns 0 with @left > 0, so that the feeder hears of
 * the new reader.  Such a call has settled the first entry that the
 * waited-for ones left, so calling again with the entries from the first
 * -EAGAIN on always makes progress.
 */
struct incrfs_fill {
	__u64 blocks;
	__u32 count;
	__u32 flags;
	__u32 filled;
	__u32 left;
};

#define INCRFS_FILL_MAX		1024

/*
 * struct incrfs_fail_reads - argument of INCRFS_IOC_FAIL_READS on the
 * control fd: the feeder cannot supply data blocks [@data_block,
 * @data_block + @count) (the blob is gone, access is refused, its data is
 * corrupt).  Every task waiting for one of them when the call is made
 * returns @error from its read or page fault (SIGBUS) at once, instead of
 * waiting out its timeout.  The blocks stay missing: a later read waits
 * and is reported again, as a new wait.
 * @data_block: first data block, below the image's block count
 * @count: blocks, at least 1, not past the last block
 * @error: the errno the waiters get: EIO
 * @flags: must be zero
 * @failed: out: blocks of the range somebody waited for; zero on input
 * @reserved: must be zero
 */
struct incrfs_fail_reads {
	__u64 data_block;
	__u64 count;
	__s32 error;
	__u32 flags;
	__u32 failed;
	__u32 reserved;
};

/*
 * INCRFS_IOC_GET_FILLED: present ranges of a file's blocks (holes are not
 * listed), from @start.  On the control fd: present ranges of data blocks.
 */
struct incrfs_block_range {
	__u64 begin;	/* first file block */
	__u64 end;	/* one past the last */
};

struct incrfs_filled_ranges {
	__u64 ranges;		/* user pointer to @capacity ranges */
	__u32 capacity;
	__u32 count;		/* out */
	__u64 start;		/* first file block to look at */
	__u64 next;		/* out: where to continue, or file blocks */
};

/*
 * INCRFS_IOC_GET_STATS: per-mount counters. The struct only grows at its
 * end; the kernel accepts the command encoded with any size from
 * INCRFS_STATS_SIZE_VER0 up, fills the fields it knows and zeroes the
 * rest, so a program built against an older or newer header works.
 */
#define INCRFS_STATS_SIZE_VER0	72	/* up to and including @feeder_attached */
struct incrfs_stats {
	__u64 blocks_total;
	__u64 blocks_present;
	__u64 misses;		/* waiting episodes started */
	__u64 waits;		/* tasks that waited */
	__u64 timeouts;
	__u64 wait_ns;		/* total time tasks spent waiting */
	__u64 fills;		/* blocks written by FILL */
	__u64 hash_failures;
	__u32 complete;		/* every block present: no feeder needed */
	__u32 feeder_attached;	/* 1 while a control fd is open, else 0 */
	__u64 fills_lost;	/* filled, then lost to a writeback error */
	/*
	 * Reads of the image for present blocks: direct (readahead of a
	 * range the image's own page cache holds none of, on a backing file
	 * system that can) and buffered (every other read).
	 */
	__u64 image_reads_direct;
	__u64 image_reads_buffered;
};

/* INCRFS_IOC_GET_INFO: what identifies the mounted image */
struct incrfs_info {
	__u8  root_hash[INCRFS_HASH_SIZE];	/* s_root_hash */
	__u8  uuid[16];				/* s_uuid */
	__u64 nr_blocks;			/* data blocks */
	__u64 inode_count;
	__u32 timeout_ms;			/* mount option */
	__u32 reserved;
};

/*
 * INCRFS_IOC_SET/GET_UID_TIMEOUT: a per-uid read timeout.  @timeout_ms is
 * at most 2147483647 (INT_MAX; SET refuses more with EINVAL), 0 to wait
 * forever; a SET of ~0U removes the uid's timeout.
 */
struct incrfs_uid_timeout {
	__u32 uid;		/* in the caller's user namespace */
	__u32 timeout_ms;
};

/*
 * struct incrfs_access_log - argument of INCRFS_IOC_GET_ACCESS_LOG: the
 * order in which the data blocks of a mount mounted with -o access_log
 * were first read (present or not), as ranges of data blocks.  Each data
 * block appears at most once; a block read right after the previous one
 * extends the last range.  The log holds at most access_log_max (mount
 * option, default and limit INCRFS_ACCESS_LOG_MAX) ranges; then it stops
 * recording and counts what it left out.  Needs
 * CAP_SYS_ADMIN in the mount's user namespace.
 * @ranges: user pointer to @capacity struct incrfs_block_range
 * @capacity: entries at @ranges
 * @start: first log entry to copy (0: the oldest)
 * @count: out: entries copied
 * @total: out: entries in the log (the last one may still grow)
 * @blocks: out: data blocks in the log
 * @dropped: out: data blocks first read after the log was full, not
 *	recorded
 * @flags: out: INCRFS_ACCESS_LOG_*
 * @reserved: must be zero
 */
struct incrfs_access_log {
	__u64 ranges;
	__u64 capacity;
	__u64 start;
	__u64 count;
	__u64 total;
	__u64 blocks;
	__u64 dropped;
	__u64 flags;
	__u64 reserved[4];
};

#define INCRFS_ACCESS_LOG_MAX	65536	/* ranges a log holds */
#define INCRFS_ACCESS_LOG_FULL	0x1	/* stopped recording: @dropped */

#define INCRFS_IOC_OPEN_CONTROL	_IO(INCRFS_IOC_MAGIC, 1)
#define INCRFS_IOC_FILL		_IOWR(INCRFS_IOC_MAGIC, 2, struct incrfs_fill)
#define INCRFS_IOC_GET_FILLED	_IOWR(INCRFS_IOC_MAGIC, 3, struct incrfs_filled_ranges)
#define INCRFS_IOC_GET_STATS	_IOR(INCRFS_IOC_MAGIC, 4, struct incrfs_stats)
#define INCRFS_IOC_SET_UID_TIMEOUT _IOW(INCRFS_IOC_MAGIC, 5, struct incrfs_uid_timeout)
#define INCRFS_IOC_GET_UID_TIMEOUT _IOWR(INCRFS_IOC_MAGIC, 6, struct incrfs_uid_timeout)
#define INCRFS_IOC_GET_INFO	_IOR(INCRFS_IOC_MAGIC, 7, struct incrfs_info)
#define INCRFS_IOC_GET_ACCESS_LOG _IOWR(INCRFS_IOC_MAGIC, 8, struct incrfs_access_log)
#define INCRFS_IOC_FAIL_READS	_IOWR(INCRFS_IOC_MAGIC, 9, struct incrfs_fail_reads)
/*
 * INCRFS_IOC_REPLAY, on the control fd, no argument: every read still
 * waiting is queued as a record again, as for a newly opened control fd.
 * For a feeder that takes over a control fd another process held (a
 * daemon restarted with the fd its service manager kept): the records
 * its predecessor read but did not serve would otherwise never come back.
 * Records still queued are not queued twice.
 */
#define INCRFS_IOC_REPLAY	_IO(INCRFS_IOC_MAGIC, 10)

/* Sizes are ABI: pin them. */
#define INCRFS_ASSERT_SIZE(type, size) \
	_Static_assert(sizeof(type) == (size), #type " size is ABI")
INCRFS_ASSERT_SIZE(struct incrfs_super_block, 512);
INCRFS_ASSERT_SIZE(struct incrfs_inode, 128);
INCRFS_ASSERT_SIZE(struct incrfs_dirent, 16);
INCRFS_ASSERT_SIZE(struct incrfs_extent, 24);
INCRFS_ASSERT_SIZE(struct incrfs_xattr_entry, 4);
INCRFS_ASSERT_SIZE(struct incrfs_blob_header, 128);
INCRFS_ASSERT_SIZE(struct incrfs_blob_chunk, 16);
INCRFS_ASSERT_SIZE(struct incrfs_pending_read, 56);
INCRFS_ASSERT_SIZE(struct incrfs_fill_block, 32);
INCRFS_ASSERT_SIZE(struct incrfs_fill, 24);
INCRFS_ASSERT_SIZE(struct incrfs_fail_reads, 32);
INCRFS_ASSERT_SIZE(struct incrfs_block_range, 16);
INCRFS_ASSERT_SIZE(struct incrfs_filled_ranges, 32);
INCRFS_ASSERT_SIZE(struct incrfs_stats, 96);
INCRFS_ASSERT_SIZE(struct incrfs_uid_timeout, 8);
INCRFS_ASSERT_SIZE(struct incrfs_info, 72);
INCRFS_ASSERT_SIZE(struct incrfs_access_log, 96);

#endif /* _UAPI_LINUX_INCRFS_H */
