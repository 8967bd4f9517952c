/* SPDX-License-Identifier: MIT */
/* cmdline.c - space.action=, space.disk=, space.after=; see cmdline.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmdline.h"
#include "strescape.h"
#include "util.h"

/* The reason, naming the word as it was typed (escaped: it goes to the
 * console). */
static int bad(const char *word, const char *want, struct space_err *err)
{
	char shown[160];

	str_escape(shown, sizeof(shown), word, strlen(word), 0);
	return err_set(err, -SPACE_E_FORMAT, "%s: %s", shown, want);
}

/* The index of value in the NULL-terminated list words, or -1. */
static int one_of(const char *value, const char *const *words)
{
	for (int i = 0; words[i]; i++)
		if (!strcmp(value, words[i]))
			return i;
	return -1;
}

static int word(const char *t, struct inst_cmdline *c, struct space_err *err)
{
	static const char *const actions[] = { "install", "reinstall", "rescue", NULL };
	static const char *const afters[] = { "reboot", "poweroff", NULL };
	int i;

	if (!strncmp(t, "space.action=", 13)) {
		i = one_of(t + 13, actions);
		if (i < 0)
			return bad(t, "not install, reinstall or rescue", err);
		c->action = (enum inst_action)(ACT_INSTALL + i);
	} else if (!strncmp(t, "space.after=", 12)) {
		i = one_of(t + 12, afters);
		if (i < 0)
			return bad(t, "not reboot or poweroff", err);
		c->after = (enum inst_after)i;
	} else if (!strncmp(t, "space.disk=", 11)) {
		if (!t[11] || strlen(t + 11) >= sizeof(c->disk))
			return bad(t, "empty or too long", err);
		for (const char *p = t + 11; *p; p++)
			if (!isgraph((unsigned char)*p))
				return bad(t, "not a disk name", err);
		memcpy(c->disk, t + 11, strlen(t + 11) + 1);
	}
	return 0;
}

int inst_cmdline_parse(const char *text, size_t len, struct inst_cmdline *c, struct space_err *err)
{
	char buf[CMDLINE_MAX], *save = NULL;
	size_t n = strnlen(text, len < sizeof(buf) - 1 ? len : sizeof(buf) - 1);

	memset(c, 0, sizeof(*c));
	c->action = ACT_NONE;
	c->after = AFTER_REBOOT;
	snprintf(c->disk, sizeof(c->disk), "first");
	memcpy(buf, text, n);
	buf[n] = '\0';
	for (char *t = strtok_r(buf, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
		int r = word(t, c, err);
		if (r < 0)
			return r;
	}
	return 0;
}
