/* SPDX-License-Identifier: MIT */
/* strescape.h - outside text made safe for a log or report line.
 *
 * Names that come from outside (a user name typed at a login, a member name
 * in a package) must not carry terminal escapes or newlines into a log, and
 * two different names must never print the same. str_escape() keeps the
 * printable ASCII bytes and writes every other byte, and the backslash
 * itself, as "\xNN": one-to-one, and nothing a terminal acts on. With
 * STR_ESCAPE_SPACE the space is escaped too, so the result is one word of a
 * space-separated log line.
 */
#ifndef SPACE_STRESCAPE_H
#define SPACE_STRESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* Text of the marker that ends a cut copy; the escaping never produces a
 * backslash before anything but 'x', so it cannot be mistaken for input. */
#define STR_ESCAPE_CUT "\\..."

#define STR_ESCAPE_SPACE 1u

/* Escape n bytes of src into dst (dsz > sizeof STR_ESCAPE_CUT, always
 * NUL-terminated). When the whole does not fit, the copy stops at an escape
 * boundary and ends in STR_ESCAPE_CUT. Returns how many bytes of src were
 * written: n when all of it fit. */
size_t str_escape(char *dst, size_t dsz, const void *src, size_t n, unsigned flags);

/* Does s hold no control byte (below 0x20, or 0x7f)? With
 * STR_PRINTABLE_ASCII, no byte above 0x7e either (no UTF-8). */
#define STR_PRINTABLE_ASCII 1u
bool str_printable(const char *s, unsigned flags);

/* Copy s into buf (n bytes, NUL-terminated, cut to fit) with every control
 * byte made '?': the lossy one-line form of a name in a message, where
 * str_escape() is the one-to-one form. Returns buf. */
const char *str_sanitize(const char *s, char *buf, size_t n);

#endif
