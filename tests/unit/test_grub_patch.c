/* SPDX-License-Identifier: MIT */
/* test_grub_patch.c - tests for image/lib/grub.c: boot.img/core.img
 * patching on synthetic images, the BIOS install into a GPT disk, and the
 * grub.cfg renderer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/lib/diskio.h"
#include "image/lib/gpt.h"
#include "image/lib/bootenv.h"
#include "image/lib/grub.h"
#include "tap.h"
#include "util.h"

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void fake_boot(uint8_t b[512])
{
	for (int i = 0; i < 512; i++)
		b[i] = (uint8_t)(i * 7 + 1);
	memset(b + 0x5C, 0, 8);
	b[0x5C] = 1; /* boot.S default kernel_sector */
	b[510] = 0x55;
	b[511] = 0xAA;
}

/* A core.img of n sectors as grub-mkimage writes it. */
static uint8_t *fake_core(size_t n)
{
	uint8_t *c = malloc(n * 512);
	for (size_t i = 0; i < n * 512; i++)
		c[i] = (uint8_t)(i * 13 + 5);
	memset(c + 0x1F4, 0, 8);
	c[0x1F4] = 2;
	c[0x1FC] = (uint8_t)(n - 1);
	c[0x1FD] = 0;
	return c;
}

static int contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* boot.img patched into the MBR */
static void test_boot(void)
{
	uint8_t boot[512], sec0[512], orig0[512];
	int same = 1;

	fake_boot(boot);
	for (int i = 0; i < 512; i++)
		sec0[i] = (uint8_t)(0xA0 ^ i);
	memcpy(orig0, sec0, 512);
	is_int(grub_patch_boot(sec0, boot, 512, 2048), 0, "grub_patch_boot");
	is_int(le64(sec0 + 0x5C), 2048, "u64 LE at 0x5C is the core.img LBA");
	is_int(sec0[0x64], 0xFF, "boot drive 0xFF at 0x64");
	ok(sec0[0x66] == 0x90 && sec0[0x67] == 0x90, "drive check at 0x66 replaced by NOPs");
	for (int i = 0; i < 440; i++)
		if (i != 0x64 && i != 0x66 && i != 0x67 && (i < 0x5C || i >= 0x64) && sec0[i] != boot[i])
			same = 0;
	ok(same, "other boot code bytes come from boot.img");
	ok(!memcmp(sec0 + 440, orig0 + 440, 72), "bytes 440..511 (signature, partition table) kept");
	boot[511] = 0;
	is_int(grub_patch_boot(sec0, boot, 512, 2048), -SPACE_E_FORMAT, "boot.img without 55AA refused");
	boot[511] = 0xAA;
	is_int(grub_patch_boot(sec0, boot, 400, 2048), -SPACE_E_FORMAT, "short boot.img refused");
}

/* core.img's blocklist */
static void test_core(void)
{
	uint8_t *core;

	core = fake_core(4);
	is_int(grub_patch_core(core, 4 * 512, 2048), 0, "grub_patch_core");
	is_int(le64(core + 0x1F4), 2049, "u64 LE at 0x1F4 is the LBA of core's second sector");
	is_int(core[0x1FC], 3, "blocklist length untouched");
	is_int(grub_patch_core(core, 4 * 512, 4096), -SPACE_E_FORMAT, "already patched core refused");
	free(core);
	core = fake_core(4);
	is_int(grub_patch_core(core, 6 * 512, 2048), -SPACE_E_FORMAT,
	       "core longer than its blocklist refused");
	free(core);
}

