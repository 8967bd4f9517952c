/* SPDX-License-Identifier: MIT */
/* grub.c - GRUB BIOS/UEFI installation and grub.cfg; see grub.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diskio.h"
#include "fat.h"
#include "grub.h"
#include "imgutil.h"
#include "util.h"

int grub_patch_boot(uint8_t sector0[512], const uint8_t *boot_img, size_t boot_len,
		    uint64_t core_lba)
{
	uint8_t b[512];

	if (boot_len != 512 || boot_img[510] != 0x55 || boot_img[511] != 0xAA)
		return -SPACE_E_FORMAT;
	memcpy(b, boot_img, 512);
	le_put64(b + GRUB_BOOT_KERNEL_SECTOR, core_lba);
	b[GRUB_BOOT_DRIVE] = 0xFF; /* use the drive the BIOS booted from */
	/* The drive check would refuse hard disks on some BIOSes (setup.c). */
	b[GRUB_BOOT_DRIVE_CHECK] = 0x90;
	b[GRUB_BOOT_DRIVE_CHECK + 1] = 0x90;
	memcpy(sector0, b, GRUB_BOOT_CODE_SIZE);
	return 0;
}

int grub_patch_core(uint8_t *core, size_t len, uint64_t core_lba)
{
	uint8_t *bl = core + GRUB_CORE_BLOCKLIST;
	unsigned nsec;

	if (len < 1024 || len > (1u << 24))
		return -SPACE_E_FORMAT;
	nsec = (unsigned)(bl[8] | bl[9] << 8);
	/* grub-mkimage leaves start = 2 and len = sectors after the first. */
	if (le_get64(bl) != 2 || nsec == 0 || (uint64_t)(nsec + 1) * 512 < len)
		return -SPACE_E_FORMAT;
	le_put64(bl, core_lba + 1);
	return 0;
}

int grub_install_bios(int fd, const struct disk_layout *l, const char *boot_img_path,
		      const char *core_img_path)
{
	const struct gpt_part *bios = NULL;
	char *boot = NULL, *core = NULL;
	size_t boot_len, core_len;
	uint8_t sector0[512];
	int r;

	for (unsigned i = 0; i < l->nparts; i++)
		if (guid_eq(&l->parts[i].type, &GUID_BIOS_BOOT))
			bios = &l->parts[i];
	if (!bios)
		return -ENOENT;
	r = read_file(boot_img_path, 4096, &boot, &boot_len);
	if (r < 0)
		goto out;
	r = read_file(core_img_path, 16u << 20, &core, &core_len);
	if (r < 0)
		goto out;
	if (core_len > gpt_part_bytes(bios)) {
		r = -ENOSPC;
		goto out;
	}
	r = grub_patch_core((uint8_t *)core, core_len, bios->first_lba);
	if (r < 0)
		goto out;
	r = pread_all(fd, sector0, sizeof(sector0), 0);
	if (r < 0)
		goto out;
	r = grub_patch_boot(sector0, (const uint8_t *)boot, boot_len, bios->first_lba);
	if (r < 0)
		goto out;
	r = pwrite_all(fd, core, core_len, gpt_part_offset(bios));
	if (r < 0)
		goto out;
	r = pwrite_all(fd, sector0, sizeof(sector0), 0);
out:
	free(boot);
	free(core);
	return r;
}

const char *const grub_modules_common[] = {
	"part_gpt",
	"part_msdos",
	"fat",
	"ext2",
	"normal",
	"configfile",
	"search",
	"search_label",
	"search_fs_uuid",
	"search_fs_file",
	"serial",
	"terminal",
	"echo",
	"test",
	"linux",
	"ls",
	"cat",
	"halt",
	"reboot",
	"loadenv",
	"sleep",
	"gzio",
	"minicmd",
	"regexp",
	"probe",
	NULL,
};

