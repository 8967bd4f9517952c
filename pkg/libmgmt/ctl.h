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

#include <stddef.h>
#include <sys/types.h>

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

#endif
