/* SPDX-License-Identifier: MIT */
/* mkimage - builds the appliance disk images: a raw GPT disk with GRUB for
 * BIOS and UEFI and A/B root slots, its qcow2 conversion, and a dump of a
 * disk's partition table. One handler per verb (fmt-*.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mkimage.h"
#include "util.h"

int mk_verbose;

static const struct mk_handler *const handlers[] = {
	&fmt_disk,
	&fmt_qcow2,
	&fmt_layout,
	&fmt_bootenv,
};

#define NHANDLERS (sizeof(handlers) / sizeof(handlers[0]))

static void log_stderr(const char *msg)
{
	fprintf(stderr, "mkimage: %s\n", msg);
}

static void help(FILE *f)
{
	fprintf(f, "usage: mkimage [-v] VERB [OPTIONS]\n\n");
	for (size_t i = 0; i < NHANDLERS; i++)
		fprintf(f, "  mkimage %s %s\n      %s\n", handlers[i]->name, handlers[i]->usage,
			handlers[i]->summary);
	fprintf(f, "\n  -v, --verbose   log every command run to stderr\n"
		   "\nSOURCE_DATE_EPOCH (or --epoch) sets every timestamp in the image.\n"
		   "\nExit codes: 0 success; 1 input rejected (rootfs, attrs, sizes, not a\n"
		   "valid GPT); 100 usage error; 111 system call or external command failed\n"
		   "(the contract of every space tool: README.md, Exit codes).\n");
}

void mk_verbose_on(void)
{
	mk_verbose = 1;
	space_log_fn = log_stderr;
}

/* The shared contract (die_code), plus the errnos that in mkimage's work
 * on an opened input come from checks of it (the rootfs tree, --attrs, the
 * sizes: a missing kernel is ENOENT, a tree too large for the slot ENOSPC):
 * those are refused input, 1, not a failure of the machine. An input that
 * cannot be opened is reported with die_err (111). */
int mk_fail(const char *verb, const char *object, int err, const char *detail)
{
	int code = die_code(err);

	switch (-err) {
	case SPACE_E_FORMAT:
	case SPACE_E_UNSAFE_PATH:
	case SPACE_E_NOT_REG:
	case SPACE_E_NOT_REG_BLK:
	case ENOSPC:
	case ENOENT:
	case ENOTDIR:
	case ELOOP:
	case EINVAL:
	case EFBIG:
		code = MK_EXIT_REJECTED;
		break;
	}
	return die_msg(code, verb, object, detail && *detail ? detail : space_strerror(err));
}

int mk_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", space_prog, verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see mkimage --help)\n");
	return MK_EXIT_USAGE;
}

int mk_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v, mul = 1;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'k':
	case 'K':
		mul = 1ull << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mul = 1ull << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mul = 1ull << 30;
		end++;
		break;
	case 't':
	case 'T':
		mul = 1ull << 40;
		end++;
		break;
	default: return -EINVAL;
	}
	if (*end && strcmp(end, "iB") && strcmp(end, "B"))
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -EINVAL;
	*out = v * mul;
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1;

	space_prog = "mkimage";
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			mk_verbose = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			help(stdout);
			return MK_EXIT_OK;
		} else {
			return mk_usage_error("mkimage", "unknown option %s", argv[i]);
		}
	}
	if (i >= argc) {
		help(stderr);
		return MK_EXIT_USAGE;
	}
	for (size_t h = 0; h < NHANDLERS; h++) {
		if (strcmp(argv[i], handlers[h]->name))
			continue;
		if (mk_verbose)
			mk_verbose_on();
		return handlers[h]->run(argc - i, argv + i);
	}
	return mk_usage_error("mkimage", "unknown verb '%s'", argv[i]);
}
