/* SPDX-License-Identifier: MIT */
/* vmdk_write.c - raw -> streamOptimized VMDK, compressing grains on every
 * core while the output keeps ascending LBA order.
 *
 * Workers take grains in sequence order from a shared iterator that walks the
 * data extents of the input (SEEK_DATA/SEEK_HOLE, so holes are never read),
 * read and compress them into a ring of slots; the calling thread writes the
 * slots strictly in sequence order. Compression of one grain depends only on
 * its bytes, so the output is identical for any thread count.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libdeflate.h>

#include "fdio.h"
#include "util.h"
#include "vmdk.h"

#define NSLOTS_PER_THREAD 16
#define OUTBUF_BYTES (4u << 20)

struct slot {
	uint64_t grain;
	unsigned char *raw, *comp;
	size_t clen;
	uint32_t crc;
	int err;
	bool ready, zero, end;
};

struct writer {
	int in_fd, out_fd, level;
	uint64_t size, ngrains;
	/* extent iterator, under mu */
	uint64_t cur, ext_end;
	bool iter_done;
	uint64_t next_seq, written_seq;
	unsigned free_waiters; /* workers blocked on a full ring */
	bool writer_waiting;   /* the writer sleeps on slot written_seq */
	struct slot *slots;
	unsigned nslots;
	size_t cbound;
	bool abort;
	pthread_mutex_t mu;
	pthread_cond_t cv_slot_free, cv_slot_ready;
	/* output */
	unsigned char *obuf;
	size_t olen;
	uint64_t opos; /* bytes written or buffered so far */
};

/* Next grain whose range holds data, or false at the end. */
static int iter_next(struct writer *w, uint64_t *grain, bool *have)
{
	*have = false;
	if (w->iter_done)
		return 0;
	if (w->cur >= w->ext_end) {
		off_t d, h;
		if (w->cur >= w->size) {
			w->iter_done = true;
			return 0;
		}
		d = lseek(w->in_fd, (off_t)w->cur, SEEK_DATA);
		if (d < 0 && errno == ENXIO) {
			w->iter_done = true;
			return 0;
		}
		if (d < 0)
			return -errno;
		h = lseek(w->in_fd, d, SEEK_HOLE);
		if (h < 0)
			return -errno;
		w->cur = (uint64_t)d - (uint64_t)d % VMDK_GRAIN_BYTES;
		w->ext_end = (uint64_t)h;
	}
	*grain = w->cur / VMDK_GRAIN_BYTES;
	*have = true;
	w->cur += VMDK_GRAIN_BYTES;
	return 0;
}

/* A cheap all-zero test: most data grains fail on the first word. */
static bool grain_is_zero(const unsigned char *p, size_t n)
{
	const uint64_t *q = (const uint64_t *)(const void *)p;
	uint64_t acc = 0;

	if (q[0] || q[n / 8 - 1])
		return false;
	for (size_t i = 0; i < n / 8; i += 8) {
		acc |= q[i] | q[i + 1] | q[i + 2] | q[i + 3] | q[i + 4] | q[i + 5] | q[i + 6] | q[i + 7];
		if (acc)
			return false;
	}
	return true;
}

