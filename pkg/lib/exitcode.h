/* SPDX-License-Identifier: MIT */
/* exitcode.h - the one exit-code contract of every space tool and daemon,
 * and the one way a tool reports a failure and picks its exit code.
 *
 * The contract is s6's (README.md, "Exit codes"):
 *   0    success
 *   1    a negative answer or refused input: bad package, image, signature,
 *        key, hardware file, a verification that failed, "not installed"
 *   99   timeout: the outcome is unknown (the request may have been applied)
 *   100  usage error: unknown verb or option, missing argument
 *   111  system or I/O failure: a file that cannot be read or written, a
 *        system call or an external command that failed, out of memory
 * A caller can tell "the input is wrong, do not retry it" (1) from "the
 * machine failed, retrying may help" (111).
 */
#ifndef SPACE_EXITCODE_H
#define SPACE_EXITCODE_H

enum {
	EXIT_OK = 0,
	EXIT_NEGATIVE = 1,
	EXIT_REFUSED = EXIT_NEGATIVE, /* same code: refused input is a negative answer */
	EXIT_TIMEOUT = 99,
	EXIT_USAGE = 100,
	EXIT_SYSTEM = 111,
};

/* The name messages start with; each tool sets it first thing in main(). */
extern const char *space_prog;

/* The exit code for a library error (a negative errno or -SPACE_E_*):
 * -ETIMEDOUT is EXIT_TIMEOUT; a refusal of the input (-SPACE_E_* except
 * -SPACE_E_CHILD) is EXIT_REFUSED; any other errno (I/O, a system call,
 * no memory) and -SPACE_E_CHILD are EXIT_SYSTEM. 0 is EXIT_OK. */
int die_code(int err);

/* Print "PROG: VERB OBJECT: REASON" to stderr as one line (VERB and
 * OBJECT may be NULL, REASON NULL or "" means space_strerror(err)) and
 * return die_code(err). For a failure at the top of a tool: return it. */
int die_err(const char *verb, const char *object, int err, const char *reason);

/* The same line with an explicit exit code (a tool that classifies an
 * error itself, e.g. a negative answer that is no errno). */
int die_msg(int code, const char *verb, const char *object, const char *reason);

/* A usage error: the usage text on stderr; returns EXIT_USAGE. */
int die_usage(const char *usage);

#endif
