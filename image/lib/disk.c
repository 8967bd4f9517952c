/* SPDX-License-Identifier: MIT */
/* disk.c - disk_build() and friends; see disk.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk.h"
#include "diskio.h"
#include "fdio.h"
#include "fs.h"
#include "bootenv.h"
#include "bootkit.h"
#include "grub.h"
#include "imgutil.h"
#include "util.h"

int disk_fs_uuid(const char *seed, const char *partname, struct guid *out)
{
	char what[64];

	snprintf(what, sizeof(what), "fs/%s", partname);
	return guid_derive(seed, what, out);
}

int disk_esp_volume_id(const char *seed, uint32_t *out)
{
	struct guid g;
	int r = guid_derive(seed, "fs/esp", &g);

	if (r < 0)
		return r;
	*out = (uint32_t)g.b[0] << 24 | (uint32_t)g.b[1] << 16 | (uint32_t)g.b[2] << 8 | g.b[3];
	return 0;
}

/* ---------------------------------------------------------- tree_resolve */

static void cut_last(char *cur)
{
	char *s = strrchr(cur, '/');
	if (s)
		*s = '\0';
}

int tree_resolve(const char *tree, const char *path, char *out, size_t outlen)
{
	char cur[PATH_MAX] = "", rest[PATH_MAX], host[PATH_MAX * 2], target[PATH_MAX];
	struct stat st;
	int links = 0;

	if (snprintf(rest, sizeof(rest), "%s", path) >= (int)sizeof(rest))
		return -ENAMETOOLONG;
	for (;;) {
		char *p = rest, comp[NAME_MAX + 1];
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		n = strcspn(p, "/");
		if (n > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, p, n);
		comp[n] = '\0';
		memmove(rest, p + n, strlen(p + n) + 1);
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			cut_last(cur); /* never above the tree's root */
			continue;
		}
		if (strlen(cur) + n + 2 > sizeof(cur))
			return -ENAMETOOLONG;
		strcat(cur, "/");
		strcat(cur, comp);
		/* Every component of cur before this one is a real directory
		 * (checked below), so lstat follows nothing inside the tree. */
		snprintf(host, sizeof(host), "%s%s", tree, cur);
		if (lstat(host, &st) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode)) {
			ssize_t len;

			if (++links > 40)
				return -ELOOP;
			len = readlink(host, target, sizeof(target) - 1);
			if (len < 0)
				return -errno;
			target[len] = '\0';
			if (target[0] == '/')
				cur[0] = '\0'; /* absolute: from the tree's root */
			else
				cut_last(cur);
			if ((size_t)len + strlen(rest) + 2 > sizeof(rest))
				return -ENAMETOOLONG;
			memmove(rest + len + 1, rest, strlen(rest) + 1);
			memcpy(rest, target, (size_t)len);
			rest[len] = '/';
			continue;
		}
		if (!S_ISDIR(st.st_mode) && rest[strspn(rest, "/")] != '\0')
			return -ENOTDIR;
	}
	snprintf(host, sizeof(host), "%s%s", tree, cur);
	if (lstat(host, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (snprintf(out, outlen, "%s", *cur ? cur : "/") >= (int)outlen)
		return -ENAMETOOLONG;
	return 0;
}

/* ------------------------------------------------------------- disk_build */

struct build {
	const struct disk_spec *s;
	struct disk_layout l;
	char *work;            /* scratch directory */
	char *tmp;             /* the target's path (image under its temporary name) */
	int fd;                /* the target, open read-write */
	int is_file;           /* a regular file (holes can be punched), not a device */
	struct space_err *err; /* the reason of a failure */
};

static int write_text(const char *dir, const char *name, const char *text, size_t len)
{
	char *p = xasprintf("%s/%s", dir, name);
	int r;

	if (!p)
		return -ENOMEM;
	r = write_file_atomic(p, text, len, 0644);
	free(p);
	return r;
}

/* Build the ext4 of partition name in place, inside the image: no
 * temporary filesystem image, no copy (mke2fs leaves the bytes outside its
 * range alone, checked by the tool test's GPT and GRUB checks). */
static int put_ext4(struct build *b, const char *name, const char *tree, const char *attrs)
{
	const struct gpt_part *part = disk_layout_find(&b->l, name);
	struct ext4_params p = { 0 };
	int r;

	p.out_path = b->tmp;
	p.offset = gpt_part_offset(part);
	p.size = gpt_part_bytes(part);
	p.tree = tree;
	p.attrs_path = attrs;
	p.label = name;
	p.epoch = b->s->epoch;
	p.work_dir = b->work;
	r = disk_fs_uuid(b->s->seed, name, &p.uuid);
	if (r == 0)
		r = fs_make_ext4(&p, b->err);
	/* mke2fs wrote zeroed inode tables and journal: keep the image sparse */
	if (r == 0 && b->is_file)
		r = dig_holes(b->fd, p.offset, p.size, NULL);
	if (r < 0)
		err_prefix(b->err, r, "%s", name);
	return r;
}

/* The ESP's work files: the staged tree, GRUB's early config and images,
 * and the FAT image before it is copied into the partition. */
struct esp_files {
	const char *pc; /* GRUB's BIOS module directory */
	char *stage, *early, *core, *boot, *img;
	uint32_t volid;
};

static int esp_files_init(const struct build *b, struct esp_files *f)
{
	const struct disk_spec *s = b->s;

	f->pc = s->grub_pc_dir ? s->grub_pc_dir : "/usr/lib/grub/i386-pc";
	f->stage = xasprintf("%s/esp", b->work);
	f->early = xasprintf("%s/early.cfg", b->work);
	f->core = xasprintf("%s/core.img", b->work);
	f->img = xasprintf("%s/esp.img", b->work);
	f->boot = xasprintf("%s/boot.img", f->pc);
	if (!f->stage || !f->early || !f->core || !f->img || !f->boot)
		return -ENOMEM;
	return 0;
}

static void esp_files_free(struct esp_files *f)
{
	if (f->img)
		unlink(f->img);
	free(f->stage);
	free(f->early);
	free(f->core);
	free(f->boot);
	free(f->img);
}

/* The early config built into GRUB's images: find the ESP by volume id. */
static int write_early_cfg(const struct build *b, const struct esp_files *f)
{
	char *early = NULL;
	int r = grub_early_cfg(f->volid, &early);

	if (r == 0)
		r = write_text(b->work, "early.cfg", early, strlen(early));
	free(early);
	return r;
}

/* grub.cfg, rendered once for both slots. */
static int render_grub_cfg(const struct build *b, char **cfg)
{
	const struct disk_spec *s = b->s;
	struct grub_menu m = { 0 };
	int r;

	m.product = s->product;
	m.version = s->version;
	m.cmdline_extra = s->cmdline_extra;
	/* One second: every boot pays it (installs, upgrades, trial boots and
	 * fallbacks), and any key stops the countdown for a slot choice. */
	m.timeout = 1;
	m.nslots = 2;
	/* Both entries name the generic paths (symlinks in the root tree), so
	 * an upgrade to a release with another kernel needs no new grub.cfg. */
	for (unsigned i = 0; i < 2; i++) {
		const char *name = i ? "root-b" : "root-a";
		const struct gpt_part *p = disk_layout_find(&b->l, name);

		m.slots[i] = (struct grub_slot){ (char)('a' + i), p->index,
						 "/boot/vmlinuz", "/boot/initrd.img" };
	}
	r = grub_cfg_render(&m, cfg);
	if (r < 0)
		err_set(b->err, r, "product, version or command line has characters GRUB would interpret");
	return r;
}

/* The staged ESP tree: EFI/BOOT/, grub/grub.cfg and grub/grubenv (slot a
 * good, holding this version). */
static int stage_esp_tree(const struct build *b, const struct esp_files *f)
{
	const struct disk_spec *s = b->s;
	char *cfg = NULL, env[GRUBENV_SIZE];
	char *d1 = xasprintf("%s/EFI/BOOT", f->stage), *d2 = xasprintf("%s/grub", f->stage);
	int r = render_grub_cfg(b, &cfg);

	if (r == 0)
		r = d1 && d2 ? mkdir_p(d1, 0755) : -ENOMEM;
	if (r == 0)
		r = mkdir_p(d2, 0755);
	free(d1);
	free(d2);
	if (r == 0)
		r = write_text(f->stage, "grub/grub.cfg", cfg, strlen(cfg));
	free(cfg);
	if (r < 0)
		return r;
	grub_env_block(env);
	r = grub_env_set(env, GRUBENV_SLOT_GOOD, "a");
	if (r == 0)
		r = grub_env_set(env, GRUBENV_VER_PREFIX "a", s->version);
	if (r == 0)
		r = write_text(f->stage, "grub/grubenv", env, sizeof(env));
	return r;
}

/* The UEFI boot chain of Secure Boot, from pinned packages in the root
 * tree (pkg/debs.list): Microsoft-signed shim as the removable-media
 * loader, Debian's signed GRUB beside it (shim starts grubx64.efi from its
 * own directory), which checks the signed kernel through shim. That GRUB
 * cannot load modules or take an embedded config of ours: its own built-in
 * config sources $prefix/grub.cfg, $prefix being /EFI/debian on the ESP,
 * so the BIOS image's early config goes there and both paths run the same
 * grub.cfg. */
static const struct {
	const char *tree, *esp;
} efi_chain[] = {
	{ "usr/lib/shim/shimx64.efi.signed", "EFI/BOOT/BOOTX64.EFI" },
	{ "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed", "EFI/BOOT/grubx64.efi" },
};

static int stage_efi_chain(const struct build *b, const struct esp_files *f)
{
	char src[PATH_MAX], from[2 * PATH_MAX], *dst = NULL, *dir = xasprintf("%s/EFI/debian", f->stage);
	char *cfg = xasprintf("%s/EFI/debian/grub.cfg", f->stage);
	int r = dir && cfg ? mkdir_p(dir, 0755) : -ENOMEM;

	if (r == 0)
		r = file_copy(f->early, cfg, 0644);
	for (size_t i = 0; r == 0 && i < sizeof(efi_chain) / sizeof(efi_chain[0]); i++) {
		if ((r = tree_resolve(b->s->rootfs, efi_chain[i].tree, src, sizeof(src))) < 0) {
			err_set(b->err, r, "rootfs lacks /%s (the pinned shim-signed and grub-efi-amd64-signed): %s",
				efi_chain[i].tree, space_strerror(r));
			break;
		}
		/* src is the file's path inside the tree: copy it from there,
		 * never from the build host's own /usr/lib */
		snprintf(from, sizeof(from), "%s%s", b->s->rootfs, src);
		free(dst);
		if (!(dst = xasprintf("%s/%s", f->stage, efi_chain[i].esp)))
			r = -ENOMEM;
		else if ((r = file_copy(from, dst, 0644)) < 0)
			err_set(b->err, r, "%s: %s", from, space_strerror(r));
	}
	free(dst);
	free(dir);
	free(cfg);
	return r;
}

/* GRUB's BIOS core.img, with the early config built in. */
static int make_grub_images(const struct build *b, const struct esp_files *f)
{
	int r = grub_mkimage("i386-pc", f->pc, f->early, f->core, b->err);

	if (r < 0)
		err_prefix(b->err, r, "grub");
	return r;
}

/* The FAT filesystem of the staged tree, copied into the ESP partition. */
static int write_esp_fs(const struct build *b, const struct esp_files *f)
{
	const struct gpt_part *esp = disk_layout_find(&b->l, "esp");
	struct esp_params ep = { 0 };
	int r;

	ep.out_path = f->img;
	ep.size = gpt_part_bytes(esp);
	ep.stage_dir = f->stage;
	ep.volume_id = f->volid;
	ep.label = "ESP";
	ep.epoch = b->s->epoch;
	r = fs_make_esp(&ep, b->err);
	if (r == 0)
		/* Not COPY_DST_ZEROED: the target may hold an old system; on a
		 * file the zeroing is a cheap hole punch. */
		r = copy_sparse(b->fd, gpt_part_offset(esp), gpt_part_bytes(esp), f->img, 0, NULL);
	if (r < 0)
		err_prefix(b->err, r, "esp");
	return r;
}

/* The installer's boot kit: these very GRUB images and ESP. */
static int save_kit(const struct build *b, const struct esp_files *f)
{
	const struct disk_spec *s = b->s;
	struct bootkit k = { 0 };

	snprintf(k.product, sizeof(k.product), "%s", s->product);
	snprintf(k.release, sizeof(k.release), "%s", s->version);
	k.sizes.bios = gpt_part_bytes(disk_layout_find(&b->l, "bios"));
	k.sizes.esp = gpt_part_bytes(disk_layout_find(&b->l, "esp"));
	k.sizes.root = gpt_part_bytes(disk_layout_find(&b->l, "root-a"));
	return kit_save(s->kit_dir, &k, f->boot, f->core, f->img, b->err);
}

static int put_esp(struct build *b)
{
	const struct disk_spec *s = b->s;
	struct esp_files f = { 0 };
	int r;

	r = disk_esp_volume_id(s->seed, &f.volid);
	if (r < 0)
		return r;
	r = esp_files_init(b, &f);
	if (r == 0)
		r = write_early_cfg(b, &f);
	if (r == 0)
		r = stage_esp_tree(b, &f);
	if (r == 0)
		r = stage_efi_chain(b, &f);
	if (r == 0)
		r = make_grub_images(b, &f);
	if (r == 0)
		r = write_esp_fs(b, &f);
	if (r < 0)
		goto out;
	r = grub_install_bios(b->fd, &b->l, f.boot, f.core);
	if (r < 0)
		err_set(b->err, r, "grub bios install: %s%s", space_strerror(r),
			r == -ENOSPC ? " (core.img larger than the bios partition)" : "");
	if (r == 0 && s->kit_dir)
		r = save_kit(b, &f);
out:
	esp_files_free(&f);
	return r;
}

static int resolve_boot(const struct disk_spec *s, char *kernel, char *initrd, struct space_err *err)
{
	static const char *const what[2] = { "/boot/vmlinuz", "/boot/initrd.img" };
	char *out[2] = { kernel, initrd };
	int r;

	for (int i = 0; i < 2; i++) {
		r = tree_resolve(s->rootfs, what[i], out[i], PATH_MAX);
		if (r < 0)
			return err_set(err, r, "rootfs %s: %s: %s", s->rootfs, what[i],
				       r == -EINVAL ? "not a regular file" : space_strerror(r));
	}
	return 0;
}

int disk_write(const struct disk_spec *s, const struct disk_layout *l, const char *target,
	       int fd, const char *work_dir, struct space_err *err)
{
	struct build b = { s, *l, (char *)work_dir, (char *)target, fd, 0, err };
	char kernel[PATH_MAX], initrd[PATH_MAX];
	struct stat st;
	uint64_t size;
	int r;

	err_clear(err);
	if (!s->rootfs || !s->seed || !*s->seed || !s->product || !s->version || !work_dir)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	b.is_file = S_ISREG(st.st_mode);
	r = disk_size_fd(fd, &size);
	if (r < 0)
		return r;
	if (size != l->disk_bytes)
		return err_set(err, -EINVAL, "%s is %llu bytes, the layout is for %llu", target,
			       (unsigned long long)size, (unsigned long long)l->disk_bytes);
	r = resolve_boot(s, kernel, initrd, err);
	if (r < 0)
		return r;
	if (!disk_layout_find(l, "esp") || gpt_part_bytes(disk_layout_find(l, "esp")) < FS_ESP_MIN)
		return err_set(err, -ENOSPC, "the ESP needs at least %u MiB (FAT32)", (unsigned)(FS_ESP_MIN >> 20));
	for (int i = 0; i < 3; i++) {
		static const char *const fs[] = { "root-a", "root-b", "data" };
		const struct gpt_part *p = disk_layout_find(l, fs[i]);
		if (!p || gpt_part_bytes(p) < 16 * MIB)
			return err_set(err, -ENOSPC, "%s needs at least 16 MiB", fs[i]);
	}
	r = gpt_write(fd, l);
	if (r == 0)
		r = put_ext4(&b, "root-a", s->rootfs, s->attrs_path);
	if (r == 0)
		r = put_ext4(&b, "root-b", NULL, NULL);
	if (r == 0)
		r = put_ext4(&b, "data", NULL, NULL);
	if (r == 0)
		r = put_esp(&b);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	return r;
}

int disk_build(const struct disk_spec *s, struct disk_layout *layout, struct space_err *err)
{
	char kernel[PATH_MAX], initrd[PATH_MAX], *tmp = NULL, *work = NULL;
	struct disk_layout l;
	int r, fd = -1, created = 0;

	err_clear(err);
	if (!s->out_path || !s->rootfs || !s->seed || !*s->seed || !s->product || !s->version)
		return -EINVAL;
	r = disk_layout_default(&l, &s->sizes, s->seed);
	if (r == -ENOSPC)
		return err_set(err, r, "disk too small for the layout (needs at least %llu MiB)",
			       (unsigned long long)((disk_layout_min_bytes(&s->sizes) + MIB - 1) / MIB));
	if (r < 0)
		return err_set(err, r, "bad disk size");
	/* Check the rootfs before creating anything. */
	r = resolve_boot(s, kernel, initrd, err);
	if (r < 0)
		return r;
	tmp = xasprintf("%s.tmp.%ld", s->out_path, (long)getpid());
	work = xasprintf("%s.work.%ld", s->out_path, (long)getpid());
	if (!tmp || !work) {
		r = -ENOMEM;
		goto out;
	}
	if (mkdir(work, 0700) < 0) {
		r = err_set(err, -errno, "%s: %s", work, strerror(errno));
		free(work);
		work = NULL; /* not ours: do not remove it */
		goto out;
	}
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = err_set(err, -errno, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	created = 1;
	if (ftruncate(fd, (off_t)l.disk_bytes) < 0) {
		r = -errno;
		goto out;
	}
	r = disk_write(s, &l, tmp, fd, work, err);
	if (r < 0)
		goto out;
	if (rename(tmp, s->out_path) < 0) {
		r = -errno;
		goto out;
	}
	created = 0;
	r = fsync_parent(s->out_path);
	if (layout)
		*layout = l;
out:
	if (r < 0 && err && !err->msg[0])
		err_set(err, r, "%s", space_strerror(r));
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
	if (work)
		remove_tree(work);
	free(tmp);
	free(work);
	return r;
}
