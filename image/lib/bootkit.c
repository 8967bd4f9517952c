/* SPDX-License-Identifier: MIT */
/* bootkit.c - the installer's boot kit; see bootkit.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kv.h"
#include "bootkit.h"
#include "diskio.h"
#include "grub.h"
#include "imgutil.h"
#include "util.h"

#define KIT_ESP_MAX (1ull << 30)

static int kit_path(char *out, size_t len, const char *dir, const char *name)
{
	return snprintf(out, len, "%s/%s", dir, name) >= (int)len ? -ENAMETOOLONG : 0;
}

/* The bytes of path up to its last non-zero 4 KiB block into *out. */
static int read_trimmed(const char *path, char **out, size_t *len)
{
	size_t n, end = 0;
	char *p;
	int r = read_file(path, KIT_ESP_MAX, &p, &n);

	if (r < 0)
		return r;
	for (size_t off = 0; off < n; off += 4096) {
		size_t k = n - off < 4096 ? n - off : 4096;
		if (!mem_is_zero(p + off, k))
			end = off + k;
	}
	*out = p;
	*len = end;
	return 0;
}

static int copy_to(const char *dir, const char *name, const char *src)
{
	char dst[600], *p = NULL;
	size_t n;
	int r = kit_path(dst, sizeof(dst), dir, name);

	if (r == 0)
		r = read_file(src, 16u << 20, &p, &n);
	if (r == 0)
		r = write_file_atomic(dst, p, n, 0644);
	free(p);
	return r;
}

int kit_save(const char *dir, const struct bootkit *k, const char *boot_img, const char *core_img,
	     const char *esp_img, struct space_err *err)
{
	char path[600], conf[1024], *esp = NULL;
	size_t esp_len = 0;
	int r, n;

	r = mkdir_p(dir, 0755);
	if (r == 0)
		r = copy_to(dir, KIT_BOOT, boot_img);
	if (r == 0)
		r = copy_to(dir, KIT_CORE, core_img);
	if (r == 0)
		r = read_trimmed(esp_img, &esp, &esp_len);
	if (r == 0)
		r = kit_path(path, sizeof(path), dir, KIT_ESP);
	if (r == 0)
		r = write_file_atomic(path, esp, esp_len, 0644);
	free(esp);
	if (r < 0)
		return err_set(err, r, "kit %s: %s", dir, space_strerror(r));
	n = snprintf(conf, sizeof(conf),
		     "# the boot kit of %s %s (image/lib/bootkit.h)\n"
		     "format = 1\nproduct = %s\nrelease = %s\n"
		     "bios.size = %" PRIu64 "\nesp.size = %" PRIu64 "\nroot.size = %" PRIu64 "\n"
		     "esp.image.size = %zu\n",
		     k->product, k->release, k->product, k->release, k->sizes.bios, k->sizes.esp,
		     k->sizes.root, esp_len);
	r = n < (int)sizeof(conf) ? kit_path(path, sizeof(path), dir, KIT_CONF) : -ENAMETOOLONG;
	if (r == 0)
		r = write_file_atomic(path, conf, (size_t)n, 0644);
	if (r < 0)
		err_set(err, r, "kit %s: %s", dir, space_strerror(r));
	return r;
}

/* ---------------------------------------------------------------- loading */
enum { K_FORMAT,
       K_PRODUCT,
       K_RELEASE,
       K_BIOS,
       K_ESP,
       K_ROOT,
       K_ESPIMG,
       K_N };
static const char *const kit_keys[K_N] = { "format", "product", "release", "bios.size",
					   "esp.size", "root.size", "esp.image.size" };

struct kit_parse {
	struct bootkit *k;
	unsigned seen;
	struct space_err *err;
};

static int kit_size(const char *v, uint64_t *out)
{
	long long n;
	int r = kv_int(v, 0, 1ll << 50, 0, &n);

	*out = (uint64_t)n;
	return r;
}

