/* SPDX-License-Identifier: MIT */
/* records.c - control-socket reply records to JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "records.h"
#include "util.h"

static void value(struct jw *w, const char *k, const char *v)
{
	char *end;
	long long n = strtoll(v, &end, 10);

	if (*v && !*end && strcmp(k, "name") && (v[0] != '0' || !v[1]) &&
	    (v[0] >= '0' && v[0] <= '9'))
		jw_int(w, n);
	else
		jw_str(w, v);
}

static int members(const char *line, size_t len, const char *skip, struct jw *w)
{
	char *one = strndup(line, len), *k, *v;
	size_t pos = 0;
	int x;

	if (!one)
		return -1;
	while ((x = kv_field_next(one, &pos, &k, &v)) == 1) {
		if (!skip || strcmp(k, skip)) {
			jw_key(w, k);
			value(w, k, v);
		}
		free(k);
		free(v);
	}
	free(one);
	return x;
}

int records_to_json(const char *reply, struct jw *w)
{
	const char *line = strchr(reply, '\n');
	int n = 0;

	jw_arr_begin(w);
	while (line && *++line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		jw_obj_begin(w);
		if (members(line, len, NULL, w) < 0) {
			jw_obj_end(w);
			jw_arr_end(w);
			return -SPACE_E_FORMAT;
		}
		jw_obj_end(w);
		n++;
		line = nl;
	}
	jw_arr_end(w);
	return n;
}

static int record_members_except(const char *reply, const char *skip, struct jw *w)
{
	const char *line = strchr(reply, '\n'), *nl;

	if (!line || !line[1])
		return 0;
	line++;
	nl = strchr(line, '\n');
	return members(line, nl ? (size_t)(nl - line) : strlen(line), skip, w) < 0 ? -SPACE_E_FORMAT : 1;
}

int record_members(const char *reply, struct jw *w)
{
	return record_members_except(reply, NULL, w);
}

int records_object(const char *reply, const char *list_key, struct jw *w)
{
	const char *second = strchr(reply, '\n');
	int r;

	jw_obj_begin(w);
	/* the first record may hold a field named like the list (devgate's
	 * "devices" count): a JSON object must not hold a key twice, and the
	 * list says how many */
	r = record_members_except(reply, list_key, w);
	jw_key(w, list_key);
	second = second ? strchr(second + 1, '\n') : NULL;
	/* records_to_json skips the line before its records */
	if (records_to_json(second ? second : "", w) < 0)
		r = -SPACE_E_FORMAT;
	jw_obj_end(w);
	return r < 0 ? r : 0;
}

void records_field(const char *rep, int n, const char *key, char *out, size_t outsz)
{
	const char *line = strchr(rep, '\n'), *nl;
	char *k, *v, *one;
	size_t pos = 0;

	out[0] = '\0';
	while (line && n-- > 0)
		line = strchr(line + 1, '\n');
	if (!line || !line[1])
		return;
	line++;
	nl = strchr(line, '\n');
	one = strndup(line, nl ? (size_t)(nl - line) : strlen(line));
	while (one && kv_field_next(one, &pos, &k, &v) == 1) {
		if (!strcmp(k, key))
			snprintf(out, outsz, "%s", v);
		free(k);
		free(v);
	}
	free(one);
}

int records_count(const char *rep)
{
	int n = 0;

	for (const char *p = strchr(rep, '\n'); p && p[1]; p = strchr(p + 1, '\n'))
		n++;
	return n;
}
