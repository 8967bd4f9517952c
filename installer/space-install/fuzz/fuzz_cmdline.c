/* SPDX-License-Identifier: MIT */
/* fuzz_cmdline.c - libFuzzer target: the installer's kernel command line
 * parser (inst_cmdline_parse: space.action=, space.disk=, space.after=),
 * outside input typed at GRUB's prompt. Beyond not crashing: a parse that
 * succeeds gives a known action and after, and a disk name that is one
 * printable word of under 64 bytes; a refusal gives a one-line reason of
 * printable bytes (the word is escaped); the same text parses the same
 * way twice. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "installer/space-install/cmdline.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inst_cmdline c, c2;
	struct space_err e = { "" }, e2 = { "" };
	int r = inst_cmdline_parse((const char *)data, size, &c, &e);
	int r2 = inst_cmdline_parse((const char *)data, size, &c2, &e2);

	if (r != r2 || strcmp(e.msg, e2.msg))
		abort();
	if (r < 0) {
		if (r != -SPACE_E_FORMAT || !e.msg[0])
			abort();
		for (const char *p = e.msg; *p; p++)
			if (!isprint((unsigned char)*p))
				abort();
		return 0;
	}
	if (r != 0 || c.action > ACT_RESCUE || c.after > AFTER_POWEROFF || !c.disk[0] ||
	    strlen(c.disk) >= sizeof(c.disk) || c.action != c2.action || c.after != c2.after ||
	    strcmp(c.disk, c2.disk))
		abort();
	for (const char *p = c.disk; *p; p++)
		if (!isgraph((unsigned char)*p))
			abort();
	return 0;
}
