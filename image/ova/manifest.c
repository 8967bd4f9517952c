/* SPDX-License-Identifier: MIT */
/* manifest.c - .mf / .cert text formats; see manifest.h. Input is untrusted
 * (ova-verify feeds it straight from the OVA), so every length is checked and
 * nothing assumes NUL termination. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "manifest.h"
#include "util.h"

static const struct {
	const char *token, *evp;
	size_t len;
} digests[] = {
	{ "SHA1", "SHA1", 20 },
	{ "SHA256", "SHA256", 32 },
	{ "SHA512", "SHA512", 64 },
};

const char *ova_digest_evp_name(const char *token)
{
	for (size_t i = 0; i < sizeof(digests) / sizeof(digests[0]); i++)
		if (strcmp(token, digests[i].token) == 0)
			return digests[i].evp;
	return NULL;
}

size_t ova_digest_len(const char *token)
{
	for (size_t i = 0; i < sizeof(digests) / sizeof(digests[0]); i++)
		if (strcmp(token, digests[i].token) == 0)
			return digests[i].len;
	return 0;
}

static bool plain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-' || c == '+';
}

static bool plain_name_n(const char *s, size_t n)
{
	if (n == 0 || n > OVA_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!plain_char(s[i]))
			return false;
	return true;
}

int ova_name_is_plain(const char *name)
{
	return plain_name_n(name, strnlen(name, OVA_NAME_MAX + 1));
}

/* Parse `ALG(name)= hex` in [p, e). maxbytes bounds the decoded hex. */
static const char *parse_sigline(const char *p, const char *e, char alg[8], char name[OVA_NAME_MAX + 1],
				 unsigned char *out, size_t maxbytes, size_t *outlen)
{
	const char *lp = memchr(p, '(', (size_t)(e - p)), *close = NULL, *h;
	size_t al, nl, hl;

	if (!lp)
		return "expected ALG(name)= hex";
	al = (size_t)(lp - p);
	if (al == 0 || al >= 8)
		return "unknown digest algorithm";
	memcpy(alg, p, al);
	alg[al] = '\0';
	if (!ova_digest_evp_name(alg))
		return "unknown digest algorithm (want SHA1, SHA256 or SHA512)";
	/* the last ")= " ends the name: names may not contain it, but be exact */
	for (const char *q = lp + 1; q + 3 <= e; q++)
		if (q[0] == ')' && q[1] == '=' && q[2] == ' ')
			close = q;
	if (!close)
		return "expected `)= ` after the file name";
	nl = (size_t)(close - lp - 1);
	if (!plain_name_n(lp + 1, nl))
		return "file name is not a plain member name";
	memcpy(name, lp + 1, nl);
	name[nl] = '\0';
	h = close + 3;
	hl = (size_t)(e - h);
	if (hl == 0 || hl % 2 || hl / 2 > maxbytes)
		return "hex value has a wrong length";
	/* upper case is not what VMware writes: refuse it */
	if (hex_decode(h, hl / 2, out) < 0)
		return "value is not lowercase hex";
	*outlen = hl / 2;
	return NULL;
}

int ova_manifest_parse(const char *text, size_t len, struct ova_manifest *mf, struct space_err *err)
{
	const char *p = text, *end = text + len, *why = NULL;
	unsigned lineno = 0;

	mf->n = 0;
	if (len == 0)
		return err_set(err, -SPACE_E_FORMAT, "manifest is empty");
	while (p < end && !why) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct ova_mf_entry *en;

		lineno++;
		if (!nl) {
			why = "last line lacks a newline";
			break;
		}
		if (nl > p && nl[-1] == '\r') {
			why = "CRLF line ending";
			break;
		}
		if (mf->n >= OVA_MF_MAX_ENTRIES) {
			why = "too many entries";
			break;
		}
		en = &mf->e[mf->n];
		why = parse_sigline(p, nl, en->alg, en->name, en->digest, OVA_MAX_DIGEST, &en->dlen);
		if (!why && en->dlen != ova_digest_len(en->alg))
			why = "digest length does not match the algorithm";
		for (unsigned i = 0; !why && i < mf->n; i++)
			if (strcmp(mf->e[i].name, en->name) == 0)
				why = "file listed twice";
		if (!why)
			mf->n++;
		p = nl + 1;
	}
	if (why)
		return err_set(err, -SPACE_E_FORMAT, "line %u: %s", lineno, why);
	return 0;
}

int ova_manifest_line(char *out, size_t outsz, const char *alg, const char *name,
		      const unsigned char *digest, size_t dlen)
{
	int n = snprintf(out, outsz, "%s(%s)= ", alg, name);

	if (n < 0 || (size_t)n + 2 * dlen + 2 > outsz)
		return -ENAMETOOLONG;
	hex_encode(digest, dlen, out + n);
	out[(size_t)n + 2 * dlen] = '\n';
	out[(size_t)n + 2 * dlen + 1] = '\0';
	return n + (int)(2 * dlen) + 1;
}

static const char *find(const char *p, const char *e, const char *needle)
{
	size_t n = strlen(needle);

	for (; p + n <= e; p++)
		if (memcmp(p, needle, n) == 0)
			return p;
	return NULL;
}

int ova_cert_parse(const char *text, size_t len, struct ova_cert_file *cf, struct space_err *err)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----", endm[] = "-----END CERTIFICATE-----";
	const char *end = text + len, *nl = memchr(text, '\n', len), *why, *b, *e2;

	memset(cf, 0, sizeof(*cf));
	if (!nl)
		return err_set(err, -SPACE_E_FORMAT, "line 1: no signature line");
	if (nl > text && nl[-1] == '\r') {
		return err_set(err, -SPACE_E_FORMAT, "line 1: CRLF line ending");
	}
	why = parse_sigline(text, nl, cf->alg, cf->name, cf->sig, OVA_MAX_SIG, &cf->siglen);
	if (why)
		return err_set(err, -SPACE_E_FORMAT, "line 1: %s", why);
	b = find(nl + 1, end, begin);
	e2 = b ? find(b, end, endm) : NULL;
	if (!b || !e2)
		return err_set(err, -SPACE_E_FORMAT, "no PEM certificate after the signature line");
	if (find(e2, end, begin)) {
		return err_set(err, -SPACE_E_FORMAT, "more than one certificate (the chain belongs in the chain file)");
	}
	cf->pem_offset = (size_t)(b - text);
	return 0;
}