static void process(struct writer *w, struct libdeflate_compressor *c, struct slot *s)
{
	uint64_t off = s->grain * VMDK_GRAIN_BYTES;
	size_t want = VMDK_GRAIN_BYTES, got = 0;

	if (off + want > w->size)
		want = (size_t)(w->size - off);
	while (got < want) {
		ssize_t n = pread(w->in_fd, s->raw + got, want - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			s->err = -errno;
			return;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	memset(s->raw + got, 0, VMDK_GRAIN_BYTES - got);
	s->zero = grain_is_zero(s->raw, VMDK_GRAIN_BYTES);
	if (s->zero)
		return;
	s->crc = libdeflate_crc32(0, s->raw, VMDK_GRAIN_BYTES);
	s->clen = libdeflate_zlib_compress(c, s->raw, VMDK_GRAIN_BYTES, s->comp, w->cbound);
	if (s->clen == 0)
		s->err = -EOVERFLOW;
}

static void *worker(void *arg)
{
	struct writer *w = arg;
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(w->level);

	pthread_mutex_lock(&w->mu);
	for (;;) {
		uint64_t seq, grain = 0;
		struct slot *s;
		bool have;
		int r;

		while (!w->abort && !w->iter_done && w->next_seq - w->written_seq >= w->nslots) {
			w->free_waiters++;
			pthread_cond_wait(&w->cv_slot_free, &w->mu);
			w->free_waiters--;
		}
		if (w->abort || w->iter_done)
			break;
		seq = w->next_seq++;
		s = &w->slots[seq % w->nslots];
		r = c ? iter_next(w, &grain, &have) : -ENOMEM;
		s->err = r;
		s->end = r == 0 && !have;
		s->grain = grain;
		s->zero = false;
		if (r == 0 && have) {
			pthread_mutex_unlock(&w->mu);
			process(w, c, s);
			pthread_mutex_lock(&w->mu);
		}
		s->ready = true;
		/* wake the writer only for the slot it is waiting on: a wakeup per
		 * grain costs more than the bookkeeping */
		if (w->writer_waiting && (seq == w->written_seq || s->err || s->end))
			pthread_cond_signal(&w->cv_slot_ready);
	}
	pthread_mutex_unlock(&w->mu);
	libdeflate_free_compressor(c);
	return NULL;
}

static int flush_out(struct writer *w)
{
	int r = fd_write_full(w->out_fd, w->obuf, w->olen);

	if (r < 0)
		return r;
	w->olen = 0;
	return 0;
}

static int emit_raw(struct writer *w, const void *data, size_t len)
{
	const unsigned char *p = data;
	int r;

	while (len) {
		size_t k = OUTBUF_BYTES - w->olen < len ? OUTBUF_BYTES - w->olen : len;
		memcpy(w->obuf + w->olen, p, k);
		w->olen += k;
		w->opos += k;
		p += k;
		len -= k;
		if (w->olen == OUTBUF_BYTES && (r = flush_out(w)) < 0)
			return r;
	}
	return 0;
}

/* Append len bytes, then zero padding up to the next sector boundary. */
static int emit(struct writer *w, const void *data, size_t len)
{
	static const unsigned char zeros[VMDK_SECTOR];
	size_t pad = (VMDK_SECTOR - len % VMDK_SECTOR) % VMDK_SECTOR;
	int r = emit_raw(w, data, len);

	return r < 0 ? r : emit_raw(w, zeros, pad);
}

static int emit_marker(struct writer *w, uint64_t sectors, uint32_t type)
{
	unsigned char m[VMDK_SECTOR] = { 0 };

	memcpy(m, &sectors, 8);
	memcpy(m + 12, &type, 4);
	return emit(w, m, sizeof(m));
}

static int emit_gt(struct writer *w, uint32_t *gt, uint32_t *gd, uint64_t gti)
{
	int r = emit_marker(w, VMDK_GTES_PER_GT * 4 / VMDK_SECTOR, VMDK_MARKER_GT);

	if (r < 0)
		return r;
	gd[gti] = (uint32_t)(w->opos / VMDK_SECTOR);
	r = emit(w, gt, VMDK_GTES_PER_GT * 4);
	memset(gt, 0, VMDK_GTES_PER_GT * 4);
	return r;
}

static void make_header(struct vmdk_header *h, uint64_t capacity, uint64_t gd_offset)
{
	memset(h, 0, sizeof(*h));
	h->version = 3;
	h->flags = VMDK_FLAG_NL_TEST | VMDK_FLAG_COMPRESSED | VMDK_FLAG_MARKERS;
	h->capacity = capacity;
	h->grain_size = VMDK_GRAIN_SECTORS;
	h->desc_offset = 1;
	h->desc_size = VMDK_DESC_SECTORS;
	h->gtes_per_gt = VMDK_GTES_PER_GT;
	h->gd_offset = gd_offset;
	h->overhead = 128;
	h->compress = 1;
}

static int write_head(int fd, uint64_t capacity, uint32_t cid, const struct vmdk_write_opts *o,
		      uint64_t data_grains)
{
	unsigned char blk[(1 + VMDK_DESC_SECTORS) * VMDK_SECTOR] = { 0 };
	struct vmdk_header h;
	uint64_t cyl = (capacity + 255 * 63 - 1) / (255 * 63);
	int n;

	make_header(&h, capacity, VMDK_GD_AT_END);
	vmdk_format_header(&h, blk);
	n = snprintf((char *)blk + VMDK_SECTOR, VMDK_DESC_SECTORS * VMDK_SECTOR,
		     "# Disk DescriptorFile\n"
		     "version=1\n"
		     "encoding=\"UTF-8\"\n"
		     "CID=%08x\n"
		     "parentCID=ffffffff\n"
		     "createType=\"streamOptimized\"\n"
		     "\n"
		     "# Extent description\n"
		     "RW %llu SPARSE \"%s\"\n"
		     "\n"
		     "# The Disk Data Base\n"
		     "#DDB\n"
		     "\n"
		     "ddb.longContentID = \"%08x%08x%08x%08x\"\n"
		     "ddb.virtualHWVersion = \"4\"\n"
		     "ddb.geometry.cylinders = \"%llu\"\n"
		     "ddb.geometry.heads = \"255\"\n"
		     "ddb.geometry.sectors = \"63\"\n"
		     "ddb.adapterType = \"%s\"\n"
		     "ddb.toolsInstallType = \"4\"\n"
		     "ddb.toolsVersion = \"2147483647\"\n",
		     cid, (unsigned long long)capacity, o->extent_name ? o->extent_name : "disk.vmdk", cid,
		     (uint32_t)(capacity >> 9), (uint32_t)data_grains, ~cid,
		     (unsigned long long)(cyl > 65535 ? 65535 : cyl),
		     o->adapter_type ? o->adapter_type : "lsilogic");
	if (n < 0 || n >= (int)(VMDK_DESC_SECTORS * VMDK_SECTOR))
		return -ENAMETOOLONG;
	return fd_pwrite_full(fd, blk, sizeof(blk), 0);
}

/* The calling thread's side: grain tables and directory, the content id. */
struct gtables {
	uint32_t *gd, gt[VMDK_GTES_PER_GT];
	uint64_t capacity, ngts, cur_gt, gd_sectors;
	uint32_t cid;
};

/* The input's size: a regular file or a block device, not empty. */
static int input_size(int in_fd, uint64_t *size)
{
	struct stat sb;

	if (fstat(in_fd, &sb) < 0)
		return -errno;
	if (!S_ISREG(sb.st_mode) && !S_ISBLK(sb.st_mode))
		return -EINVAL;
	if (S_ISBLK(sb.st_mode)) {
		off_t e = lseek(in_fd, 0, SEEK_END);
		if (e < 0)
			return -errno;
		sb.st_size = e;
	}
	if (sb.st_size <= 0)
		return -SPACE_E_FORMAT;
	*size = (uint64_t)sb.st_size;
	return 0;
}

/* Defaults for threads (one per CPU, at most 64) and level (5). */
static int resolve_opts(struct vmdk_write_opts *o)
{
	if (o->threads <= 0) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		o->threads = ncpu > 0 ? (int)ncpu : 1;
	}
	if (o->threads > 64)
		o->threads = 64;
	if (o->level <= 0)
		o->level = 5;
	return o->level > 12 ? -EINVAL : 0;
}

/* The slot ring, grain directory, output buffer and thread ids. */
static int writer_alloc(struct writer *w, struct gtables *g, int threads, pthread_t **tids)
{
	struct libdeflate_compressor *probe = libdeflate_alloc_compressor(w->level);

	if (!probe)
		return -ENOMEM;
	w->cbound = libdeflate_zlib_compress_bound(probe, VMDK_GRAIN_BYTES);
	libdeflate_free_compressor(probe);
	w->slots = calloc(w->nslots, sizeof(*w->slots));
	g->gd = calloc(g->ngts ? g->ngts : 1, sizeof(*g->gd));
	w->obuf = malloc(OUTBUF_BYTES);
	*tids = calloc((size_t)threads, sizeof(**tids));
	if (!w->slots || !g->gd || !w->obuf || !*tids)
		return -ENOMEM;
	for (unsigned i = 0; i < w->nslots; i++) {
		/* room for the 12-byte grain marker in front of the zlib data */
		w->slots[i].raw = malloc(VMDK_GRAIN_BYTES);
		w->slots[i].comp = malloc(w->cbound + 12);
		if (!w->slots[i].raw || !w->slots[i].comp)
			return -ENOMEM;
		w->slots[i].comp += 12;
	}
	return 0;
}

static void writer_free(struct writer *w, struct gtables *g, pthread_t *tids)
{
	if (w->slots) {
		for (unsigned i = 0; i < w->nslots; i++) {
			free(w->slots[i].raw);
			if (w->slots[i].comp)
				free(w->slots[i].comp - 12);
		}
	}
	free(w->slots);
	free(g->gd);
	free(w->obuf);
	free(tids);
}

/* Start up to threads workers; the number started. */
static int start_workers(struct writer *w, pthread_t *tids, int threads)
{
	int n;

	for (n = 0; n < threads; n++) {
		/* fewer workers than asked only costs time, never changes bytes */
		if (pthread_create(&tids[n], NULL, worker, w) != 0)
			break;
	}
	return n;
}

/* Stop the workers (finished or not) and wait for them. */
static void stop_workers(struct writer *w, pthread_t *tids, int n)
{
	pthread_mutex_lock(&w->mu);
	w->abort = true;
	pthread_cond_broadcast(&w->cv_slot_free);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
}

/* One compressed grain: its grain table entry, marker and data; the
 * content id takes its LBA and CRC. */
static int put_grain(struct writer *w, struct gtables *g, struct slot *s)
{
	uint64_t gti = s->grain / VMDK_GTES_PER_GT;
	uint64_t lba = s->grain * VMDK_GRAIN_SECTORS;
	uint32_t sz = (uint32_t)s->clen;
	unsigned char pair[8];
	int r;

	if (g->cur_gt != UINT64_MAX && gti != g->cur_gt && (r = emit_gt(w, g->gt, g->gd, g->cur_gt)) < 0)
		return r;
	g->cur_gt = gti;
	if (w->opos / VMDK_SECTOR > UINT32_MAX)
		return -EFBIG;
	g->gt[s->grain % VMDK_GTES_PER_GT] = (uint32_t)(w->opos / VMDK_SECTOR);
	memcpy(s->comp - 12, &lba, 8);
	memcpy(s->comp - 4, &sz, 4);
	if ((r = emit(w, s->comp - 12, s->clen + 12)) < 0)
		return r;
	memcpy(pair, &lba, 4);
	memcpy(pair + 4, &s->crc, 4);
	g->cid = libdeflate_crc32(g->cid, pair, sizeof(pair));
	return 0;
}

/* Write the slots strictly in sequence order until the end slot. */
static int write_grains(struct writer *w, struct gtables *g, struct vmdk_write_stats *st)
{
	for (;;) {
		struct slot *s = &w->slots[w->written_seq % w->nslots];
		bool end;
		int r;

		pthread_mutex_lock(&w->mu);
		while (!s->ready) {
			w->writer_waiting = true;
			pthread_cond_wait(&w->cv_slot_ready, &w->mu);
			w->writer_waiting = false;
		}
		pthread_mutex_unlock(&w->mu);
		end = s->end;
		if (s->err < 0)
			return s->err;
		if (!end && s->zero) {
			st->zero_grains++;
		} else if (!end) {
			if ((r = put_grain(w, g, s)) < 0)
				return r;
			st->data_grains++;
		}
		pthread_mutex_lock(&w->mu);
		s->ready = false;
		w->written_seq++;
		if (w->free_waiters)
			pthread_cond_broadcast(&w->cv_slot_free);
		pthread_mutex_unlock(&w->mu);
		if (end)
			return 0;
	}
}

/* The last grain table, the grain directory, the footer and the
 * end-of-stream marker. */
static int write_tail(struct writer *w, struct gtables *g)
{
	struct vmdk_header h;
	unsigned char blk[VMDK_SECTOR];
	uint64_t gd_off;
	int r;

	if (g->cur_gt != UINT64_MAX && (r = emit_gt(w, g->gt, g->gd, g->cur_gt)) < 0)
		return r;
	if ((r = emit_marker(w, g->gd_sectors, VMDK_MARKER_GD)) < 0)
		return r;
	gd_off = w->opos / VMDK_SECTOR;
	if ((r = emit(w, g->gd, g->ngts * 4)) < 0)
		return r;
	if ((r = emit_marker(w, 1, VMDK_MARKER_FOOTER)) < 0)
		return r;
	make_header(&h, g->capacity, gd_off);
	vmdk_format_header(&h, blk);
	if ((r = emit(w, blk, sizeof(blk))) < 0)
		return r;
	memset(blk, 0, sizeof(blk)); /* end-of-stream marker */
	if ((r = emit(w, blk, sizeof(blk))) < 0)
		return r;
	return flush_out(w);
}

int vmdk_write_stream(int in_fd, int out_fd, const struct vmdk_write_opts *opts,
		      struct vmdk_write_stats *st)
{
	struct vmdk_write_opts o = *opts;
	struct writer w;
	struct gtables g = { .cur_gt = UINT64_MAX };
	pthread_t *tids = NULL;
	int nthreads = 0, r;

	memset(&w, 0, sizeof(w));
	memset(st, 0, sizeof(*st));
	r = input_size(in_fd, &w.size);
	if (r == 0)
		r = resolve_opts(&o);
	if (r < 0)
		return r;
	w.in_fd = in_fd;
	w.out_fd = out_fd;
	w.level = o.level;
	g.capacity = (w.size + VMDK_SECTOR - 1) / VMDK_SECTOR;
	w.ngrains = (g.capacity + VMDK_GRAIN_SECTORS - 1) / VMDK_GRAIN_SECTORS;
	g.ngts = (w.ngrains + VMDK_GTES_PER_GT - 1) / VMDK_GTES_PER_GT;
	g.gd_sectors = (g.ngts * 4 + VMDK_SECTOR - 1) / VMDK_SECTOR;
	if (g.capacity > (1ull << 32) * 64) /* 32-bit sector offsets in GTEs */
		return -EFBIG;
	w.nslots = (unsigned)o.threads * NSLOTS_PER_THREAD;
	r = writer_alloc(&w, &g, o.threads, &tids);
	if (r < 0)
		goto out_free;
	if (ftruncate(out_fd, 0) < 0 || lseek(out_fd, 128 * VMDK_SECTOR, SEEK_SET) < 0) {
		r = -errno;
		goto out_free;
	}
	w.opos = 128 * VMDK_SECTOR;
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv_slot_free, NULL);
	pthread_cond_init(&w.cv_slot_ready, NULL);
	nthreads = start_workers(&w, tids, o.threads);
	if (nthreads > 0)
		r = write_grains(&w, &g, st);
	stop_workers(&w, tids, nthreads);
	if (nthreads == 0 && r == 0)
		r = -EAGAIN;
	if (r == 0)
		r = write_tail(&w, &g);
	if (r < 0)
		goto out_destroy;
	/* The CID names the content: derived from every data grain's CRC and
	 * LBA and the capacity, never random, never the reserved ffffffff. */
	g.cid = libdeflate_crc32(g.cid, &g.capacity, sizeof(g.capacity));
	if (g.cid >= 0xfffffffeu)
		g.cid ^= 0x10u;
	r = write_head(out_fd, g.capacity, g.cid, &o, st->data_grains);
	if (r < 0)
		goto out_destroy;
	st->capacity_bytes = g.capacity * VMDK_SECTOR;
	st->out_bytes = w.opos;
	st->cid = g.cid;
out_destroy:
	pthread_cond_destroy(&w.cv_slot_ready);
	pthread_cond_destroy(&w.cv_slot_free);
	pthread_mutex_destroy(&w.mu);
out_free:
	writer_free(&w, &g, tids);
	return r;
}