int grub_mkimage(const char *format, const char *moddir, const char *early_cfg,
		 const char *out_path, struct space_err *err)
{
	const char *argv[64];
	char *errf;
	size_t a = 0;
	int r;

	argv[a++] = "grub-mkimage";
	argv[a++] = "-O";
	argv[a++] = format;
	argv[a++] = "-d";
	argv[a++] = moddir;
	argv[a++] = "-p";
	argv[a++] = "/grub";
	argv[a++] = "-c";
	argv[a++] = early_cfg;
	argv[a++] = "-o";
	argv[a++] = out_path;
	for (size_t i = 0; grub_modules_common[i]; i++)
		argv[a++] = grub_modules_common[i];
	/* the UEFI path boots Debian's signed GRUB instead (disk.c) */
	if (strcmp(format, "i386-pc"))
		return -EINVAL;
	argv[a++] = "biosdisk";
	argv[a] = NULL;
	errf = xasprintf("%s.err", out_path);
	if (!errf)
		return -ENOMEM;
	r = img_run(argv, NULL, NULL, errf, err);
	unlink(errf);
	free(errf);
	return r;
}

int grub_early_cfg(uint32_t esp_volume_id, char **out)
{
	char serial[10];

	fs_fat_serial_str(esp_volume_id, serial);
	/* root/prefix are exported by GRUB; esp is exported so that grub.cfg
	 * and its menu entries (new contexts) can still name the ESP. */
	*out = xasprintf("search --no-floppy --fs-uuid --set=esp %s\n"
			 "set root=$esp\n"
			 "set prefix=($esp)/grub\n"
			 "export esp\n"
			 "configfile ($esp)/grub/grub.cfg\n",
			 serial);
	return *out ? 0 : -ENOMEM;
}

/* Characters that are literal inside a double-quoted GRUB word and on a
 * kernel command line without quoting. */
static int safe_text(const char *s, const char *extra)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			continue;
		if (!strchr(extra, c))
			return 0;
	}
	return 1;
}

/* The A/B state machine, run by GRUB at every boot (variables: grub.h).
 * It needs no arithmetic: try_left is 1 (trial pending) or 0. The one
 * write is save_env of try_left, a single-sector rewrite of grubenv. */
static const char boot_script[] =
	"if [ -s ($esp)/grub/grubenv ]; then\n"
	"\tload_env -f ($esp)/grub/grubenv\n"
	"fi\n"
	"# the disk GRUB booted from: the ESP's (\"hd0,gpt2\" -> \"hd0\")\n"
	"regexp --set=1:bootdisk '^(.*),[^,]*$' \"$esp\"\n"
	"set space_trial=\n"
	"set default=slot-a\n"
	"if [ \"$slot_good\" = b ]; then\n"
	"\tset default=slot-b\n"
	"fi\n"
	"# an entry that does not boot (an empty slot) falls back to the good one\n"
	"set fallback=$default\n"
	"if [ -n \"$slot_try\" ]; then\n"
	"\tif [ \"$try_left\" = 1 ]; then\n"
	"\t\tset try_left=0\n"
	"\t\tsave_env -f ($esp)/grub/grubenv try_left\n"
	"\t\tset default=slot-$slot_try\n"
	"\t\tset space_trial=space.trial=1\n"
	"\tfi\n"
	"fi\n"
	"if [ -n \"$next_entry\" ]; then\n"
	"\tset default=\"$next_entry\"\n"
	"\tset next_entry=\n"
	"\tsave_env -f ($esp)/grub/grubenv next_entry\n"
	"fi\n"
	"export bootdisk space_trial ver_a ver_b\n\n";

/* The kernel and initrd lines of slot s (one tab-indented block).
 * panic=10: a panic reboots, so a trial that panics falls back.
 * no_timer_check: the appliance is mostly a VM, and a host that is busy
 * while the kernel checks the IO-APIC timer makes that check fail and
 * panic ("IO-APIC + timer doesn't work"; seen with eight TCG guests on two
 * cores); cloud images pass it for the same reason. */
