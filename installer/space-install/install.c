/* SPDX-License-Identifier: MIT */
/* install.c - the installer's core; see install.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image/lib/disk.h"
#include "image/lib/diskio.h"
#include "image/lib/fs.h"
#include "image/ova-verify/verify.h"
#include "image/release/slotwrite.h"
#include "install.h"
#include "openreg.h"
#include "util.h"

/* What the phases share. */
struct inst {
	struct inst_job *j;
	int fd;
	bool blockdev;
	struct disk_layout l;
	char seed[33];
	struct slot_writer w;
	const char *what; /* the progress label of the slot writer */
	bool table_tried; /* the table phase began: a failure wipes it again */
	FILE *log;
	struct space_err *err; /* the reason of the failure */
};

static void say(struct inst *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct inst *in, const char *fmt, ...)
{
	char line[640], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", gmtime_r(&now, &tm));
	if (in->log) {
		fprintf(in->log, "%s %s\n", stamp, line);
		fflush(in->log);
	}
	if (in->j->say)
		in->j->say(in->j->ctx, line);
}

/* A failure: the reason (printf) goes to err and the log. */
static int fail(struct inst *in, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct inst *in, int r, const char *fmt, ...)
{
	char why[SPACE_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (in->log) {
		fprintf(in->log, "failed: %s\n", why);
		fflush(in->log);
	}
	return err_set(in->err, r, "%s", why);
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
	struct inst *in = ctx;

	if (in->j->progress)
		in->j->progress(in->j->ctx, in->what, done, total);
}

uint64_t inst_min_disk(const struct bootkit *k)
{
	return disk_layout_min_bytes(&k->sizes) - DISK_MIN_DATA + INST_MIN_DATA;
}

/* ------------------------------------------------------------- phases */
static int ph_open(struct inst *in)
{
	struct inst_job *j = in->j;
	struct stat st;
	int fd, r;

	/* O_EXCL on a block device: refused while a partition of it is
	 * mounted or otherwise held. Closed again at once, as mke2fs (which
	 * opens the disk exclusively too) runs while the installer writes. */
	fd = open_regular(AT_FDCWD, j->target, O_RDWR | O_EXCL, 0, OPEN_REG_BLOCK);
	if (fd == -EBUSY)
		return fail(in, fd, "%s is in use (a partition of it is mounted?)", j->target);
	if (fd < 0)
		return fail(in, fd, "%s: %s", j->target, space_strerror(fd));
	close(fd);
	in->fd = open_regular(AT_FDCWD, j->target, O_RDWR | O_NOFOLLOW, 0, OPEN_REG_BLOCK);
	if (in->fd < 0)
		return fail(in, in->fd, "%s: %s", j->target, space_strerror(in->fd));
	if (fstat(in->fd, &st) < 0)
		return fail(in, -errno, "%s: %s", j->target, strerror(errno));
	in->blockdev = S_ISBLK(st.st_mode);
	r = disk_size_fd(in->fd, &j->disk_bytes);
	if (r < 0)
		return fail(in, r, "%s: size: %s", j->target, space_strerror(r));
	return 0;
}

static int verify_pass(struct inst *in, bool write);

static int ph_verify(struct inst *in)
{
	struct inst_job *j = in->j;
	const struct bootkit *k = j->kit;
	struct disk_sizes sz = k->sizes;
	unsigned char rnd[16];
	int r = verify_pass(in, false);

	if (r < 0)
		return r;
	if (strcmp(j->m.product, k->product) || strcmp(j->m.release, k->release))
		return fail(in, -SPACE_E_FORMAT, "the image is %s %s, the installer's boot kit is for %s %s",
			    j->m.product, j->m.release, k->product, k->release);
	if (k->sizes.root < j->m.slot_min_size)
		return fail(in, -SPACE_E_FORMAT, "the image needs a %llu MiB slot, the layout has %llu MiB",
			    (unsigned long long)(j->m.slot_min_size >> 20), (unsigned long long)(k->sizes.root >> 20));
	if (j->disk_bytes < inst_min_disk(k))
		return fail(in, -ENOSPC, "%s is too small: %llu MiB, %s %s needs at least %llu MiB", j->target,
			    (unsigned long long)(j->disk_bytes >> 20), j->m.product, j->m.release,
			    (unsigned long long)((inst_min_disk(k) + MIB - 1) >> 20));
	/* Each installed disk gets its own GUIDs (root=PARTUUID= must not
	 * find another disk's slot). */
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return fail(in, -errno, "no random seed: %s", strerror(errno));
	hex_encode(rnd, sizeof(rnd), in->seed);
	sz.disk = j->disk_bytes;
	r = disk_layout_default(&in->l, &sz, in->seed);
	if (r < 0)
		return fail(in, r, "layout for %s: %s", j->target, space_strerror(r));
	{
		char g[37];
		guid_to_str(&in->l.disk_guid, g);
		say(in, "layout: bios %llu MiB, esp %llu MiB, root-a and root-b %llu MiB, data %llu MiB; disk GUID %s",
		    (unsigned long long)(sz.bios >> 20), (unsigned long long)(sz.esp >> 20),
		    (unsigned long long)(sz.root >> 20),
		    (unsigned long long)(gpt_part_bytes(disk_layout_find(&in->l, "data")) >> 20), g);
	}
	return 0;
}

/* Zeros the first and the last MiB: both partition tables, the boot
 * code and its signature. */
static int wipe_tables(struct inst *in)
{
	uint64_t end = in->j->disk_bytes;
	int r = zero_range(in->fd, 0, MIB);

	if (r == 0)
		r = zero_range(in->fd, end - MIB, MIB);
	if (r == 0 && fsync(in->fd) < 0)
		r = -errno;
	return r;
}

/* Both partition tables (and the boot code) go first: an install that
 * stops half way leaves a disk no firmware boots. */
static int ph_wipe(struct inst *in)
{
	int r;

	in->j->state = INST_NO_TABLE; /* from the first write on */
	r = wipe_tables(in);
	if (r < 0)
		return fail(in, r, "%s: wiping the partition tables: %s", in->j->target, space_strerror(r));
	say(in, "partition tables wiped: the disk boots nothing until the install completes");
	return 0;
}

/* The verifier's slot_begin: the second pass's manifest must be the one
 * the first pass accepted (the file could have been swapped). */
static int slot_begin(void *ctx, const struct rel_manifest *m, struct space_err *err)
{
	struct inst *in = ctx;
	const struct gpt_part *p = disk_layout_find(&in->l, REL_SLOT_PART);
	int r;

	if (memcmp(m->slot_sha256, in->j->m.slot_sha256, 32) || strcmp(m->release, in->j->m.release))
		return err_set(err, -SPACE_E_FORMAT, "the image changed since it was checked");
	in->w.progress = progress;
	in->w.pctx = in;
	in->what = "writing slot A";
	r = slot_writer_open(&in->w, in->fd, gpt_part_offset(p), gpt_part_bytes(p), m->slot_size);
	if (r < 0)
		return err_set(err, r, "slot A: %s", space_strerror(r));
	return r;
}

static int sink(void *ctx, const void *p, size_t n, uint64_t off)
{
	struct inst *in = ctx;

	return slot_writer_sink(&in->w, p, n, off);
}

/* One pass of the release verifier: the first checks without unpacking,
 * the second unpacks into slot A (image/ova-verify: ov_release_run). */
static int verify_pass(struct inst *in, bool write)
{
	struct inst_job *j = in->j;
	const char *base = strrchr(j->image, '/');
	struct ov_opts oo = {
		.ca_file = j->ca_file,
		.release = true,
		.file_name = base ? base + 1 : j->image,
		.digest_only = !write,
		.slot_sink = write ? sink : NULL,
		.slot_ctx = in,
		.slot_begin = write ? slot_begin : NULL,
		/* ph_slot reads the slot back against the digest */
		.sink_checks_digest = true,
	};
	struct space_err err = { "" };
	int fd = open_regular(AT_FDCWD, j->image, O_RDONLY, 0, 0), r;

	if (fd < 0)
		return fail(in, fd, "%s: %s", j->image, space_strerror(fd));
	r = ov_release_run(&oo, fd, write ? NULL : &j->m, &err);
	close(fd);
	if (r < 0)
		return fail(in, r, "%s: %s", oo.file_name, err.msg);
	if (!write)
		say(in, "image %s verified: %s %s build %s (signature, chain, name, members, slot digest)",
		    oo.file_name, j->m.product, j->m.release, j->m.build);
	return 0;
}

static int ph_slot(struct inst *in)
{
	int r = verify_pass(in, true);

	if (r < 0)
		return r;
	say(in, "slot A: %llu bytes written (%llu zero bytes skipped)", (unsigned long long)in->w.written,
	    (unsigned long long)in->w.skipped);
	in->what = "checking slot A";
	r = slot_writer_verify(&in->w, in->j->m.slot_sha256);
	if (r < 0)
		return fail(in, r, "slot A: %s", r == -EIO ? "read back differs from the image (hash mismatch)" : space_strerror(r));
	say(in, "slot A read back: SHA-256 matches the signed manifest");
	return 0;
}

static int make_fs(struct inst *in, const char *name, bool lazy)
{
	const struct gpt_part *p = disk_layout_find(&in->l, name);
	struct ext4_params e = { 0 };
	struct space_err err = { "" };
	int r;

	e.out_path = in->j->target;
	e.offset = gpt_part_offset(p);
	e.size = gpt_part_bytes(p);
	e.label = name;
	e.epoch = time(NULL);
	e.work_dir = in->j->work_dir;
	e.lazy_itable = lazy;
	r = disk_fs_uuid(in->seed, name, &e.uuid);
	if (r == 0)
		r = fs_make_ext4(&e, &err);
	if (r < 0)
		return fail(in, r, "%s filesystem: %s", name, err_msg(&err, r));
	say(in, "%s: ext4, %llu MiB", name, (unsigned long long)(e.size >> 20));
	return 0;
}

static int ph_fs(struct inst *in)
{
	int r = make_fs(in, "root-b", false);

	return r < 0 ? r : make_fs(in, "data", true);
}

static int ph_boot(struct inst *in)
{
	struct space_err err = { "" };
	int r = kit_install(in->fd, &in->l, in->j->kit, &err);

	if (r < 0)
		return fail(in, r, "%s", err.msg);
	say(in, "boot: ESP (GRUB for UEFI, grub.cfg, grubenv: slot A good) and GRUB for BIOS");
	return 0;
}

/* The table; then it is read back and checked against the plan. */
static int ph_table(struct inst *in)
{
	struct disk_layout back;
	int r;

	in->table_tried = true; /* from here a failure wipes it again */
	r = gpt_write(in->fd, &in->l);
	if (r == 0 && fsync(in->fd) < 0)
		r = -errno;
	if (r == 0)
		r = gpt_read(in->fd, &back);
	if (r == 0 && (back.nparts != in->l.nparts || !guid_eq(&back.disk_guid, &in->l.disk_guid)))
		r = -EIO;
	if (r < 0)
		return fail(in, r, "%s: partition table: %s", in->j->target, space_strerror(r));
	if (in->blockdev && ioctl(in->fd, BLKRRPART) < 0)
		say(in, "note: the kernel did not re-read the partition table (%s); it will at the next boot",
		    strerror(errno));
	say(in, "partition table written and read back (%u partitions)", back.nparts);
	return 0;
}

/* The log, after the table so that it records it. A failure here wipes
 * the table again (inst_run): an install is complete with its log. */
static int ph_log(struct inst *in)
{
	const struct gpt_part *p = disk_layout_find(&in->l, "data");
	struct space_err err = { "" };
	int r;

	say(in, "installed %s %s on %s", in->j->m.product, in->j->m.release, in->j->target);
	if (in->log)
		fflush(in->log);
	r = fs_ext4_add_file(in->j->target, gpt_part_offset(p), in->j->log_path, "log", "install.log",
			     in->j->work_dir, &err);
	if (r < 0)
		return fail(in, r, "install log: %s", err_msg(&err, r));
	return 0;
}

/* A failure once the table was (being) written: wipe both tables again,
 * so that the disk boots nothing rather than an install that did not
 * complete. */
static void undo_table(struct inst *in)
{
	char first[SPACE_ERR_MAX];
	int r = wipe_tables(in);

	if (r < 0) {
		in->j->state = INST_UNKNOWN;
		/* the first failure stays the reason; this one is added to it */
		snprintf(first, sizeof(first), "%s", in->err ? in->err->msg : "");
		err_set(in->err, r, "%s; wiping the partition table again failed: %s", first, space_strerror(r));
		return;
	}
	say(in, "partition tables wiped again: the disk boots nothing");
}

static const struct {
	const char *name;
	int (*run)(struct inst *in);
} phases[] = {
	{ "open", ph_open },
	{ "verify", ph_verify },
	{ "wipe", ph_wipe },
	{ "slot", ph_slot },
	{ "fs", ph_fs },
	{ "boot", ph_boot },
	{ "table", ph_table },
	{ "log", ph_log },
};

static int run_phases(struct inst *in, size_t first, size_t last)
{
	for (size_t i = first; i <= last; i++) {
		int r = phases[i].run(in);
		if (r < 0)
			return r;
	}
	return 0;
}

static int inst_open_log(struct inst *in)
{
	if (!in->j->log_path)
		return 0;
	in->log = fopen(in->j->log_path, "ae");
	return in->log ? 0 : fail(in, -errno, "%s: %s", in->j->log_path, strerror(errno));
}

int inst_check_image(struct inst_job *j, struct space_err *err)
{
	struct inst in = { .j = j, .fd = -1, .err = err };
	int r;

	err_clear(err);
	r = inst_open_log(&in);
	if (r == 0)
		r = verify_pass(&in, false);
	if (in.log)
		fclose(in.log);
	return r;
}

int inst_run(struct inst_job *j, struct space_err *err)
{
	struct inst in = { .j = j, .fd = -1, .err = err };
	int r;

	err_clear(err);
	j->state = INST_UNTOUCHED;
	r = inst_open_log(&in);
	if (r < 0)
		return r;
	say(&in, "install of %s onto %s%s%s%s", j->image, j->target, j->target_desc ? " (" : "",
	    j->target_desc ? j->target_desc : "", j->target_desc ? ")" : "");
	r = run_phases(&in, 0, sizeof(phases) / sizeof(phases[0]) - 1);
	if (r < 0 && in.table_tried)
		undo_table(&in);
	if (r == 0)
		j->state = INST_DONE;
	if (in.fd >= 0)
		close(in.fd);
	if (in.log)
		fclose(in.log);
	return r;
}
