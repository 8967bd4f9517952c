/* SPDX-License-Identifier: MIT */
/* sums.c - the checksum list format and the parallel file hashing; see
 * sums.h. The list comes from a download: every length is checked and
 * nothing assumes NUL termination. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "digest_fd.h"
#include "openreg.h"
#include "sums.h"
#include "util.h"

int sums_add(struct sums_list *l, const char *name, const unsigned char sha256[32])
{
	if (!ova_name_is_plain(name))
		return -SPACE_E_FORMAT;
	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->e[i].name, name) == 0)
			return -EEXIST;
	if (l->n >= SUMS_MAX_FILES)
		return -E2BIG;
	snprintf(l->e[l->n].name, sizeof(l->e[l->n].name), "%s", name);
	memcpy(l->e[l->n].sha256, sha256, 32);
	l->n++;
	return 0;
}

/* One line without its newline, [p, nl): "<hex>  <name>". NULL or why not. */
static const char *parse_line(struct sums_list *l, const char *p, const char *nl)
{
	char name[OVA_NAME_MAX + 1];
	unsigned char md[32];
	size_t namelen;

	if (nl - p < SUMS_HEX + 3)
		return "expected <64 hex digits>  <file name>";
	if (hex_decode(p, sizeof(md), md) < 0)
		return "digest is not 64 lowercase hex digits";
	if (p[SUMS_HEX] != ' ' || p[SUMS_HEX + 1] != ' ')
		return "expected two spaces after the digest";
	namelen = (size_t)(nl - p) - SUMS_HEX - 2;
	if (namelen > OVA_NAME_MAX)
		return "file name too long";
	/* a NUL would cut the name short of what sha256sum -c reads */
	if (memchr(p + SUMS_HEX + 2, '\0', namelen))
		return "not a plain file name (path, space or control character)";
	memcpy(name, p + SUMS_HEX + 2, namelen);
	name[namelen] = '\0';
	switch (sums_add(l, name, md)) {
	case 0: return NULL;
	case -EEXIST: return "file listed twice";
	case -E2BIG: return "too many files";
	default: return "not a plain file name (path, space or control character)";
	}
}

int sums_parse(const char *text, size_t len, struct sums_list *l, struct space_err *err)
{
	const char *p = text, *end = text + len, *why = NULL;
	unsigned lineno = 0;

	l->n = 0;
	if (len == 0 || len > SUMS_MAX_BYTES)
		return err_set(err, -SPACE_E_FORMAT, len ? "longer than %u bytes (%u files)" : "list is empty",
			       (unsigned)SUMS_MAX_BYTES, SUMS_MAX_FILES);
	while (!why && p < end) {
		size_t room = (size_t)(end - p) < SUMS_LINE_MAX ? (size_t)(end - p) : SUMS_LINE_MAX;
		const char *nl = memchr(p, '\n', room);

		lineno++;
		if (!nl) {
			why = room == SUMS_LINE_MAX ? "line too long" : "last line lacks a newline";
			break;
		}
		why = parse_line(l, p, nl);
		p = nl + 1;
	}
	if (why)
		return err_set(err, -SPACE_E_FORMAT, "line %u: %s", lineno, why);
	return 0;
}

int sums_format(const struct sums_list *l, char **out, size_t *outlen)
{
	char *t = malloc((size_t)l->n * SUMS_LINE_MAX + 1);
	size_t n = 0;

	if (!t)
		return -ENOMEM;
	t[0] = '\0';
	for (unsigned i = 0; i < l->n; i++) {
		hex_encode(l->e[i].sha256, 32, t + n);
		n += SUMS_HEX;
		n += (size_t)sprintf(t + n, "  %s\n", l->e[i].name);
	}
	*out = t;
	*outlen = n;
	return 0;
}

int sums_companion(char *out, const char *list_name, const char *suffix)
{
	int n = snprintf(out, OVA_NAME_MAX + 1, "%s%s", list_name, suffix);

	return n < 0 || n > OVA_NAME_MAX ? -ENAMETOOLONG : 0;
}

bool sums_list_name_ok(const char *name)
{
	char c[OVA_NAME_MAX + 1];

	return ova_name_is_plain(name) && sums_companion(c, name, SUMS_CHAIN_SUFFIX) == 0 &&
	       sums_companion(c, name, SUMS_CERT_SUFFIX) == 0;
}

struct hash_job {
	int dfd;
	const char *const *names;
	unsigned n, next;
	struct sums_hash *res;
};

static void hash_one(int dfd, const char *name, struct sums_hash *h)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0;
	int fd = open_regular(dfd, name, O_RDONLY, 0, 0);

	if (fd < 0) {
		h->err = fd;
		return;
	}
	/* GBs read once, front to back: ask for a large readahead */
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	h->err = space_digest_fd(fd, "SHA256", md, &mdlen);
	if (h->err == 0)
		memcpy(h->sha256, md, sizeof(h->sha256));
	close(fd);
}

/* Each worker takes the next file until none is left: one large file
 * does not hold up the others. */
static void *hash_worker(void *arg)
{
	struct hash_job *j = arg;
	unsigned i;

	while ((i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < j->n)
		hash_one(j->dfd, j->names[i], &j->res[i]);
	return NULL;
}

void sums_hash_files(int dfd, const char *const names[], unsigned n, unsigned threads, struct sums_hash *res)
{
	struct hash_job job = { .dfd = dfd, .names = names, .n = n, .res = res };
	pthread_t tid[SUMS_MAX_THREADS];
	unsigned started = 0;

	if (threads > n)
		threads = n;
	if (threads > SUMS_MAX_THREADS)
		threads = SUMS_MAX_THREADS;
	/* the calling thread is one of the workers, and does whatever a thread
	 * that could not start would have done */
	while (started + 1 < threads && pthread_create(&tid[started], NULL, hash_worker, &job) == 0)
		started++;
	hash_worker(&job);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
}
