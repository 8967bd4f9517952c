/* SPDX-License-Identifier: MIT */
/* apply.h - apply, roll back and recover hot patches on a root (issue 9).
 *
 * Every operation is a table of steps run in order; the journal
 * (state.h: var/lib/hotpatch/journal) names the step reached, so that a
 * failure, a kill or a power cut is undone or completed from it:
 *
 *   apply:    verify block stop backup install start unblock finish
 *   rollback: check  block stop -      restore start unblock finish
 *
 * Before `install` (`restore`) the root is unchanged: an interrupted
 * operation is undone (services started, device gate as it was). From
 * `install` until it completes, the root is put back from the backup.
 * From `start` on, the root is complete at the new level: an interrupted
 * operation is completed. A failure of `start` (the services do not come
 * up on the new packages) is undone like one of `install`. An undo of the
 * root journals `install` before its restore and `backup` after it, so a
 * kill inside it is undone again, never completed.
 *
 * The steps print one line each and log it (HP_LOG_FILE); this file is
 * the tool's, not a library.
 */
#ifndef SPACE_HOTPATCH_APPLY_H
#define SPACE_HOTPATCH_APPLY_H

#include <limits.h>
#include <stdbool.h>

#include "state.h"

struct hp_ctx {
	/* set by the caller */
	const char *root;           /* "/" on the node, or an offline root */
	bool live;                  /* drive the device gate, watchdog, remount */
	const char *ca;             /* trusted root CA file */
	const char *devgate_socket; /* live mode endpoints */
	const char *devgate_state;
	const char *watchdog_socket;
	const char *watchdog_hold;
	int services_timeout; /* seconds to wait for every service ready */
	bool reinstall;
	bool fabric_member; /* applied by the fabric's VIP node (fabric.c) */
	/* internal */
	char state[PATH_MAX]; /* root/var/lib/hotpatch */
	int lockfd;
};

/* Each returns 0 or an exit code of the README contract, after printing
 * the one-line reason (`hotpatch: VERB OBJECT: REASON`). */
int hp_apply(struct hp_ctx *c, const char *bundle);
int hp_rollback(struct hp_ctx *c);
/* Undo or complete an interrupted operation; silent when there is none.
 * boot (rcS): init starts the watchdog only after rcS, so the services
 * are released but not waited for. */
int hp_recover(struct hp_ctx *c, bool boot);
int hp_verify_only(struct hp_ctx *c, const char *bundle);
/* On a fabric's VIP node: the bundle on every node, all or nothing
 * (fabric.c). */
int hp_fabric_apply(struct hp_ctx *c, const char *bundle);
/* Show the last fabric patch's progress, following it until it ends;
 * returns its exit code. */
int hp_fabric_follow(void);

#endif
