/* SPDX-License-Identifier: MIT */
/* fuzz_json.c - libFuzzer target: the JSON reader (json_get_string,
 * json_get_bool), which parses the login body before any authentication
 * and the bodies of admin requests. Beyond not crashing: a
 * string it returns holds no NUL and no invalid UTF-8, so the writer
 * (json_put_string) writes it back unchanged and the reader reads the
 * writer's output back to the same bytes. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const char *v)
{
	struct buf b;
	char *back = NULL;

	buf_init(&b);
	buf_puts(&b, "{\"k\":");
	json_put_string(&b, v, strlen(v));
	buf_puts(&b, "}");
	if (buf_failed(&b) || json_get_string(b.p, b.len, "k", &back) != 0 || strcmp(back, v))
		abort();
	free(back);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "username", "password", "k" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *v = NULL;
		int r = json_get_string((const char *)data, size, keys[i], &v);

		if (r == 0) {
			if (!v)
				abort();
			round_trip(v);
		} else if (v || (r != -SPACE_E_FORMAT && r != -ENOENT && r != -EINVAL)) {
			abort();
		}
		free(v);
	}
	/* POST /upgrade's "reboot" (an admin's body, after authentication) */
	{
		int b = -1, r = json_get_bool((const char *)data, size, "reboot", &b);

		if (r == 0 ? (b != 0 && b != 1) : (b != -1 || (r != -SPACE_E_FORMAT && r != -ENOENT && r != -EINVAL)))
			abort();
	}
	return 0;
}
