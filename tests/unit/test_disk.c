/* SPDX-License-Identifier: MIT */
/* test_disk.c - unit tests for image/lib/disk.c, fs_ext4.c and fs_esp.c on
 * small inputs in a temp dir: the identities derived from the seed, an
 * ext4 (as a file and in place at an offset) and a FAT32 ESP made and read
 * back with the host tools the build uses (e2fsprogs, dosfstools, mtools),
 * each twice to the same bytes, their refusals, and a whole disk with its
 * refusals. tests/tool/mkimage.sh runs the same code through mkimage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/lib/disk.h"
#include "image/lib/fs.h"
#include "image/lib/gpt.h"
#include "shell.h"
#include "tap.h"
#include "util.h"

#define EPOCH 1700000000LL /* 0x6553f100 */

static char dir[] = "/tmp/test_disk.XXXXXX";

/* a shell command line in dir (shell.h) */
#define sh(...) sh_in(dir, __VA_ARGS__)

/* dir/name, in one of four static buffers used in turn */
static const char *at(const char *name)
{
	static char p[4][512];
	static unsigned i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static int has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

/* The root of an ext4: a few files, a setuid program by attrs, a symlink. */
static void make_tree(const char *name)
{
	ok(sh("rm -rf %s && mkdir -p %s/etc %s/usr/bin && printf 'space\\n' > %s/etc/hostname && "
	      "printf '#!/bin/sh\\n' > %s/usr/bin/tool && chmod 0755 %s/usr/bin/tool && "
	      "ln -s hostname %s/etc/name && printf 'f 4755 0 0 0 0 usr/bin/tool\\n' > %s.attrs",
	      name, name, name, name, name, name, name, name) == 0,
	   "tree %s", name);
}

/* the parameters of a 16 MiB ext4 of dir/tree into dir/out */
static struct ext4_params ext4_of(const char *out, const char *tree)
{
	static char o[512], t[512], attrs[512];
	struct ext4_params p = { 0 };

	snprintf(o, sizeof(o), "%s/%s", dir, out);
	snprintf(t, sizeof(t), "%s/%s", dir, tree);
	snprintf(attrs, sizeof(attrs), "%s/%s.attrs", dir, tree);
	p.out_path = o;
	p.size = 16 << 20;
	p.tree = t;
	p.attrs_path = attrs;
	p.label = "root-a";
	p.epoch = EPOCH;
	p.work_dir = dir;
	disk_fs_uuid("seed", "root-a", &p.uuid);
	return p;
}

/* the identities derived from the seed (disk.h) */
static void test_identity(void)
{
	struct guid a, b, c;
	uint32_t v1 = 0, v2 = 0, v3 = 0;
	char s[10];

	is_int(disk_fs_uuid("seed", "root-a", &a), 0, "disk_fs_uuid");
	disk_fs_uuid("seed", "root-a", &b);
	ok(guid_eq(&a, &b), "the same seed and name give the same UUID");
	disk_fs_uuid("seed", "root-b", &c);
	ok(!guid_eq(&a, &c), "another partition, another UUID");
	disk_fs_uuid("seed2", "root-a", &c);
	ok(!guid_eq(&a, &c), "another seed, another UUID");
	is_int(disk_esp_volume_id("seed", &v1), 0, "disk_esp_volume_id");
	disk_esp_volume_id("seed", &v2);
	disk_esp_volume_id("seed2", &v3);
	ok(v1 == v2 && v1 != v3, "the ESP serial follows the seed (%08X, %08X)", v1, v3);
	fs_fat_serial_str(0x1A2B3C4D, s);
	ok(!strcmp(s, "1A2B-3C4D"), "the FAT serial as GRUB's search --fs-uuid takes it: %s", s);
}

/* an ext4 of a tree: its files, attributes, times, label and UUID, read
 * back by e2fsprogs; twice the same bytes */
static void test_ext4(void)
{
	struct space_err err = { "" };
	struct ext4_params p;
	char uuid[37], want[128];

	make_tree("t");
	p = ext4_of("a.ext4", "t");
	is_int(fs_make_ext4(&p, &err), 0, "fs_make_ext4 (%s)", err.msg);
	is_int(sh("e2fsck -fn a.ext4 >/dev/null 2>&1"), 0, "  e2fsck -fn: clean");
	is_int(sh("test \"$(debugfs -R 'cat /etc/hostname' a.ext4 2>/dev/null)\" = space"), 0,
	       "  a file's bytes");
	is_int(sh("debugfs -R 'stat /usr/bin/tool' a.ext4 2>/dev/null | grep -q 'Mode:  04755'"), 0,
	       "  the attrs file's setuid mode");
	is_int(sh("debugfs -R 'stat /etc/name' a.ext4 2>/dev/null | grep -q 'Type: symlink'"), 0, "  a symlink");
	is_int(sh("debugfs -R 'stat /etc/hostname' a.ext4 2>/dev/null | grep -q 'mtime: 0x6553f100'"), 0,
	       "  times are the epoch");
	guid_to_str(&p.uuid, uuid);
	snprintf(want, sizeof(want), "dumpe2fs -h a.ext4 2>/dev/null | grep -qix 'Filesystem UUID: *%s'", uuid);
	is_int(sh("%s", want), 0, "  the UUID given (%s)", uuid);
	is_int(sh("dumpe2fs -h a.ext4 2>/dev/null | grep -qx 'Filesystem volume name: *root-a'"), 0, "  the label");
	make_tree("t"); /* new inodes, new times: the bytes must not change */
	p = ext4_of("b.ext4", "t");
	is_int(fs_make_ext4(&p, &err), 0, "the same tree again (%s)", err.msg);
	is_int(sh("cmp -s a.ext4 b.ext4"), 0, "  the same bytes");
	sh("rm -f a.ext4 b.ext4");
}

/* built in place at 1 MiB of a disk image: the bytes before it untouched */
static void test_ext4_offset(void)
{
	struct space_err err = { "" };
	struct ext4_params p;

	make_tree("t");
	is_int(sh("head -c 1048576 /dev/zero | tr '\\0' x > d.img && truncate -s 24M d.img && "
		  "head -c 1048576 d.img > d.head"),
	       0, "a 24 MiB disk whose first MiB is 'x'");
	p = ext4_of("d.img", "t");
	p.offset = 1 << 20;
	is_int(fs_make_ext4(&p, &err), 0, "fs_make_ext4 at 1 MiB (%s)", err.msg);
	is_int(sh("head -c 1048576 d.img | cmp -s - d.head"), 0, "  the first MiB untouched");
	is_int(sh("e2fsck -fn 'd.img?offset=1048576' >/dev/null 2>&1"), 0, "  e2fsck -fn at the offset: clean");
	is_int(sh("test \"$(debugfs -R 'cat /etc/hostname' 'd.img?offset=1048576' 2>/dev/null)\" = space"), 0,
	       "  a file's bytes");
	is_int(fs_ext4_add_file(at("d.img"), 1 << 20, at("d.head"), "log", "first.mib", dir, &err), 0,
	       "fs_ext4_add_file at the offset (%s)", err.msg);
	is_int(sh("debugfs -R 'cat /log/first.mib' 'd.img?offset=1048576' 2>/dev/null | cmp -s - d.head"), 0,
	       "  the file reads back");
	sh("rm -f d.img d.head");
}

static void test_ext4_refusals(void)
{
	struct space_err err = { "" };
	struct ext4_params p;

	make_tree("t");
	p = ext4_of("r.ext4", "t");
	p.size = (16 << 20) + 512;
	is_int(fs_make_ext4(&p, &err), -EINVAL, "a size not a multiple of 4096 refused");
	p.size = 4 << 20;
	is_int(fs_make_ext4(&p, &err), -EINVAL, "under 8 MiB refused");
	p = ext4_of("r.ext4", "t");
	p.offset = 4096;
	p.out_path = at("r?x.img");
	err_clear(&err);
	is_int(fs_make_ext4(&p, &err), -EINVAL, "a '?' in a path at an offset refused");
	ok(has(err.msg, "'?' in the path"), "  saying so: %s", err.msg);
	is_int(sh("head -c 12M /dev/urandom > t/big"), 0, "12 MiB more in the tree");
	p = ext4_of("r.ext4", "t");
	p.size = 8 << 20;
	err_clear(&err);
	is_int(fs_make_ext4(&p, &err), -ENOSPC, "a tree that does not fit refused");
	ok(has(err.msg, "does not fit in 8 MiB"), "  saying so: %s", err.msg);
	sh("rm -rf r.ext4 t/big");
}

/* a FAT32 ESP of a staged tree: read by mtools and fsck.fat, the volume
 * id and label in the boot sector; twice the same bytes */
static void test_esp(void)
{
	struct space_err err = { "" };
	struct esp_params p = { at("a.esp"), 40 << 20, NULL, 0x1A2B3C4D, "ESP", EPOCH };
	unsigned char bs[90];
	char stage[512];
	FILE *f;

	snprintf(stage, sizeof(stage), "%s/stage", dir);
	p.stage_dir = stage;
	is_int(sh("rm -rf stage && mkdir -p stage/EFI/BOOT stage/grub && printf 'loader\\n' > stage/EFI/BOOT/BOOTX64.EFI && "
		  "printf 'set timeout=1\\n' > stage/grub/grub.cfg"),
	       0, "a staged ESP tree");
	is_int(fs_make_esp(&p, &err), 0, "fs_make_esp (%s)", err.msg);
	is_int(sh("fsck.fat -n a.esp >/dev/null"), 0, "  fsck.fat -n: clean");
	is_int(sh("test \"$(mtype -i a.esp ::/grub/grub.cfg)\" = 'set timeout=1' && "
		  "test \"$(mtype -i a.esp ::/EFI/BOOT/BOOTX64.EFI)\" = loader"),
	       0, "  the files, in their directories");
	f = fopen(at("a.esp"), "rb");
	ok(f && fread(bs, 1, sizeof(bs), f) == sizeof(bs), "  boot sector read");
	if (f)
		fclose(f);
	ok(bs[67] == 0x4D && bs[68] == 0x3C && bs[69] == 0x2B && bs[70] == 0x1A, "  the volume id given (FAT32 BPB)");
	ok(!memcmp(bs + 71, "ESP        ", 11), "  the label");
	is_int(sh("test $(stat -c %%Y stage/grub/grub.cfg) = %lld", EPOCH), 0, "  the staged files' times set to the epoch");
	p.out_path = at("b.esp");
	is_int(sh("touch stage/grub/grub.cfg"), 0, "a staged file touched");
	is_int(fs_make_esp(&p, &err), 0, "the same ESP again (%s)", err.msg);
	is_int(sh("cmp -s a.esp b.esp"), 0, "  the same bytes");
	p.size = FS_ESP_MIN - 4096;
	err_clear(&err);
	is_int(fs_make_esp(&p, &err), -ENOSPC, "an ESP under %u MiB refused", (unsigned)(FS_ESP_MIN >> 20));
	ok(has(err.msg, "needs at least"), "  saying so: %s", err.msg);
	sh("rm -rf a.esp b.esp stage");
}

/* every mtime below a path, not following symlinks out of it */
static void test_tree_times(void)
{
	struct stat st;

	is_int(sh("rm -rf tt && mkdir -p tt/d && touch tt/d/f out.f && ln -s ../../out.f tt/d/l"), 0, "a tree");
	is_int(fs_set_tree_times(at("tt"), EPOCH), 0, "fs_set_tree_times");
	ok(lstat(at("tt/d/f"), &st) == 0 && st.st_mtime == EPOCH, "  a file");
	ok(lstat(at("tt/d"), &st) == 0 && st.st_mtime == EPOCH, "  a directory");
	ok(lstat(at("tt/d/l"), &st) == 0 && st.st_mtime == EPOCH, "  a symlink itself");
	ok(lstat(at("out.f"), &st) == 0 && st.st_mtime != EPOCH, "  not what it points to, outside");
	sh("rm -rf tt out.f");
}

/* The smallest root tree of a disk (tests/tool/tree-lib.sh): kernel and
 * initramfs stand-ins, the signed UEFI chain's stand-ins. */
static void boot_tree(const char *name)
{
	ok(sh("rm -rf %s && mkdir -p %s/boot %s/usr/lib/shim %s/usr/lib/grub/x86_64-efi-signed && "
	      "printf 'not a kernel\\n' > %s/boot/vmlinuz-6.1.0-test && "
	      "printf 'not an initrd\\n' > %s/boot/initrd.img-6.1.0-test && "
	      "ln -s vmlinuz-6.1.0-test %s/boot/vmlinuz && ln -s initrd.img-6.1.0-test %s/boot/initrd.img && "
	      "printf 'shim stand-in\\n' > %s/usr/lib/shim/shimx64.efi.signed && "
	      "printf 'signed grub stand-in\\n' > %s/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed",
	      name, name, name, name, name, name, name, name, name, name) == 0,
	   "boot tree %s", name);
}

/* a 600 MiB disk of dir/tree into dir/out */
static struct disk_spec spec_of(const char *out, const char *tree)
{
	static char o[512], rootfs[512];
	struct disk_spec s = { 0 };

	snprintf(o, sizeof(o), "%s/%s", dir, out);
	snprintf(rootfs, sizeof(rootfs), "%s/%s", dir, tree);
	s.out_path = o;
	s.rootfs = rootfs;
	s.seed = "disk-test";
	s.product = "space";
	s.version = "21.3R1.1";
	s.sizes.disk = 600 * MIB;
	s.sizes.root = 200 * MIB;
	s.epoch = EPOCH;
	return s;
}

/* A whole disk: the table as laid out, slot A's files, the ESP's boot
 * chain and grub.cfg, GRUB in the MBR. */
static void test_build(void)
{
	struct space_err err = { "" };
	struct disk_spec s;
	struct disk_layout l, back;
	const struct gpt_part *esp, *ra;
	char img[600];

	boot_tree("bt");
	s = spec_of("disk.raw", "bt");
	is_int(disk_build(&s, &l, &err), 0, "disk_build (%s)", err.msg);
	is_int(sh("test $(stat -c %%s disk.raw) = %llu", 600ull * MIB), 0, "  600 MiB");
	{
		FILE *f = fopen(at("disk.raw"), "rb");
		int r = f ? gpt_read(fileno(f), &back) : -errno;

		is_int(r, 0, "  gpt_read");
		ok(r == 0 && back.nparts == 5 && !memcmp(back.parts, l.parts, sizeof(l.parts)),
		   "  the table returned is the one on the disk");
		if (f)
			fclose(f);
	}
	esp = disk_layout_find(&l, "esp");
	ra = disk_layout_find(&l, "root-a");
	if (!esp || !ra) {
		ok(0, "esp and root-a in the layout");
		return;
	}
	snprintf(img, sizeof(img), "disk.raw?offset=%llu", (unsigned long long)ra->first_lba * 512);
	is_int(sh("e2fsck -fn '%s' >/dev/null 2>&1", img), 0, "  slot A: e2fsck -fn clean");
	is_int(sh("test \"$(debugfs -R 'cat /boot/vmlinuz-6.1.0-test' '%s' 2>/dev/null)\" = 'not a kernel'", img), 0,
	       "  slot A: the tree's files");
	snprintf(img, sizeof(img), "disk.raw@@%llu", (unsigned long long)esp->first_lba * 512);
	is_int(sh("mdir -b -i '%s' ::/EFI/BOOT | grep -qx '::/EFI/BOOT/BOOTX64.EFI' && "
		  "mdir -b -i '%s' ::/EFI/BOOT | grep -qx '::/EFI/BOOT/grubx64.efi'",
		  img, img),
	       0, "  ESP: shim as the removable-media loader, signed GRUB beside it");
	/* not the build host's own /usr/lib/shim and /usr/lib/grub (a253b12) */
	is_int(sh("test \"$(mtype -i '%s' ::/EFI/BOOT/BOOTX64.EFI)\" = 'shim stand-in' && "
		  "test \"$(mtype -i '%s' ::/EFI/BOOT/grubx64.efi)\" = 'signed grub stand-in'",
		  img, img),
	       0, "  ESP: the signed chain is the root tree's files");
	is_int(sh("mtype -i '%s' ::/grub/grub.cfg | grep -q 'set ver_a=21.3R1.1'", img), 0,
	       "  ESP: grub.cfg holding the release");
	is_int(sh("mtype -i '%s' ::/grub/grubenv | grep -qx 'slot_good=a'", img), 0, "  ESP: grubenv, slot A good");
	is_int(sh("test \"$(head -c 512 disk.raw | tail -c 2 | od -An -tx1 | tr -d ' ')\" = 55aa"), 0,
	       "  the MBR signed 55AA (GRUB's boot code and the protective entry)");
	boot_tree("bt"); /* new inodes and times */
	s = spec_of("disk2.raw", "bt");
	is_int(disk_build(&s, NULL, &err), 0, "the same inputs again (%s)", err.msg);
	is_int(sh("cmp -s disk.raw disk2.raw"), 0, "  the same bytes");
	if (!getenv("KEEP"))
		sh("rm -f disk.raw disk2.raw");
}

/* refused before anything is written; nothing left behind */
static void test_build_refusals(void)
{
	struct space_err err = { "" };
	struct disk_spec s;

	boot_tree("bt");
	s = spec_of("no.raw", "bt");
	s.sizes.disk = 300 * MIB;
	is_int(disk_build(&s, NULL, &err), -ENOSPC, "a disk too small for the layout");
	ok(has(err.msg, "disk too small for the layout"), "  saying so: %s", err.msg);
	s = spec_of("no.raw", "bt");
	s.seed = "";
	is_int(disk_build(&s, NULL, &err), -EINVAL, "an empty seed");
	s = spec_of("no.raw", "bt");
	s.product = "sp;ace";
	err_clear(&err);
	ok(disk_build(&s, NULL, &err) < 0 && has(err.msg, "characters GRUB would interpret"),
	   "a product name GRUB would interpret: %s", err.msg);
	is_int(sh("rm bt/boot/vmlinuz"), 0, "no boot/vmlinuz in the tree");
	s = spec_of("no.raw", "bt");
	err_clear(&err);
	ok(disk_build(&s, NULL, &err) < 0 && has(err.msg, "vmlinuz"), "  refused, naming it: %s", err.msg);
	boot_tree("bt");
	is_int(sh("rm bt/usr/lib/shim/shimx64.efi.signed"), 0, "no signed shim in the tree");
	err_clear(&err);
	ok(disk_build(&s, NULL, &err) < 0 && has(err.msg, "rootfs lacks /usr/lib/shim/shimx64.efi.signed"),
	   "  refused, naming it: %s", err.msg);
	is_int(sh("test ! -e no.raw && ! ls | grep -q 'no\\.raw.'"), 0, "no output, no temporary file left");
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/disk/identity", test_identity },
		{ "/disk/ext4", test_ext4 },
		{ "/disk/ext4_offset", test_ext4_offset },
		{ "/disk/ext4_refusals", test_ext4_refusals },
		{ "/disk/esp", test_esp },
		{ "/disk/tree_times", test_tree_times },
		{ "/disk/build", test_build },
		{ "/disk/build_refusals", test_build_refusals },
		{ NULL, NULL },
	};
	int r;

	if (!mkdtemp(dir))
		return 1;
	r = tap_run(argc, argv, tests);
	if (!getenv("KEEP") && sh("cd / && rm -rf '%s'", dir) != 0)
		printf("# cleanup of %s failed\n", dir);
	return r;
}
