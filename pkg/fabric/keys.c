/* SPDX-License-Identifier: MIT */
/* keys.c - the nodes' SSH public keys and root's authorized_keys (keys.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "paths.h"
#include "util.h"

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int fabric_pubkey_parse(const char *line, char out[FABRIC_PUBKEY_MAX])
{
	static const char type[] = "ssh-ed25519 ";
	const char *b = line + sizeof(type) - 1;
	size_t n;

	if (strncmp(line, type, sizeof(type) - 1))
		return -SPACE_E_FORMAT;
	n = strspn(b, B64);
	/* the 51-byte blob (type and 32-byte key) is 68 base64 characters,
	 * and always starts with the encoded type */
	if (n != 68 || strncmp(b, "AAAAC3NzaC1lZDI1NTE5AAAAI", 25) || (b[n] && b[n] != ' ' && b[n] != '\n'))
		return -SPACE_E_FORMAT;
	snprintf(out, FABRIC_PUBKEY_MAX, "%.*s", (int)(sizeof(type) - 1 + n), line);
	return 0;
}

int fabric_keys_set(struct fabric_keys *k, const char *name, const char *key)
{
	unsigned i = 0;

	while (i < k->n && strcmp(k->k[i].name, name))
		i++;
	if (i == k->n) {
		if (k->n == FABRIC_NODES_MAX)
			return -ENOSPC;
		k->n++;
	}
	snprintf(k->k[i].name, sizeof(k->k[i].name), "%s", name);
	snprintf(k->k[i].key, sizeof(k->k[i].key), "%s", key);
	return 0;
}

int fabric_keys_parse(const char *text, size_t len, struct fabric_keys *k, struct space_err *err)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;

	memset(k, 0, sizeof(*k));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		char buf[FABRIC_LINE_MAX], key[FABRIC_PUBKEY_MAX], *sp;
		size_t n = (size_t)(le - p);

		line++;
		if (n >= sizeof(buf) || memchr(p, '\0', n))
			return err_set(err, -SPACE_E_FORMAT, "line %u: too long or a NUL byte", line);
		memcpy(buf, p, n);
		buf[n] = '\0';
		p = nl ? nl + 1 : end;
		if (!buf[0])
			continue;
		sp = strchr(buf, ' ');
		if (!sp || sp == buf)
			return err_set(err, -SPACE_E_FORMAT, "line %u: want 'NAME ssh-ed25519 KEY'", line);
		*sp = '\0';
		if (!fabric_name_ok(buf))
			return err_set(err, -SPACE_E_FORMAT, "line %u: bad node name", line);
		if (fabric_pubkey_parse(sp + 1, key) < 0)
			return err_set(err, -SPACE_E_FORMAT, "line %u: not an ssh-ed25519 public key", line);
		for (unsigned i = 0; i < k->n; i++)
			if (!strcmp(k->k[i].name, buf))
				return err_set(err, -SPACE_E_FORMAT, "line %u: node %s listed twice", line, buf);
		if (fabric_keys_set(k, buf, key) < 0)
			return err_set(err, -SPACE_E_FORMAT, "line %u: more than %d keys", line, FABRIC_NODES_MAX);
	}
	return 0;
}

void fabric_keys_format(const struct fabric_keys *k, struct buf *b)
{
	for (unsigned i = 0; i < k->n; i++)
		buf_printf(b, "%s %s\n", k->k[i].name, k->k[i].key);
}

/* A fabric line: ours, recognised by its comment. */
static bool fabric_line(const char *s, size_t n)
{
	static const char mark[] = " " FABRIC_KEY_COMMENT;

	return memmem(s, n, mark, sizeof(mark) - 1) && !strncmp(s, FABRIC_KEY_OPTIONS, strlen(FABRIC_KEY_OPTIONS));
}

int fabric_authorize(const char *path, const struct fabric_keys *k, struct space_err *err)
{
	char *old = NULL;
	size_t len = 0;
	struct buf b;
	int r;

	r = read_file(path, 1 << 20, &old, &len);
	if (r < 0 && r != -ENOENT)
		return err_set(err, r, "read %s: %s", path, space_strerror(r));
	buf_init(&b);
	for (const char *p = old, *end = old + len; p && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;

		if (!fabric_line(p, (size_t)(le - p)) && le > p)
			buf_printf(&b, "%.*s\n", (int)(le - p), p);
		p = nl ? nl + 1 : end;
	}
	for (unsigned i = 0; i < k->n; i++)
		buf_printf(&b, "%s %s %s%s\n", FABRIC_KEY_OPTIONS, k->k[i].key, FABRIC_KEY_COMMENT, k->k[i].name);
	free(old);
	r = buf_failed(&b);
	if (r == 0) {
		char dir[4096], *slash;

		snprintf(dir, sizeof(dir), "%s", path);
		if ((slash = strrchr(dir, '/')) && slash != dir) {
			*slash = '\0';
			r = mkdir_p(dir, 0700);
		}
		if (r == 0)
			r = write_file_atomic(path, b.p ? b.p : "", b.len, 0600);
	}
	buf_free(&b);
	if (r < 0)
		return err_set(err, r, "write %s: %s", path, space_strerror(r));
	return 0;
}
