/* SPDX-License-Identifier: MIT */
/* auth.h - password check against the shadow file and role lookup. */
#ifndef MGMTD_AUTH_H
#define MGMTD_AUTH_H

#include "conf.h"
#include "pkg/libmgmt/session.h"

/* Check user/password against c->shadow (SHA-512 crypt "$6$" hashes only;
 * locked or other hashes never match), then the role: admin for "admin"
 * and members of c->admin_group in c->group, read-only for
 * c->readonly_users. Returns 0 and *role, -EACCES (unknown user or wrong
 * password: the two are not distinguishable by time either), -EPERM
 * (right password, no management role), or the negative errno of reading
 * the shadow file (never counted as a failed login). */
int auth_login(const struct mgmtd_conf *c, const char *user, const char *password, enum role *role);

/* Role of user from the configuration alone (ROLE_NONE if none). */
enum role auth_role(const struct mgmtd_conf *c, const char *user);

#endif
