/* SPDX-License-Identifier: MIT */
/* bootenv.c - the GRUB environment block on the raw ESP; see bootenv.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "bootenv.h"
#include "diskio.h"
#include "gpt.h"
#include "imgutil.h"
#include "util.h"

static const char env_head[] = "# GRUB Environment Block\n";
#define ENV_HEAD_LEN (sizeof(env_head) - 1)

void grub_env_block(char out[GRUBENV_SIZE])
{
	memset(out, '#', GRUBENV_SIZE);
	memcpy(out, env_head, ENV_HEAD_LEN);
}

/* Calls fn for each line after the header, "name=value" or a '#' comment
 * (grub-editenv writes a WARNING comment); the '#' padding has no newline,
 * which ends the walk, as in GRUB's grub_envblk_iterate(). Stops when fn
 * returns non-zero. Lines are [p, nl). */
static int env_lines(const char *env, int (*fn)(const char *line, size_t len, void *arg), void *arg)
{
	const char *p = env + ENV_HEAD_LEN, *end = env + GRUBENV_SIZE;

	if (memcmp(env, env_head, ENV_HEAD_LEN) != 0)
		return -SPACE_E_FORMAT;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int r;

		if (!nl)
			break; /* the padding */
		r = fn(p, (size_t)(nl - p), arg);
		if (r)
			return r;
		p = nl + 1;
	}
	return 0;
}

struct env_get {
	const char *key;
	char *out;
	size_t outlen;
};

static int env_get_fn(const char *line, size_t len, void *arg)
{
	struct env_get *g = arg;
	size_t k = strlen(g->key);

	if (len <= k || line[k] != '=' || memcmp(line, g->key, k) != 0)
		return 0;
	if (len - k - 1 >= g->outlen)
		return -ENAMETOOLONG;
	memcpy(g->out, line + k + 1, len - k - 1);
	g->out[len - k - 1] = '\0';
	return 1;
}

int grub_env_get(const char env[GRUBENV_SIZE], const char *key, char *out, size_t outlen)
{
	struct env_get g = { key, out, outlen };
	int r = env_lines(env, env_get_fn, &g);

	return r == 1 ? 0 : r < 0 ? r :
				    -ENOENT;
}

struct env_set {
	const char *key;
	char buf[GRUBENV_SIZE];
	size_t len;
};

static int env_keep_fn(const char *line, size_t len, void *arg)
{
	struct env_set *st = arg;
	size_t k = strlen(st->key);

	if (len > k && line[k] == '=' && memcmp(line, st->key, k) == 0)
		return 0; /* replaced (or removed) */
	if (st->len + len + 1 > GRUBENV_SIZE)
		return -ENOSPC;
	memcpy(st->buf + st->len, line, len);
	st->buf[st->len + len] = '\n';
	st->len += len + 1;
	return 0;
}

int grub_env_set(char env[GRUBENV_SIZE], const char *key, const char *value)
{
	struct env_set st;
	size_t k, v;
	int r;

	if (!key || !*key || strpbrk(key, "=\n\\") || (value && strpbrk(value, "\n\\")))
		return -EINVAL;
	st.key = key;
	memcpy(st.buf, env_head, ENV_HEAD_LEN);
	st.len = ENV_HEAD_LEN;
	r = env_lines(env, env_keep_fn, &st);
	if (r < 0)
		return r;
	if (value) {
		k = strlen(key);
		v = strlen(value);
		if (st.len + k + v + 2 > GRUBENV_SIZE)
			return -ENOSPC;
		memcpy(st.buf + st.len, key, k);
		st.buf[st.len + k] = '=';
		memcpy(st.buf + st.len + k + 1, value, v);
		st.buf[st.len + k + 1 + v] = '\n';
		st.len += k + v + 2;
	}
	memset(st.buf + st.len, '#', GRUBENV_SIZE - st.len);
	memcpy(env, st.buf, GRUBENV_SIZE);
	return 0;
}

