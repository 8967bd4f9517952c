# installer/iso.mk - the installer ISO $(PRODUCT)-$(VERSION).iso (`make iso`,
# part of `make`). It boots as a CD and, written to a USB stick with dd, as
# a disk: BIOS through El Torito and GRUB's hybrid MBR, UEFI through the
# ESP appended as partition 2. Built without root and reproducibly
# (images.md 3.3): grub-mkimage, a FAT image with a fixed serial filled by
# mcopy -m, xorriso with SOURCE_DATE_EPOCH and every file date pinned
# (grub-mkrescue is not reproducible). The ISO's files:
#   /boot/vmlinuz               the root tree's kernel
#   /boot/initrd.img            the installer's initramfs (installer/dracut)
#   /boot/grub/grub.cfg         the menu (installer/iso/grub.cfg)
#   /boot/grub/bios.img         GRUB for BIOS (El Torito image)
#   /$(PRODUCT)-$(VERSION).img  the signed release image, unchanged
#   /.space-medium              what the initramfs looks for (KEY = VALUE)
ISO       := $(O)/$(PRODUCT)-$(VERSION).iso
ISO_WORK  := $(O)/iso
SPACE_INSTALL := $(BIN)/space-install
INSTALLER_INITRD := $(ISO_WORK)/initrd.img
# GRUB finds the medium by its volume id: ISO 9660 d-characters, 32 at most.
ISO_LABEL := $(shell printf '%s' '$(PRODUCT)_$(VERSION)' | tr 'a-z.-' 'A-Z__' | cut -c1-32)
ISO_GRUB_PC  := /usr/lib/grub/i386-pc

.PHONY: iso
iso: $(ISO)

# ---------------------------------------------------------------- initramfs
# The storage drivers of the appliance's initramfs, and those of the medium
# (CD, USB stick: iso9660 or FAT) and of a USB keyboard on the VGA console.
INSTALLER_DRIVERS := $(INITRD_DRIVERS) isofs vfat nls_cp437 nls_ascii \
	xhci_pci ehci_pci uhci_hcd ohci_pci usb_storage uas usbhid hid_generic
