/* SPDX-License-Identifier: MIT */
/* auth.c - shadow-file authentication and roles. */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "util.h"

/* Used for unknown users so a miss costs the same crypt() as a hit. */
static const char dummy_hash[] =
	"$6$saltsaltsaltsalt$qA4Xa8Zc9rVd5h2P0l7dXb3Yf1QeWg6mKu8sTnHj2Bv4Lc0Rz5Xy7Np9Ow1Ik3Ea6Tb8Sd2Fg4Hj6Kl8Zx0Cv2";

/* Field idx (0-based) of the colon-separated line for name in a passwd-
 * style file, malloc'd into *out (NULL if the name is absent). Returns 0
 * or the negative errno of reading the file. */
static int file_field(const char *path, const char *name, int idx, char **out)
{
	char *text = NULL, *line, *save = NULL, *res = NULL;
	size_t len, n = strlen(name);
	int r;

	*out = NULL;
	if ((r = read_file(path, 4 << 20, &text, &len)) < 0)
		return r;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = line;
		if (strncmp(line, name, n) || line[n] != ':')
			continue;
		for (int i = 0; i < idx && p; i++) {
			p = strchr(p, ':');
			if (p)
				p++;
		}
		if (p)
			res = strndup(p, strcspn(p, ":"));
		break;
	}
	if (text) {
		explicit_bzero(text, len);
		free(text);
	}
	*out = res;
	return 0;
}

enum role auth_role(const struct mgmtd_conf *c, const char *user)
{
	char *members;
	enum role r = ROLE_NONE;

	if (!strcmp(user, "admin"))
		return ROLE_ADMIN;
	if (c->admin_group && *c->admin_group && file_field(c->group, c->admin_group, 3, &members) == 0 &&
	    members) {
		if (conf_list_has(members, user))
			r = ROLE_ADMIN;
		free(members);
		if (r)
			return r;
	}
	if (conf_list_has(c->readonly_users, user))
		return ROLE_READONLY;
	return ROLE_NONE;
}

int auth_login(const struct mgmtd_conf *c, const char *user, const char *password, enum role *role)
{
	static struct crypt_data cd; /* large: not on the stack */
	char *hash = NULL;
	const char *out, *use;
	int match, r;

	*role = ROLE_NONE;
	/* ':' or newline in a name could address another shadow line */
	if (*user && !strpbrk(user, ":\n") && strlen(user) < SESS_USER_MAX) {
		/* an unreadable shadow file is an outage, not a wrong password:
		 * it must not count towards anyone's lockout */
		r = file_field(c->shadow, user, 1, &hash);
		if (r < 0)
			return r;
	}
	use = hash && !strncmp(hash, "$6$", 3) ? hash : dummy_hash;
	memset(&cd, 0, sizeof(cd));
	out = crypt_r(password, use, &cd);
	match = out && use != dummy_hash && strlen(out) == strlen(use) &&
		!CRYPTO_memcmp(out, use, strlen(use));
	OPENSSL_cleanse(&cd, sizeof(cd));
	free(hash);
	if (!match)
		return -EACCES;
	*role = auth_role(c, user);
	r = *role == ROLE_NONE ? -EPERM : 0;
	return r;
}
