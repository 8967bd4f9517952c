/* SPDX-License-Identifier: MIT */
/* progress.h - the lines of a fabric-wide run (a hot patch, an upgrade),
 * on stdout and in a progress file. The run ignores SIGHUP, so a dropped
 * SSH session does not stop it; the file outlives the session and
 * `hotpatch status --follow` / `spacectl upgrade status --follow` show it
 * again, to its last line "[fabric] done: exit N".
 *
 * One run per process: the file's descriptor is this module's.
 */
#ifndef SPACE_FABRIC_PROGRESS_H
#define SPACE_FABRIC_PROGRESS_H

#define FABRIC_DONE "[fabric] done: exit "

/* Start a run's file at path (its directory made), or append to it (a
 * run that goes on after a boot); when it cannot be written, the run goes
 * on with stdout only. */
void fabric_progress_open(const char *path, int append);
/* One line (no newline in fmt), to stdout and the file. */
void fabric_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A command's output, each line indented under its node's name. */
struct buf;
void fabric_say_block(const struct buf *b);
/* The last line, with the run's exit code; returns code. */
int fabric_progress_close(int code);
/* Copy path to stdout as it grows, up to its done line: the run's exit
 * code, or a negative errno (-ENOENT: no run has written it). */
int fabric_follow(const char *path);

#endif
