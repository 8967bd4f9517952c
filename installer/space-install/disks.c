/* SPDX-License-Identifier: MIT */
/* disks.c - disk discovery from sysfs; see disks.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "image/lib/bootenv.h"
#include "image/lib/diskio.h"
#include "image/lib/gpt.h"
#include "disks.h"
#include "strescape.h"
#include "util.h"

/* One line of a small sysfs file, trimmed; "" when absent. */
static void sys_read(const char *root, const char *name, const char *attr, char *out, size_t len)
{
	char path[PATH_MAX];
	ssize_t k = -1;
	int fd;

	snprintf(path, sizeof(path), "%s/sys/block/%s/%s", root, name, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		k = read(fd, out, len - 1);
		close(fd);
	}
	out[k > 0 ? k : 0] = '\0';
	/* trim, and make it one printable line */
	for (char *p = out; *p; p++)
		if (!isprint((unsigned char)*p))
			*p = ' ';
	for (size_t n = strlen(out); n && out[n - 1] == ' '; n--)
		out[n - 1] = '\0';
	if (out[0] == ' ')
		memmove(out, out + strspn(out, " "), strlen(out + strspn(out, " ")) + 1);
}

/* "QEMU HARDDISK" -> "QEMU_HARDDISK" (udev's by-id spelling). */
static void id_part(char *s)
{
	for (; *s; s++)
		if (*s == ' ' || *s == '/')
			*s = '_';
}

/* The unit serial number of SCSI VPD page 0x80 (libata answers it for
 * ATA disks with the IDENTIFY serial). */
static void vpd_serial(const char *root, const char *name, char *out, size_t len)
{
	unsigned char b[256];
	char path[PATH_MAX];
	ssize_t k = 0;
	int fd;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/sys/block/%s/device/vpd_pg80", root, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	k = read(fd, b, sizeof(b));
	close(fd);
	if (k < 4)
		return;
	size_t n = (size_t)(b[2] << 8 | b[3]), j = 0;
	for (size_t i = 4; i < 4 + n && i < (size_t)k && j + 1 < len; i++)
		if (isgraph(b[i]))
			out[j++] = (char)b[i];
	out[j] = '\0';
}

/* The disk's PCI address from its sysfs path (by-path), "" if none. */
static void pci_path(const char *root, const char *name, char *out, size_t len)
{
	char link[PATH_MAX], real[PATH_MAX], *p, *last = NULL;

	out[0] = '\0';
	snprintf(link, sizeof(link), "%s/sys/block/%s", root, name);
	if (!realpath(link, real))
		return;
	/* the last "/DDDD:BB:SS.F" component */
	for (p = strchr(real, '/'); p; p = strchr(p + 1, '/'))
		if (strlen(p) > 13 && isxdigit((unsigned char)p[1]) && p[5] == ':' && p[8] == ':' && p[11] == '.')
			last = p + 1;
	if (last)
		snprintf(out, len, "pci-%.*s", (int)strcspn(last, "/"), last);
}

static void describe(const char *root, struct disk *d)
{
	char vendor[40], model[64], serial[64], wwid[128];

	sys_read(root, d->name, "device/vendor", vendor, sizeof(vendor));
	sys_read(root, d->name, "device/model", model, sizeof(model));
	if (!strncmp(d->name, "vd", 2)) {
		sys_read(root, d->name, "serial", serial, sizeof(serial));
		snprintf(d->model, sizeof(d->model), "virtio disk");
		if (*serial)
			snprintf(d->id, sizeof(d->id), "virtio-%s", serial);
	} else if (!strncmp(d->name, "nvme", 4)) {
		sys_read(root, d->name, "device/serial", serial, sizeof(serial));
		snprintf(d->model, sizeof(d->model), "%s", *model ? model : "NVMe disk");
		id_part(model);
		if (*serial)
			snprintf(d->id, sizeof(d->id), "nvme-%s_%s", model, serial);
	} else {
		snprintf(d->model, sizeof(d->model), "%s%s%s", vendor, *vendor && *model ? " " : "", model);
		vpd_serial(root, d->name, serial, sizeof(serial));
		sys_read(root, d->name, "device/wwid", wwid, sizeof(wwid));
		id_part(model);
		if (!strcmp(vendor, "ATA") && *serial)
			snprintf(d->id, sizeof(d->id), "ata-%s_%s", model, serial);
		else if (*serial)
			snprintf(d->id, sizeof(d->id), "scsi-%s_%s_%s", vendor, model, serial);
		else if (*wwid)
			snprintf(d->id, sizeof(d->id), "scsi-%s", wwid);
		id_part(d->id);
	}
	if (!d->model[0])
		snprintf(d->model, sizeof(d->model), "disk");
	if (!d->id[0])
		pci_path(root, d->name, d->id, sizeof(d->id));
}

/* What the disk holds: our layout (and which release), another table,
 * other data, or nothing. */
