/* SPDX-License-Identifier: MIT */
/* slot.c - slot image pack (zstd) and streaming unpack; see slot.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "image/lib/diskio.h"
#include "image/lib/gpt.h"
#include "fdio.h"
#include "release.h"
#include "slot.h"
#include "util.h"

#define IO_CHUNK (1u << 20)

int rel_find_slot(int fd, uint64_t *off, uint64_t *len)
{
	struct disk_layout l;
	const struct gpt_part *p;
	int r = gpt_read(fd, &l);

	if (r < 0)
		return r;
	p = disk_layout_find(&l, REL_SLOT_PART);
	if (!p)
		return -ENOENT;
	*off = gpt_part_offset(p);
	*len = gpt_part_bytes(p);
	return 0;
}

/* ---------------------------------------------------------------- pack */

struct packer {
	ZSTD_CCtx *cc;
	EVP_MD_CTX *in_md, *out_md;
	int out_fd;
	unsigned char *obuf;
	size_t osz;
	struct rel_pack_result *res;
};

/* Push in (possibly empty, with ZSTD_e_end) through the compressor,
 * writing and hashing what comes out. */
static int pack_push(struct packer *pk, const void *p, size_t n, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = { p, n, 0 };
	size_t left;

	if (n && EVP_DigestUpdate(pk->in_md, p, n) != 1)
		return -EIO;
	do {
		ZSTD_outBuffer out = { pk->obuf, pk->osz, 0 };
		int r;

		left = ZSTD_compressStream2(pk->cc, &out, &in, mode);
		if (ZSTD_isError(left))
			return -EIO;
		if (out.pos && ((r = fd_write_full(pk->out_fd, pk->obuf, out.pos)) < 0 ||
				EVP_DigestUpdate(pk->out_md, pk->obuf, out.pos) != 1))
			return r < 0 ? r : -EIO;
		pk->res->out_bytes += out.pos;
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
	return 0;
}

/* Feed [pos, end) of a hole: zeros, never read. */
static int pack_zeros(struct packer *pk, const unsigned char *zeros, uint64_t n)
{
	int r = 0;

	pk->res->hole_bytes += n;
	while (n && r == 0) {
		size_t k = n < IO_CHUNK ? (size_t)n : IO_CHUNK;
		r = pack_push(pk, zeros, k, ZSTD_e_continue);
		n -= k;
	}
	return r;
}

static int pack_data(struct packer *pk, int fd, unsigned char *buf, uint64_t pos, uint64_t n)
{
	int r = 0;

	while (n && r == 0) {
		size_t k = n < IO_CHUNK ? (size_t)n : IO_CHUNK;
		r = pread_all(fd, buf, k, pos);
		if (r == 0)
			r = pack_push(pk, buf, k, ZSTD_e_continue);
		pos += k;
		n -= k;
	}
	return r;
}

/* Walk [off, off+len) as data and hole extents. A file system or device
 * without SEEK_DATA has only data. */
static int pack_range(struct packer *pk, int fd, uint64_t off, uint64_t len, unsigned char *buf,
		      const unsigned char *zeros)
{
	uint64_t pos = off, end = off + len;
	int r = 0;

	while (pos < end && r == 0) {
		off_t d = lseek(fd, (off_t)pos, SEEK_DATA), h;
		uint64_t ds, de;

		if (d < 0 && errno == ENXIO)
			return pack_zeros(pk, zeros, end - pos); /* a hole up to EOF */
		ds = d < 0 ? pos : (uint64_t)d;
		h = d < 0 ? -1 : lseek(fd, d, SEEK_HOLE);
		de = h < 0 ? end : (uint64_t)h;
		if (ds > end)
			ds = end;
		if (de > end)
			de = end;
		r = pack_zeros(pk, zeros, ds - pos);
		if (r == 0)
			r = pack_data(pk, fd, buf, ds, de - ds);
		pos = de > ds ? de : end;
	}
	return r;
}

static int set_params(ZSTD_CCtx *cc, const struct rel_pack_opts *o, uint64_t len)
{
	int level = o && o->level ? o->level : REL_PACK_LEVEL;
	int threads = o && o->threads > 0 ? o->threads : 1;

	if (level < 1 || level > 19)
		return -EINVAL;
	/* nbWorkers >= 1 always: multi-threaded zstd gives the same bytes for
	 * any worker count, but not the same as single-threaded mode */
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_nbWorkers, threads)))
		return -ENOTSUP; /* libzstd built without threads */
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, REL_ZSTD_WINDOW_LOG)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 0)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cc, len)))
		return -EINVAL;
	return 0;
}

int rel_pack(int in_fd, uint64_t off, uint64_t len, int out_fd, const struct rel_pack_opts *o,
	     struct rel_pack_result *res)
{
	struct packer pk = { .out_fd = out_fd, .res = res };
	unsigned char *buf = malloc(IO_CHUNK), *zeros = calloc(1, IO_CHUNK);
	unsigned int l1 = 0, l2 = 0;
	int r = -ENOMEM;

