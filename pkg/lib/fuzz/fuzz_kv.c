/* SPDX-License-Identifier: MIT */
/* fuzz_kv.c - libFuzzer target: the KEY=VALUE configuration parser
 * (kv_parse) and the helpers configuration values go through: kv_int,
 * kv_bool, kv_split_argv (a service's exec line) and kv_field_next (the
 * control-socket records). Beyond not crashing: keys are [A-Za-z0-9_.-]+,
 * no value spans a line, line numbers increase, every argv word comes back
 * and a kv_quote()d value reads back through kv_field_next. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "kv.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int entry(void *ctx, const char *key, const char *value, int line)
{
	int *last = ctx, b;
	long long n;
	char **argv = NULL;

	if (!*key || strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(key) ||
	    strchr(value, '\n') || line <= *last)
		abort();
	*last = line;
	kv_int(value, -1000000, 1000000, 1, &n);
	kv_bool(value, &b);
	if (kv_split_argv(value, &argv) > 0 && !argv[0])
		abort();
	kv_argv_free(argv);
	return 0;
}

/* A value without control bytes must survive kv_quote + kv_field_next. */
static void quote_back(const char *v)
{
	struct buf b;
	size_t pos = 0;
	char *k = NULL, *back = NULL;

	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20)
			return;
	buf_init(&b);
	buf_puts(&b, "k=");
	kv_quote(&b, v);
	if (buf_failed(&b) || kv_field_next(b.p, &pos, &k, &back) != 1 || strcmp(back, v))
		abort();
	free(k);
	free(back);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *k, *v;
	size_t pos = 0;
	int last = 0, line = 0, r;

	if (!s)
		return 0;
	kv_parse((const char *)data, size, entry, &last, &line);
	memcpy(s, data, size);
	s[size] = '\0';
	while ((r = kv_field_next(s, &pos, &k, &v)) == 1) {
		if (pos > size)
			abort();
		quote_back(v);
		free(k);
		free(v);
	}
	free(s);
	return 0;
}