static int kit_kv(void *ctx, const char *key, const char *value, int line)
{
	struct kit_parse *p = ctx;
	struct bootkit *k = p->k;
	uint64_t *dst[K_N] = { NULL, NULL, NULL, &k->sizes.bios, &k->sizes.esp, &k->sizes.root,
			       &k->esp_image_size };
	unsigned i;
	int r = 0;

	for (i = 0; i < K_N && strcmp(key, kit_keys[i]); i++)
		;
	if (i == K_N || p->seen & 1u << i)
		return err_set(p->err, -SPACE_E_FORMAT, "line %d: %s key '%s'", line, i == K_N ? "unknown" : "repeated", key);
	p->seen |= 1u << i;
	if (i == K_FORMAT)
		r = strcmp(value, "1") ? -SPACE_E_FORMAT : 0;
	else if (i == K_PRODUCT || i == K_RELEASE)
		r = snprintf(i == K_PRODUCT ? k->product : k->release, KIT_NAME_MAX, "%s", value) >= KIT_NAME_MAX ||
				    !*value ?
			    -SPACE_E_FORMAT :
			    0;
	else
		r = kit_size(value, dst[i]);
	if (r < 0)
		err_set(p->err, r, "line %d: bad %s '%s'", line, key, value);
	return r < 0 ? -SPACE_E_FORMAT : 0;
}

static int kit_file_size(const struct bootkit *k, const char *name, uint64_t *size)
{
	char path[600];
	struct stat st;
	int r = kit_path(path, sizeof(path), k->dir, name);

	if (r == 0 && stat(path, &st) < 0)
		r = -errno;
	if (r == 0 && !S_ISREG(st.st_mode))
		r = -SPACE_E_NOT_REG;
	if (r == 0)
		*size = (uint64_t)st.st_size;
	return r;
}

int kit_load(const char *dir, struct bootkit *k, struct space_err *err)
{
	struct kit_parse p = { k, 0, err };
	char path[600];
	uint64_t size;
	int line = 0, r;

	memset(k, 0, sizeof(*k));
	if (snprintf(k->dir, sizeof(k->dir), "%s", dir) >= (int)sizeof(k->dir))
		return -ENAMETOOLONG;
	r = kit_path(path, sizeof(path), dir, KIT_CONF);
	if (r == 0)
		r = kv_parse_file(path, 4096, kit_kv, &p, &line);
	if (r < 0) {
		if (r != -SPACE_E_FORMAT || !err || !err->msg[0])
			err_set(err, r, "%s: %s", path, space_strerror(r));
		return r;
	}
	for (unsigned i = 0; i < K_N; i++)
		if (!(p.seen & 1u << i))
			return err_set(err, -SPACE_E_FORMAT, "%s: missing %s", path, kit_keys[i]);
	if (!k->sizes.bios || k->sizes.bios % MIB || k->sizes.esp % MIB || k->sizes.root % MIB ||
	    !k->sizes.root || k->esp_image_size > k->sizes.esp) {
		return err_set(err, -SPACE_E_FORMAT, "%s: sizes do not make a layout", path);
	}
	for (unsigned i = 0; i < 3; i++) {
		static const char *const files[] = { KIT_BOOT, KIT_CORE, KIT_ESP };
		r = kit_file_size(k, files[i], &size);
		if (r == 0 && i == 2 && size != k->esp_image_size)
			r = -SPACE_E_FORMAT;
		if (r < 0) {
			return err_set(err, r, "kit %s: %s: %s", dir, files[i],
				       r == -SPACE_E_FORMAT ? "not the size kit.conf says" : space_strerror(r));
		}
	}
	return 0;
}

/* --------------------------------------------------------------- install */
int kit_install(int fd, const struct disk_layout *l, const struct bootkit *k, struct space_err *err)
{
	const struct gpt_part *esp = disk_layout_find(l, "esp"), *bios = disk_layout_find(l, "bios");
	char boot[600], core[600], img[600];
	int r;

	if (!esp || !bios || gpt_part_bytes(esp) != k->sizes.esp || gpt_part_bytes(bios) != k->sizes.bios)
		return err_set(err, -EINVAL, "the layout's bios and esp partitions are not the kit's sizes");
	r = kit_path(boot, sizeof(boot), k->dir, KIT_BOOT);
	if (r == 0)
		r = kit_path(core, sizeof(core), k->dir, KIT_CORE);
	if (r == 0)
		r = kit_path(img, sizeof(img), k->dir, KIT_ESP);
	/* Not COPY_DST_ZEROED: the disk may hold an old system, and the FAT
	 * must read as zeros past the image (free clusters, a backup FAT). */
	if (r == 0)
		r = copy_sparse(fd, gpt_part_offset(esp), gpt_part_bytes(esp), img, 0, NULL);
	if (r == 0 && k->esp_image_size < k->sizes.esp)
		r = zero_range(fd, gpt_part_offset(esp) + k->esp_image_size, k->sizes.esp - k->esp_image_size);
	if (r < 0)
		return err_set(err, r, "esp: %s", space_strerror(r));
	r = grub_install_bios(fd, l, boot, core);
	if (r < 0)
		err_set(err, r, "grub bios install: %s", space_strerror(r));
	return r;
}
