/* SPDX-License-Identifier: MIT */
/* nicname.h - fixed NIC names by PCI path: the table, the plan, the renames.
 *
 * The table (/etc/nicname.conf, format in nn_conf_parse) names, per target,
 * the ports of a board: "ja2500 eth0 pci0000:00/0000:00:1c.0/0000:01:00.0".
 * On a node of that target every NIC whose device sits at a port's path gets
 * the port's name; every other NIC the kernel named eth<N> gets the lowest
 * eth<N> that is no port's name and not held by an interface nicname leaves
 * alone, in order of device path (so an add-in card comes after the ports
 * and cannot take a port's name, even when that port's NIC is missing). A
 * target without ports: nothing is renamed.
 *
 * The renames (nn_apply) go through a temporary name per interface,
 * NN_TMP_PREFIX<ifindex>, which no kernel name can be: first every NIC
 * that moves takes its temporary name, then its final one. Names that
 * collide (eth0 <-> eth3) are thus swapped without an interface ever
 * needing a name another one holds. A NIC that appears meanwhile (a late
 * probe takes the lowest free eth<N>) makes a rename fail with EEXIST or
 * ENODEV: the interfaces are read again and planned again, at most
 * NN_MAX_ROUNDS times.
 */
#ifndef SPACE_NICNAME_H
#define SPACE_NICNAME_H

#include <stddef.h>

#include "err.h"

#define NN_NAME_MAX 16 /* IFNAMSIZ, with the NUL */
#define NN_TARGET_MAX 32
#define NN_PATH_MAX 256         /* a table path, with the NUL */
#define NN_PATH_DEPTH 8         /* PCI functions in a table path (bridges + 1) */
#define NN_CONF_MAX_BYTES 16384 /* the table file */
#define NN_LINE_MAX 300         /* one line of it, without the newline */
#define NN_MAX_PORTS 64         /* table lines, all targets together */
#define NN_MAX_IFS 64           /* interfaces one run manages or must keep clear of */
#define NN_MAX_ROUNDS 4         /* scan + plan + renames, when NICs keep appearing */
#define NN_TMP_PREFIX "nntmp"

struct nn_port {
	char target[NN_TARGET_MAX];
	char name[NN_NAME_MAX]; /* eth<N> */
	char path[NN_PATH_MAX]; /* below /sys/devices */
	unsigned line;
};

struct nn_conf {
	struct nn_port port[NN_MAX_PORTS];
	size_t n;
};

/* Parse the table: text (len bytes, no NUL needed). Lines: "#" comments,
 * blank lines, or three fields separated by blanks:
 *   TARGET  [a-z0-9_-], 1..31 characters
 *   NAME    eth<N>, N 0..999 without leading zeros
 *   PATH    pci<dddd>:<bb>, then 1..NN_PATH_DEPTH of /<dddd>:<bb>:<dd>.<f>
 *           (lowercase hex as sysfs writes them, device <= 1f, function
 *           0-7): the port's device below /sys/devices
 * A name or a path given twice for one target, a line longer than
 * NN_LINE_MAX, more than NN_MAX_PORTS ports, a NUL byte or a text longer
 * than NN_CONF_MAX_BYTES are refused. Returns 0, or -SPACE_E_FORMAT (-EFBIG
 * for the size) with err saying what and where ("line 3: ..."). */
int nn_conf_parse(const char *text, size_t len, struct nn_conf *c, struct space_err *err);

/* Does the table have ports for target? */
int nn_conf_has_target(const struct nn_conf *c, const char *target);

/* An interface as the kernel shows it. path is its device below
 * /sys/devices, "" for a virtual interface (no device). */
struct nn_if {
	char name[NN_NAME_MAX];
	int ifindex;
	char path[NN_PATH_MAX];
};

/* One rename: the interface ifindex, now from, is to become to. */
struct nn_move {
	int ifindex;
	char from[NN_NAME_MAX];
	char to[NN_NAME_MAX];
	char path[NN_PATH_MAX];
};

struct nn_plan {
	struct nn_move move[NN_MAX_IFS];
	size_t nmove;
	/* ports of the target with no interface at their path */
	const struct nn_port *missing[NN_MAX_PORTS];
	size_t nmissing;
};

/* Is name one nicname manages when a device carries it: eth<N> as the
 * kernel gives, or a temporary name of an interrupted run? */
int nn_managed_name(const char *name);

/* The renames that give the interfaces ifs (n of them) of a target's node
 * their names. Returns 0, or -SPACE_E_FORMAT with err when a port's name
 * is held by an interface nicname does not manage (a virtual one): then
 * nothing may be renamed. */
int nn_plan(const struct nn_conf *c, const char *target, const struct nn_if *ifs, size_t n,
	    struct nn_plan *p, struct space_err *err);

/* What nn_apply needs of the system (sysfs and SIOCSIFNAME in nicname;
 * a simulated kernel in the unit test). Both return 0 or a negative errno.
 * scan: the interfaces now present that have a device or a managed name,
 *   at most max (-E2BIG when there are more);
 * rename: the interface ifindex, called from, becomes to; -EEXIST when to
 *   is taken, -ENODEV when from is gone or no longer ifindex. */
struct nn_ops {
	int (*scan)(void *ctx, struct nn_if *ifs, size_t max, size_t *n);
	int (*rename)(void *ctx, int ifindex, const char *from, const char *to);
	void *ctx;
};

/* One scan (into ifs, NN_MAX_IFS of them) and its plan: what nn_apply
 * does first, and all a dry run does. Returns 0, the scan's errno (-E2BIG:
 * more than NN_MAX_IFS interfaces) or nn_plan's; err says which. */
int nn_scan_plan(const struct nn_conf *c, const char *target, const struct nn_ops *ops, struct nn_if *ifs,
		 struct nn_plan *p, struct space_err *err);

/* Plan and rename until the names hold (module comment). p gets the plan
 * of the last round (its moves are what was renamed in it). Returns 0;
 * -SPACE_E_FORMAT from nn_plan; -EAGAIN when NICs kept changing for
 * NN_MAX_ROUNDS rounds; or the scan's or a rename's errno; err says which. */
int nn_apply(const struct nn_conf *c, const char *target, const struct nn_ops *ops, struct nn_plan *p,
	     struct space_err *err);

#endif
