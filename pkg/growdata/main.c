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
		     le16(sb + 0xCE) + 2 + 64 + 50) * bs;
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "no-fs", no_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct disk_layout l, old;
	const struct gpt_part *data = NULL, *odata = NULL;
	char part[4096], msg[512] = "";
	uint64_t size, tb, fs_old = 0, fs_new = 0;
	int c, dry_run = 0, no_fs = 0, fd = -1, rc = 0, r, restored = 0, table = 0;
	struct stat st;

	space_prog = "growdata";
	while ((c = getopt_long(argc, argv, "nvh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry_run = 1;
			break;
		case 'F':
			no_fs = 1;
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
	/* the type first: a FIFO would block open() (--dry-run) for ever */
	fd = open_regular(AT_FDCWD, disk_path, (dry_run ? O_RDONLY : O_RDWR) | O_NOFOLLOW, 0,
			  OPEN_REG_BLOCK);
	if (fd < 0)
		return fail(fd, fd == -SPACE_E_NOT_REG_BLK ? "not a disk or a disk image file" : NULL);
	if (fstat(fd, &st) < 0) {
		rc = fail(-errno, NULL);
		goto out;
	}
	if (S_ISREG(st.st_mode) && !no_fs) {
		fprintf(stderr, "growdata: grow %s: an image file needs --no-fs (see growdata --help)\n",
			disk_path);
		rc = EXIT_USAGE;
		goto out;
	}
	r = disk_size_fd(fd, &size);
	if (r < 0) {
		rc = fail(r, NULL);
		goto out;
	}

	/* 1. A power cut between the primary entries and header writes. */
	if (!dry_run) {
		r = gpt_restore_primary(fd);
		if (r < 0) {
			rc = fail(r, "no valid primary GPT and no valid backup at the end of the disk");
			goto out;
		}
		restored = r;
	}

	/* 2. The table. */
	r = gpt_table_bytes(fd, &tb);
	if (r < 0) {
		rc = fail(r, "not a valid GPT (%s)", space_strerror(r));
		goto out;
	}
	if (tb > size) {
		rc = fail(-EINVAL, "the disk (%" PRIu64 " bytes) is smaller than its partition table (%" PRIu64
				   " bytes)",
			  size, tb);
		goto out;
	}
	r = gpt_read_sized(fd, tb, &l);
	if (r < 0) {
		rc = fail(r, "not a valid GPT (%s)", space_strerror(r));
		goto out;
	}
	old = l;
	r = gpt_grow_last(&l, size, DATA_NAME);
	if (r == -EPERM) {
		rc = fail(r, "the last partition is not \"%s\"", DATA_NAME);
		goto out;
	}
	if (r == -EINVAL) {
		rc = fail(r, "the disk size %" PRIu64 " is not a multiple of 512", size);
		goto out;
	}
	if (r < 0) {
		rc = fail(r, NULL);
		goto out;
	}
	data = disk_layout_find(&l, DATA_NAME);
	odata = disk_layout_find(&old, DATA_NAME);
	if (r == 0) {
		table = 1;
		if (!dry_run) {
			r = gpt_write_grown(fd, &l, GPT_GROW_STEPS);
			if (r < 0) {
				rc = fail(r, "writing the partition table: %s", space_strerror(r));
				goto out;
			}
		}
	}

	/* 3. The kernel keeps the size it read at boot until told. */
	if (S_ISBLK(st.st_mode) && table && !dry_run) {
		r = blkpg_resize(fd, data);
		if (r < 0) {
			rc = fail(r, "the table is grown but the kernel refused the new size of partition %u "
				     "(%s); it is used from the next boot",
				  data->index, space_strerror(r));
			goto out;
		}
	}

	/* 4. The filesystem. With --dry-run and a table to grow, the
	 * partition device still has its old size: the fs follows it. */
	if (!no_fs) {
		part_path(disk_path, data->index, part, sizeof(part));
		if (dry_run && table) {
			fs_new = gpt_part_bytes(data);
		} else {
			rc = grow_fs(part, dry_run, &fs_old, &fs_new);
			if (rc)
				goto out;
		}
	}

	if (restored || table || fs_new) {
		int n = 0;

		if (restored)
			n += snprintf(msg + n, sizeof(msg) - (size_t)n, "; primary GPT restored from the backup");
		if (table)
			n += snprintf(msg + n, sizeof(msg) - (size_t)n,
				      "; partition %u \"%s\" %" PRIu64 " -> %" PRIu64 " MiB (disk %" PRIu64 " MiB)",
				      data->index, DATA_NAME, gpt_part_bytes(odata) / (uint64_t)MIB, gpt_part_bytes(data) / (uint64_t)MIB,
				      size / (uint64_t)MIB);
		if (fs_new && fs_old)
			n += snprintf(msg + n, sizeof(msg) - (size_t)n, "; ext4 %" PRIu64 " -> %" PRIu64 " MiB",
				      fs_old / (uint64_t)MIB, fs_new / (uint64_t)MIB);
		else if (fs_new)
			n += snprintf(msg + n, sizeof(msg) - (size_t)n, "; ext4 to %" PRIu64 " MiB",
				      fs_new / (uint64_t)MIB);
		(void)n;
		printf("growdata: %s: %s%s\n", disk_path, dry_run ? "would grow" : "grown", msg + 1);
	}
out:
	close(fd);
	return rc;
}