static void inspect(struct disk *d)
{
	unsigned char *head = malloc(MIB);
	struct disk_layout l;
	struct bootenv e;
	char ver[40] = "", shown[64];
	int fd = open(d->dev, O_RDONLY | O_CLOEXEC);
	int r = fd < 0 ? -errno : 0;

	if (!head)
		r = -ENOMEM;
	if (r == 0)
		r = pread_all(fd, head, d->bytes < MIB ? (size_t)d->bytes : MIB, 0);
	if (r < 0) {
		d->holds = HOLDS_DATA;
		snprintf(d->what, sizeof(d->what), "unreadable: %s", space_strerror(r));
		goto out;
	}
	if (gpt_read(fd, &l) == 0) {
		if (disk_layout_find(&l, "root-a") && disk_layout_find(&l, "data")) {
			d->holds = HOLDS_SYSTEM;
			if (bootenv_load_disk(&e, fd, NULL) == 0) {
				char good[4] = "a", key[8] = GRUBENV_VER_PREFIX "a";
				grub_env_get(e.block, GRUBENV_SLOT_GOOD, good, sizeof(good));
				key[4] = good[0] == 'b' ? 'b' : 'a';
				grub_env_get(e.block, key, ver, sizeof(ver));
			}
			/* the disk's bytes go to the console: no terminal escapes */
			str_escape(shown, sizeof(shown), ver, strlen(ver), STR_ESCAPE_SPACE);
			snprintf(d->what, sizeof(d->what), "%s%s%s", PRODUCT, *shown ? " " : " system", shown);
		} else {
			d->holds = HOLDS_TABLE;
			snprintf(d->what, sizeof(d->what), "a GPT partition table (%u partitions)", l.nparts);
		}
	} else if (head[510] == 0x55 && head[511] == 0xAA) {
		d->holds = HOLDS_TABLE;
		snprintf(d->what, sizeof(d->what), "an MBR partition table");
	} else if (!mem_is_zero(head, d->bytes < MIB ? (size_t)d->bytes : MIB)) {
		d->holds = HOLDS_DATA;
		snprintf(d->what, sizeof(d->what), "data");
	} else {
		d->holds = HOLDS_NOTHING;
		snprintf(d->what, sizeof(d->what), "blank");
	}
out:
	free(head);
	if (fd >= 0)
		close(fd);
}

/* The whole disk a device number lives on ("sr0", "sda" for sda1). */
static int medium_disk(const char *root, dev_t dev, char *out, size_t len)
{
	char link[PATH_MAX], real[PATH_MAX], part[PATH_MAX + 16], *slash;
	struct stat st;

	snprintf(link, sizeof(link), "%s/sys/dev/block/%u:%u", root, major(dev), minor(dev));
	if (!realpath(link, real))
		return -ENODEV;
	snprintf(part, sizeof(part), "%s/partition", real);
	if (stat(part, &st) == 0 && (slash = strrchr(real, '/')))
		*slash = '\0';
	slash = strrchr(real, '/');
	return slash && snprintf(out, len, "%s", slash + 1) < (int)len ? 0 : -ENAMETOOLONG;
}

static int skip_name(const char *n)
{
	static const char *const skip[] = { "loop", "ram", "zram", "sr", "fd", "nbd" };

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (!strncmp(n, skip[i], strlen(skip[i])))
			return 1;
	return n[0] == '.';
}

/* Keeps the name in the table of the first DISKS_MAX names, in order; a
 * name past them (or the one it pushes out) is counted in dropped. Which
 * disks are listed, and which is "first", must not depend on the order of
 * readdir. */
static void keep_first(struct disk_list *out, const char *name, uint64_t bytes)
{
	unsigned i = out->n;

	if (out->n == DISKS_MAX) {
		out->dropped++;
		if (strcmp(name, out->d[DISKS_MAX - 1].name) >= 0)
			return;
		i = DISKS_MAX - 1; /* the last one makes room */
	} else {
		out->n++;
	}
	for (; i > 0 && strcmp(name, out->d[i - 1].name) < 0; i--)
		out->d[i] = out->d[i - 1];
	memset(&out->d[i], 0, sizeof(out->d[i]));
	snprintf(out->d[i].name, sizeof(out->d[i].name), "%s", name);
	out->d[i].bytes = bytes;
}

int disks_scan(const char *root, dev_t medium, struct disk_list *out)
{
	char path[PATH_MAX], med[64] = "", buf[32];
	struct dirent *de;
	DIR *dir;

	memset(out, 0, sizeof(*out));
	if (medium)
		medium_disk(root, medium, med, sizeof(med));
	snprintf(path, sizeof(path), "%s/sys/block", root);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		uint64_t sectors;

		if (skip_name(de->d_name) || strlen(de->d_name) >= sizeof(out->d[0].name))
			continue;
		sys_read(root, de->d_name, "size", buf, sizeof(buf));
		sectors = strtoull(buf, NULL, 10);
		if (sectors == 0 || sectors > UINT64_MAX / 512)
			continue; /* an empty card reader, a detached device */
		keep_first(out, de->d_name, sectors * 512);
	}
	closedir(dir);
	for (unsigned i = 0; i < out->n; i++) {
		struct disk *d = &out->d[i];

		snprintf(d->dev, sizeof(d->dev), "%s/dev/%s", root, d->name);
		sys_read(root, d->name, "ro", buf, sizeof(buf));
		d->readonly = !strcmp(buf, "1");
		d->medium = *med && !strcmp(med, d->name);
		describe(root, d);
		inspect(d);
	}
	return 0;
}

void disks_size_str(uint64_t bytes, char out[16])
{
	static const char *const unit[] = { "MiB", "GiB", "TiB" };
	double v = (double)bytes / (1024.0 * 1024.0);
	unsigned u = 0;

	while (v >= 1024.0 && u < 2) {
		v /= 1024.0;
		u++;
	}
	snprintf(out, 16, "%.1f %s", v, unit[u]);
}

const struct disk *disks_find(const struct disk_list *l, const char *name)
{
	if (!strncmp(name, "/dev/", 5))
		name += 5;
	for (unsigned i = 0; i < l->n; i++)
		if (!strcmp(l->d[i].name, name))
			return &l->d[i];
	return NULL;
}
