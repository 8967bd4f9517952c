/* SPDX-License-Identifier: MIT */
/* upgrade.h - `spacectl upgrade`: the on-node side of A/B upgrades.
 *
 * node.c knows the node: its boot disk and root slots, the boot state in
 * grubenv (image/lib/bootenv.h), the upgrade settings, the status file
 * (the contract with mgmtd: see UPGRADE.md beside this file) and the log.
 * upgrade.c holds the verbs: upgrade FILE, status, rollback, confirm.
 *
 * Library-style: functions return 0 or a negative errno with one reason in
 * a caller's why buffer; only the verbs print.
 */
#ifndef SPACECTL_UPGRADE_H
#define SPACECTL_UPGRADE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "image/lib/bootenv.h"
#include "image/lib/gpt.h"
#include "pkg/libmgmt/release.h"
#include "pkg/libmgmt/upgstatus.h"
#include "spacectl.h"

#define UPG_DIR "/var/lib/upgrade"
#define UPG_LOG_DIR "/var/log/upgrade"
#define UPG_CA "/etc/space/root-ca.pem"

/* Settings: /etc/upgrade.conf (the release's defaults), then
 * /var/lib/upgrade/upgrade.conf (the node's own, kept across upgrades). */
struct upg_conf {
	long long backup_max_age;   /* s: the newest off-node backup may be this old */
	long long clock_max_offset; /* s: |local - time server| */
	long long trial_timeout;    /* s: services must be ready within this on a trial */
	long long var_min_free;     /* bytes free on /var for logs and status */
	char ntp_server[256];       /* host[:port]; "" = none configured */
};
int upg_conf_load(const struct opts *o, struct upg_conf *c, struct space_err *err);

/* The node: boot disk, slots, boot state. */
struct node {
	char disk[256]; /* the boot disk (device, or $SPACE_DISK: an image file) */
	int fd;         /* open on disk, O_RDWR */
	bool is_file;   /* $SPACE_DISK: slots are byte ranges of the file */
	struct disk_layout l;
	struct bootenv env;
	char booted;        /* 'a' or 'b': space.slot= of the kernel command line */
	bool trial;         /* space.trial=1: GRUB started this boot as a trial */
	struct release rel; /* /etc/space-release of the running slot */
	char target[32];    /* kvm, esxi, ja2500 (from DMI) */
};
int node_open(const struct opts *o, struct node *n, struct space_err *err);
/* The sysfs directory of the disk holding block device dev (a
 * partition's parent); -ENODEV when dev is not a block device. */
int node_dev_disk(dev_t dev, char *out, size_t outlen);
void node_close(struct node *n);
/* The other slot's letter. */
static inline char node_other(const struct node *n)
{
	return n->booted == 'a' ? 'b' : 'a';
}
/* The GPT partition of slot letter s ("root-a"/"root-b"), or NULL. */
const struct gpt_part *node_slot_part(const struct node *n, char s);
/* An fd and byte range to write slot s: the partition device opened
 * O_EXCL (refused while anything has it mounted), or the image file's
 * range. *fd is to be closed by the caller (it may be n->fd's dup). */
int node_slot_open(const struct node *n, char s, int *fd, uint64_t *off, uint64_t *len,
		   struct space_err *err);
/* grubenv variable (empty string when unset). */
void node_env_get(const struct node *n, const char *key, char *out, size_t outlen);

/* The status file (libmgmt/upgstatus.h), below --root. read: an absent
 * file is "idle". */
int upg_status_read(const struct opts *o, struct upg_status *s);
int upg_status_write(const struct opts *o, const struct upg_status *s);

/* The upgrade log: /var/log/upgrade/upgrade-<UTC time>.log, appended one
 * time-stamped line at a time (upg_log NULL-safe). */
FILE *upg_log_open(const struct opts *o, char *path, size_t pathlen);
void upg_log(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The last backup (spacectl backup create records it): when, where, and
 * whether it left the node. */
int upg_backup_record(const struct opts *o, const char *where, bool offnode, const char *sha256);

int cmd_upgrade(const struct opts *o);
int cmd_upgrade_status(const struct opts *o);
int cmd_upgrade_rollback(const struct opts *o);
int cmd_upgrade_confirm(const struct opts *o);
/* A fabric's: arm the staged release for a trial boot; cancel a staged or
 * armed one that has not booted. */
int cmd_upgrade_arm(const struct opts *o);
int cmd_upgrade_cancel(const struct opts *o);

/* fabric_upgrade.c: on a node in a fabric, `upgrade FILE` upgrades every
 * node from the VIP node (and is refused on the others): its exit code,
 * or -1 when this node is in no fabric (a node's own upgrade). */
int fabric_upgrade_maybe(const struct opts *o);
/* At boot, after this node's own confirmation (state: its status's state
 * now): ends a fabric upgrade this node ran, or rolls the fabric back. */
void fabric_upgrade_resume(const struct opts *o);
/* upgrade status --follow: the fabric upgrade's lines, to its end. */
int fabric_upgrade_follow(const struct opts *o);

#endif
