/* SPDX-License-Identifier: MIT */
/* test_bootenv.c - tests for image/lib/bootenv.c on real FAT32 file systems
 * made by mkfs.vfat and mtools (the tools mkimage makes the ESP with): the
 * FAT walk to /grub/grubenv (one and eight sectors per cluster, a directory
 * spanning clusters, the ESP at an offset in the disk), the rewrite read
 * back by mtools and passed by fsck.fat, and each refusal. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/lib/bootenv.h"
#include "image/lib/diskio.h"
#include "shell.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/test_bootenv.XXXXXX";

/* Runs a shell command in dir, with the FAT tools on PATH (shell.h); its
 * exit status. */
#define sh(...) sh_in(dir, __VA_ARGS__)

/* IMG of MIB MiB, FAT32 with SPC sectors per cluster, holding /EFI/BOOT,
 * /grub/grub.cfg, FILLERS more files in /grub, then the file ENV of dir as
 * /grub/grubenv (when not NULL). */
static int make_esp(const char *img, int mib, int spc, int fillers, const char *env)
{
	return sh("rm -f %s && truncate -s %dM %s && mkfs.vfat --invariant -F 32 -S 512 -s %d %s >/dev/null && "
		  "mmd -i %s ::/EFI ::/EFI/BOOT ::/grub && echo 'set timeout=1' >cfg && "
		  "mcopy -i %s cfg ::/grub/grub.cfg && "
		  "for i in $(seq 1 %d); do mcopy -i %s cfg ::/grub/f$i.cfg || exit 1; done && "
		  "{ [ -z '%s' ] || mcopy -i %s '%s' ::/grub/grubenv; }",
		  img, mib, img, spc, img, img, img, fillers, img, env ? env : "", img, env ? env : "");
}

static int write_env(const char *name, const char *slot_good)
{
	char env[GRUBENV_SIZE], *path = xasprintf("%s/%s", dir, name);
	int r;

	grub_env_block(env);
	r = grub_env_set(env, GRUBENV_SLOT_GOOD, slot_good);
	if (!r)
		r = grub_env_set(env, "ver_a", "21.3R1.3");
	if (!r)
		r = write_file_atomic(path, env, sizeof(env), 0644);
	free(path);
	return r;
}

static int open_img(const char *name, uint64_t *size)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct stat st;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	free(path);
	if (fd >= 0 && fstat(fd, &st) == 0)
		*size = (uint64_t)st.st_size;
	return fd;
}

/* bootenv_load of the ESP at off in img; the reason into why */
static int load(const char *img, uint64_t off, struct bootenv *e, char *why, size_t whylen)
{
	struct space_err err = { "" };
	uint64_t size = 0;
	int fd = open_img(img, &size), r;

	why[0] = '\0';
	if (fd < 0)
		return -errno;
	r = bootenv_load(e, fd, off, size - off, &err);
	snprintf(why, whylen, "%s", err.msg);
	if (r < 0)
		close(fd);
	return r;
}

/* load, set slot_try=b and try_left=1, commit; mtools then reads the same
 * 512 bytes as /grub/grubenv and fsck.fat finds nothing wrong. */
static void load_commit(const char *img, uint64_t off, const char *name)
{
	struct bootenv e;
	char why[160], v[16] = "";
	int r = load(img, off, &e, why, sizeof(why));

	is_int(r, 0, "%s: located and loaded (%s)", name, why);
	if (r < 0)
		return;
	ok(grub_env_get(e.block, GRUBENV_SLOT_GOOD, v, sizeof(v)) == 0 && !strcmp(v, "a"), "%s: slot_good=a read",
	   name);
	ok(grub_env_set(e.block, GRUBENV_SLOT_TRY, "b") == 0 && grub_env_set(e.block, GRUBENV_TRY_LEFT, "1") == 0,
	   "%s: variables set", name);
	is_int(bootenv_commit(&e), 0, "%s: committed", name);
	close(e.fd);
	{
		char *want = xasprintf("%s/want", dir);

		ok(write_file_atomic(want, e.block, sizeof(e.block), 0644) == 0, "%s: block saved", name);
		free(want);
	}
	is_int(sh("mtype -i '%s@@%llu' ::/grub/grubenv | cmp -s - want", img, (unsigned long long)off), 0,
	       "%s: mtools reads the committed block as /grub/grubenv", name);
	is_int(sh("dd if=%s of=esp.part bs=1M skip=%llu iflag=skip_bytes status=none && "
		  "fsck.fat -n esp.part >/dev/null",
		  img, (unsigned long long)off),
	       0,
	       "%s: fsck.fat -n passes after the rewrite", name);
	r = load(img, off, &e, why, sizeof(why));
	ok(r == 0 && grub_env_get(e.block, GRUBENV_SLOT_TRY, v, sizeof(v)) == 0 && !strcmp(v, "b") &&
		   grub_env_get(e.block, "ver_a", v, sizeof(v)) == 0 && !strcmp(v, "21.3R1.3"),
	   "%s: reloaded: slot_try=b, ver_a kept", name);
	if (r == 0)
		close(e.fd);
}

