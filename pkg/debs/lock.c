/* SPDX-License-Identifier: MIT */
/* lock.c - parse pkg/debs.lock; see lock.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lock.h"
#include "util.h"

/* Debian policy 5.6.1 / 5.6.12 character sets, which also keeps every field
 * safe to use as a file name and as an apt-get argument. */
static int valid_name(const char *s)
{
	if (!s[0] || !s[1])
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '+' ||
		      *p == '-' || *p == '.'))
			return 0;
	return s[0] >= 'a' || (s[0] >= '0' && s[0] <= '9');
}

static int valid_version(const char *s)
{
	if (!s[0] || !(s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(".+-~:", *p)))
			return 0;
	return 1;
}

static int valid_sha256(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

void lock_free(struct deb_lock *lock)
{
	for (size_t i = 0; i < lock->n; i++) {
		free(lock->pins[i].name);
		free(lock->pins[i].version);
		free(lock->pins[i].arch);
	}
	free(lock->pins);
	lock->pins = NULL;
	lock->n = 0;
}

const struct deb_pin *lock_find(const struct deb_lock *lock, const char *name)
{
	for (size_t i = 0; i < lock->n; i++)
		if (strcmp(lock->pins[i].name, name) == 0)
			return &lock->pins[i];
	return NULL;
}

static int parse_line(char *line, struct deb_lock *lock)
{
	char *f[5], *save = NULL, *tok;
	struct deb_pin *pins, *pin;
	int n = 0;

	for (tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
		if (n == 4)
			return -SPACE_E_FORMAT;
		f[n++] = tok;
	}
	if (n == 0)
		return 0;
	if (n != 4 || !valid_name(f[0]) || !valid_version(f[1]) || !valid_name(f[2]) ||
	    !valid_sha256(f[3]) || lock_find(lock, f[0]))
		return -SPACE_E_FORMAT;
	pins = realloc(lock->pins, (lock->n + 1) * sizeof(*pins));
	if (!pins)
		return -ENOMEM;
	lock->pins = pins;
	pin = &pins[lock->n];
	pin->name = strdup(f[0]);
	pin->version = strdup(f[1]);
	pin->arch = strdup(f[2]);
	memcpy(pin->sha256, f[3], 65);
	lock->n++;
	if (!pin->name || !pin->version || !pin->arch)
		return -ENOMEM;
	return 0;
}

int lock_parse(const char *text, struct deb_lock *lock, int *errline)
{
	char *copy = strdup(text), *line, *next;
	int lineno = 0, r = 0;

	lock->pins = NULL;
	lock->n = 0;
	if (!copy)
		return -ENOMEM;
	for (line = copy; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		r = parse_line(line, lock);
		if (r < 0) {
			if (errline)
				*errline = lineno;
			lock_free(lock);
			break;
		}
	}
	free(copy);
	return r;
}

char *lock_deb_filename(const struct deb_pin *pin)
{
	const char *colon = strchr(pin->version, ':');

	if (colon)
		return xasprintf("%s_%.*s%%3a%s_%s.deb", pin->name, (int)(colon - pin->version),
				 pin->version, colon + 1, pin->arch);
	return xasprintf("%s_%s_%s.deb", pin->name, pin->version, pin->arch);
}
