/* SPDX-License-Identifier: MIT */
/* fuzz_upload_name.c - libFuzzer target: the name rules of the files an
 * admin uploads (the last part of PUT upgrade/image/NAME and PUT
 * hotpatch/bundle/NAME, outside input checked before a file is created):
 * upgrade_name_ok() and hotpatch_name_ok(). Beyond not crashing: a name
 * either accepts is a plain file name (no '/', not "." or "..", no control
 * byte, shorter than UPG_NAME_MAX) with its kind's suffix, no name is both,
 * and a bundle name is exactly what hp_bundle_name() writes for its
 * release and level. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/mgmtd/hotpatch.h"
#include "pkg/mgmtd/upgrade.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void plain(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	if (n >= UPG_NAME_MAX || n <= s || strcmp(name + n - s, suffix) || strchr(name, '/') ||
	    strstr(name, ".."))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] <= 0x20 || name[i] == 0x7f)
			abort();
}

/* The release and level a bundle name says, made into a name again. */
static void canonical(const char *name)
{
	const char *m = strstr(name, "-Hotpatch-v"), *dash = strchr(name, '-');
	char rel[REL_VERSION_MAX], again[HP_NAME_MAX];
	unsigned long level;

	if (!m || !dash || m <= dash || (size_t)(m - dash - 1) >= sizeof(rel))
		abort();
	memcpy(rel, dash + 1, (size_t)(m - dash - 1));
	rel[m - dash - 1] = '\0';
	level = strtoul(m + 11, NULL, 10);
	if (level < 1 || level > HP_MAX_LEVEL || hp_bundle_name(again, PRODUCT, rel, (unsigned)level) < 0 ||
	    strncmp(again, name, strlen(again)) || strcmp(name + strlen(again), ".tgz"))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[256];
	int img, tgz;

	if (size >= sizeof(name))
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	img = upgrade_name_ok(name);
	tgz = hotpatch_name_ok(name);
	if (img && tgz)
		abort();
	if (img)
		plain(name, ".img");
	if (tgz) {
		plain(name, ".tgz");
		canonical(name);
	}
	return 0;
}
