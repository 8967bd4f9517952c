/* SPDX-License-Identifier: MIT */
/* upgstatus.c - the upgrade status file; see upgstatus.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "kv.h"
#include "upgstatus.h"

/* The members in file order: a string (str) or a number (num). */
#define S_STR(k, f)                                                                       \
	{                                                                                 \
		k, offsetof(struct upg_status, f), sizeof(((struct upg_status *)0)->f), 0 \
	}
#define S_NUM(k, f, max)                                  \
	{                                                 \
		k, offsetof(struct upg_status, f), 0, max \
	}
static const struct member {
	const char *key;
	size_t off, len; /* len 0: a long long */
	long long max;
} members[] = {
	S_STR("state", state),
	S_STR("release", release),
	S_STR("from", from),
	S_STR("slot", slot),
	S_NUM("progress", progress, 100),
	S_NUM("started", started, 1LL << 40),
	S_NUM("finished", finished, 1LL << 40),
	S_STR("reason", reason),
	S_STR("log", log),
};
#define NMEMBERS (sizeof(members) / sizeof(members[0]))

void upg_status_init(struct upg_status *s)
{
	memset(s, 0, sizeof(*s));
	s->progress = s->started = s->finished = -1;
}

static int load_cb(void *ctx, const char *key, const char *v, int line)
{
	char *base = ctx;

	(void)line;
	for (size_t i = 0; i < NMEMBERS; i++) {
		const struct member *m = &members[i];
		if (strcmp(key, m->key))
			continue;
		if (m->len)
			snprintf(base + m->off, m->len, "%s", v);
		else if (kv_int(v, 0, m->max, 0, (long long *)(base + m->off)) < 0)
			*(long long *)(base + m->off) = -1;
	}
	return 0; /* keys of a later contract are not an error */
}

int upg_status_load(const char *path, struct upg_status *s, int *line)
{
	int r;

	*line = 0;
	r = kv_parse_file(path, UPGSTATUS_MAX, load_cb, s, line);
	if (r == -ENOENT) {
		snprintf(s->state, sizeof(s->state), "idle");
		return 0;
	}
	return r;
}

void upg_status_format(struct buf *b, const struct upg_status *s)
{
	buf_puts(b, "# spacectl upgrade: the state of the last upgrade (pkg/spacectl/UPGRADE.md)\n");
	for (size_t i = 0; i < NMEMBERS; i++) {
		const struct member *m = &members[i];
		if (m->len) {
			kv_line(b, m->key, (const char *)s + m->off);
		} else {
			long long v = *(const long long *)((const char *)s + m->off);
			buf_printf(b, "%s = %lld\n", m->key, v < 0 ? 0 : v);
		}
	}
}

void upg_status_json(struct jw *w, const struct upg_status *s)
{
	for (size_t i = 0; i < NMEMBERS; i++) {
		const struct member *m = &members[i];
		if (m->len) {
			jw_kstr(w, m->key, (const char *)s + m->off);
		} else {
			long long v = *(const long long *)((const char *)s + m->off);
			jw_key(w, m->key);
			if (v < 0)
				jw_null(w);
			else
				jw_int(w, v);
		}
	}
}
