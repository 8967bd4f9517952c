/* SPDX-License-Identifier: MIT */
/* release.c - release file and hot-patch marker inventory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kv.h"
#include "release.h"
#include "util.h"

static int rel_cb(void *ctx, const char *key, const char *value, int line)
{
	struct release *r = ctx;

	if (!strcmp(key, "PRODUCT"))
		snprintf(r->product, sizeof(r->product), "%s", value);
	else if (!strcmp(key, "VERSION"))
		snprintf(r->version, sizeof(r->version), "%s", value);
	else if (!strcmp(key, "BUILD_ID"))
		snprintf(r->build_id, sizeof(r->build_id), "%s", value);
	return 0;
}

int release_read(const char *path, struct release *rel)
{
	memset(rel, 0, sizeof(*rel));
	return kv_parse_file(path, 65536, rel_cb, rel, NULL);
}

/* ".Space-<release>-Hotpatch-v<N>" -> release, N */
static int parse_marker(const char *name, struct hotpatch *h)
{
	static const char pre[] = ".Space-", mid[] = "-Hotpatch-v";
	const char *m, *n;
	char *end;
	long v;

	if (strncmp(name, pre, sizeof(pre) - 1))
		return -1;
	m = strstr(name, mid);
	if (!m || m == name + sizeof(pre) - 1)
		return -1;
	n = m + sizeof(mid) - 1;
	if (*n < '0' || *n > '9')
		return -1;
	v = strtol(n, &end, 10);
	if (*end || v <= 0 || v > 100000)
		return -1;
	if ((size_t)(m - name - (sizeof(pre) - 1)) >= sizeof(h->release) ||
	    strlen(name + 1) >= sizeof(h->name))
		return -1;
	memset(h, 0, sizeof(*h));
	memcpy(h->release, name + sizeof(pre) - 1, (size_t)(m - name - (sizeof(pre) - 1)));
	strcpy(h->name, name + 1);
	h->number = (int)v;
	return 0;
}

static int read_packages(int dfd, const char *name, char ***out)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char buf[65536], **v = NULL;
	ssize_t len;
	size_t n = 0;
	char *p, *save = NULL;

	*out = NULL;
	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len < 0)
		return -errno;
	buf[len] = '\0';
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (p = strtok_r(buf, "\r\n", &save); p; p = strtok_r(NULL, "\r\n", &save)) {
		char **nv;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		nv = realloc(v, (n + 2) * sizeof(*v));
		if (!nv)
			goto nomem;
		v = nv;
		if (!(v[n] = strdup(p)))
			goto nomem;
		v[++n] = NULL;
	}
	*out = v;
	return 0;
nomem:
	kv_argv_free(v);
	return -ENOMEM;
}

static int hp_cmp(const void *a, const void *b)
{
	const struct hotpatch *x = a, *y = b;
	int c = strcmp(x->release, y->release);

	return c ? c : (x->number > y->number) - (x->number < y->number);
}

void hotpatch_free(struct hotpatch *v, int n)
{
	if (!v)
		return;
	for (int i = 0; i < n; i++)
		kv_argv_free(v[i].packages);
	free(v);
}

int hotpatch_list(const char *dir, struct hotpatch **out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct hotpatch *v = NULL, h, *nv;
	int n = 0, r;

	*out = NULL;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (parse_marker(e->d_name, &h) < 0)
			continue;
		if ((r = read_packages(dirfd(d), e->d_name, &h.packages)) < 0) {
			if (r == -ELOOP)
				continue; /* a symlink: not ours to follow */
			goto fail;
		}
		nv = realloc(v, (size_t)(n + 1) * sizeof(*v));
		if (!nv) {
			kv_argv_free(h.packages);
			r = -ENOMEM;
			goto fail;
		}
		v = nv;
		v[n++] = h;
	}
	closedir(d);
	if (n)
		qsort(v, (size_t)n, sizeof(*v), hp_cmp);
	*out = v;
	return n;
fail:
	closedir(d);
	hotpatch_free(v, n);
	return r;
}
