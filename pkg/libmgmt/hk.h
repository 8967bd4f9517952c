/* SPDX-License-Identifier: MIT */
/* hk.h - housekeeping: log rotation by size, purge by age, disk guard.
 *
 * Run periodically by the watchdog and on demand by `spacectl logs purge`.
 * Directories are walked with openat()/O_NOFOLLOW, never following a
 * symlink or leaving the filesystem of the walked directory, because /tmp
 * is writable by anyone and the walker runs as root. Warnings go through
 * space_log().
 */
#ifndef MGMT_HK_H
#define MGMT_HK_H

#include <time.h>

struct hk_policy {
	const char *log_dir;   /* rotate "*.log" below it (NULL: skip logs) */
	long long rotate_size; /* bytes; a log larger than this is rotated */
	int rotate_keep;       /* rotated generations kept: x.log.1 .. x.log.N */
	long purge_age;        /* seconds: rotated logs older than this go */
	const char *tmp_dir;   /* NULL: skip */
	long tmp_age;          /* seconds: stale temporary files */
	int high_pct;          /* guard: filesystem use at or above this % */
	long long log_max;     /* guard: byte budget of log_dir (0: none) */
	long long tmp_max;     /* guard: byte budget of tmp_dir (0: none) */
};

struct hk_report {
	int rotated;         /* logs rotated */
	int purged_logs;     /* rotated logs deleted by age */
	int purged_tmp;      /* stale tmp files deleted */
	int guard_deleted;   /* files deleted or truncated by the guard, */
	int guard_logs;      /* of which: rotated logs deleted for size, */
	int guard_truncated; /* live logs truncated for size, */
	int guard_tmp;       /* tmp files deleted for size */
	int warnings;        /* guard conditions that remain after purging */
	long long freed;     /* bytes */
};

/* Default policy for the appliance paths. */
void hk_policy_default(struct hk_policy *p);
/* Load "key = value" overrides (log_dir, rotate_size, rotate_keep,
 * purge_age, tmp_dir, tmp_age, high_pct, log_max, tmp_max). Strings are
 * malloc'd and owned by *store (free with hk_policy_free). */
struct hk_store {
	char *log_dir, *tmp_dir;
};
int hk_policy_load(const char *path, struct hk_policy *p, struct hk_store *store, int *errline);
void hk_policy_free(struct hk_store *store);

int hk_rotate(const struct hk_policy *p, struct hk_report *rep);
int hk_purge(const struct hk_policy *p, time_t now, struct hk_report *rep);
int hk_guard(const struct hk_policy *p, time_t now, struct hk_report *rep);
/* rotate + purge + guard; returns the first error (and still runs all). */
int hk_run(const struct hk_policy *p, time_t now, struct hk_report *rep);

/* Rotate one log file now (used by daemons for their own logs):
 * path.(keep-1) -> path.keep ... path -> path.1. */
int hk_rotate_file(const char *path, int keep);

#endif
