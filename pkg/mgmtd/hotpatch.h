/* SPDX-License-Identifier: MIT */
/* hotpatch.h - the API job of hot patches (issue 9): a bundle
 * Space-<release>-Hotpatch-v<N>.tgz uploaded into upload_dir
 * (upload_bundle, upgrade.h), `hotpatch apply` started on it detached, and
 * the job read back from the tool's progress file (pkg/hotpatch/state.h),
 * so that the mgmtd the patch restarts still reports it. The API:
 * HOTPATCH.md.
 */
#ifndef MGMTD_HOTPATCH_H
#define MGMTD_HOTPATCH_H

#include <time.h>

#include "pkg/hotpatch/state.h"
#include "conf.h"
#include "upgrade.h"

/* Space-<release>-Hotpatch-v<N>.tgz exactly as hp_bundle_name() makes it
 * for this product: release a patch release (21.3R1, canonical), N in
 * 1..HP_MAX_LEVEL without leading zeros. */
int hotpatch_name_ok(const char *name);

/* Start `c->hotpatch apply [--reinstall] [--root R] path` (R: hotpatch_root
 * unless "/"), child_start(). */
int hotpatch_start(struct child_job *j, const struct mgmtd_conf *c, const char *path, const char *file,
		   int reinstall, const char *user, const char *output, time_t now);

#endif
