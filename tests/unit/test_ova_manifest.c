/* SPDX-License-Identifier: MIT */
/* test_ova_manifest.c - .mf and .cert text formats (the parsers ova-verify
 * applies to untrusted input). */
#include <string.h>

#include "image/ova/manifest.h"
#include "tap.h"
#include "util.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int mf(const char *s, struct space_err *err)
{
	struct ova_manifest m;
	return ova_manifest_parse(s, strlen(s), &m, err);
}

/* the manifest (.mf) parser */
static void test_parse(void)
{
	struct ova_manifest m;
	struct space_err err_s, *err = &err_s;
	const char *good = "SHA256(a.ovf)= " H64 "\nSHA256(a-disk1.vmdk)= " H64 "\n";

	is_int(ova_manifest_parse(good, strlen(good), &m, err), 0, "well-formed manifest");
	is_int(m.n, 2, "two entries");
	ok(!strcmp(m.e[1].name, "a-disk1.vmdk") && m.e[1].dlen == 32 && m.e[1].digest[1] == 0x23, "entry decoded");
	is_int(mf("SHA2-256(a.ovf)= " H64 "\n", err), -SPACE_E_FORMAT, "OpenSSL 3 SHA2-256 label refused");
	is_int(mf("SHA256 (a.ovf) = " H64 "\n", err), -SPACE_E_FORMAT, "sha256sum --tag spacing refused");
	is_int(mf("SHA256(a.ovf)= " H64, err), -SPACE_E_FORMAT, "missing final newline refused");
	is_int(mf("SHA256(a.ovf)= " H64 "\r\n", err), -SPACE_E_FORMAT, "CRLF refused");
	is_int(mf("SHA256(a.ovf)= 0123\n", err), -SPACE_E_FORMAT, "short digest refused");
	is_int(mf("SHA256(a.ovf)= 0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\n", err),
	       -SPACE_E_FORMAT, "upper-case hex refused");
	is_int(mf("SHA256(../a.ovf)= " H64 "\n", err), -SPACE_E_FORMAT, "path in name refused");
	is_int(mf("SHA256(a.ovf)= " H64 "\nSHA256(a.ovf)= " H64 "\n", err), -SPACE_E_FORMAT, "duplicate refused");
	ok(strstr(err->msg, "line 2") != NULL, "error names the line: %s", err->msg);
	is_int(mf("", err), -SPACE_E_FORMAT, "empty manifest refused");
	is_int(mf("SHA1(a.ovf)= 0123456789abcdef0123456789abcdef01234567\n", err), 0, "SHA1 accepted");
}

static void test_line(void)
{
	char line[256];
	unsigned char d[32];

	memset(d, 0xab, sizeof(d));
	ok(ova_manifest_line(line, sizeof(line), "SHA256", "x.ovf", d, 32) > 0 &&
		   !strncmp(line, "SHA256(x.ovf)= abab", 19) && line[strlen(line) - 1] == '\n',
	   "line formatted as VMDK-style SHA256(name)= hex");
	ok(ova_manifest_line(line, 20, "SHA256", "x.ovf", d, 32) < 0, "short buffer refused");
}

/* the certificate file (.cert): signature line and PEM */
static void test_cert(void)
{
	struct ova_cert_file cf;
	struct space_err err_s, *err = &err_s;
	const char *cert = "SHA256(a.mf)= 00ff10\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

	is_int(ova_cert_parse(cert, strlen(cert), &cf, err), 0, "cert file parsed");
	ok(cf.siglen == 3 && cf.sig[1] == 0xff && !strcmp(cf.name, "a.mf"), "signature line decoded");
	ok(!strncmp(cert + cf.pem_offset, "-----BEGIN", 10), "PEM offset");
	is_int(ova_cert_parse("SHA256(a.mf)= 00\n", 17, &cf, err), -SPACE_E_FORMAT, "no certificate refused");
	{
		char two[512];
		snprintf(two, sizeof(two), "%s%s", cert, strchr(cert, '\n') + 1);
		is_int(ova_cert_parse(two, strlen(two), &cf, err), -SPACE_E_FORMAT,
		       "two certificates refused");
	}
	is_int(ova_cert_parse("RSA-SHA256(a.mf)= 00\n-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", 75, &cf,
			      err),
	       -SPACE_E_FORMAT, "openssl dgst RSA-SHA256 label refused");
}

static void test_names(void)
{
	ok(ova_name_is_plain("space-21.3R1.1-disk1.vmdk"), "release name is plain");
	ok(!ova_name_is_plain("a/b") && !ova_name_is_plain(".hidden") && !ova_name_is_plain("a b") &&
		   !ova_name_is_plain(""),
	   "paths, dot-files, spaces, empty are not plain");
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/ova_manifest/parse", test_parse },
		{ "/ova_manifest/line", test_line },
		{ "/ova_manifest/cert", test_cert },
		{ "/ova_manifest/names", test_names },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
