/* SPDX-License-Identifier: MIT */
/* growdata - grows the data partition (the last one, /var) and its ext4 to
 * the end of the disk. The image is 8 GiB, VM disks are usually bigger (the
 * OVA declares 250 GB); rcS runs this at every boot before /var is mounted.
 *
 * Steps, each skipped when already done, so a rerun after any failure or
 * power cut finishes the job:
 *   1. repair a primary GPT left half-written by a power cut (from the
 *      backup at the end of the disk: gpt_restore_primary);
 *   2. move the backup GPT to the end of the disk and extend "data" to the
 *      last 1 MiB boundary (gpt_grow_last, gpt_write_grown: crash-safe
 *      order, see gpt.c);
 *   3. tell the kernel the new partition size (BLKPG_RESIZE_PARTITION);
 *   4. grow the ext4 when it is smaller than the partition: resize2fs,
 *      online when mounted, else after e2fsck -f -p (resize2fs wants a
 *      freshly checked filesystem when it is not mounted).
 * For a disk image file only the table is grown (--no-fs is required):
 * the filesystem sits at an offset resize2fs cannot take.
 * e2fsck -p exiting 1 (it fixed something) counts as a failure: the grow
 * is left for the next boot, when the filesystem checks clean. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <linux/blkpg.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "image/lib/diskio.h"
#include "image/lib/gpt.h"
#include "image/lib/imgutil.h"
#include "exitcode.h"
#include "openreg.h"
#include "run_ex.h"
#include "util.h"

#define DATA_NAME "data"

static const char *disk_path;

static void log_stderr(const char *msg)
{
	fprintf(stderr, "growdata: %s\n", msg);
}

static void help(FILE *f)
{
	fprintf(f, "usage: growdata [-n|--dry-run] [--no-fs] [-v] DISK\n\n"
		   "Grows the last GPT partition of DISK, which must be named \"data\", to the\n"
		   "end of the disk (1 MiB aligned), moves the backup table there, tells the\n"
		   "kernel, and grows the partition's ext4 with resize2fs (online when it is\n"
		   "mounted, after e2fsck -f -p when not). Every step is skipped when done;\n"
		   "nothing to do prints nothing.\n\n"
		   "  -n, --dry-run   say what would be done, change nothing\n"
		   "      --no-fs     grow the table only (required when DISK is an image file)\n"
		   "  -v, --verbose   log the commands run to stderr\n\n"
		   "Exit codes: 0 grown, or nothing to do; 1 refused (not a valid GPT, the last\n"
		   "partition is not \"data\", the disk is smaller than its table, not ext4);\n"
		   "100 usage error; 111 system call or external command failed (the contract\n"
		   "of every space tool: README.md, Exit codes).\n");
}

static int fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The shared contract (die_code), plus the errnos growdata's own checks
 * of the disk return for a refusal (EINVAL: smaller than its table, not a
 * block device; ENOSPC, EPERM from the GPT checks): 1, not 111. */
static int fail(int err, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	int code = die_code(err);

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	}
	if (err == -EPERM || err == -EINVAL || err == -ENOSPC)
		code = EXIT_REFUSED;
	return die_msg(code, "grow", disk_path, fmt ? why : space_strerror(err));
}

/* /dev/vda + 5 -> /dev/vda5; /dev/nvme0n1 + 5 -> /dev/nvme0n1p5 (the
 * kernel's naming: a "p" when the disk name ends in a digit). */
static void part_path(const char *disk, unsigned index, char *out, size_t len)
{
	size_t n = strlen(disk);
	int digit = n && disk[n - 1] >= '0' && disk[n - 1] <= '9';

	snprintf(out, len, "%s%s%u", disk, digit ? "p" : "", index);
}

