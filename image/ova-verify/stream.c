/* SPDX-License-Identifier: MIT */
/* stream.c - read-ahead ring; see stream.h. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"

#define RS_NBUF 4
#define RS_BUF (4u << 20)

struct rbuf {
	unsigned char *data;
	size_t len;
	int err; /* -errno from read(), reported when this buffer is reached */
	bool full, eof;
};

struct rstream {
	int fd;
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct rbuf b[RS_NBUF];
	unsigned rd, wr; /* consumer and producer buffer counters */
	size_t pos;      /* consumer offset in b[rd % RS_NBUF] */
	bool stop, started;
};

static void *reader(void *arg)
{
	struct rstream *rs = arg;

	/* cancellable only inside read(), never while holding the mutex */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	for (;;) {
		struct rbuf *b;
		size_t got = 0;
		int err = 0;

		pthread_mutex_lock(&rs->mu);
		while (!rs->stop && rs->wr - rs->rd >= RS_NBUF)
			pthread_cond_wait(&rs->cv, &rs->mu);
		if (rs->stop) {
			pthread_mutex_unlock(&rs->mu);
			return NULL;
		}
		b = &rs->b[rs->wr % RS_NBUF];
		pthread_mutex_unlock(&rs->mu);
		/* fill completely: consumers rely on 512-byte alignment holding
		 * across buffer boundaries */
		while (got < RS_BUF) {
			ssize_t k;

			pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
			k = read(rs->fd, b->data + got, RS_BUF - got);
			pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				err = -errno;
				break;
			}
			if (k == 0)
				break;
			got += (size_t)k;
		}
		pthread_mutex_lock(&rs->mu);
		b->len = got;
		b->err = err;
		b->eof = got < RS_BUF;
		b->full = true;
		rs->wr++;
		pthread_cond_broadcast(&rs->cv);
		pthread_mutex_unlock(&rs->mu);
		if (got < RS_BUF)
			return NULL;
	}
}

int rs_open(struct rstream **out, int fd)
{
	struct rstream *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return -ENOMEM;
	rs->fd = fd;
	for (int i = 0; i < RS_NBUF; i++) {
		rs->b[i].data = malloc(RS_BUF);
		if (!rs->b[i].data) {
			rs_close(rs);
			return -ENOMEM;
		}
	}
	pthread_mutex_init(&rs->mu, NULL);
	pthread_cond_init(&rs->cv, NULL);
	if (pthread_create(&rs->tid, NULL, reader, rs) != 0) {
		rs_close(rs);
		return -EAGAIN;
	}
	rs->started = true;
	*out = rs;
	return 0;
}

ssize_t rs_next(struct rstream *rs, size_t max, const unsigned char **p)
{
	struct rbuf *b;
	size_t n;

	pthread_mutex_lock(&rs->mu);
	for (;;) {
		b = &rs->b[rs->rd % RS_NBUF];
		while (rs->rd == rs->wr)
			pthread_cond_wait(&rs->cv, &rs->mu);
		if (rs->pos < b->len)
			break;
		if (b->err || b->eof) {
			int err = b->err;
			pthread_mutex_unlock(&rs->mu);
			return err;
		}
		/* this buffer is used up: hand it back to the reader */
		b->full = false;
		rs->rd++;
		rs->pos = 0;
		pthread_cond_broadcast(&rs->cv);
	}
	pthread_mutex_unlock(&rs->mu);
	n = b->len - rs->pos < max ? b->len - rs->pos : max;
	*p = b->data + rs->pos;
	rs->pos += n;
	return (ssize_t)n;
}

ssize_t rs_read(struct rstream *rs, void *dst, size_t n)
{
	size_t got = 0;

	while (got < n) {
		const unsigned char *p;
		ssize_t k = rs_next(rs, n - got, &p);
		if (k < 0)
			return k;
		if (k == 0)
			break;
		memcpy((unsigned char *)dst + got, p, (size_t)k);
		got += (size_t)k;
	}
	return (ssize_t)got;
}

void rs_close(struct rstream *rs)
{
	if (!rs)
		return;
	if (rs->started) {
		pthread_mutex_lock(&rs->mu);
		rs->stop = true;
		pthread_cond_broadcast(&rs->cv);
		pthread_mutex_unlock(&rs->mu);
		/* a reader blocked in read() on a pipe ends at the next data or EOF;
		 * cancel it instead of waiting for a writer that may never come */
		pthread_cancel(rs->tid);
		pthread_join(rs->tid, NULL);
		pthread_mutex_destroy(&rs->mu);
		pthread_cond_destroy(&rs->cv);
	}
	for (int i = 0; i < RS_NBUF; i++)
		free(rs->b[i].data);
	free(rs);
}
