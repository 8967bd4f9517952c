/* SPDX-License-Identifier: MIT */
/* fuzz_dep5.c - libFuzzer target: the deb822 parser, the DEP-5 reading
 * and the license mapping (image/sbom), which read the control data and
 * copyright files of Debian packages. Beyond not crashing: the expression
 * of a machine-readable file holds only the characters of SPDX
 * expressions, and each LicenseRef it reports is a valid SPDX id. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/sbom/dep5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_idchars(const char *s, size_t n)
{
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-") < n)
		abort();
}

static int check_ref(const char *id, const char *name, void *ctx)
{
	const struct dep5 *c = ctx;

	(void)dep5_license_text(c, name);
	if (strncmp(id, "LicenseRef-", 11) != 0)
		abort();
	check_idchars(id, strlen(id));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dep5 c;
	struct buf out;

	if (dep5_parse((const char *)data, size, &c) < 0)
		return 0;
	buf_init(&out);
	if (dep5_file_spdx(&c, "pkg+x", &out, check_ref, &c) == 0 && out.p &&
	    strspn(out.p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-+() ") != out.len)
		abort();
	buf_free(&out);
	dep5_free(&c);
	return 0;
}
