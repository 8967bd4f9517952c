/* SPDX-License-Identifier: MIT */
/* fmt-disk.c - `mkimage disk`: the raw GPT disk image (disk_build). */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/lib/disk.h"
#include "mkimage.h"
#include "openreg.h"
#include "util.h"

/* On SIGINT/SIGTERM/SIGHUP, remove what disk_build() had started: the
 * image under its temporary name and the scratch directory (names are
 * disk_build()'s: OUT.tmp.PID and OUT.work.PID). Only async-signal-safe
 * calls: unlink, fork/execvp of rm, waitpid. */
static char *sig_tmp, *sig_work;

static void on_signal(int sig)
{
	pid_t pid;

	if (sig_tmp)
		unlink(sig_tmp);
	if (sig_work && (pid = fork()) == 0) {
		const char *argv[] = { "rm", "-rf", "--", sig_work, NULL };
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	} else if (sig_work && pid > 0) {
		waitpid(pid, NULL, 0);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void cleanup_on_signals(const char *out)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	sig_tmp = xasprintf("%s.tmp.%ld", out, (long)getpid());
	sig_work = xasprintf("%s.work.%ld", out, (long)getpid());
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static int parse_epoch(const char *s, long long *out)
{
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || *end || *out <= 0 ? -EINVAL : 0;
}

/* --in-place: write the layout onto an existing file or device (all of
 * it), as the installer does, instead of creating a new image. */
static int disk_in_place(struct disk_spec *s)
{
	char work[] = "/tmp/mkimage.XXXXXX";
	struct space_err err = { "" };
	struct disk_layout l;
	int fd, r;

	/* A character device is never opened (a watchdog would arm) */
	fd = open_regular(AT_FDCWD, s->out_path, O_RDWR | O_NOFOLLOW, 0, OPEN_REG_BLOCK);
	if (fd < 0)
		return die_err("disk", s->out_path, fd, NULL);
	r = disk_size_fd(fd, &s->sizes.disk);
	if (r == 0)
		r = disk_layout_default(&l, &s->sizes, s->seed);
	if (r == -ENOSPC)
		err_set(&err, r, "disk too small for the layout (needs at least %llu MiB)",
			(unsigned long long)((disk_layout_min_bytes(&s->sizes) + MIB - 1) / MIB));
	if (r == 0 && !mkdtemp(work))
		r = -errno;
	else if (r == 0) {
		r = disk_write(s, &l, s->out_path, fd, work, &err);
		remove_tree(work);
	}
	close(fd);
	if (r < 0)
		return mk_fail("disk", s->out_path, r, err.msg);
	return MK_EXIT_OK;
}

static int run_disk(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "rootfs", required_argument, NULL, 'r' },
		{ "attrs", required_argument, NULL, 'a' },
		{ "seed", required_argument, NULL, 's' },
		{ "product", required_argument, NULL, 'P' },
		{ "version", required_argument, NULL, 'V' },
		{ "size", required_argument, NULL, 'S' },
		{ "root-size", required_argument, NULL, 'R' },
		{ "esp-size", required_argument, NULL, 'E' },
		{ "cmdline-extra", required_argument, NULL, 'c' },
		{ "epoch", required_argument, NULL, 't' },
		{ "grub-pc-dir", required_argument, NULL, 'g' },
		{ "in-place", no_argument, NULL, 'I' },
		{ "kit", required_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct disk_spec s = { 0 };
	struct space_err err = { "" };
	const char *epoch_s = getenv("SOURCE_DATE_EPOCH");
	uint64_t *size_dst;
	int c, r, in_place = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 'o': s.out_path = optarg; break;
		case 'r': s.rootfs = optarg; break;
		case 'a': s.attrs_path = optarg; break;
		case 's': s.seed = optarg; break;
		case 'P': s.product = optarg; break;
		case 'V': s.version = optarg; break;
		case 'c': s.cmdline_extra = optarg; break;
		case 't': epoch_s = optarg; break;
		case 'g': s.grub_pc_dir = optarg; break;
		case 'k': s.kit_dir = optarg; break;
		case 'v': mk_verbose_on(); break;
		case 'I': in_place = 1; break;
		case 'S':
		case 'R':
		case 'E':
			size_dst = c == 'S' ? &s.sizes.disk : c == 'R' ? &s.sizes.root :
									 &s.sizes.esp;
			if (mk_parse_size(optarg, size_dst) < 0 || !*size_dst)
				return mk_usage_error("disk", "bad size '%s'", optarg);
			break;
		default:
			return mk_usage_error("disk", "bad option");
		}
	}
	if (optind != argc)
		return mk_usage_error("disk", "unexpected argument '%s'", argv[optind]);
	if (!s.out_path || !s.rootfs || !s.seed || !s.product || !s.version)
		return mk_usage_error("disk", "--out, --rootfs, --seed, --product and --version are required");
	if (!*s.seed)
		return mk_usage_error("disk", "--seed must not be empty");
	if (!epoch_s)
		return mk_usage_error("disk", "SOURCE_DATE_EPOCH is not set (or pass --epoch)");
	if (parse_epoch(epoch_s, &s.epoch) < 0)
		return mk_usage_error("disk", "bad epoch '%s'", epoch_s);
	if (s.sizes.disk % 512)
		return mk_usage_error("disk", "--size must be a multiple of 512");
	if (in_place) {
		if (s.sizes.disk)
			return mk_usage_error("disk", "--in-place takes the size of --out, not --size");
		return disk_in_place(&s);
	}
	cleanup_on_signals(s.out_path);
	r = disk_build(&s, NULL, &err);
	if (r < 0)
		return mk_fail("disk", s.out_path, r, err.msg);
	return MK_EXIT_OK;
}

const struct mk_handler fmt_disk = {
	"disk",
	"--out RAW --rootfs DIR [--attrs FILE] --seed STRING --product NAME --version VER\n"
	"        [--size 8G] [--root-size 2G] [--esp-size 64M] [--cmdline-extra \"...\"]\n"
	"        [--epoch N] [--grub-pc-dir DIR] [--in-place] [--kit DIR] [-v]\n"
	"      --in-place: RAW is an existing file or block device, overwritten whole\n"
	"      (its size is the disk size)\n"
	"      --kit: also write the installer's boot kit of this disk into DIR\n"
	"      (GRUB's images and the ESP: image/lib/bootkit.h)",
	"raw GPT disk: bios boot, ESP (shim + signed GRUB + grub.cfg), root-a (DIR), root-b, data",
	run_disk,
};