static int blkpg_resize(int fd, const struct gpt_part *p)
{
	struct blkpg_partition bp;
	struct blkpg_ioctl_arg arg;

	memset(&bp, 0, sizeof(bp));
	bp.pno = (int)p->index;
	bp.start = (long long)gpt_part_offset(p);
	bp.length = (long long)gpt_part_bytes(p);
	memset(&arg, 0, sizeof(arg));
	arg.op = BLKPG_RESIZE_PARTITION;
	arg.datalen = sizeof(bp);
	arg.data = &bp;
	return ioctl(fd, BLKPG, &arg) < 0 ? -errno : 0;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

struct ext4_size {
	uint64_t bytes; /* filesystem size */
	uint64_t slack; /* what resize2fs may leave unused at the end: a last
			   group too small to hold its own metadata */
};

/* Reads the ext4 superblock (1024 bytes at offset 1024) of the partition. */
static int ext4_size_fd(int fd, struct ext4_size *es)
{
	uint8_t sb[1024];
	uint64_t blocks, bs;
	int r = pread_all(fd, sb, sizeof(sb), 1024);

	if (r < 0)
		return r;
	if (le16(sb + 0x38) != 0xEF53 || le_get32(sb + 0x18) > 6)
		return -SPACE_E_FORMAT;
	bs = 1024ull << le_get32(sb + 0x18);
	blocks = le_get32(sb + 0x04);
	if (le_get32(sb + 0x60) & 0x80) /* INCOMPAT_64BIT */
		blocks |= (uint64_t)le_get32(sb + 0x150) << 32;
	es->bytes = blocks * bs;
	/* resize2fs drops a last group smaller than its overhead + 50 blocks:
	 * inode table, two bitmaps, reserved GDT blocks, descriptors. */
	es->slack = ((uint64_t)le_get32(sb + 0x28) * le16(sb + 0x58) / bs +
		     le16(sb + 0xCE) + 2 + 64 + 50) *
		    bs;
	return 0;
}

/* 1 when the block device rdev is mounted (a major:minor in mountinfo). */
static int is_mounted(dev_t rdev)
{
	char want[32], line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int found = 0;

	if (!f)
		return 0;
	snprintf(want, sizeof(want), " %u:%u ", major(rdev), minor(rdev));
	while (!found && fgets(line, sizeof(line), f)) {
		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ..." */
		char *sp = strchr(line, ' ');
		sp = sp ? strchr(sp + 1, ' ') : NULL;
		if (sp && strncmp(sp, want, strlen(want)) == 0)
			found = 1;
	}
	fclose(f);
	return found;
}

/* Step 4. *grown: 0 nothing done, else the filesystem's new size. */
static int grow_fs(const char *part, int dry_run, uint64_t *old_bytes, uint64_t *new_bytes)
{
	struct ext4_size es = { 0, 0 };
	struct stat st;
	uint64_t pbytes;
	int fd, r, mounted;

	*old_bytes = *new_bytes = 0;
	fd = open_regular(AT_FDCWD, part, O_RDONLY | O_NOFOLLOW, 0, OPEN_REG_BLOCK);
	if (fd < 0)
		return fail(fd, "%s: %s", part, space_strerror(fd));
	if (fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode)) {
		close(fd);
		return fail(-EINVAL, "%s: not a block device", part);
	}
	r = disk_size_fd(fd, &pbytes);
	if (r == 0)
		r = ext4_size_fd(fd, &es);
	close(fd);
	if (r == -SPACE_E_FORMAT)
		return fail(r, "%s: not an ext4 filesystem", part);
	if (r < 0)
		return fail(r, "%s: %s", part, space_strerror(r));
	if (es.bytes + es.slack >= pbytes)
		return 0;
	*old_bytes = es.bytes;
	*new_bytes = pbytes;
	if (dry_run)
		return 0;
	mounted = is_mounted(st.st_rdev);
	if (!mounted) {
		const char *fsck[] = { "e2fsck", "-f", "-p", part, NULL };
		struct run_opts o = { .stdout_path = "/dev/null" };

		r = run_argv_ex(fsck, &o);
		if (r < 0)
			return fail(r, "e2fsck -f -p %s failed (%s): resize2fs needs a clean filesystem", part,
				    space_strerror(r));
	}
	{
		const char *rs[] = { "resize2fs", part, NULL };
		struct run_opts o = { .stdout_path = "/dev/null" };

		r = run_argv_ex(rs, &o);
		if (r < 0)
			return fail(r, "resize2fs %s failed (%s)", part, space_strerror(r));
	}
	return 0;
}

/* What one run knows: the options, the disk, and what each step did. */
struct grow {
	int dry_run, no_fs;
	int fd;
	struct stat st;
	uint64_t size;             /* the disk's */
	struct disk_layout l, old; /* the table grown, and as it was */
	const struct gpt_part *data, *odata;
	int restored, table;     /* step 1 restored, step 2 changed the table */
	uint64_t fs_old, fs_new; /* step 4: the ext4's sizes, 0 when untouched */
};

/* Options; -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct grow *g)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "no-fs", no_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "nvh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			g->dry_run = 1;
			break;
		case 'F':
			g->no_fs = 1;
			break;
		case 'v':
			space_log_fn = log_stderr;
			break;
		case 'h':
			help(stdout);
			return 0;
		default:
			help(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "growdata: expected one DISK (see growdata --help)\n");
		return EXIT_USAGE;
	}
	disk_path = argv[optind];
	return -1;
}

/* The disk (a block device, or an image file with --no-fs) and its size;
 * 0 or the exit code. */
static int open_disk(struct grow *g)
{
	int r;

	/* the type first: a FIFO would block open() (--dry-run) for ever */
	g->fd = open_regular(AT_FDCWD, disk_path, (g->dry_run ? O_RDONLY : O_RDWR) | O_NOFOLLOW, 0,
			     OPEN_REG_BLOCK);
	if (g->fd < 0)
		return fail(g->fd, g->fd == -SPACE_E_NOT_REG_BLK ? "not a disk or a disk image file" : NULL);
	if (fstat(g->fd, &g->st) < 0)
		return fail(-errno, NULL);
	if (S_ISREG(g->st.st_mode) && !g->no_fs) {
		fprintf(stderr, "growdata: grow %s: an image file needs --no-fs (see growdata --help)\n",
			disk_path);
		return EXIT_USAGE;
	}
	r = disk_size_fd(g->fd, &g->size);
	return r < 0 ? fail(r, NULL) : 0;
}