/* both installed into a GPT disk */
static void test_install(void)
{
	uint8_t boot[512], sec0[512], *core, *c2;
	char path[] = "/tmp/test_grub.XXXXXX", bpath[64], cpath[64];
	struct disk_layout l;
	struct disk_sizes sz = { 200 * MIB, 0, 40 * MIB, 40 * MIB };
	int fd;

	is_int(disk_layout_default(&l, &sz, "t"), 0, "layout");
	fd = mkstemp(path);
	ftruncate(fd, (off_t)l.disk_bytes);
	gpt_write(fd, &l);
	snprintf(bpath, sizeof(bpath), "%s.boot", path);
	snprintf(cpath, sizeof(cpath), "%s.core", path);
	fake_boot(boot);
	write_file_atomic(bpath, boot, 512, 0644);
	core = fake_core(5);
	write_file_atomic(cpath, core, 5 * 512, 0644);
	is_int(grub_install_bios(fd, &l, bpath, cpath), 0, "grub_install_bios");
	pread_all(fd, sec0, 512, 0);
	ok(le64(sec0 + 0x5C) == 2048 && sec0[0x64] == 0xFF && sec0[446 + 4] == 0xEE && sec0[510] == 0x55,
	   "MBR: boot code patched for LBA 2048, protective entry kept");
	c2 = malloc(5 * 512);
	pread_all(fd, c2, 5 * 512, 2048 * 512);
	ok(le64(c2 + 0x1F4) == 2049 && !memcmp(c2, core, 0x1F4) && !memcmp(c2 + 0x1FC, core + 0x1FC, 4 * 512 + 4),
	   "core.img at the bios partition, blocklist -> 2049");
	is_int(gpt_read(fd, &l), 0, "GPT still valid after the GRUB install");
	free(core);
	core = fake_core(2100); /* 1050 KiB: more than the 1 MiB partition */
	write_file_atomic(cpath, core, 2100 * 512, 0644);
	is_int(grub_install_bios(fd, &l, bpath, cpath), -ENOSPC, "core.img larger than the bios partition refused");
	free(core);
	free(c2);
	close(fd);
	unlink(path);
	unlink(bpath);
	unlink(cpath);
}

/* grub.cfg, and what it refuses to write */
static void test_cfg(void)
{
	char *cfg = NULL;
	struct grub_menu m = { 0 };

	m.product = "Space";
	m.version = "21.3R1.3";
	m.cmdline_extra = "quiet net.ifnames=0";
	m.timeout = 5;
	m.nslots = 2;
	m.slots[0] = (struct grub_slot){ 'a', 3, "/boot/vmlinuz-6.1", "/boot/initrd.img-6.1" };
	m.slots[1] = (struct grub_slot){ 'b', 4, "/boot/vmlinuz", "/boot/initrd.img" };
	is_int(grub_cfg_render(&m, &cfg), 0, "grub_cfg_render");
	ok(cfg && contains(cfg, "serial --unit=0 --speed=115200\nterminal_input serial console\nterminal_output serial console\n"),
	   "serial and console terminals");
	ok(cfg && contains(cfg, "set timeout=5\n") && contains(cfg, "set default=slot-a\n") &&
		   contains(cfg, "set slot_good=a\n") && contains(cfg, "set ver_a=21.3R1.3\nset ver_b=\n"),
	   "timeout 5; without grubenv: slot A, holding the built release");
	ok(cfg && contains(cfg, "menuentry \"Space ${ver_a} (slot A)\" --id slot-a {") &&
		   contains(cfg, "menuentry \"Space ${ver_b} (slot B)\" --id slot-b {"),
	   "one entry per slot, titled with the release grubenv says it holds");
	ok(cfg && contains(cfg, "\t\tset root=($bootdisk,gpt3)\n") && contains(cfg, "\t\tset root=($bootdisk,gpt4)\n") &&
		   !contains(cfg, "fs-uuid --set=root"),
	   "entry finds its slot by partition number on the boot disk, not by filesystem UUID");
	ok(cfg && contains(cfg, "regexp --set=1:bootdisk '^(.*),[^,]*$' \"$esp\"\n"), "boot disk taken from the ESP");
	ok(cfg && contains(cfg, "\t\tprobe --set=partuuid --part-uuid ($bootdisk,gpt3)\n"
				"\t\techo \"Loading Space $ver_a (slot A) ...\"\n"
				"\t\tlinux /boot/vmlinuz-6.1 root=PARTUUID=$partuuid ro rootwait "
				"panic=10 no_timer_check space.slot=a $space_trial console=tty0 console=ttyS0,115200n8 quiet net.ifnames=0\n"),
	   "kernel line: the slot's PARTUUID probed at boot, panic reboots, the slot letter, the trial flag");
	ok(cfg && !contains(cfg, "-4333-"), "no GUID in grub.cfg: one ESP fits every disk");
	ok(cfg && contains(cfg, "initrd /boot/initrd.img-6.1\n"), "initrd line");
	ok(cfg && contains(cfg, "if [ -z \"$ver_b\" ]; then\n\t\techo \"Slot B holds no release"),
	   "a slot marked empty (ver_b=\"\") refuses to boot");
	ok(cfg && contains(cfg, "\tif [ \"$try_left\" = 1 ]; then\n\t\tset try_left=0\n"
				"\t\tsave_env -f ($esp)/grub/grubenv try_left\n\t\tset default=slot-$slot_try\n"),
	   "trial: try_left 1 -> 0 saved before the trial slot boots");
	ok(cfg && contains(cfg, "load_env -f ($esp)/grub/grubenv") && contains(cfg, "save_env -f ($esp)/grub/grubenv next_entry"),
	   "grubenv: next_entry one-shot");
	free(cfg);
	m.slots[1].letter = 'a';
	is_int(grub_cfg_render(&m, &cfg), -EINVAL, "slots out of order refused");
	m.slots[1].letter = 'b';
	free(cfg);
	m.product = "Sp\"ace";
	is_int(grub_cfg_render(&m, &cfg), -EINVAL, "quote in product refused");
	m.product = "Space";
	m.cmdline_extra = "a; reboot";
	is_int(grub_cfg_render(&m, &cfg), -EINVAL, "';' in command line refused");
	m.cmdline_extra = "$x";
	is_int(grub_cfg_render(&m, &cfg), -EINVAL, "'$' in command line refused");
	m.cmdline_extra = NULL;
	m.slots[0].kernel = "boot/vmlinuz";
	is_int(grub_cfg_render(&m, &cfg), -EINVAL, "relative kernel path refused");
}

