/* SPDX-License-Identifier: MIT */
/* vmdk.h - VMware streamOptimized VMDK: writer (raw -> stream) and reader
 * (stream -> raw, header/descriptor/footer parsing).
 *
 * Layout written (VMware "Virtual Disk Format 5.0", stream-optimized section):
 *   header (version 3, flags NL|COMPRESSED|MARKERS, gdOffset = GD_AT_END)
 *   descriptor (20 sectors) | grain markers + zlib grains, ascending LBA
 *   | GT marker + GT after each 512-grain region that holds data
 *   | GD marker + GD | footer marker + footer (header with real gdOffset) | EOS
 *
 * All functions return 0 or a negative errno / -SPACE_E_FORMAT; they never
 * print. Integers on disk are little-endian; the code assumes an x86-64 /
 * little-endian host and says so with a static assertion.
 */
#ifndef SPACE_VMDK_H
#define SPACE_VMDK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define VMDK_SECTOR 512u
#define VMDK_MAGIC 0x564d444bu /* "KDMV" on disk */
#define VMDK_GRAIN_SECTORS 128u
#define VMDK_GRAIN_BYTES (VMDK_GRAIN_SECTORS * VMDK_SECTOR)
#define VMDK_GTES_PER_GT 512u
#define VMDK_GD_AT_END 0xffffffffffffffffull
#define VMDK_FLAG_NL_TEST (1u << 0)
#define VMDK_FLAG_RGD (1u << 1)
#define VMDK_FLAG_COMPRESSED (1u << 16)
#define VMDK_FLAG_MARKERS (1u << 17)
#define VMDK_DESC_SECTORS 20u
#define VMDK_MARKER_EOS 0u
#define VMDK_MARKER_GT 1u
#define VMDK_MARKER_GD 2u
#define VMDK_MARKER_FOOTER 3u

/* Parsed SparseExtentHeader (host byte order). */
struct vmdk_header {
	uint32_t version;
	uint32_t flags;
	uint64_t capacity;               /* sectors */
	uint64_t grain_size;             /* sectors */
	uint64_t desc_offset, desc_size; /* sectors */
	uint32_t gtes_per_gt;
	uint64_t rgd_offset, gd_offset, overhead; /* sectors */
	uint16_t compress;
};

/* Parse and sanity-check one 512-byte header (or footer) block. err, when
 * not NULL, receives the first problem found.
 * Accepts what a streamOptimized reader can use: version 1..3, grain a power
 * of two 8..2048 sectors, 512 GTEs per GT, deflate or none. */
int vmdk_parse_header(const unsigned char blk[VMDK_SECTOR], struct vmdk_header *h,
		      struct space_err *err);

/* Serialize h into a 512-byte block (what the writer puts on disk). */
void vmdk_format_header(const struct vmdk_header *h, unsigned char blk[VMDK_SECTOR]);

/* Facts read from the embedded descriptor text (NUL-terminated, at most
 * len bytes are looked at). */
struct vmdk_descriptor {
	char create_type[32];
	char adapter_type[32];
	uint32_t cid;
	uint64_t extent_sectors; /* from the "RW <n> SPARSE" line */
};

/* Parse the embedded descriptor. Fails with -SPACE_E_FORMAT (err says why) when
 * the signature line, createType, CID or the extent line is missing. */
int vmdk_parse_descriptor(const char *text, size_t len, struct vmdk_descriptor *d,
			  struct space_err *err);

/* Options for vmdk_write_stream(). */
struct vmdk_write_opts {
	int threads;              /* 0 = one per online CPU */
	int level;                /* libdeflate level 1..12; 0 = default (5: smaller than qemu-img's zlib-6 output, several times faster) */
	const char *adapter_type; /* NULL = "lsilogic" */
	const char *extent_name;  /* file name in the extent line; NULL = "disk.vmdk" */
};

/* What the writer did. */
struct vmdk_write_stats {
	uint64_t capacity_bytes; /* virtual size (raw size rounded up to a sector) */
	uint64_t data_grains;    /* grains written (non-zero) */
	uint64_t zero_grains;    /* grains in data extents found all-zero and skipped */
	uint64_t out_bytes;      /* size of the .vmdk */
	uint32_t cid;
};

/* Convert the raw image open on in_fd to a streamOptimized VMDK written to
 * out_fd, which must be a seekable empty regular file (the header is
 * rewritten at the end with the content-derived CID). Holes in in_fd are
 * skipped with SEEK_DATA/SEEK_HOLE without reading them. The output bytes
 * depend only on the input bytes and opts->level/adapter/extent name, never
 * on the thread count. */
int vmdk_write_stream(int in_fd, int out_fd, const struct vmdk_write_opts *opts,
		      struct vmdk_write_stats *st);

/* Read a streamOptimized (or any compressed, marker-based sparse) VMDK from
 * in_fd and write the raw disk to out_fd (regular file, truncated to the
 * capacity; zero grains become holes). err as above. Grains and grain
 * tables that share input sectors are refused: that keeps the written data
 * within one grain per input sector, where shared grains let a few KiB
 * fill a disk of any capacity. */
int vmdk_extract(int in_fd, int out_fd, uint64_t *capacity_bytes, struct space_err *err);

/* Facts about a VMDK file for `vmdk info` and the verifier. */
struct vmdk_info {
	struct vmdk_header header; /* the footer's copy when the header says GD_AT_END */
	struct vmdk_descriptor desc;
	int has_footer;
};

/* The same facts from bytes already in memory (ova-verify streams the OVA):
 * head = the first headlen bytes (64 KiB covers header and descriptor),
 * tail = the last taillen bytes (>= 1536 for the footer and EOS marker). */
int vmdk_info_from_bytes(const unsigned char *head, size_t headlen, const unsigned char *tail,
			 size_t taillen, uint64_t file_size, struct vmdk_info *info, struct space_err *err);

/* Read header, descriptor and (when present) footer of the VMDK on fd. */
int vmdk_read_info(int fd, struct vmdk_info *info, struct space_err *err);

#endif
