/* SPDX-License-Identifier: MIT */
/* apps.h - applications: which installed application may run on the
 * running release (issue 7, pkg/FORMAT.md "Applications").
 *
 * Applications are packages whose metadata says `app NAME` (and maybe
 * `platform MIN MAX|-`). They are installed into their own root on the
 * data partition, APPS_ROOT (`pkg --root /var/apps install foo.pkg`), with
 * its own package database, so that an A/B upgrade, which replaces the
 * read-only root slot whole, keeps them. Their service definitions are
 * APPS_ROOT/etc/watchdog.d/NAME.conf, which the watchdog reads besides
 * /etc/watchdog.d.
 *
 * An application is enabled when
 *   - its package version and platform range follow the release version
 *     grammar (image/release/release.h),
 *   - the running release (/etc/space-release) is in its platform range
 *     (a maximum covers every release it is a prefix of: 21.2 admits
 *     21.2R3), and
 *   - the running release's application table (APPS_COMPAT, shipped with
 *     the watchdog from image/release/app-compat.conf, the table signed
 *     into the release manifest) admits its version, or does not list it
 *     (rel_app_check()).
 * Otherwise it is disabled with a one-line reason, and the watchdog starts
 * none of its services. A release file or table that cannot be read
 * disables every application (fail closed: nothing says they fit).
 *
 * The watchdog decides once, when it starts (so a compatible version
 * installed later is enabled at its next start), and answers `apps` on its
 * control socket with the same list (apps_reply()/apps_from_reply()).
 * Library code: nothing printed, 0 or a negative errno plus a reason.
 */
#ifndef MGMT_APPS_H
#define MGMT_APPS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

#define APPS_ROOT "/var/apps"
#define APPS_COMPAT "/usr/share/space/app-compat.conf"
#define APPS_RELEASE "/etc/space-release"
#define APPS_SVC_DIR "etc/watchdog.d" /* below the app root */
/* Applications listed (installed ones beyond are counted in n_over and
 * not started): the release table's own bound, REL_MAX_APPS. */
#define APPS_MAX 64
#define APPS_SVC_MAX 8             /* service definitions of one application */
#define APPS_RECORD_MAX (4u << 20) /* bytes of one database record read */

struct app {
	char pkg[129];     /* package name (of the database record) */
	char name[64];     /* application name; "" for an unreadable record */
	char version[129]; /* package version */
	char platform[64]; /* "MIN MAX" / "MIN -"; "" when it has none */
	bool enabled;
	char reason[240];           /* why disabled ("" when enabled) */
	char svc[APPS_SVC_MAX][64]; /* its files in APPS_SVC_DIR (NAME.conf) */
	unsigned nsvc;
};

struct apps_list {
	char running[32];         /* the running release, "" if unknown */
	struct app app[APPS_MAX]; /* by package name */
	unsigned n;
	unsigned n_over; /* applications beyond APPS_MAX: disabled, unlisted */
};

/* Where to look; NULL members take the defaults above. */
struct apps_env {
	const char *root, *release_file, *compat_file;
};

/* Fill l from the application root's package database. Packages without
 * `app` are not listed; an unreadable record is listed, disabled. No
 * database (nothing installed) is an empty list. Returns 0, or a negative
 * errno with its reason in err (e.g. the database directory cannot be
 * read). */
int apps_scan(const struct apps_env *env, struct apps_list *l, struct space_err *err);

/* What every decision is made against: the running release and its
 * application table. why is set when either could not be read; every
 * application is then disabled with it. */
struct rel_manifest;
struct apps_basis {
	char running[32];                 /* release text, "" if unknown */
	const struct rel_manifest *table; /* NULL when it could not be read */
	char why[240];
};

/* Read env's release file and table into b (table: caller's storage, so
 * b->table points at it when it was read). Never fails: a problem is
 * b->why. */
void apps_basis_load(const struct apps_env *env, struct apps_basis *b, struct rel_manifest *table);

/* The decision for one application package (m has `app`): fills a's
 * name, version, platform, enabled and reason. */
struct pkg_meta;
void apps_decide(const struct pkg_meta *m, const struct apps_basis *b, struct app *a);

/* The application that lists service file `file` (NAME.conf), or NULL. */
const struct app *apps_service_owner(const struct apps_list *l, const char *file);

/* The watchdog's `apps` reply: "ok running=R [over=N]" and one record per
 * application (kv_quote()d fields: name package version platform state
 * reason services). apps_from_reply() reads it back (bounded by
 * APPS_MAX); 0, -SPACE_E_CHILD for an "error" reply, -SPACE_E_FORMAT. */
void apps_reply(struct buf *b, const struct apps_list *l);
int apps_from_reply(const char *reply, struct apps_list *l);

/* For /api/v1/system (mgmtd): appends to the open object
 *   "applications": [{"name","package","version","platform","state",
 *                     "reason","services":[...]}, ...]
 * and "applications_over_limit": N when n_over > 0. */
struct jw;
void apps_json(struct jw *w, const struct apps_list *l);

/* For `spacectl show status`: "applications: none" or
 *   applications: 2 (1 disabled)
 *     foo 1.4: disabled: needs platform 21.1-21.2, running 21.3R2
 *     bar 2.1: enabled
 * appended to b. */
void apps_text(struct buf *b, const struct apps_list *l);

#endif
