/* SPDX-License-Identifier: MIT */
/* test_json.c - unit tests for pkg/lib/json.c: the JSON writer (on a
 * struct buf) and reader. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "mutate.h"
#include "tap.h"
#include "util.h"

/* writer and reader: escapes, nesting, round trips, malformed documents */

static void test_write_read(void)
{
	struct buf b;
	struct jw w;
	char *s = NULL;
	const char bin[] = { 'a', '"', '\\', '\n', 0x01, '\0', (char)0xff, (char)0xc3, (char)0xa9 };

	buf_init(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kstr(&w, "name", "x");
	jw_kint(&w, "n", -42);
	jw_kbool(&w, "t", 1);
	jw_key(&w, "arr");
	jw_arr_begin(&w);
	jw_int(&w, 1);
	jw_str(&w, NULL);
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_key(&w, "bin");
	jw_strn(&w, bin, sizeof(bin));
	jw_obj_end(&w);
	ok(!buf_failed(&b), "writer: no error");
	ok(!strcmp(b.p, "{\"name\":\"x\",\"n\":-42,\"t\":true,\"arr\":[1,null,{}],"
			"\"bin\":\"a\\\"\\\\\\u000a\\u0001\\u0000\\ufffd\xc3\xa9\"}"),
	   "writer: commas, nesting, escapes, invalid UTF-8 replaced: %s", b.p);
	is_int(json_get_string(b.p, b.len, "name", &s), -SPACE_E_FORMAT,
	       "reader refuses a document holding \\u0000");
	buf_reset(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kstr(&w, "name", "x");
	jw_kint(&w, "n", -42);
	jw_key(&w, "o");
	jw_obj_begin(&w);
	jw_kstr(&w, "name", "inner");
	jw_obj_end(&w);
	jw_key(&w, "bin");
	jw_strn(&w, bin, 5);
	jw_obj_end(&w);
	is_int(json_get_string(b.p, b.len, "name", &s), 0, "reader reads the writer's output");
	ok(s && !strcmp(s, "x"), "reader: value");
	free(s);
	is_int(json_get_string(b.p, b.len, "bin", &s), 0, "escaped control bytes round-trip");
	ok(s && !memcmp(s, bin, 5) && !s[5], "binary value round-trips");
	free(s);
	is_int(json_get_string(b.p, b.len, "n", &s), -EINVAL, "reader: non-string member");
	is_int(json_get_string(b.p, b.len, "zz", &s), -ENOENT, "reader: absent member");
	buf_free(&b);
}

/* json_get_bool: the first of two members, strings are not booleans. */
static void test_write_read_bool(void)
{
	const char *in = "{\"file\":\"x\",\"reboot\" : true,\"n\":false,\"s\":\"true\",\"reboot\":false}";
	int v = -1;

	is_int(json_get_bool(in, strlen(in), "reboot", &v), 0, "bool member");
	is_int(v, 1, "true (the first of two, as json_get_string)");
	is_int(json_get_bool(in, strlen(in), "n", &v), 0, "false member");
	is_int(v, 0, "false");
	is_int(json_get_bool(in, strlen(in), "s", &v), -EINVAL, "a string is not a boolean");
	is_int(json_get_bool(in, strlen(in), "file", &v), -EINVAL, "nor any string");
	is_int(json_get_bool(in, strlen(in), "zz", &v), -ENOENT, "absent");
	is_int(json_get_bool("{\"reboot\":true", 14, "reboot", &v), -SPACE_E_FORMAT, "malformed document");
}

/* The reader's escapes: \u00e9, \n, a surrogate pair. */
static void test_write_read_escapes(void)
{
	const char *in = " {\"username\" : \"adm\\u00e9\\n\", \"password\":\"p\\\"w\\ud83d\\ude00\"} ";
	char *s = NULL;

	is_int(json_get_string(in, strlen(in), "username", &s), 0, "escapes decoded");
	ok(s && !strcmp(s, "adm\xc3\xa9\n"), "\\u00e9 and \\n decoded");
	free(s);
	is_int(json_get_string(in, strlen(in), "password", &s), 0, "surrogate pair");
	ok(s && !strcmp(s, "p\"w\xf0\x9f\x98\x80"), "surrogate pair to UTF-8");
	free(s);
}

/* Malformed documents: refused, nothing returned; nesting is bounded. */
static void test_write_read_malformed(void)
{
	char *s = NULL;
	static const char *const bad[] = {
		"",
		"[]",
		"{",
		"{\"a\":}",
		"{\"a\":\"x\",}",
		"{\"a\":\"\\u0000\"}",
		"{\"a\":\"x\"} x",
		"{\"a\":01}",
		"{\"a\":\"\\ud800\"}",
		"{\"a\":tru}",
		"{\"a\":\"\x01\"}",
		"{\"a\":\"\xff\"}",
		"{\"a\" \"b\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = NULL;
		is_int(json_get_string(bad[i], strlen(bad[i]), "a", &s), -SPACE_E_FORMAT,
		       "malformed JSON rejected: %s", bad[i]);
		ok(s == NULL, "nothing returned for malformed input");
	}
	{
		char deep[200];
		memset(deep, '[', sizeof(deep));
		memcpy(deep, "{\"a\":", 5);
		is_int(json_get_string(deep, sizeof(deep), "a", &s), -SPACE_E_FORMAT,
		       "deep nesting is bounded");
	}
}

/* mutated bodies: only documented results (mutate.h) */
static void test_mutations(void)
{
	static const char seed_json[] = "{\"username\":\"admin\",\"password\":\"s\\u00e9\\n\",\"x\":[1,{\"a\":null}]}";
	unsigned int rnd = 12345;
	int bad_json = 0, n = 10000;

	for (int i = 0; i < n; i++) {
		char buf[256], *s = NULL;
		size_t len = mutate(buf, seed_json, &rnd);
		int r = json_get_string(buf, len, "username", &s);

		if (r != 0 && r != -SPACE_E_FORMAT && r != -ENOENT && r != -EINVAL)
			bad_json++;
		if (r == 0 && !s)
			bad_json++;
		free(s);
	}
	is_int(bad_json, 0, "%d mutated JSON bodies: only documented results", n);
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/json/write_read", test_write_read },
		{ "/json/write_read/bool", test_write_read_bool },
		{ "/json/write_read/escapes", test_write_read_escapes },
		{ "/json/write_read/malformed", test_write_read_malformed },
		{ "/json/mutations", test_mutations },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
