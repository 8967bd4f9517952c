/* SPDX-License-Identifier: MIT */
/* state.h - what a node records about its hot patches, and the reader that
 * the hotpatch tool, mgmtd (GET /api/v1/hotpatches) and spacectl (show
 * hotpatches) share. Paths are below a root ("/" on a node, DIR with
 * `hotpatch --root DIR`):
 *
 *   etc/.Space-<release>-Hotpatch-v<N>   marker of each installed level (in
 *                        the slot, beside the files it describes: an A/B
 *                        upgrade brings a slot without them). One line per
 *                        package the level installed: "<name> <version>-<release>".
 *                        Levels accumulate (v1, v2, ...); the highest one of
 *                        the running release is the installed level.
 *   var/lib/hotpatch/    (HP_STATE_DIR) the tool's state, on the data partition
 *     lock               flock()ed by every hotpatch run that changes anything
 *     journal            KEY = VALUE: the operation in progress; absent when
 *                        idle (keys below, HP_J_*)
 *     applied            the verified manifest of the installed level (fixes
 *                        and packages for the inventory); absent at level 0
 *     backup/            the root's state before the installed level, for a
 *                        failed apply and for `hotpatch rollback`:
 *                        backup/index (HP_BACKUP_INDEX) and backup/files/
 *     history            one line per finished operation, oldest first, at
 *                        most HP_HISTORY_MAX (older ones dropped):
 *                        "<epoch> <action> <from> <to> <result> <reason...>"
 *                        action: apply | reinstall | rollback | recover
 *                        result: ok | failed | rolled-back
 *     progress           KEY = VALUE: the last or current operation, read by
 *                        the API job (keys HP_P_*), rewritten at each step
 *   var/log/hotpatch/hotpatch.log   every step with its time (support bundle)
 *
 * Writers replace a file by temp + fsync + rename (+ fsync of the dir).
 */
#ifndef SPACE_HOTPATCH_STATE_H
#define SPACE_HOTPATCH_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "manifest.h"

#define HP_STATE_DIR "var/lib/hotpatch"
#define HP_LOG_DIR "var/log/hotpatch"
#define HP_LOG_FILE "var/log/hotpatch/hotpatch.log"
#define HP_MARKER_DIR "etc"
#define HP_HISTORY_MAX 64
#define HP_REASON_MAX 256

/* journal keys */
#define HP_J_ACTION "action"                /* apply | reinstall | rollback */
#define HP_J_NAME "name"                    /* Space-...-vN of the level being installed or left */
#define HP_J_RELEASE "release"              /* the node's release (space-release VERSION) */
#define HP_J_BUILD "build"                  /* the node's build id: a journal of another slot is left alone */
#define HP_J_FROM "from"                    /* level before */
#define HP_J_TO "to"                        /* level after success */
#define HP_J_STEP "step"                    /* the step reached (hotpatch.c's table) */
#define HP_J_BLOCKED "devices-were-blocked" /* 0|1: restore this, not "open" */

/* progress keys */
#define HP_P_ACTION "action"
#define HP_P_NAME "name"
#define HP_P_STATE "state"       /* running | ok | failed | rolled-back; the reader
                                  shows "interrupted" for a running one whose pid is gone */
#define HP_P_STEP "step"         /* "<n>/<total> <step name>" */
#define HP_P_MESSAGE "message"   /* the last line printed */
#define HP_P_STARTED "started"   /* epoch */
#define HP_P_FINISHED "finished" /* epoch, 0 while running */
#define HP_P_PID "pid"

struct hp_history {
	time_t time;
	char action[16];
	unsigned from, to;
	char result[16];
	char reason[HP_REASON_MAX];
};

struct hp_progress {
	bool present;
	char action[16], name[HP_NAME_MAX], state[16], step[48], message[HP_REASON_MAX];
	time_t started, finished;
	long pid;
};

struct hp_status {
	char release[REL_VERSION_MAX]; /* the node's release, "" if unknown */
	unsigned level;                /* installed level, 0: none */
	char name[HP_NAME_MAX];        /* its bundle name, "" at level 0 */
	struct hp_manifest *applied;   /* NULL if none or unreadable (malloc'd) */
	bool in_progress;              /* a journal exists */
	char action[16], step[32];     /* from the journal */
	unsigned from, to;
	struct hp_history hist[HP_HISTORY_MAX];
	unsigned nhist;
	struct hp_progress progress;
};

/* Read everything above below root. Missing files are not errors (a node
 * never patched); an unreadable part is skipped. Returns 0, or a negative
 * errno when the release file cannot be read (err says so). Free with
 * hp_status_free(). */
int hp_status_read(const char *root, struct hp_status *st, struct space_err *err);
void hp_status_free(struct hp_status *st);

/* {"release","level","name","fixes":[{"level","id","text"}],
 *  "packages":[{"name","version"}],"in_progress":null|{"action","step","from","to"},
 *  "history":[{"time","action","from","to","result","reason"}],
 *  "job":null|{"action","name","state","step","message","started","finished"}} */
struct jw;
void hp_status_json(struct jw *w, const struct hp_status *st);

/* The installed level of release rel from the markers in root/etc (0 if
 * none); a negative errno if the directory cannot be read. */
int hp_installed_level(const char *root, const char *rel);

/* Parse one history line; 0 or -SPACE_E_FORMAT. */
int hp_history_parse(const char *line, struct hp_history *h);

#endif
