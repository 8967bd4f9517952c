/* SPDX-License-Identifier: MIT */
/* test_devgate.c - the device line protocol (pkg/devgate/proto.c): framing
 * across receives, CRLF, the HELLO name rules, the line bound. */
#include <string.h>

#include "pkg/devgate/proto.h"
#include "tap.h"

/* Receive s (n bytes) in one piece. */
static void feed(struct dg_in *in, const char *s, size_t n)
{
	size_t room;
	char *at = dg_space(in, &room);

	if (n > room)
		n = room;
	memcpy(at, s, n);
	dg_filled(in, n);
}

static enum dg_event one(const char *s, size_t n)
{
	struct dg_in in = { 0 };

	feed(&in, s, n);
	return dg_next(&in);
}

static void test_framing(void)
{
	struct dg_in in = { 0 };

	feed(&in, "HEL", 3);
	is_int(dg_next(&in), DG_MORE, "half a line: more");
	feed(&in, "LO sw-1.core_2\r\nPING\nPI", 23);
	is_int(dg_next(&in), DG_HELLO, "HELLO split over two receives, CRLF");
	ok(!strcmp(in.name, "sw-1.core_2") && in.greeted, "name kept: %s", in.name);
	is_int(dg_next(&in), DG_PING, "second line of the receive: PING");
	is_int(dg_next(&in), DG_MORE, "the partial third line waits");
	feed(&in, "NG\nstatus 1\nQUIT\n", 17);
	is_int(dg_next(&in), DG_PING, "... and completes");
	is_int(dg_next(&in), DG_OTHER, "an unknown line after HELLO is ignored");
	is_int(dg_next(&in), DG_QUIT, "QUIT");
	is_int(in.len, 0, "everything consumed");
}

static void test_hello(void)
{
	char name[80] = "HELLO ";

	is_int(one("PING\n", 5), DG_BAD_HELLO, "PING before HELLO");
	is_int(one("HELLO \n", 7), DG_BAD_HELLO, "empty name");
	is_int(one("HELLO a b\n", 10), DG_BAD_HELLO, "space in the name");
	is_int(one("HELLO a/b\n", 10), DG_BAD_HELLO, "slash in the name");
	/* A NUL ended the name early when lines were C strings: "a" was welcomed. */
	is_int(one("HELLO a\0junk\n", 13), DG_BAD_HELLO, "NUL inside the name");
	is_int(one("HELLO\n", 6), DG_BAD_HELLO, "HELLO without a name");
	memset(name + 6, 'n', 63);
	strcpy(name + 69, "\n");
	is_int(one(name, 70), DG_HELLO, "63-byte name accepted");
	memset(name + 6, 'n', 64);
	strcpy(name + 70, "\n");
	is_int(one(name, 71), DG_BAD_HELLO, "64-byte name refused");
}

static void test_bound(void)
{
	struct dg_in in = { 0 };
	char big[DG_LINE_MAX];
	size_t room;

	memset(big, 'x', sizeof(big));
	feed(&in, "HELLO d\n", 8);
	is_int(dg_next(&in), DG_HELLO, "greeted");
	big[DG_LINE_MAX - 1] = '\n';
	feed(&in, big, DG_LINE_MAX);
	is_int(dg_next(&in), DG_OTHER, "a line of DG_LINE_MAX bytes with its newline fits");
	big[DG_LINE_MAX - 1] = 'x';
	feed(&in, big, DG_LINE_MAX);
	dg_space(&in, &room);
	is_int(room, 0, "buffer full: no room");
	is_int(dg_next(&in), DG_TOO_LONG, "DG_LINE_MAX bytes without a newline: too long");
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/devgate/framing", test_framing },
		{ "/devgate/hello", test_hello },
		{ "/devgate/bound", test_bound },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