	memset(res, 0, sizeof(*res));
	pk.cc = ZSTD_createCCtx();
	pk.osz = ZSTD_CStreamOutSize();
	pk.obuf = malloc(pk.osz);
	pk.in_md = EVP_MD_CTX_new();
	pk.out_md = EVP_MD_CTX_new();
	if (!buf || !zeros || !pk.cc || !pk.obuf || !pk.in_md || !pk.out_md)
		goto out;
	r = -EIO;
	if (EVP_DigestInit_ex(pk.in_md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(pk.out_md, EVP_sha256(), NULL) != 1)
		goto out;
	r = set_params(pk.cc, o, len);
	if (r < 0)
		goto out;
	r = pack_range(&pk, in_fd, off, len, buf, zeros);
	if (r == 0)
		r = pack_push(&pk, NULL, 0, ZSTD_e_end);
	if (r == 0 && (EVP_DigestFinal_ex(pk.in_md, res->in_sha256, &l1) != 1 ||
		       EVP_DigestFinal_ex(pk.out_md, res->out_sha256, &l2) != 1))
		r = -EIO;
	res->in_bytes = len;
out:
	ZSTD_freeCCtx(pk.cc);
	EVP_MD_CTX_free(pk.in_md);
	EVP_MD_CTX_free(pk.out_md);
	free(pk.obuf);
	free(buf);
	free(zeros);
	return r;
}

/* -------------------------------------------------------------- unpack */

#define UNPACK_OUT (1u << 20)

struct rel_unpack {
	ZSTD_DCtx *dc;
	EVP_MD_CTX *md;
	unsigned char *obuf;
	uint64_t out, max_out;
	rel_sink_fn sink;
	void *ctx;
	size_t last;    /* ZSTD_decompressStream's last hint: 0 = frame complete */
	bool done;      /* the frame ended: any further byte is an error */
	bool no_digest; /* rel_unpack_no_digest(): the caller checks the bytes */
	const char *why;
	int err; /* sticky: nothing more is taken after a failure */
};

int rel_unpack_new(struct rel_unpack **out, unsigned window_log, uint64_t max_out, rel_sink_fn sink,
		   void *ctx)
{
	struct rel_unpack *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	u->dc = ZSTD_createDCtx();
	u->md = EVP_MD_CTX_new();
	u->obuf = malloc(UNPACK_OUT);
	u->max_out = max_out;
	u->sink = sink;
	u->ctx = ctx;
	u->last = 1;
	if (!u->dc || !u->md || !u->obuf) {
		rel_unpack_free(u);
		return -ENOMEM;
	}
	/* the window is what a frame makes the reader allocate: a frame
	 * asking for more than the manifest's bound is refused */
	if (ZSTD_isError(ZSTD_DCtx_setParameter(u->dc, ZSTD_d_windowLogMax, (int)window_log)) ||
	    EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1) {
		rel_unpack_free(u);
		return -EINVAL;
	}
	*out = u;
	return 0;
}

static int unpack_fail(struct rel_unpack *u, int err, const char *why)
{
	u->err = err;
	u->why = why;
	return err;
}

static int unpack_out(struct rel_unpack *u, size_t n)
{
	int r;

	if (n > u->max_out - u->out)
		return unpack_fail(u, -EFBIG, "unpacks to more bytes than the slot image size");
	if (!u->no_digest && EVP_DigestUpdate(u->md, u->obuf, n) != 1)
		return unpack_fail(u, -EIO, "SHA-256 step failed");
	if (u->sink && (r = u->sink(u->ctx, u->obuf, n, u->out)) < 0)
		return unpack_fail(u, r, NULL);
	u->out += n;
	return 0;
}

int rel_unpack_feed(struct rel_unpack *u, const void *p, size_t n)
{
	ZSTD_inBuffer in = { p, n, 0 };

	if (u->err)
		return u->err;
	while (in.pos < in.size) {
		ZSTD_outBuffer o = { u->obuf, UNPACK_OUT, 0 };
		size_t r;
		int e;

		if (u->done)
			return unpack_fail(u, -SPACE_E_FORMAT, "bytes after the end of the zstd frame");
		r = ZSTD_decompressStream(u->dc, &o, &in);
		if (ZSTD_isError(r))
			return unpack_fail(u, -SPACE_E_FORMAT,
					   ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge ?
						   "zstd frame needs a bigger window than the manifest allows" :
						   "not a valid zstd frame (damaged or truncated data)");
		if (o.pos && (e = unpack_out(u, o.pos)) < 0)
			return e;
		u->last = r;
		u->done = r == 0;
		/* a full output buffer may hold back more output for no input */
		while (!u->done && o.pos == o.size && in.pos == in.size) {
			o.pos = 0;
			r = ZSTD_decompressStream(u->dc, &o, &in);
			if (ZSTD_isError(r))
				return unpack_fail(u, -SPACE_E_FORMAT, "not a valid zstd frame (damaged or truncated data)");
			if (o.pos && (e = unpack_out(u, o.pos)) < 0)
				return e;
			u->last = r;
			u->done = r == 0;
		}
	}
	return 0;
}

int rel_unpack_end(struct rel_unpack *u, unsigned char sha256[32], uint64_t *out_bytes)
{
	unsigned int l = 0;

	if (u->err)
		return u->err;
	if (!u->done)
		return unpack_fail(u, -SPACE_E_FORMAT, "the zstd frame is incomplete (truncated)");
	if (u->no_digest)
		memset(sha256, 0, 32);
	else if (EVP_DigestFinal_ex(u->md, sha256, &l) != 1)
		return unpack_fail(u, -EIO, "SHA-256 step failed");
	*out_bytes = u->out;
	return 0;
}

void rel_unpack_no_digest(struct rel_unpack *u)
{
	u->no_digest = true;
}

const char *rel_unpack_why(const struct rel_unpack *u)
{
	return u->why;
}

void rel_unpack_free(struct rel_unpack *u)
{
	if (!u)
		return;
	ZSTD_freeDCtx(u->dc);
	EVP_MD_CTX_free(u->md);
	free(u->obuf);
	free(u);
}