static void refused(const char *img, uint64_t off, int want, const char *reason, const char *name)
{
	struct bootenv e;
	char why[160];
	int r = load(img, off, &e, why, sizeof(why));

	ok(r == want && strstr(why, reason), "%s refused (%d: %s)", name, r, why);
	if (r == 0)
		close(e.fd);
}

/* A disk that fails every read past the boot sector. */
static int failing_read(void *ctx, void *buf, size_t n, uint64_t off)
{
	if (off >= 512)
		return -EIO;
	return pread_all(*(int *)ctx, buf, n, off);
}

static void test_read_error(void)
{
	uint64_t size = 0, env_off = 0;
	int fd = open_img("a.img", &size);

	is_int(bootenv_locate(failing_read, &fd, size, &env_off, NULL), -EIO,
	       "a read error is returned as is");
	if (fd >= 0)
		close(fd);
}

/* The environment block and the plain ESP a.img the other images start
 * from, made once by whichever test runs first. */
static void base_esp(void)
{
	static int made;

	if (made++)
		return;
	ok(write_env("env", "a") == 0, "environment block written");
	/* one sector per cluster, as mkfs.vfat makes a small ESP */
	is_int(make_esp("a.img", 40, 1, 0, "env"), 0, "FAT32 ESP made (mkfs.vfat, mtools)");
}

/* the block is found and rewritten on every cluster size and place */
static void test_layouts(void)
{
	base_esp();
	load_commit("a.img", 0, "1 sector/cluster");
	/* /grub spans three clusters: the walk follows its FAT chain */
	is_int(make_esp("b.img", 40, 1, 40, "env"), 0, "ESP with 40 files in /grub made");
	load_commit("b.img", 0, "directory over 3 clusters");
	/* 4 KiB clusters (sparse: FAT32 needs 65525 clusters) */
	is_int(make_esp("c.img", 260, 8, 0, "env"), 0, "ESP with 8 sectors/cluster made");
	load_commit("c.img", 0, "8 sectors/cluster");
	/* the ESP at 1 MiB of a disk, as in the GPT image */
	is_int(sh("truncate -s 1M d.img && cat a.img >>d.img"), 0, "disk with the ESP at 1 MiB made");
	load_commit("d.img", 1 << 20, "ESP at 1 MiB");
}

static void run_read_error(void)
{
	base_esp();
	test_read_error();
}

static void test_refusals(void)
{
	base_esp();
	is_int(make_esp("n.img", 40, 1, 0, NULL), 0, "ESP without grubenv made");
	refused("n.img", 0, -SPACE_E_FORMAT, "no /grub/grubenv", "ESP without grubenv");
	is_int(sh("rm -f g.img && truncate -s 40M g.img && mkfs.vfat -F 32 -S 512 g.img >/dev/null && "
		  "mcopy -i g.img env ::/grubenv"),
	       0, "ESP without /grub made");
	refused("g.img", 0, -SPACE_E_FORMAT, "no /grub/grubenv", "ESP without /grub");
	/* grub-editenv's default block is 1024 bytes: GRUB's save_env could then
	 * write two sectors */
	is_int(sh("{ printf '# GRUB Environment Block\\n'; head -c 999 /dev/zero | tr '\\0' '#'; } >env1k && "
		  "test $(stat -c %%s env1k) = 1024"),
	       0, "1024-byte block made (grub-editenv's size)");
	is_int(make_esp("k.img", 40, 1, 0, "env1k"), 0, "ESP with a 1024-byte grubenv made");
	refused("k.img", 0, -SPACE_E_FORMAT, "is 1024 bytes", "1024-byte grubenv");
	is_int(sh("head -c 512 /dev/zero | tr '\\0' x >noise"), 0, "512 bytes of 'x' made");
	is_int(make_esp("z.img", 40, 1, 0, "noise"), 0, "ESP with a grubenv of 'x' made");
	refused("z.img", 0, -SPACE_E_FORMAT, "not a GRUB environment block",
		"grubenv that is not an environment block");
	is_int(sh("truncate -s 40M zero.img"), 0, "a zeroed partition made");
	refused("zero.img", 0, -SPACE_E_FORMAT, "not FAT32", "zeroed partition");
	is_int(sh("rm -f f16.img && mkfs.vfat -F 16 -S 512 -C f16.img 40960 >/dev/null && mmd -i f16.img ::/grub && "
		  "mcopy -i f16.img env ::/grub/grubenv"),
	       0, "FAT16 ESP made");
	refused("f16.img", 0, -SPACE_E_FORMAT, "not FAT32", "FAT16 ESP");
	/* the file system says 40 MiB, the partition is 20 */
	is_int(sh("head -c 20M a.img >short.img"), 0, "ESP cut to 20 MiB");
	refused("short.img", 0, -SPACE_E_FORMAT, "does not fit", "file system larger than its partition");
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/bootenv/layouts", test_layouts },
		{ "/bootenv/read_error", run_read_error },
		{ "/bootenv/refusals", test_refusals },
		{ NULL, NULL },
	};
	int r;

	if (!mkdtemp(dir))
		return 1;
	r = tap_run(argc, argv, tests);
	if (sh("rm -rf '%s'", dir) != 0)
		printf("# cleanup of %s failed\n", dir);
	return r;
}
