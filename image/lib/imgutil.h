/* SPDX-License-Identifier: MIT */
/* imgutil.h - small helpers private to image/lib: running a tool whose
 * complaint becomes the reason of a failure, little-endian accessors,
 * sorting of C strings. */
#ifndef SPACE_IMAGE_IMGUTIL_H
#define SPACE_IMAGE_IMGUTIL_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Runs argv (run_argv_ex) with env (may be NULL), stdin from /dev/null,
 * stdout to out_path (NULL: /dev/null) and stderr to err_path, so that a
 * failing tool's complaint becomes one line: on failure err gets
 * "<argv[0]>: <last line it printed on stderr>". */
int img_run(const char *const argv[], const char *const env[], const char *out_path,
	    const char *err_path, struct space_err *err);

/* qsort comparator for an array of char *. */
int img_cmp_str(const void *a, const void *b);

/* The entry names of the open directory d except "." and "..", sorted
 * (strcmp). *names is malloc'd, free with img_free_names(). */
int img_read_names(DIR *d, char ***names, size_t *n);
void img_free_names(char **names, size_t n);

static inline void le_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void le_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void le_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t le_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le_get64(const uint8_t *p)
{
	return (uint64_t)le_get32(p) | (uint64_t)le_get32(p + 4) << 32;
}

#endif
