/* SPDX-License-Identifier: MIT */
/* cmdline.h - the installer's unattended mode from the kernel command
 * line: space.action=install|reinstall|rescue, space.disk=first|NAME
 * (sda or /dev/sda), space.after=reboot|poweroff. Outside input: typed at
 * GRUB's prompt or its entry editor, or put in a remastered grub.cfg;
 * fuzzed (fuzz/fuzz_cmdline.c).
 *
 * Words are separated by spaces, tabs and newlines (as /proc/cmdline
 * gives them; a NUL ends the text); other words are the kernel's. A key
 * given twice: the last one counts. Return 0 or -SPACE_E_FORMAT with a
 * one-line reason (the word escaped); never print.
 */
#ifndef SPACE_INSTALL_CMDLINE_H
#define SPACE_INSTALL_CMDLINE_H

#include <stddef.h>

#include "err.h"

#define CMDLINE_MAX 4096 /* bytes read of /proc/cmdline (x86 allows 2048) */

enum inst_action { ACT_NONE,
		   ACT_INSTALL,
		   ACT_REINSTALL,
		   ACT_RESCUE };
enum inst_after { AFTER_REBOOT,
		  AFTER_POWEROFF };

struct inst_cmdline {
	enum inst_action action; /* ACT_NONE: no space.action= */
	enum inst_after after;   /* default: reboot */
	char disk[64];           /* default "first"; never empty, no whitespace */
};

/* Parses len bytes of text (at most CMDLINE_MAX - 1 are read). 0, or
 * -SPACE_E_FORMAT with err naming the word and what it should be. */
int inst_cmdline_parse(const char *text, size_t len, struct inst_cmdline *c, struct space_err *err);

#endif
