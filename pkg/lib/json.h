/* SPDX-License-Identifier: MIT */
/* json.h - a streaming JSON writer into a struct buf, and a small reader
 * that extracts string members from one flat request object.
 *
 * The writer inserts commas itself; strings are binary safe: control bytes
 * are escaped and bytes that are not valid UTF-8 become U+FFFD, so any
 * input yields valid JSON.
 */
#ifndef MGMT_JSON_H
#define MGMT_JSON_H

#include <stddef.h>

#include "buf.h"

#define JW_MAX_DEPTH 32

struct jw {
	struct buf *b; /* not owned */
	int depth;
	int after_key;
	unsigned char first[JW_MAX_DEPTH];
};

void jw_init(struct jw *w, struct buf *b);
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s); /* NULL writes null */
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, long long v);
void jw_bool(struct jw *w, int v);
void jw_null(struct jw *w);
/* Convenience: key + value. */
void jw_kstr(struct jw *w, const char *key, const char *s);
void jw_kint(struct jw *w, const char *key, long long v);
void jw_kbool(struct jw *w, const char *key, int v);

/* Append s (n bytes) as a quoted JSON string. */
void json_put_string(struct buf *b, const char *s, size_t n);

/* Validate that text (len bytes) is one JSON object and return the string
 * member named key as a malloc'd NUL-terminated string in *out (caller
 * frees). Returns 0, -SPACE_E_FORMAT for malformed JSON or a string holding
 * U+0000, -ENOENT when the key is absent, -EINVAL when it is not a string,
 * -ENOMEM. Nesting deeper than JW_MAX_DEPTH is malformed. */
int json_get_string(const char *text, size_t len, const char *key, char **out);
/* The same for a boolean member: *out 1 (true) or 0 (false); -EINVAL when
 * it is not a boolean. */
int json_get_bool(const char *text, size_t len, const char *key, int *out);

#endif
