/* SPDX-License-Identifier: MIT */
/* proto.h - the device line protocol of devgate, apart from the sockets so
 * that the parser can be fuzzed (pkg/devgate/fuzz) and unit tested.
 *
 * The bytes a device sends are appended to a struct dg_in (dg_space, then
 * dg_filled); dg_next() then returns one event per complete line, ended by
 * "\n" or "\r\n". Until the device said "HELLO <name>" only that line is
 * valid; afterwards "PING" and "QUIT" mean something and any other line is
 * ignored, so newer devices can send more. A line never grows past
 * DG_LINE_MAX bytes: the device is dropped instead.
 */
#ifndef DEVGATE_PROTO_H
#define DEVGATE_PROTO_H

#include <stddef.h>

#define DG_LINE_MAX 256 /* bytes buffered for one line, newline included */
#define DG_NAME_MAX 64  /* a name is 1..63 of [A-Za-z0-9._-] */

struct dg_in {
	char buf[DG_LINE_MAX];
	size_t len;
	int greeted;            /* the HELLO arrived */
	char name[DG_NAME_MAX]; /* set by the HELLO */
};

enum dg_event {
	DG_MORE,  /* no complete line buffered: receive more */
	DG_HELLO, /* the greeting: name is set */
	DG_PING,
	DG_QUIT,
	DG_OTHER,     /* a line without meaning to this gate: ignore it */
	DG_BAD_HELLO, /* the first line is not a valid HELLO: drop */
	DG_TOO_LONG,  /* DG_LINE_MAX bytes without a newline: drop */
};

/* Where the next bytes go and how many fit (0 only after DG_TOO_LONG). */
char *dg_space(struct dg_in *in, size_t *room);
/* n bytes were written at dg_space(). */
void dg_filled(struct dg_in *in, size_t n);
/* The event of the next buffered line, which is consumed. */
enum dg_event dg_next(struct dg_in *in);

#endif
