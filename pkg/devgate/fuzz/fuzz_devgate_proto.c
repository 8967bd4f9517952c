/* SPDX-License-Identifier: MIT */
/* fuzz_devgate_proto.c - libFuzzer target: the device line protocol
 * (proto.c), the first code to see a device's bytes. The input is cut into
 * receives the way recv() may cut it: each chunk's length is the next input
 * byte. Beyond not crashing: the buffer never overflows its bound, a name
 * accepted by HELLO is 1..63 of [A-Za-z0-9._-], and a dropped device is
 * replaced by a fresh connection that reads the rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/devgate/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= DG_NAME_MAX || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
						    "0123456789._-") != n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dg_in in = { 0 };
	size_t i = 0;

	while (i < size) {
		size_t want = data[i++], room;
		char *at = dg_space(&in, &room);
		enum dg_event ev;

		if (want > size - i)
			want = size - i;
		if (want > room)
			want = room;
		memcpy(at, data + i, want);
		i += want;
		dg_filled(&in, want);
		while ((ev = dg_next(&in)) != DG_MORE) {
			if (in.len > DG_LINE_MAX)
				abort();
			if (ev == DG_HELLO)
				check_name(in.name);
			if (ev == DG_PING && !in.greeted)
				abort();
			if (ev == DG_BAD_HELLO || ev == DG_TOO_LONG || ev == DG_QUIT) {
				if (ev == DG_TOO_LONG && in.len != DG_LINE_MAX)
					abort();
				memset(&in, 0, sizeof(in));
				break;
			}
		}
	}
	return 0;
}
