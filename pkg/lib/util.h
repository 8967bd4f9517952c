/* SPDX-License-Identifier: MIT */
/* util.h - small helpers shared by every program: errors, logging, argv
 * execution, atomic file writes.
 *
 * Error model: functions return 0 (or a count) on success and a negative
 * errno, or a negative SPACE_E* code (<= -1024), on failure. Library code
 * never prints and never exits; the tool prints one message at the top with
 * space_strerror().  Strings returned by space_strerror() are static.
 */
#ifndef SPACE_UTIL_H
#define SPACE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Declared with their modules, included here for the callers of util.h:
 * run_argv*() (run_ex.h) and write_file_atomic*() (outfile.h). Those
 * modules use util.c; util.c uses neither. */
#include "outfile.h"
#include "run_ex.h"

/* Project-specific errors (returned negated, like errno values). */
enum {
	SPACE_E_FIRST = 1024,
	SPACE_E_FORMAT = SPACE_E_FIRST, /* malformed input */
	SPACE_E_DIGEST,                 /* digest mismatch */
	SPACE_E_UNSAFE_PATH,            /* absolute, "..", or escapes the root */
	SPACE_E_SIGNATURE,              /* signature does not verify */
	SPACE_E_UNTRUSTED,              /* certificate chain not trusted */
	SPACE_E_CHILD,                  /* a command exited non-zero */
	SPACE_E_NOT_REG,                /* not a regular file (a FIFO, device ...) */
	SPACE_E_NOT_REG_BLK,            /* neither a regular file nor a block device */
	SPACE_E_LAST,
};

const char *space_strerror(int err);

/* Logging hook. The library calls space_log() for informational lines
 * (commands it runs, progress); a tool decides where they go by setting
 * space_log_fn. NULL (the default) discards them. */
typedef void (*space_log_fn_t)(const char *msg);
extern space_log_fn_t space_log_fn;
void space_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* fsync the directory holding path (or path itself if it is a directory). */
int fsync_parent(const char *path);

/* mkdir -p; existing directories are fine. */
int mkdir_p(const char *path, mode_t mode);

/* rm -rf path without following symlinks: 0 (also when it does not
 * exist) or a negative errno. */
int remove_tree(const char *path);

/* Read a whole file into a NUL-terminated malloc'd buffer (caller frees).
 * Refuses files larger than max bytes with -EFBIG, and anything but a
 * regular file with -SPACE_E_NOT_REG (a FIFO would block). */
int read_file(const char *path, size_t max, char **out, size_t *len);
/* The same relative to the directory fd dfd (or AT_FDCWD), with extra open
 * flags (O_NOFOLLOW). */
int read_file_at(int dfd, const char *path, int flags, size_t max, char **out, size_t *len);

/* Hex-encode n bytes into out (2n+1 bytes, NUL-terminated, lowercase). */
void hex_encode(const unsigned char *in, size_t n, char *out);

/* Decode 2n lowercase hex characters at in into n bytes at out. Returns 0,
 * or -SPACE_E_FORMAT when a character is not [0-9a-f] (upper case is
 * refused: our formats write lowercase, so anything else was altered). */
int hex_decode(const char *in, size_t n, unsigned char *out);

/* Are the n bytes at p all zero? (n == 0: yes) */
int mem_is_zero(const void *p, size_t n);

/* SHA-256 of a regular file as lowercase hex (out: 65 bytes). OpenSSL EVP. */
int sha256_file_hex(const char *path, char out[65]);
/* The same for the whole of an open fd (digest_fd.h's reading rules);
 * *size (may be NULL) gets the number of bytes hashed. */
int sha256_fd_hex(int fd, char out[65], uint64_t *size);

/* A path below a root directory: root and rel joined by one '/' (root's
 * trailing and rel's leading slashes dropped, so root "" or "/" gives
 * "/rel", and "/tmp/r" with "/etc/x" gives "/tmp/r/etc/x"). path_join writes
 * out (n bytes): 0, or -ENAMETOOLONG with out "". path_join_alloc returns a
 * malloc'd string, NULL when out of memory. */
int path_join(char *out, size_t n, const char *root, const char *rel);
char *path_join_alloc(const char *root, const char *rel);

/* asprintf that returns NULL on failure instead of leaving out undefined. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
