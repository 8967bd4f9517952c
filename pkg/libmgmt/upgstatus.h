/* SPDX-License-Identifier: MIT */
/* upgstatus.h - the upgrade status file (/var/lib/upgrade/status): the
 * contract between `spacectl upgrade`, which writes it, and mgmtd, which
 * reports it (pkg/spacectl/UPGRADE.md). One parser, one writer, one JSON
 * view for both. KEY = VALUE lines (kv.h); keys of a later contract are
 * ignored. Library code: no printing.
 */
#ifndef MGMT_UPGSTATUS_H
#define MGMT_UPGSTATUS_H

#define UPGSTATUS_MAX 4096 /* bytes of the file read */

struct upg_status {
	char state[16], release[64], from[64], slot[4], reason[512], log[256];
	long long progress, started, finished; /* -1: not given */
};

/* Every string empty, every number -1. */
void upg_status_init(struct upg_status *s);

/* Read the file at path into s (upg_status_init() first). An absent file
 * is state "idle" and returns 0; otherwise 0 or a negative errno /
 * -SPACE_E_FORMAT with the 1-based *line (0 if none). A number that is
 * not one (or progress over 100) stays -1. */
int upg_status_load(const char *path, struct upg_status *s, int *line);

/* The file's text for s into b: one KEY = VALUE line per member, strings
 * made one line without quotes (the format has no escapes), numbers < 0
 * written as 0. */
struct buf;
void upg_status_format(struct buf *b, const struct upg_status *s);

/* Its members into an open JSON object; a number not given is null. */
struct jw;
void upg_status_json(struct jw *w, const struct upg_status *s);

#endif
