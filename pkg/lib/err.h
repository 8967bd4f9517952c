/* SPDX-License-Identifier: MIT */
/* err.h - the one way a library passes a reason back with its error code.
 *
 * A function that can fail for a reason worth telling takes a
 * `struct space_err *err` as its last parameter and fails with
 *     return err_set(err, -SPACE_E_FORMAT, "line %u: no '='", n);
 * which returns the code (a negative errno or -SPACE_E_*, util.h) and
 * leaves one line in err->msg naming the object and the reason, without a
 * program prefix. Each level that passes the failure up may put its own
 * context in front of the lower level's reason, as RAUC's
 * g_propagate_prefixed_error does:
 *     r = parse(text, len, &m, err);
 *     if (r < 0)
 *         return err_prefix(err, r, "manifest %s", path);
 * gives "manifest a.mf: line 3: no '='". The tool prints the finished line
 * once, at the top: die_err(verb, object, r, err.msg) (exitcode.h).
 *
 * err may be NULL (the caller wants only the code); every helper accepts
 * it. A struct space_err is a plain buffer the caller owns, usually on its
 * stack; it holds no resources and needs no cleanup. A function that
 * returns 0 leaves err as it was.
 */
#ifndef SPACE_ERR_H
#define SPACE_ERR_H

#define SPACE_ERR_MAX 512

struct space_err {
	char msg[SPACE_ERR_MAX]; /* "" until a failure is recorded */
};

/* Record the reason (printf-style) in err, replacing what it held, and
 * return r. */
int err_set(struct space_err *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put "CONTEXT: " in front of err's reason and return r. When err holds no
 * reason yet, the reason is space_strerror(r). A message that would be too
 * long is cut at the end, never at the context. */
int err_prefix(struct space_err *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* err's reason, or space_strerror(r) when it holds none (err may be NULL). */
const char *err_msg(const struct space_err *err, int r);

/* Forget any reason err holds (err may be NULL). */
static inline void err_clear(struct space_err *err)
{
	if (err)
		err->msg[0] = '\0';
}

#endif
