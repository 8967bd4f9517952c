/* SPDX-License-Identifier: MIT */
/* hotpatch.c - the API job of hot patches: the bundle's name, the start of
 * `hotpatch apply`, the job as the tool's progress file tells it. */
#include <stdio.h>
#include <string.h>

#include "hotpatch.h"
#include "kv.h"

int hotpatch_name_ok(const char *name)
{
	static const char mid[] = "-Hotpatch-v";
	char rel[REL_VERSION_MAX], prel[REL_VERSION_MAX], canon[HP_NAME_MAX], num[8];
	size_t n = strnlen(name, UPG_NAME_MAX), rn, nn;
	const char *dash = strchr(name, '-'), *m = strstr(name, mid);
	long long level;

	if (n >= UPG_NAME_MAX || n < 5 || strcmp(name + n - 4, ".tgz") || !dash || !m || m <= dash)
		return 0;
	rn = (size_t)(m - dash - 1);
	nn = (size_t)(name + n - 4 - (m + sizeof(mid) - 1));
	if (!rn || rn >= sizeof(rel) || !nn || nn >= sizeof(num))
		return 0;
	memcpy(rel, dash + 1, rn);
	rel[rn] = '\0';
	memcpy(num, m + sizeof(mid) - 1, nn);
	num[nn] = '\0';
	/* the release must be a canonical patch release: it is its own cut */
	if (hp_patch_release(rel, prel) < 0 || strcmp(rel, prel) || num[strspn(num, "0123456789")] ||
	    kv_int(num, 1, HP_MAX_LEVEL, 0, &level) < 0)
		return 0;
	/* and the whole name the one the tool binds: product, case, no zeros */
	if (hp_bundle_name(canon, PRODUCT, rel, (unsigned)level) < 0)
		return 0;
	return strlen(canon) == n - 4 && !memcmp(canon, name, n - 4);
}

const struct upload_kind upload_bundle = { "bundle", "Space-<release>-Hotpatch-v<N>.tgz", hotpatch_name_ok };

int hotpatch_start(struct child_job *j, const struct mgmtd_conf *c, const char *path, const char *file,
		   int reinstall, const char *user, const char *output, time_t now)
{
	char *argv[7];
	int n = 0;

	argv[n++] = c->hotpatch;
	argv[n++] = (char *)"apply";
	if (reinstall)
		argv[n++] = (char *)"--reinstall";
	if (strcmp(c->hotpatch_root, "/")) { /* offline, for tests */
		argv[n++] = (char *)"--root";
		argv[n++] = c->hotpatch_root;
	}
	argv[n++] = (char *)path;
	argv[n] = NULL;
	return child_start(j, argv, file, reinstall, user, output, now);
}