/* ------------------------------------------------- the block on the ESP */

#define FAT_SECTOR 512
#define FAT_EOC 0x0FFFFFF8u
#define DIRENT_SIZE 32

struct fat {
	bootenv_read_fn rd;
	void *ctx;
	uint64_t len;
	uint32_t spc;       /* sectors per cluster */
	uint64_t fat_off;   /* first FAT */
	uint64_t data_off;  /* cluster 2 */
	uint32_t nclusters; /* data clusters */
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int fat_open(struct fat *f, struct space_err *err)
{
	uint8_t bs[FAT_SECTOR];
	uint32_t rsvd, nfats, fatsz, total;
	int r = f->rd(f->ctx, bs, sizeof(bs), 0);

	if (r < 0)
		return r;
	rsvd = le16(bs + 14);
	nfats = bs[16];
	fatsz = le32(bs + 36);
	total = le32(bs + 32);
	f->spc = bs[13];
	if (bs[510] != 0x55 || bs[511] != 0xAA || le16(bs + 11) != FAT_SECTOR || le16(bs + 22) != 0 ||
	    !f->spc || (f->spc & (f->spc - 1)) || !rsvd || !nfats || nfats > 2 || !fatsz) {
		return err_set(err, -SPACE_E_FORMAT, "the ESP is not FAT32 with 512-byte sectors");
	}
	f->fat_off = (uint64_t)rsvd * FAT_SECTOR;
	f->data_off = f->fat_off + (uint64_t)nfats * fatsz * FAT_SECTOR;
	if ((uint64_t)total * FAT_SECTOR > f->len || f->data_off >= (uint64_t)total * FAT_SECTOR ||
	    (uint64_t)fatsz * FAT_SECTOR / 4 < 2) {
		return err_set(err, -SPACE_E_FORMAT, "the ESP's FAT32 geometry does not fit the partition");
	}
	f->nclusters = (uint32_t)(((uint64_t)total * FAT_SECTOR - f->data_off) / FAT_SECTOR / f->spc);
	if ((uint64_t)f->nclusters + 2 > (uint64_t)fatsz * FAT_SECTOR / 4)
		f->nclusters = (uint32_t)((uint64_t)fatsz * FAT_SECTOR / 4 - 2);
	return 0;
}

static bool cluster_ok(const struct fat *f, uint32_t c)
{
	return c >= 2 && c - 2 < f->nclusters;
}

static uint64_t cluster_off(const struct fat *f, uint32_t c)
{
	return f->data_off + (uint64_t)(c - 2) * f->spc * FAT_SECTOR;
}

/* The entry named name83 (11 bytes, space padded) in the directory starting
 * at cluster dir: its first cluster and size. 0, -ENOENT, or -errno. */
static int dir_find(const struct fat *f, uint32_t dir, const char name83[11], uint8_t want_dir,
		    uint32_t *first, uint32_t *size)
{
	uint8_t sec[FAT_SECTOR];

	for (unsigned n = 0; n < BOOTENV_MAX_CLUSTERS && cluster_ok(f, dir); n++) {
		uint8_t next[4];
		int r;

		for (uint32_t s = 0; s < f->spc; s++) {
			r = f->rd(f->ctx, sec, sizeof(sec), cluster_off(f, dir) + (uint64_t)s * FAT_SECTOR);
			if (r < 0)
				return r;
			for (unsigned i = 0; i < FAT_SECTOR; i += DIRENT_SIZE) {
				const uint8_t *d = sec + i;
				uint8_t attr = d[11];

				if (d[0] == 0)
					return -ENOENT; /* end of directory */
				if (d[0] == 0xE5 || attr == 0x0F || (attr & 0x08))
					continue; /* deleted, long-name part, volume label */
				if (memcmp(d, name83, 11) || !!(attr & 0x10) != want_dir)
					continue;
				*first = (uint32_t)le16(d + 20) << 16 | le16(d + 26);
				*size = le32(d + 28);
				return 0;
			}
		}
		r = f->rd(f->ctx, next, 4, f->fat_off + (uint64_t)dir * 4);
		if (r < 0)
			return r;
		dir = le32(next) & 0x0FFFFFFF;
		if (dir >= FAT_EOC)
			break;
	}
	return -ENOENT;
}

int bootenv_locate(bootenv_read_fn rd, void *ctx, uint64_t esp_len, uint64_t *env_off, struct space_err *err)
{
	struct fat f = { .rd = rd, .ctx = ctx, .len = esp_len };
	uint8_t bs[FAT_SECTOR];
	uint32_t grub, env, size;
	int r;

	r = fat_open(&f, err);
	if (r < 0)
		return r;
	r = f.rd(f.ctx, bs, sizeof(bs), 0);
	if (r < 0)
		return r;
	r = dir_find(&f, le32(bs + 44), "GRUB       ", 1, &grub, &size);
	if (r == 0)
		r = dir_find(&f, grub, "GRUBENV    ", 0, &env, &size);
	if (r == -ENOENT)
		return err_set(err, -SPACE_E_FORMAT, "no /grub/grubenv on the ESP");
	if (r < 0)
		return r;
	if (size != GRUBENV_SIZE || !cluster_ok(&f, env)) {
		return err_set(err, -SPACE_E_FORMAT, "/grub/grubenv is %u bytes, want one %u-byte sector", (unsigned)size,
			       GRUBENV_SIZE);
	}
	*env_off = cluster_off(&f, env);
	return 0;
}

struct fd_ctx {
	int fd;
	uint64_t base;
};

static int fd_read(void *ctx, void *buf, size_t n, uint64_t off)
{
	const struct fd_ctx *c = ctx;

	return pread_all(c->fd, buf, n, c->base + off);
}

static int check_block(const char *b, struct space_err *err)
{
	char v[8];
	int r = grub_env_get(b, GRUBENV_SLOT_GOOD, v, sizeof(v));

	if (r == -SPACE_E_FORMAT)
		err_set(err, r, "/grub/grubenv is not a GRUB environment block");
	return r == -SPACE_E_FORMAT ? r : 0;
}

int bootenv_load(struct bootenv *e, int fd, uint64_t esp_off, uint64_t esp_len, struct space_err *err)
{
	struct fd_ctx c = { fd, esp_off };
	uint64_t off;
	int r = bootenv_locate(fd_read, &c, esp_len, &off, err);

	if (r < 0)
		return r;
	e->fd = fd;
	e->off = esp_off + off;
	r = pread_all(fd, e->block, sizeof(e->block), e->off);
	if (r < 0)
		return err_set(err, r, "read /grub/grubenv: %s", space_strerror(r));
	return check_block(e->block, err);
}

int bootenv_load_disk(struct bootenv *e, int fd, struct space_err *err)
{
	struct disk_layout l;
	const struct gpt_part *esp;
	int r = gpt_read(fd, &l);

	if (r < 0)
		return err_set(err, r, "partition table: %s", space_strerror(r));
	esp = disk_layout_find(&l, "esp");
	if (!esp)
		return err_set(err, -SPACE_E_FORMAT, "no partition named esp");
	return bootenv_load(e, fd, gpt_part_offset(esp), gpt_part_bytes(esp), err);
}

int bootenv_commit(struct bootenv *e)
{
	char back[GRUBENV_SIZE];
	int r = pwrite_all(e->fd, e->block, sizeof(e->block), e->off);

	if (r < 0)
		return r;
	if (fdatasync(e->fd) < 0)
		return -errno;
	/* drop the cached page, so the read comes from the disk */
	(void)posix_fadvise(e->fd, (off_t)(e->off & ~(uint64_t)4095), 4096, POSIX_FADV_DONTNEED);
	r = pread_all(e->fd, back, sizeof(back), e->off);
	if (r < 0)
		return r;
	return memcmp(back, e->block, sizeof(back)) ? -EIO : 0;
}
