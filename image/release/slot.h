/* SPDX-License-Identifier: MIT */
/* slot.h - the slot image inside a release image: taken from the root-a
 * partition of a raw disk, packed into one zstd frame, and unpacked as a
 * stream (hashing it, and handing it to a sink: the upgrader's slot writer)
 * with memory bounded by the frame's window, never a temporary copy.
 *
 * Return 0 or a negative errno / -SPACE_E_*; never print.
 */
#ifndef SPACE_RELEASE_SLOT_H
#define SPACE_RELEASE_SLOT_H

#include <stddef.h>
#include <stdint.h>

/* The byte range of the partition labelled REL_SLOT_PART ("root-a") in the
 * raw GPT disk open on fd (the table is read and CRC-checked). -ENOENT when
 * there is none. */
int rel_find_slot(int fd, uint64_t *off, uint64_t *len);

struct rel_pack_opts {
	int level;   /* zstd level, 1..19 (0: REL_PACK_LEVEL) */
	int threads; /* compression threads, >= 1 (0: 1); the bytes do not depend on it */
};
#define REL_PACK_LEVEL 6

struct rel_pack_result {
	uint64_t in_bytes;   /* = len */
	uint64_t hole_bytes; /* of them, holes never read */
	uint64_t out_bytes;  /* the zstd frame */
	unsigned char in_sha256[32], out_sha256[32];
};

/* Compress [off, off+len) of in_fd into one zstd frame (content size in the
 * header, window 2^REL_ZSTD_WINDOW_LOG, no zstd checksum: the manifest's
 * SHA-256 is the check) written at out_fd's position. Holes of in_fd
 * (SEEK_HOLE) are not read; they compress to almost nothing. */
int rel_pack(int in_fd, uint64_t off, uint64_t len, int out_fd, const struct rel_pack_opts *o,
	     struct rel_pack_result *res);

/* Streaming unpacker. The sink gets the uncompressed bytes in order (off
 * is their position in the slot image); a negative return stops the
 * unpacking and is returned by rel_unpack_feed(). sink may be NULL. */
typedef int (*rel_sink_fn)(void *ctx, const void *p, size_t n, uint64_t off);
struct rel_unpack;

/* window_log bounds the memory (frames asking for more are refused);
 * max_out bounds the output (more is -EFBIG: never write past a slot). */
int rel_unpack_new(struct rel_unpack **out, unsigned window_log, uint64_t max_out, rel_sink_fn sink,
		   void *ctx);
/* Feed compressed bytes. -SPACE_E_FORMAT: not zstd, damaged, a frame
 * needing a bigger window, or bytes after the frame (rel_unpack_why()). */
int rel_unpack_feed(struct rel_unpack *u, const void *p, size_t n);
/* After the last byte: -SPACE_E_FORMAT when the frame is not complete;
 * else the SHA-256 and count of the uncompressed bytes. */
int rel_unpack_end(struct rel_unpack *u, unsigned char sha256[32], uint64_t *out_bytes);
/* Do not hash the uncompressed bytes (rel_unpack_end() then gives zeros):
 * for a sink that reads what it wrote back and checks it against the
 * signed digest itself. Under emulation a SHA-256 pass over a 2 GiB slot
 * costs as much as the write; one pass, over what the disk holds, is the
 * one that counts. */
void rel_unpack_no_digest(struct rel_unpack *u);
/* Why the last -SPACE_E_FORMAT / -EFBIG (static text), or NULL. */
const char *rel_unpack_why(const struct rel_unpack *u);
void rel_unpack_free(struct rel_unpack *u);

#endif