/* Step 1: a power cut between the primary entries and header writes. */
static int repair_primary(struct grow *g)
{
	int r;

	if (g->dry_run)
		return 0;
	r = gpt_restore_primary(g->fd);
	if (r < 0)
		return fail(r, "no valid primary GPT and no valid backup at the end of the disk");
	g->restored = r;
	return 0;
}

/* Step 2: the table, read, grown in memory and written when it changed. */
static int grow_table(struct grow *g)
{
	uint64_t tb;
	int r = gpt_table_bytes(g->fd, &tb);

	if (r < 0)
		return fail(r, "not a valid GPT (%s)", space_strerror(r));
	if (tb > g->size)
		return fail(-EINVAL, "the disk (%" PRIu64 " bytes) is smaller than its partition table (%" PRIu64 " bytes)",
			    g->size, tb);
	r = gpt_read_sized(g->fd, tb, &g->l);
	if (r < 0)
		return fail(r, "not a valid GPT (%s)", space_strerror(r));
	g->old = g->l;
	r = gpt_grow_last(&g->l, g->size, DATA_NAME);
	if (r == -EPERM)
		return fail(r, "the last partition is not \"%s\"", DATA_NAME);
	if (r == -EINVAL)
		return fail(r, "the disk size %" PRIu64 " is not a multiple of 512", g->size);
	if (r < 0)
		return fail(r, NULL);
	g->data = disk_layout_find(&g->l, DATA_NAME);
	g->odata = disk_layout_find(&g->old, DATA_NAME);
	if (r != 0)
		return 0;
	g->table = 1;
	if (!g->dry_run && (r = gpt_write_grown(g->fd, &g->l, GPT_GROW_STEPS)) < 0)
		return fail(r, "writing the partition table: %s", space_strerror(r));
	return 0;
}

/* Step 3: the kernel keeps the size it read at boot until told. */
static int tell_kernel(struct grow *g)
{
	int r;

	if (!S_ISBLK(g->st.st_mode) || !g->table || g->dry_run)
		return 0;
	r = blkpg_resize(g->fd, g->data);
	if (r < 0)
		return fail(r, "the table is grown but the kernel refused the new size of partition %u "
			       "(%s); it is used from the next boot",
			    g->data->index, space_strerror(r));
	return 0;
}

/* Step 4: the filesystem. With --dry-run and a table to grow, the
 * partition device still has its old size: the fs follows it. */
static int grow_filesystem(struct grow *g)
{
	char part[4096];

	if (g->no_fs)
		return 0;
	part_path(disk_path, g->data->index, part, sizeof(part));
	if (g->dry_run && g->table) {
		g->fs_new = gpt_part_bytes(g->data);
		return 0;
	}
	return grow_fs(part, g->dry_run, &g->fs_old, &g->fs_new);
}

/* One line of what was (or would be) done; nothing when nothing was. */
static void report(const struct grow *g)
{
	char msg[512] = "";
	int n = 0;

	if (!g->restored && !g->table && !g->fs_new)
		return;
	if (g->restored)
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, "; primary GPT restored from the backup");
	if (g->table)
		n += snprintf(msg + n, sizeof(msg) - (size_t)n,
			      "; partition %u \"%s\" %" PRIu64 " -> %" PRIu64 " MiB (disk %" PRIu64 " MiB)",
			      g->data->index, DATA_NAME, gpt_part_bytes(g->odata) / (uint64_t)MIB,
			      gpt_part_bytes(g->data) / (uint64_t)MIB, g->size / (uint64_t)MIB);
	if (g->fs_new && g->fs_old)
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, "; ext4 %" PRIu64 " -> %" PRIu64 " MiB",
			      g->fs_old / (uint64_t)MIB, g->fs_new / (uint64_t)MIB);
	else if (g->fs_new)
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, "; ext4 to %" PRIu64 " MiB",
			      g->fs_new / (uint64_t)MIB);
	(void)n;
	printf("growdata: %s: %s%s\n", disk_path, g->dry_run ? "would grow" : "grown", msg + 1);
}

int main(int argc, char **argv)
{
	struct grow g = { .fd = -1 };
	int rc;

	space_prog = "growdata";
	if ((rc = parse_args(argc, argv, &g)) >= 0)
		return rc;
	if ((rc = open_disk(&g)) == 0 && (rc = repair_primary(&g)) == 0 && (rc = grow_table(&g)) == 0 &&
	    (rc = tell_kernel(&g)) == 0 && (rc = grow_filesystem(&g)) == 0)
		report(&g);
	if (g.fd >= 0)
		close(g.fd);
	return rc;
}
