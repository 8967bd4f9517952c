/* SPDX-License-Identifier: MIT */
/* imgutil.c - see imgutil.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "imgutil.h"
#include "run_ex.h"
#include "util.h"

int img_run(const char *const argv[], const char *const env[], const char *out_path,
	    const char *err_path, struct space_err *err)
{
	struct run_opts o = { env, "/dev/null", out_path ? out_path : "/dev/null", err_path };
	char *msgs = NULL, *last = NULL, *line, *save = NULL;
	size_t len;
	int r;

	r = run_argv_ex(argv, &o);
	if (r == 0)
		return 0;
	if (read_file(err_path, 1u << 20, &msgs, &len) == 0) {
		for (line = strtok_r(msgs, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save))
			if (line[strspn(line, " \t")])
				last = line;
	}
	if (last) {
		size_t n = strlen(argv[0]);
		last += strspn(last, " \t");
		/* most tools already start their message with their name */
		if (!strncmp(last, argv[0], n) && last[n] == ':')
			err_set(err, r, "%s", last);
		else
			err_set(err, r, "%s: %s", argv[0], last);
	} else
		err_set(err, r, "%s failed (%s)", argv[0], space_strerror(r));
	free(msgs);
	return r;
}

int img_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void img_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int img_read_names(DIR *d, char ***out, size_t *nout)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			char **nn = realloc(names, ncap * sizeof(*nn));
			if (!nn)
				goto oom;
			names = nn;
			cap = ncap;
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			goto oom;
		n++;
	}
	if (errno) {
		int e = errno;
		img_free_names(names, n);
		return -e;
	}
	if (n)
		qsort(names, n, sizeof(*names), img_cmp_str);
	*out = names;
	*nout = n;
	return 0;
oom:
	img_free_names(names, n);
	return -ENOMEM;
}