/* the grubenv block: made, read and written as grub-editenv does */
static void test_env(void)
{
	{
		char env[GRUBENV_SIZE];
		grub_env_block(env);
		ok(!memcmp(env, "# GRUB Environment Block\n#", 26) && env[GRUBENV_SIZE - 1] == '#',
		   "grubenv block: header and # padding to 512 bytes");
	}
	{
		char env[GRUBENV_SIZE], v[64], big[600];
		grub_env_block(env);
		is_int(grub_env_get(env, "next_entry", v, sizeof(v)), -ENOENT, "empty block: unset");
		is_int(grub_env_set(env, "next_entry", "slot-b"), 0, "grub_env_set next_entry");
		is_int(grub_env_set(env, "saved_entry", "slot-a"), 0, "grub_env_set saved_entry");
		ok(!memcmp(env, "# GRUB Environment Block\nnext_entry=slot-b\nsaved_entry=slot-a\n#", 63) &&
			   env[GRUBENV_SIZE - 1] == '#',
		   "grub-editenv layout: name=value lines, # padding");
		is_int(grub_env_set(env, "next_entry", "slot-a"), 0, "replace a value");
		ok(grub_env_get(env, "next_entry", v, sizeof(v)) == 0 && !strcmp(v, "slot-a"), "get it back");
		ok(grub_env_get(env, "saved_entry", v, sizeof(v)) == 0 && !strcmp(v, "slot-a"), "others kept");
		is_int(grub_env_set(env, "next_entry", NULL), 0, "remove");
		is_int(grub_env_get(env, "next_entry", v, sizeof(v)), -ENOENT, "removed");
		is_int(grub_env_set(env, "a=b", "x"), -EINVAL, "'=' in a key refused");
		is_int(grub_env_set(env, "k", "x\ny"), -EINVAL, "newline in a value refused");
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		is_int(grub_env_set(env, "k", big), -ENOSPC, "overflowing the 512 bytes refused");
		ok(grub_env_get(env, "saved_entry", v, sizeof(v)) == 0, "block intact after a refusal");
		{
			/* grub-editenv's own layout: a WARNING comment line */
			static const char hdr[] = "# GRUB Environment Block\n# WARNING: Do not edit this file by tools other than grub-editenv!!!\nnext_entry=slot-b\n";
			memset(env, '#', sizeof(env));
			memcpy(env, hdr, sizeof(hdr) - 1);
			ok(grub_env_get(env, "next_entry", v, sizeof(v)) == 0 && !strcmp(v, "slot-b"),
			   "reads a grub-editenv block (comment line skipped)");
			ok(grub_env_set(env, "saved_entry", "slot-b") == 0 && !memcmp(env, hdr, sizeof(hdr) - 1),
			   "comment and variables kept on set");
		}
		env[0] = 'X';
		is_int(grub_env_set(env, "k", "v"), -SPACE_E_FORMAT, "not an environment block");
	}
}

static void test_early_cfg(void)
{
	char *cfg = NULL;

	is_int(grub_early_cfg(0x1A2B3C4D, &cfg), 0, "early config");
	ok(cfg && contains(cfg, "--fs-uuid --set=esp 1A2B-3C4D\n") && contains(cfg, "configfile ($esp)/grub/grub.cfg"),
	   "early config finds the ESP by FAT serial");
	free(cfg);
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/grub_patch/boot", test_boot },
		{ "/grub_patch/core", test_core },
		{ "/grub_patch/install", test_install },
		{ "/grub_patch/cfg", test_cfg },
		{ "/grub_patch/env", test_env },
		{ "/grub_patch/early_cfg", test_early_cfg },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
