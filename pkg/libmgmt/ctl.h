/* SPDX-License-Identifier: MIT */
/* ctl.h - the local control protocol of watchdog and devgate.
 *
 * A client connects to a unix stream socket, writes one request line
 * ("status", "stop mgmtd", ...) and reads the reply until EOF. The reply's
 * first line is "ok", "ok <note>" or "error <message>"; then zero or more record lines
 * of kv_quote()d "key=value" fields (see kv.h).
 */
#ifndef MGMT_CTL_H
#define MGMT_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

#define CTL_REPLY_MAX (1u << 20) /* replies larger than this are refused */
#define CTL_START_MAX 256        /* longest request line of ctl_start() */
/* How long a client waits for the answer to a request that changes a
 * daemon's state (devgate's block/unblock): past it the outcome is
 * unknown, never failed. mgmtd's jobs and spacectl wait the same. */
#define CTL_CHANGE_WAIT_MS 60000

/* Listen on path: replaces a stale socket (never another file type),
 * mode 0600 so only root (the owner) can connect. Returns the non-blocking
 * close-on-exec fd or a negative errno. */
int ctl_listen(const char *path);

/* Accept one client (blocking I/O with a receive timeout) and check its
 * credentials: only root or the daemon's own uid may talk to it. Returns
 * the fd, -EAGAIN when nothing is pending, -EPERM (closed) for others. */
int ctl_accept(int lfd, int timeout_ms);

/* Read one request line (at most max-1 bytes) from a freshly accepted
 * client into line. Returns its length or a negative errno. */
int ctl_read_line(int fd, char *line, size_t max);

/* Write all of data; returns 0 or a negative errno. */
int ctl_write_all(int fd, const void *data, size_t len);

/* Send req (one line, no newline needed) to the daemon at path and read
 * the whole reply into a malloc'd NUL-terminated *reply (caller frees).
 * timeout_ms bounds each wait. Returns 0 when the reply starts with "ok",
 * -SPACE_E_CHILD when it starts with "error" (*reply still set), or a
 * negative errno (-ETIMEDOUT, -ECONNREFUSED, -ENOENT...). */
int ctl_request(const char *path, const char *req, int timeout_ms, char **reply);

/* The same without ever blocking, for an event loop (mgmtd): ctl_start()
 * connects and sends req, returning the non-blocking fd to wait on for
 * input (or a negative errno: -ENOENT/-ECONNREFUSED daemon down, -EAGAIN
 * its backlog is full). ctl_recv() appends what has arrived to b and
 * returns 1 once the daemon closed (b holds the NUL-terminated reply), 0
 * while more is to come, or a negative errno (-EFBIG over CTL_REPLY_MAX).
 * The caller owns the timeout and closes fd. */
int ctl_start(const char *path, const char *req);
int ctl_recv(int fd, struct buf *b);

/* ctl_request() for a request that changes the daemon's state, whose caller
 * must tell "not done" from "not known": built on ctl_start()/ctl_recv(),
 * timeout_ms bounds the whole call (a full backlog is retried within it),
 * and *sent says whether the request reached the daemon. Returns as
 * ctl_request(). An error with *sent false: nothing was asked, nothing
 * changed. Any error but -SPACE_E_CHILD with *sent true (-ETIMEDOUT, the
 * daemon closed or reset without a whole reply): the outcome is unknown,
 * the daemon may have carried it out or still will. *reply is set (caller
 * frees) for 0 and -SPACE_E_CHILD only. */
int ctl_call(const char *path, const char *req, int timeout_ms, char **reply, bool *sent);

/* A complete reply's verdict: 0 for "ok", -SPACE_E_CHILD for "error ...",
 * -SPACE_E_FORMAT otherwise. */
int ctl_reply_status(const char *reply);

#endif
