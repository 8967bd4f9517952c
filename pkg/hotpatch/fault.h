/* SPDX-License-Identifier: MIT */
/* fault.h - fault injection for the tests of every step (issue 9): the
 * environment names one point, and the tool fails or dies there exactly as
 * a full disk or a power cut would make it.
 *
 *   HOTPATCH_FAULT=<point>[:<ERRNO>]  hp_fault(point) returns -ERRNO (EIO
 *                                     when not given; ENOSPC, EROFS, ...)
 *   HOTPATCH_CRASH=<point>[:<n>]      hp_crash(point, k) SIGKILLs the process
 *                                     at its n-th call (default 1)
 *
 * The variables are read by root-run code only through these two calls,
 * and change nothing but where the tool stops: they cannot make it skip a
 * check. */
#ifndef SPACE_HOTPATCH_FAULT_H
#define SPACE_HOTPATCH_FAULT_H

int hp_fault(const char *point);
void hp_crash(const char *point);

#endif