static char *boot_lines(const struct grub_menu *m, const struct grub_slot *s, const char *ind)
{
	char up = (char)(s->letter - 'a' + 'A');

	/* The PARTUUID is probed, not written here: grub.cfg (and the whole
	 * ESP) is then the same for every disk, whatever GUIDs its table
	 * has (the installer's are random). */
	return xasprintf("%sset root=($bootdisk,gpt%u)\n"
			 "%sprobe --set=partuuid --part-uuid ($bootdisk,gpt%u)\n"
			 "%secho \"Loading %s $ver_%c (slot %c) ...\"\n"
			 "%slinux %s root=PARTUUID=$partuuid ro rootwait panic=10 no_timer_check space.slot=%c $space_trial "
			 "console=tty0 console=ttyS0,115200n8%s%s\n"
			 "%sinitrd %s\n",
			 ind, s->partno, ind, s->partno, ind, m->product, s->letter, up, ind, s->kernel, s->letter,
			 m->cmdline_extra && *m->cmdline_extra ? " " : "",
			 m->cmdline_extra ? m->cmdline_extra : "", ind, s->initrd);
}

/* An entry boots its slot; when grubenv marks the slot empty (ver_x=""),
 * it says so and boots the other slot instead: GRUB would otherwise stop
 * at the menu, and a trial of an empty slot must still come up. The other
 * slot does not get space.trial. */
static char *slot_entry(const struct grub_menu *m, const struct grub_slot *s, const struct grub_slot *o)
{
	char up = (char)(s->letter - 'a' + 'A');
	char *self = boot_lines(m, s, "\t\t"), *other = o ? boot_lines(m, o, "\t\t") : NULL, *e = NULL;

	if (self && (other || !o))
		e = xasprintf("menuentry \"%s ${ver_%c} (slot %c)\" --id slot-%c {\n"
			      "\tif [ -z \"$ver_%c\" ]; then\n"
			      "\t\techo \"Slot %c holds no release (empty, or being written).\"\n"
			      "%s%s"
			      "\telse\n"
			      "%s"
			      "\tfi\n"
			      "}\n\n",
			      m->product, s->letter, up, s->letter, s->letter, up,
			      o ? "\t\tset space_trial=\n" : "\t\tsleep 3\n", o ? other : "", self);
	free(self);
	free(other);
	return e;
}

int grub_cfg_render(const struct grub_menu *m, char **out)
{
	char *cfg = NULL, *entries = NULL;

	*out = NULL;
	if (!m->product || !m->version || !m->nslots || m->nslots > 2 || !safe_text(m->product, " ._+-") ||
	    !safe_text(m->version, "._+-") || !*m->product || !*m->version ||
	    !safe_text(m->cmdline_extra, " ._+-=,:/@%"))
		return -EINVAL;
	for (unsigned i = 0; i < m->nslots; i++) {
		const struct grub_slot *s = &m->slots[i];

		if (s->letter != (char)('a' + i) || !s->partno || s->partno > 128 || !s->kernel ||
		    !s->initrd || !safe_text(s->kernel, "._+-/") || !safe_text(s->initrd, "._+-/") ||
		    s->kernel[0] != '/' || s->initrd[0] != '/')
			return -EINVAL;
	}
	entries = strdup("");
	for (unsigned i = 0; entries && i < m->nslots; i++) {
		char *e = slot_entry(m, &m->slots[i], m->nslots == 2 ? &m->slots[1 - i] : NULL);
		char *n = e ? xasprintf("%s%s", entries, e) : NULL;

		free(e);
		free(entries);
		entries = n;
	}
	if (!entries)
		return -ENOMEM;
	/* The defaults hold when grubenv is missing or unreadable: slot A,
	 * with the release the image was built with. */
	cfg = xasprintf(
		"# grub.cfg of %s, written by mkimage and never rewritten: the boot\n"
		"# state is in grubenv next to it (image/lib/grub.h). slot_try boots once\n"
		"# on trial (try_left 1 -> 0), then slot_good; the new system sets\n"
		"# slot_good when its services are up (spacectl upgrade confirm).\n"
		"serial --unit=0 --speed=115200\n"
		"terminal_input serial console\n"
		"terminal_output serial console\n"
		"set timeout=%u\n"
		"set timeout_style=menu\n"
		"set slot_good=a\n"
		"set slot_try=\n"
		"set try_left=0\n"
		"set ver_a=%s\n"
		"set ver_b=\n"
		"%s%s",
		m->product, m->timeout, m->version, boot_script, entries);
	free(entries);
	if (!cfg)
		return -ENOMEM;
	*out = cfg;
	return 0;
}
