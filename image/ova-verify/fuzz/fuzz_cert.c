/* SPDX-License-Identifier: MIT */
/* fuzz_cert.c - libFuzzer target: the .cert parser plus the PEM decoding
 * ova-verify applies after it. */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "image/ova/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ova_cert_file cf;
	struct space_err err;

	if (ova_cert_parse((const char *)data, size, &cf, &err) == 0) {
		BIO *b;
		X509 *x;

		if (cf.pem_offset >= size || cf.siglen == 0 || cf.siglen > OVA_MAX_SIG)
			abort();
		b = BIO_new_mem_buf(data + cf.pem_offset, (int)(size - cf.pem_offset));
		x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
		X509_free(x);
		BIO_free(b);
	}
	return 0;
}
