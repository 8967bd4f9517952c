/* SPDX-License-Identifier: MIT */
/* kv.h - the KEY=VALUE text format shared by every configuration file of
 * the management services (the watchdog.d/NAME.conf files, /etc/mgmtd.conf,
 * /etc/space-release, the control-socket replies).
 *
 * One "key = value" per line; blank lines and lines starting with '#' are
 * ignored; whitespace around key and value is trimmed; a value may be
 * wrapped in double quotes (removed). Keys are [A-Za-z0-9_.-]+.
 */
#ifndef MGMT_KV_H
#define MGMT_KV_H

#include <stddef.h>

/* Called once per entry; returns 0 to continue or a negative errno, which
 * kv_parse() returns. key and value are NUL-terminated and only valid for
 * the duration of the call. */
typedef int (*kv_cb)(void *ctx, const char *key, const char *value, int line);

/* Parse text (len bytes, may hold NULs: they are a format error). On error
 * *errline (if non-NULL) is the 1-based line. Returns 0, -SPACE_E_FORMAT or
 * the callback's error. */
int kv_parse(const char *text, size_t len, kv_cb cb, void *ctx, int *errline);

/* kv_parse() of a file, at most max bytes. */
int kv_parse_file(const char *path, size_t max, kv_cb cb, void *ctx, int *errline);

/* Split a command line into a NULL-terminated argv: whitespace separates
 * words; '...' and "..." quote; backslash escapes the next character
 * outside single quotes. No shell expansion of any kind. Returns the word
 * count (>= 1) or -SPACE_E_FORMAT (unterminated quote, empty), -ENOMEM.
 * Free with kv_argv_free(). */
int kv_split_argv(const char *s, char ***argv);
void kv_argv_free(char **argv);

/* Parse a decimal integer in [min, max] ("10", "-3"); optional unit suffix
 * for durations when units is non-zero: s, m, h, d (seconds). Returns 0 or
 * -SPACE_E_FORMAT / -ERANGE. */
int kv_int(const char *s, long long min, long long max, int units, long long *out);

/* Parse a boolean: yes/no, true/false, 1/0, on/off. */
int kv_bool(const char *s, int *out);

/* Walk "k=v k2=v2" fields of one record line: returns 1 and fills
 * key/value (malloc'd, caller frees) per field, 0 at the end, negative on
 * malformed input. Values may be double-quoted with backslash escapes;
 * *pos is the cursor (start at 0). kv_quote() writes the form this reads. */
int kv_field_next(const char *line, size_t *pos, char **key, char **value);
/* Append value, quoted if needed, to b. */
struct buf;
void kv_quote(struct buf *b, const char *value);
/* Append a "key = value" line for a KEY = VALUE file: the value made one
 * line without quotes or control characters (each becomes '), since the
 * file format has no escapes. */
void kv_line(struct buf *b, const char *key, const char *value);

#endif
