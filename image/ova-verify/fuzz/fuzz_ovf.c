/* SPDX-License-Identifier: MIT */
/* fuzz_ovf.c - libFuzzer target: the OVF descriptor check of ova-verify
 * (libxml2, then our walk of References and DiskSection, the reference,
 * member-order, coverage and disk-capacity cross checks of ov_finish()).
 *
 * Input: the descriptor, then optionally the contents of the files it
 * references in References order, each after a line "--member--" (a
 * separator, not a length: VMDK bytes hold NULs and any count): so the walk
 * meets present and missing members, wrong sizes and VMDK headers checked
 * against ovf:capacity. Fed as an archive is (ov_member_*), with
 * ov_referenced_files() naming the members, as directory mode does.
 *
 * Beyond "no crash, no leak": the package is never accepted (it has no
 * manifest or signature), the report is within its bound, and every report
 * line is printable (names come from the descriptor: a raw control byte
 * could forge a line). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/ova-verify/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void feed(struct ov *ov, const char *name, const uint8_t *p, size_t n)
{
	if (ov_member_begin(ov, name, n) < 0)
		return;
	ov_member_data(ov, p, n);
	ov_member_end(ov);
}

#define SEP "\n--member--\n"

/* The part of [p, end) before the next separator; *next after it (or end). */
static size_t part(const uint8_t *p, const uint8_t *end, const uint8_t **next)
{
	const uint8_t *s = memmem(p, (size_t)(end - p), SEP, sizeof(SEP) - 1);

	*next = s ? s + sizeof(SEP) - 1 : end;
	return s ? (size_t)(s - p) : (size_t)(end - p);
}

static void check_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char refs[OV_MAX_MEMBERS][OVA_NAME_MAX + 1];
	const struct ov_opts opts = { 0 };
	const uint8_t *end = data + size, *p;
	struct ov *ov = malloc(sizeof(*ov));
	unsigned n;

	if (!ov)
		abort();
	ov_init(ov, &opts);
	feed(ov, "space-1.0.ovf", data, part(data, end, &p));
	n = ov_referenced_files(ov, refs, OV_MAX_MEMBERS);
	if (n > OV_MAX_MEMBERS)
		abort();
	for (unsigned i = 0; i < n && p < end; i++) {
		const uint8_t *m = p;
		feed(ov, refs[i], m, part(m, end, &p));
	}
	ov_finish(ov);
	if (ov->nfail == 0 || ov->nchecks > OV_MAX_CHECKS)
		abort();
	for (unsigned i = 0; i < ov->nchecks; i++) {
		check_printable(ov->checks[i].file);
		check_printable(ov->checks[i].detail);
	}
	ov_free(ov);
	free(ov);
	return 0;
}
