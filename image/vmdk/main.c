/* SPDX-License-Identifier: MIT */
/* main.c - `vmdk`: raw <-> streamOptimized VMDK conversion and inspection. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "openreg.h"
#include "outfile.h"
#include "exitcode.h"
#include "subcmd.h"
#include "util.h"
#include "vmdk.h"

#define USAGE                                                                                    \
	"usage: vmdk convert [-j THREADS] [-l LEVEL] [-a ADAPTER] [-n NAME] RAW OUT.vmdk\n"      \
	"       vmdk extract IN.vmdk OUT.raw\n"                                                  \
	"       vmdk info IN.vmdk\n"                                                             \
	"\n"                                                                                     \
	"convert  raw disk image -> VMware streamOptimized VMDK (version 3, zlib grains of\n"    \
	"         64 KiB, markers, footer). Holes and all-zero grains are skipped. The output\n" \
	"         is byte-identical for any -j. -j threads (default: all CPUs), -l deflate\n"    \
	"         level 1..12 (default 5), -a ddb.adapterType (default lsilogic), -n file\n"     \
	"         name written in the extent line (default: basename of OUT).\n"                 \
	"extract  streamOptimized (or qemu-img's) VMDK -> raw image (sparse where zero).\n"      \
	"info     header and descriptor facts, one `key: value` per line.\n"                     \
	"\n"                                                                                     \
	"Outputs appear under their final name only when complete.\n"                            \
	"Exit status: 0 success, 1 the input is not a valid image, 100 usage, 111 I/O or\n"      \
	"system error (the contract of every space tool: README.md, Exit codes).\n"

static int cmd_convert(int argc, char **argv)
{
	struct vmdk_write_opts o = { 0 };
	struct vmdk_write_stats st;
	struct outfile of;
	const char *base;
	int c, in, r;

	while ((c = getopt(argc, argv, "j:l:a:n:")) != -1) {
		switch (c) {
		case 'j': o.threads = atoi(optarg); break;
		case 'l': o.level = atoi(optarg); break;
		case 'a': o.adapter_type = optarg; break;
		case 'n': o.extent_name = optarg; break;
		default: return die_usage(USAGE);
		}
	}
	if (argc - optind != 2 || o.level < 0 || o.level > 12) {
		return die_usage(USAGE);
	}
	base = strrchr(argv[optind + 1], '/');
	if (!o.extent_name)
		o.extent_name = base ? base + 1 : argv[optind + 1];
	in = open_regular(AT_FDCWD, argv[optind], O_RDONLY, 0, OPEN_REG_BLOCK);
	if (in < 0)
		return die_err("convert", argv[optind], in, NULL);
	r = outfile_open(&of, argv[optind + 1], 0644);
	if (r < 0) {
		close(in);
		return die_err("convert", argv[optind + 1], r, NULL);
	}
	r = vmdk_write_stream(in, of.fd, &o, &st);
	close(in);
	if (r < 0) {
		outfile_abort(&of);
		return die_err("convert", argv[optind], r, r == -SPACE_E_FORMAT ? "empty input" : NULL);
	}
	r = outfile_commit(&of);
	if (r < 0)
		return die_err("convert", argv[optind + 1], r, NULL);
	printf("capacity: %llu\ndata-grains: %llu\nzero-grains: %llu\nsize: %llu\ncid: %08x\n",
	       (unsigned long long)st.capacity_bytes, (unsigned long long)st.data_grains,
	       (unsigned long long)st.zero_grains, (unsigned long long)st.out_bytes, st.cid);
	return 0;
}

static int cmd_extract(int argc, char **argv)
{
	struct outfile of;
	struct space_err err = { "" };
	uint64_t cap = 0;
	int in, r;

	if (argc != 3) {
		return die_usage(USAGE);
	}
	in = open_regular(AT_FDCWD, argv[1], O_RDONLY, 0, 0);
	if (in < 0)
		return die_err("extract", argv[1], in, NULL);
	r = outfile_open(&of, argv[2], 0644);
	if (r < 0) {
		close(in);
		return die_err("extract", argv[2], r, NULL);
	}
	r = vmdk_extract(in, of.fd, &cap, &err);
	close(in);
	if (r < 0) {
		outfile_abort(&of);
		return die_err("extract", argv[1], r, err.msg);
	}
	r = outfile_commit(&of);
	if (r < 0)
		return die_err("extract", argv[2], r, NULL);
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	struct vmdk_info info;
	struct space_err err = { "" };
	int fd, r;

	if (argc != 2) {
		return die_usage(USAGE);
	}
	fd = open_regular(AT_FDCWD, argv[1], O_RDONLY, 0, 0);
	if (fd < 0)
		return die_err("info", argv[1], fd, NULL);
	r = vmdk_read_info(fd, &info, &err);
	close(fd);
	if (r < 0)
		return die_err("info", argv[1], r, err.msg);
	printf("version: %u\nflags: 0x%x\ncapacity: %llu\ngrain-sectors: %llu\n"
	       "compression: %s\nfooter: %s\ncreate-type: %s\nadapter-type: %s\ncid: %08x\n",
	       info.header.version, info.header.flags,
	       (unsigned long long)info.header.capacity * VMDK_SECTOR,
	       (unsigned long long)info.header.grain_size, info.header.compress ? "deflate" : "none",
	       info.has_footer ? "yes" : "no", info.desc.create_type, info.desc.adapter_type,
	       info.desc.cid);
	return 0;
}

static const struct subcmd commands[] = {
	{ "convert", cmd_convert },
	{ "extract", cmd_extract },
	{ "info", cmd_info },
};

int main(int argc, char **argv)
{
	space_prog = "vmdk";
	return subcmd_run(commands, sizeof(commands) / sizeof(commands[0]), USAGE, EXIT_USAGE, argc, argv);
}
