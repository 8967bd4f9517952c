/* SPDX-License-Identifier: MIT */
/* test_kv.c - unit tests for pkg/lib/kv.c: the KEY=VALUE parser, the argv
 * splitter, value conversions and record fields. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "kv.h"
#include "tap.h"
#include "util.h"

struct kvc {
	int n;
	char last[64];
};

static int kv_count(void *ctx, const char *key, const char *value, int line)
{
	struct kvc *c = ctx;

	c->n++;
	snprintf(c->last, sizeof(c->last), "%s=%s@%d", key, value, line);
	return 0;
}

/* KEY=VALUE text: comments, quotes, line numbers, refusals */
static void test_parse(void)
{
	struct kvc c = { 0 };
	int line = 0;
	const char *text = "# comment\n\nname = mgmtd\n  exec=\"/usr/sbin/mgmtd -f\"  \nlast.key=v\n";

	is_int(kv_parse(text, strlen(text), kv_count, &c, &line), 0, "config parses");
	is_int(c.n, 3, "three entries");
	ok(!strcmp(c.last, "last.key=v@5"), "key, value, line number: %s", c.last);
	is_int(kv_parse("a=1\nbad line\n", 13, kv_count, &c, &line), -SPACE_E_FORMAT, "no '='");
	is_int(line, 2, "error line reported");
	is_int(kv_parse("a b=1\n", 6, kv_count, &c, &line), -SPACE_E_FORMAT, "space in key");
	is_int(kv_parse("a=1\nb=\0\n", 8, kv_count, &c, &line), -SPACE_E_FORMAT, "NUL rejected");
	is_int(line, 2, "NUL line reported");
}

/* a command line split into words, as a shell would */
static void test_split_argv(void)
{
	char **argv;

	is_int(kv_split_argv("  /bin/x  -a 'b c' \"d\\\"e\" f\\ g ''", &argv), 6, "argv split");
	ok(argv && !strcmp(argv[2], "b c") && !strcmp(argv[3], "d\"e") && !strcmp(argv[4], "f g") &&
		   !strcmp(argv[5], "") && !argv[6],
	   "quotes and escapes, empty word kept");
	kv_argv_free(argv);
	is_int(kv_split_argv("a 'b", &argv), -SPACE_E_FORMAT, "unterminated quote");
	is_int(kv_split_argv("   ", &argv), -SPACE_E_FORMAT, "empty command");
}

/* numbers with units, booleans */
static void test_values(void)
{
	long long v;
	is_int(kv_int("15m", 0, 100000, 1, &v), 0, "duration with unit");
	is_int(v, 900, "15m = 900s");
	is_int(kv_int("12x", 0, 100, 0, &v), -SPACE_E_FORMAT, "junk after number");
	is_int(kv_int("101", 0, 100, 0, &v), -ERANGE, "out of range");
	int bv;
	ok(kv_bool("Yes", &bv) == 0 && bv == 1, "bool yes");
	ok(kv_bool("maybe", &bv) < 0, "bool junk");
}

/* a record line: quoted values written, then read field by field */
static void test_record(void)
{
	struct buf b;
	size_t pos = 0;
	char *k, *val;
	buf_init(&b);
	buf_puts(&b, "name=");
	kv_quote(&b, "a b\"c");
	buf_puts(&b, " x=");
	kv_quote(&b, "");
	buf_puts(&b, " y=1\n");
	is_int(kv_field_next(b.p, &pos, &k, &val), 1, "record field 1");
	ok(!strcmp(k, "name") && !strcmp(val, "a b\"c"), "quoted value round-trips");
	free(k), free(val);
	is_int(kv_field_next(b.p, &pos, &k, &val), 1, "record field 2");
	ok(!strcmp(val, ""), "empty value round-trips");
	free(k), free(val);
	is_int(kv_field_next(b.p, &pos, &k, &val), 1, "record field 3");
	free(k), free(val);
	is_int(kv_field_next(b.p, &pos, &k, &val), 0, "end of record");
	buf_free(&b);
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/kv/parse", test_parse },
		{ "/kv/split_argv", test_split_argv },
		{ "/kv/values", test_values },
		{ "/kv/record", test_record },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