# dracut's base for this run: the appliance's (rootfs.mk) plus our module,
# and an empty configuration directory (the host's /etc/dracut.conf.d is
# not read).
ISO_DRACUT := $(O)/dracut-installer
$(ISO_DRACUT)/stamp: $(DRACUT_BASE)/stamp $(wildcard installer/dracut/*/*)
	$(Q)rm -rf $(@D) && mkdir -p $(@D)
	$(Q)cp -a $(DRACUT_BASE)/. $(@D)/ && rm $(@D)/stamp && mkdir $(@D)/conf.d
	$(Q)for m in installer/dracut/*/; do ln -s $(TOP)/$${m%/} $(@D)/modules.d/; done
	$(Q)touch $@

# dracut records its arguments in the image: paths in them are relative to
# $(O), where it runs. --fwdir: firmware from the tree too (it has none).
# DRACUT_LDD, DRACUT_LDCONFIG: see rootfs/dracut-nohost.sh; the
# module takes every program and library from the tree, and
# check-initrd.sh proves it of the result.
ISO_TREE = $(patsubst $(O)/%,%,$(ROOTFS))
INSTALLER_DRACUT_ARGS = --quiet --no-hostonly --no-hostonly-cmdline --reproducible --force \
	--conf /dev/null --confdir dracut-installer/conf.d \
	--kver $(KVER) --kmoddir $(ISO_TREE)/lib/modules/$(KVER) --fwdir $(ISO_TREE)/lib/firmware \
	--compress=gzip -m space-installer --drivers "$(INSTALLER_DRIVERS)" --no-early-microcode --tmpdir tmp
# The stage: what the module takes from the build, modes pinned.
$(INSTALLER_INITRD): $(TDIR)/rootfs.stamp $(ISO_DRACUT)/stamp $(SPACE_INSTALL) $(KIT_DIR)/kit.conf \
		rootfs/dracut-nohost.sh installer/iso/check-initrd.sh $(KNOB_RELEASE)
	$(quiet) DRACUT $@
	$(Q)rm -rf $(ISO_WORK)/stage && mkdir -p $(ISO_WORK)/stage/kit $(O)/tmp
	$(Q)install -m 0755 installer/dracut/90space-installer/init.sh $(ISO_WORK)/stage/init
	$(Q)install -m 0755 $(SPACE_INSTALL) $(ISO_WORK)/stage/space-install
	$(Q)strip --strip-unneeded $(ISO_WORK)/stage/space-install
	$(Q)install -m 0644 $(KIT_DIR)/* $(ISO_WORK)/stage/kit/
	$(Q)cd $(O) && umask 022 && dracutbasedir=$(ISO_DRACUT) SPACE_ROOTFS=$(ROOTFS) SPACE_STAGE=$(ISO_WORK)/stage \
		libdirs=/nonexistent DRACUT_LDD=$(TOP)/rootfs/dracut-nohost.sh \
		DRACUT_LDCONFIG="$(TOP)/rootfs/dracut-nohost.sh ldconfig" DRACUT_NO_MKNOD=1 \
		dracut $(INSTALLER_DRACUT_ARGS) $@.tmp
	$(Q)bash installer/iso/check-initrd.sh $@.tmp $(ROOTFS) $(ISO_WORK)/stage
	$(Q)mv $@.tmp $@

# ---------------------------------------------------------------- GRUB
# The modules of the installed disk's GRUB (image/lib/grub.c, read from
# there: "boot from local disk" runs that disk's grub.cfg with the ISO's
# GRUB), and iso9660.
ISO_GRUB_MODULES := $(shell sed -n '/grub_modules_common\[\] = {/,/};/p' image/lib/grub.c | grep -o '"[a-z0-9_]*"' | tr -d '"')
$(if $(ISO_GRUB_MODULES),,$(error installer/iso.mk: no GRUB module list found in image/lib/grub.c (grub_modules_common)))
ISO_GRUB_MODULES += iso9660
ISO_SUBST = sed -e 's/@PRODUCT@/$(PRODUCT)/g' -e 's/@VERSION@/$(VERSION)/g' -e 's/@LABEL@/$(ISO_LABEL)/g'

$(ISO_WORK)/%.cfg: installer/iso/%.cfg $(KNOB_RELEASE)
	$(Q)mkdir -p $(@D)
	$(Q)$(ISO_SUBST) $< > $@.tmp && mv $@.tmp $@

$(ISO_WORK)/bios.img: $(ISO_WORK)/early.cfg image/lib/grub.c
	$(quiet) GRUB $@
	$(Q)grub-mkimage -O i386-pc-eltorito -d $(ISO_GRUB_PC) -p /boot/grub -c $< -o $@.tmp \
		$(ISO_GRUB_MODULES) biosdisk
	$(Q)mv $@.tmp $@

# The ESP: FAT with a fixed serial (dosfstools' --invariant pins the rest),
# sized to its files; dates from SOURCE_DATE_EPOCH, kept by mcopy -m. It
# boots the Secure Boot chain of the installed disk (image/lib/disk.c):
# Microsoft-signed shim, then Debian's signed GRUB for CDs (gcdx64, which
# has iso9660 built in) as grubx64.efi beside it, whose built-in config
# sources /EFI/debian/grub.cfg of the device it came from: the early config,
# which finds the medium by its label. The ISO9660 tree holds the same
# file (a CD's GRUB may see the disc rather than the boot image).
# mkfs.vfat is in /sbin, which an ordinary user's PATH lacks on Debian.
ISO_ESP_SERIAL := $(shell printf '%s' '$(PRODUCT)-$(VERSION) installer ESP' | sha256sum | cut -c1-8)
ISO_SHIM       := $(ROOTFS)/usr/lib/shim/shimx64.efi.signed
ISO_SGRUB      := $(ROOTFS)/usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed
$(ISO_WORK)/efi.img: $(ISO_WORK)/early.cfg $(TDIR)/rootfs.stamp
	$(quiet) ESP $@
	$(Q)rm -rf $(ISO_WORK)/esp && mkdir -p $(ISO_WORK)/esp/EFI/BOOT $(ISO_WORK)/esp/EFI/debian
	$(Q)cp $(ISO_SHIM) $(ISO_WORK)/esp/EFI/BOOT/BOOTX64.EFI
	$(Q)cp $(ISO_SGRUB) $(ISO_WORK)/esp/EFI/BOOT/grubx64.efi
	$(Q)cp $< $(ISO_WORK)/esp/EFI/debian/grub.cfg
	$(Q)find $(ISO_WORK)/esp -exec touch -h -d @$(SOURCE_DATE_EPOCH) {} +
	$(Q)rm -f $@.tmp && PATH="$$PATH:/usr/sbin:/sbin" mkfs.vfat --invariant -i $(ISO_ESP_SERIAL) -n ESP -C $@.tmp \
		$$(( $$(du -s --apparent-size -k $(ISO_WORK)/esp | cut -f1) + 512 )) >/dev/null
	$(Q)MTOOLS_SKIP_CHECK=1 mcopy -s -m -i $@.tmp $(ISO_WORK)/esp/EFI ::/
	$(Q)mv $@.tmp $@

$(ISO_WORK)/space-medium: $(KNOB_RELEASE)
	$(Q)mkdir -p $(@D)
	$(Q)printf '%s\n' '# the installation medium of $(PRODUCT) $(VERSION) (installer/iso.mk)' \
		'format = 1' 'product = $(PRODUCT)' 'release = $(VERSION)' \
		'image = $(notdir $(RELEASE_IMG))' > $@.tmp && mv $@.tmp $@

# ---------------------------------------------------------------- ISO
# -r: Rock Ridge with owners 0 and modes normalised, whoever builds it;
# every date is SOURCE_DATE_EPOCH's (--set_all_file_dates: the files are
# taken where they are, their own times do not count); -no_rc: no startup
# file of the host or user. Its chatter goes to $(ISO_WORK)/xorriso.log,
# shown when it fails.
$(ISO): $(ISO_WORK)/bios.img $(ISO_WORK)/efi.img $(ISO_WORK)/grub.cfg $(ISO_WORK)/space-medium \
		$(INSTALLER_INITRD) $(RELEASE_IMG) $(TDIR)/rootfs.stamp
	$(quiet) ISO $@
	$(Q)xorriso -no_rc -as mkisofs -o $@.tmp -iso-level 3 -r -J -V $(ISO_LABEL) \
		-A '$(PRODUCT) $(VERSION) installer' --set_all_file_dates '=$(SOURCE_DATE_EPOCH)' \
		-b boot/grub/bios.img -no-emul-boot -boot-load-size 4 -boot-info-table --grub2-boot-info \
		--grub2-mbr $(ISO_GRUB_PC)/boot_hybrid.img \
		-append_partition 2 0xef $(ISO_WORK)/efi.img \
		-eltorito-alt-boot -e --interval:appended_partition_2:all:: -no-emul-boot \
		-graft-points /boot/vmlinuz=$(ROOTFS)/boot/vmlinuz-$(KVER) /boot/initrd.img=$(INSTALLER_INITRD) \
		/boot/grub/grub.cfg=$(ISO_WORK)/grub.cfg /boot/grub/bios.img=$(ISO_WORK)/bios.img \
		/EFI/debian/grub.cfg=$(ISO_WORK)/early.cfg \
		/.space-medium=$(ISO_WORK)/space-medium /$(notdir $(RELEASE_IMG))=$(RELEASE_IMG) \
		> $(ISO_WORK)/xorriso.log 2>&1 || { cat $(ISO_WORK)/xorriso.log >&2; rm -f $@.tmp; exit 1; }
	$(Q)mv $@.tmp $@
